"""System checks."""
from django.core.checks import run_checks
from django.db import connections
from django.test import SimpleTestCase, TestCase, override_settings

from .test_middleware import config_values


def ids(**kwargs):
    return sorted(m.id for m in run_checks(**kwargs) if m.id.startswith("visittrack."))


class Checks(SimpleTestCase):
    def test_conn_max_age_zero(self):
        settings = connections["default"].settings_dict
        saved = settings.get("CONN_MAX_AGE")
        from django.conf import settings as dj
        dj.DATABASES["default"]["CONN_MAX_AGE"] = 0
        try:
            self.assertIn("visittrack.W001", ids())
        finally:
            dj.DATABASES["default"]["CONN_MAX_AGE"] = saved
        self.assertNotIn("visittrack.W001", ids())

    def test_atomic_requests_with_async_commit(self):
        from django.conf import settings as dj
        dj.DATABASES["default"]["ATOMIC_REQUESTS"] = True
        try:
            self.assertNotIn("visittrack.W002", ids())
            with override_settings(VISITTRACK=dict(config_values(), SYNC_IN_TRANSACTIONS=False)):
                self.assertIn("visittrack.W002", ids())
        finally:
            dj.DATABASES["default"]["ATOMIC_REQUESTS"] = False


class SharedRedis(TestCase):
    def test_cache_in_visittracks_redis_database(self):
        host, port, dbnum = self.server_redis()
        shared = {"default": {"BACKEND": "django_redis.cache.RedisCache",
                              "LOCATION": "redis://%s:%s/%s" % (host, port, dbnum)}}
        other = {"default": {"BACKEND": "django_redis.cache.RedisCache",
                             "LOCATION": "redis://%s:%s/%d" % (host, port, int(dbnum) + 1)}}
        # Checks only read CACHES: set it without instantiating the backend.
        from django.conf import settings as dj
        saved = dj.CACHES
        try:
            dj.CACHES = shared
            self.assertIn("visittrack.W003", ids(databases=["default"]))
            dj.CACHES = other
            self.assertNotIn("visittrack.W003", ids(databases=["default"]))
        finally:
            dj.CACHES = saved

    def server_redis(self):
        with connections["default"].cursor() as cur:
            cur.execute("SELECT current_setting('visittrack.redis_host'),"
                        " current_setting('visittrack.redis_port'), current_setting('visittrack.redis_db')")
            return cur.fetchone()
