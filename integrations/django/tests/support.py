"""What the tests share: a superuser connection to look at what visittrack
stored (the application role may not read its tables), and visitors."""
import os
import subprocess
import time
import uuid

import psycopg2
from django.db import connections
from django.test import TransactionTestCase

from visittrack_django.testing import VisittrackTestMixin

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0"


def inspector():
    settings = connections["default"].settings_dict
    conn = psycopg2.connect(host=settings["HOST"], port=settings["PORT"], user="postgres",
                            dbname=settings["NAME"])
    conn.autocommit = True
    return conn


def unique_visitor():
    """Headers of a visitor never seen before (this run or an earlier one)."""
    return {"HTTP_USER_AGENT": "%s visit/%s" % (FIREFOX, uuid.uuid4().hex[:12]),
            "REMOTE_ADDR": "198.51.100.%d" % (uuid.uuid4().int % 250 + 1),
            "HTTP_ACCEPT_LANGUAGE": "fr-CA,fr;q=0.9"}


def redis_port():
    return int(os.environ["VT_REDIS_PORT"])


def redis_stop():
    subprocess.run(["redis-cli", "-p", str(redis_port()), "shutdown", "nosave"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.2)


def redis_start():
    run = os.environ["VT_RUN"]
    subprocess.run(["redis-server", "--port", str(redis_port()), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--daemonize", "yes",
                    "--dir", run + "/redis", "--logfile", run + "/redis/redis.log"],
                   check=True, stdout=subprocess.DEVNULL)
    for _ in range(50):
        if subprocess.run(["redis-cli", "-p", str(redis_port()), "ping"],
                          capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("Redis did not come back")


class TrackingTestCase(VisittrackTestMixin, TransactionTestCase):
    """Each test commits (tracking writes Redis at commit), starts with no
    hot state in its Redis namespace, and reads what was stored through a
    superuser connection, counting only rows written since it started."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = inspector()

    @classmethod
    def tearDownClass(cls):
        cls.db.close()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.since = self.one("SELECT clock_timestamp()")

    def one(self, sql, args=()):
        with self.db.cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
            return row[0] if row and len(row) == 1 else row

    def all(self, sql, args=()):
        with self.db.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()

    def fingerprint(self, headers):
        return self.one("SELECT visittrack.fingerprint(%s::inet, %s, %s)",
                        (headers["REMOTE_ADDR"], headers["HTTP_USER_AGENT"],
                         headers.get("HTTP_ACCEPT_LANGUAGE")))

    def anonymous_views(self, fingerprint):
        return self.all("SELECT url, url_name, page_type, is_bot FROM visittrack.anonymous_page_view"
                        " WHERE device_fingerprint = %s AND viewed_at >= %s ORDER BY id",
                        (fingerprint, self.since))

    def all_views_since(self):
        return self.one("SELECT (SELECT count(*) FROM visittrack.anonymous_page_view WHERE viewed_at >= %s)"
                        " + (SELECT count(*) FROM visittrack.user_page_view WHERE viewed_at >= %s)",
                        (self.since, self.since))
