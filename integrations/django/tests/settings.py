"""Settings of the app's own tests (scripts/test django).  The database is
prepared by a superuser (scripts/test does it): see doc/django.md."""
import os

SECRET_KEY = "visittrack-django-tests"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "tests.urls"
INSTALLED_APPS = [
    "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "visittrack_django",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "visittrack_django.middleware.VisittrackMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [os.path.join(os.path.dirname(__file__), "templates")],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth",
                                       "django.contrib.messages.context_processors.messages"]},
}]
_db = {
    "ENGINE": "django.db.backends.postgresql",
    "HOST": os.environ.get("PGHOST", "127.0.0.1"),
    "PORT": os.environ["PGPORT"],
    "USER": os.environ.get("VT_DJANGO_ROLE", "vt_django"),
    "NAME": "vt_django",
    "CONN_MAX_AGE": None,
    "TEST": {"NAME": os.environ.get("VT_DJANGO_TEST_DB", "test_vt_django")},
}
DATABASES = {"default": _db}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_URL = "/static/"
LOGIN_REDIRECT_URL = "/"
TEST_RUNNER = "visittrack_django.testing.VisittrackTestRunner"
VISITTRACK = {
    "COMMUNITY": "tests.views.community_of",
    "COMMUNITIES": "tests.views.all_communities",
    "PAGE_TYPES": {"home": "home"},
    "TRUSTED_PROXIES": ["10.0.0.0/8"],
}
LOGGING = {
    "version": 1,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"visittrack_django": {"handlers": ["null"], "propagate": False}},
}
