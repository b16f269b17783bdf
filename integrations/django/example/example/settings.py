"""The example site: communities, sign-up, and the visittrack dashboard.

Three roles, as in production (doc/django.md, "Roles"):
  site_app        the application: its own tables, grant_application_role
  site_reporting  the dashboard: grant_reporting_role only
  postgres        maintenance commands (aggregation, retention, erasure)
scripts/django-demo creates them and the database.
"""
import os

SECRET_KEY = "example-only-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = "example.urls"
INSTALLED_APPS = [
    "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "visittrack_django", "communities",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "visittrack_django.middleware.VisittrackMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                       "django.contrib.auth.context_processors.auth",
                                       "django.contrib.messages.context_processors.messages"]},
}]
_db = {
    "ENGINE": "django.db.backends.postgresql",
    "HOST": os.environ.get("PGHOST", "127.0.0.1"),
    "PORT": os.environ.get("PGPORT", "5432"),
    "NAME": os.environ.get("VT_EXAMPLE_DB", "vt_example"),
    "CONN_MAX_AGE": 300,             # persistent connections: see doc/django.md
}
DATABASES = {
    "default": dict(_db, USER="site_app"),
    "reporting": dict(_db, USER="site_reporting"),
    "maintenance": dict(_db, USER=os.environ.get("PGUSER", "postgres")),
}
STATIC_URL = "/static/"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
VISITTRACK = {
    "REPORTING_DATABASE": "reporting",
    "MAINTENANCE_DATABASE": "maintenance",
    "COMMUNITY": "communities.views.community_of",
    "COMMUNITIES": "communities.views.all_communities",
    "PAGE_TYPES": {"home": "home", "community": "community", "about": "content",
                   "signup": "account", "login": "account"},
    # The scripted visitors send X-Forwarded-For from 127.0.0.1, like a
    # reverse proxy on the same machine.
    "TRUSTED_PROXIES": ["127.0.0.1/32"],
    "DASHBOARD_REFRESH": 5,
}
