from django.apps import AppConfig


class VisittrackConfig(AppConfig):
    name = "visittrack_django"
    label = "visittrack"
    verbose_name = "visittrack"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from . import checks  # noqa: F401 -- registers the system checks
        from .signals import on_login, on_logout
        user_logged_in.connect(on_login, dispatch_uid="visittrack_login")
        user_logged_out.connect(on_logout, dispatch_uid="visittrack_logout")
