"""The VISITTRACK settings dict, with defaults.

Every key is optional.  Hooks are callables or dotted paths to callables.
Read through `config()`, which is cached and reset when the settings change
(override_settings in tests).
"""
import ipaddress
import re
import uuid
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

# uuid5(NAMESPACE_URL, "visittrack-django:user"): the default namespace of
# user ids.  Change it (USER_NAMESPACE) only before the first login is
# recorded: every user then gets another uuid.
DEFAULT_USER_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "visittrack-django:user")

DEFAULTS = {
    # Database alias the tracking calls use (an application role).
    "DATABASE": "default",
    # Alias for the dashboard and the template tag (a reporting role, or a
    # role with both grants); None: DATABASE.
    "REPORTING_DATABASE": None,
    # Alias for the management commands (aggregation, retention, erasure,
    # status): the extension owner or a superuser; None: DATABASE.
    "MAINTENANCE_DATABASE": None,
    # Paths never tracked: regular expressions matched at the start of
    # request.path.  STATIC_URL and MEDIA_URL are added.
    "EXCLUDE_PATHS": [r"/favicon\.ico$", r"/robots\.txt$", r"/admin/", r"/visittrack/"],
    # When not empty, only these paths (regular expressions) are tracked.
    "INCLUDE_PATHS": [],
    # Methods and response statuses that count as a page view.
    "METHODS": ["GET"],
    "STATUSES": [200],
    # Skip requests whose user agent looks like a crawler before any
    # database work; the extension's is_bot() catches the rest.
    "SKIP_BOTS": True,
    # Honour Sec-GPC: 1 and DNT: 1 by not tracking the request at all.
    "HONOUR_OPT_OUT": True,
    # Proxies whose X-Forwarded-For is believed (addresses or networks).
    "TRUSTED_PROXIES": [],
    # user -> uuid.  Default: uuid5(USER_NAMESPACE, str(user.pk)).
    "USER_UUID": None,
    "USER_NAMESPACE": DEFAULT_USER_NAMESPACE,
    # url_name -> page_type; a callable (request, resolver_match) -> str
    # overrides it.  Unmapped names use the resolver's namespace, else
    # the url_name itself.
    "PAGE_TYPES": {},
    "PAGE_TYPE": None,
    # (request, resolver_match) -> None or a dict with community_id (uuid)
    # and optionally community_slug, community_division_id: the page is a
    # community's and the visitor counts as viewing it now.
    "COMMUNITY": None,
    # (request) -> uuid or None: the signed-in visitor's division.
    "VISITOR_DIVISION": None,
    # (request) -> bool: start the visittrack session with remember_me.
    "REMEMBER_ME": None,
    # () -> iterable of (community_id, label): the dashboard's communities.
    "COMMUNITIES": None,
    # Turn visittrack.async_commit off inside transactions the application
    # opened (ATOMIC_REQUESTS, atomic blocks), so that tracking never makes
    # the application's own commit asynchronous.
    "SYNC_IN_TRANSACTIONS": True,
    # Redis that visittrack uses, as a URL (redis://host:port/db), for the
    # shared-database check and the test helper; None: read from the server.
    "REDIS_URL": None,
    # Where the signed-in visittrack session id lives in request.session.
    "SESSION_FIELD": "_visittrack_session_id",
    # Seconds between refreshes of the dashboard's presence panel.
    "DASHBOARD_REFRESH": 10,
}


class Config:
    def __init__(self, values):
        unknown = set(values) - set(DEFAULTS)
        if unknown:
            from django.core.exceptions import ImproperlyConfigured
            raise ImproperlyConfigured("unknown VISITTRACK keys: %s" % ", ".join(sorted(unknown)))
        merged = dict(DEFAULTS, **values)
        for key, value in merged.items():
            setattr(self, key.lower(), value)
        self.reporting_database = self.reporting_database or self.database
        self.maintenance_database = self.maintenance_database or self.database
        excludes = list(self.exclude_paths)
        for url in (getattr(settings, "STATIC_URL", None), getattr(settings, "MEDIA_URL", None)):
            if url and str(url).startswith("/") and str(url) != "/":
                excludes.append(re.escape(str(url)))
        self.exclude_re = _alternation(excludes)
        self.include_re = _alternation(self.include_paths)
        self.methods = frozenset(m.upper() for m in self.methods)
        self.statuses = frozenset(self.statuses)
        self.trusted_networks = [ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies]
        self.user_uuid = _hook(self.user_uuid) or self._default_user_uuid
        for name in ("page_type", "community", "visitor_division", "remember_me", "communities"):
            setattr(self, name, _hook(getattr(self, name)))
        self.user_namespace = uuid.UUID(str(self.user_namespace))

    def _default_user_uuid(self, user):
        return uuid.uuid5(self.user_namespace, str(user.pk))


def _alternation(patterns):
    return re.compile("|".join("(?:%s)" % p for p in patterns)) if patterns else None


def _hook(value):
    if value is None or callable(value):
        return value
    return import_string(value)


@lru_cache(maxsize=1)
def config():
    return Config(getattr(settings, "VISITTRACK", {}))


def _reset(setting, **kwargs):
    if setting in ("VISITTRACK", "STATIC_URL", "MEDIA_URL"):
        config.cache_clear()


setting_changed.connect(_reset)
