"""Test support (doc/django.md, "Testing").

- `VisittrackTestRunner` (TEST_RUNNER = "visittrack_django.testing.VisittrackTestRunner"):
  fails at once, with the commands to run, when the test database lacks the
  extension or a Redis namespace of its own.
- `reset_visittrack()` empties visittrack's tables in the test database
  (through visittrack_test.reset(), which `manage.py visittrack_testdb`
  installs) and deletes the Redis keys under the test database's
  visittrack.redis_prefix: sessions, page views and presence left by an
  earlier test or an earlier run.  Both are needed: with Redis emptied
  alone, an anonymous visitor's count continues from its page views.
- `VisittrackTestMixin` calls it before every test.

The extension itself cannot be created at test time by an application role
(CREATE EXTENSION needs a superuser): a superuser prepares the test database
once (`manage.py visittrack_testdb`), and the tests run with --keepdb; see
doc/django.md.
"""
from django.db import connections
from django.test.runner import DiscoverRunner

from .checks import visittrack_redis_url
from .conf import config

SETUP_HINT = """Prepare it once as a superuser:
    python3 manage.py visittrack_testdb --superuser postgres
then run the tests with --keepdb (doc/django.md, "Testing")."""


def _settings_of(alias):
    conn = connections[alias]
    return conn.settings_dict["NAME"], conn.settings_dict.get("USER") or "your_role"


def check_test_database(alias=None):
    """Raise RuntimeError when the test database cannot run tracking tests."""
    alias = alias or config().database
    name, user = _settings_of(alias)
    with connections[alias].cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_extension WHERE extname = 'visittrack'")
        has_extension = cur.fetchone()[0] == 1
        prefix = None
        if has_extension:
            cur.execute("SELECT current_setting('visittrack.redis_prefix', true)")
            prefix = cur.fetchone()[0]
    if not has_extension:
        raise RuntimeError("the test database %s has no visittrack extension.\n%s"
                           % (name, SETUP_HINT.format(name=name, user=user)))
    if not prefix:
        raise RuntimeError("the test database %s has no visittrack.redis_prefix: its tests would "
                           "share Redis keys with every other database.\n%s"
                           % (name, SETUP_HINT.format(name=name, user=user)))
    return prefix


def redis_client(alias=None):
    import redis  # python3-redis; only the test helpers need it
    url = visittrack_redis_url(alias)
    if url is None:
        return None
    return redis.Redis.from_url(url, decode_responses=True)


def reset_hot_state(alias=None):
    """Delete every Redis key under this database's visittrack.redis_prefix.
    Returns the number of keys deleted.  Refuses an empty prefix: that
    would be every key of the Redis database."""
    alias = alias or config().database
    with connections[alias].cursor() as cur:
        cur.execute("SELECT current_setting('visittrack.redis_prefix', true)")
        prefix = cur.fetchone()[0]
    if not prefix:
        raise RuntimeError("visittrack.redis_prefix is empty for %s: refusing to delete "
                           "unprefixed keys" % _settings_of(alias)[0])
    client = redis_client(alias)
    if client is None:
        return 0
    deleted = 0
    batch = []
    for key in client.scan_iter(match=_glob_escape(prefix) + "*", count=1000):
        batch.append(key)
        if len(batch) == 500:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted


def _glob_escape(text):
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def reset_visittrack(alias=None):
    """Empty visittrack's tables (when visittrack_test.reset() is installed)
    and its Redis keys.  For the test database only."""
    alias = alias or config().database
    with connections[alias].cursor() as cur:
        cur.execute("SELECT to_regprocedure('visittrack_test.reset()') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute("SELECT visittrack_test.reset()")
    return reset_hot_state(alias)


class VisittrackTestMixin:
    """Mix into TransactionTestCase: every test starts with no visittrack
    data.  (In a TestCase the tracking calls never commit, so Redis, which
    is written at commit, would not see them.)"""

    def setUp(self):
        super().setUp()
        reset_visittrack()


class VisittrackTestRunner(DiscoverRunner):
    def setup_databases(self, **kwargs):
        result = super().setup_databases(**kwargs)
        check_test_database()
        reset_visittrack()
        return result
