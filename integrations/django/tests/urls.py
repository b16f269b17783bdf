from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.page, name="home"),
    path("communities/<slug:slug>/", views.community, name="community"),
    path("about/", views.page, name="about"),
    path("moved/", views.moved, name="moved"),
    path("static/app.css", views.page, name="static"),
    path("login/", auth_views.LoginView.as_view(template_name="login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("signup/", views.signup, name="signup"),
]
