from django.contrib.auth import views as auth_views
from django.urls import include, path

from communities import views

urlpatterns = [
    path("", views.home, name="home"),
    path("communities/<slug:slug>/", views.community, name="community"),
    path("about/", views.about, name="about"),
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("visittrack/", include("visittrack_django.dashboard.urls")),
]
