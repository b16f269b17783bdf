"""path("visittrack/", include("visittrack_django.dashboard.urls")) -- staff only."""
from django.urls import path

from . import views

app_name = "visittrack"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("presence/", views.presence, name="presence"),
]
