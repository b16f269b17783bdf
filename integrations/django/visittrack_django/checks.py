"""System checks: the configurations that make tracking slow or wrong."""
from urllib.parse import parse_qs, urlparse

from django.conf import settings
from django.core.checks import Tags, Warning, register

from .conf import config


@register()
def check_connections(app_configs=None, **kwargs):
    cfg = config()
    errors = []
    databases = getattr(settings, "DATABASES", {})
    if cfg.database not in databases:
        return [Warning("VISITTRACK['DATABASE'] names %r, which is not in DATABASES" % cfg.database,
                        id="visittrack.W004")]
    db = databases[cfg.database]
    if db.get("CONN_MAX_AGE", 0) == 0:
        errors.append(Warning(
            "CONN_MAX_AGE is 0 for the tracking database %r: every tracked request opens a "
            "new PostgreSQL connection, which costs far more than the tracking itself."
            % cfg.database,
            hint="Set CONN_MAX_AGE (e.g. 300) or None, or put pgbouncer in front "
                 "(doc/django.md, 'Connections').",
            id="visittrack.W001"))
    options = str(db.get("OPTIONS", {}).get("options", ""))
    async_off = ("visittrack.async_commit=off" in options.replace(" ", "")
                 or cfg.sync_in_transactions)
    if db.get("ATOMIC_REQUESTS") and not async_off:
        errors.append(Warning(
            "ATOMIC_REQUESTS is on for %r and visittrack.async_commit is not turned off in "
            "transactions: a tracking call in a view (login, signup) makes the whole "
            "request's commit asynchronous." % cfg.database,
            hint="Keep VISITTRACK['SYNC_IN_TRANSACTIONS'] = True, or add "
                 "'-c visittrack.async_commit=off' to OPTIONS['options'].",
            id="visittrack.W002"))
    return errors


def _redis_address(url):
    parsed = urlparse(url)
    db = parsed.path.strip("/") or "0"
    if parsed.scheme == "unix":
        return (parsed.path, parse_qs(parsed.query).get("db", ["0"])[0])
    return ((parsed.hostname or "localhost").replace("localhost", "127.0.0.1"),
            parsed.port or 6379, db)


def _cache_redis_urls():
    for name, cache in getattr(settings, "CACHES", {}).items():
        if "redis" not in cache.get("BACKEND", "").lower():
            continue
        locations = cache.get("LOCATION") or []
        if isinstance(locations, str):
            locations = [locations]
        for location in locations:
            yield name, location


def visittrack_redis_url(alias=None):
    """REDIS_URL, or what the server's visittrack.redis_* settings say."""
    cfg = config()
    if cfg.redis_url:
        return cfg.redis_url
    from .db import query
    host, port, db = query(
        "SELECT current_setting('visittrack.redis_host'), current_setting('visittrack.redis_port'),"
        " current_setting('visittrack.redis_db')", fetch="one", alias=alias or cfg.database)
    if not host:
        return None
    if host.startswith("/"):
        return "unix://%s?db=%s" % (host, db)
    return "redis://%s:%s/%s" % (host, port, db)


@register(Tags.database)
def check_shared_redis(app_configs=None, databases=None, **kwargs):
    """Django's cache in visittrack's Redis database: cache.clear() runs
    FLUSHDB, which wipes visittrack's hot state (live sessions, presence)."""
    cfg = config()
    if not cfg.redis_url and (not databases or cfg.database not in databases):
        return []
    try:
        url = visittrack_redis_url()
    except Exception as exc:  # noqa: BLE001
        return [Warning("could not read visittrack's Redis settings: %s" % exc, id="visittrack.W005")]
    if not url:
        return []
    ours = _redis_address(url)
    return [Warning(
        "cache %r uses Redis database %s, which visittrack also uses: cache.clear() "
        "(FLUSHDB) deletes visittrack's live sessions and presence." % (name, location),
        hint="Give the cache another Redis database number (or visittrack another "
             "visittrack.redis_db).",
        id="visittrack.W003")
        for name, location in _cache_redis_urls() if _redis_address(location) == ours]
