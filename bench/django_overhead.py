#!/usr/bin/env python3
"""What the visittrack middleware adds to a Django request.

Django's test client, one persistent connection (CONN_MAX_AGE = None), a
view that renders a small page without touching the database; anonymous
visitors from 500 addresses.  Three modes, interleaved in rounds so that
drift hits them alike:

  none          the same request without the middleware
  synchronous   the middleware, visittrack.write_behind = off
  write-behind  the middleware, visittrack.write_behind = on

Prints the median and 90th percentile per mode and what tracking adds,
in one run.  Run by bench/django_overhead (which starts the servers);
by hand: PGHOST/PGPORT of a server with visittrack preloaded, database
VT_BENCH_DB (default: the one visittrack.database names, where the
write-behind writers run).
"""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integrations", "django"))

import django  # noqa: E402
import psycopg2  # noqa: E402
from django.conf import settings  # noqa: E402

ROUNDS = int(os.environ.get("VT_BENCH_ROUNDS", 10))
PER_ROUND = int(os.environ.get("VT_BENCH_REQUESTS", 300))
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0"


def database():
    conn = psycopg2.connect(dbname="postgres", user=os.environ.get("PGUSER", "postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        name = os.environ.get("VT_BENCH_DB")
        if not name:
            cur.execute("SHOW visittrack.database")
            name = cur.fetchone()[0]
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute('CREATE DATABASE "%s"' % name)
    conn.close()
    conn = psycopg2.connect(dbname=name, user=os.environ.get("PGUSER", "postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS visittrack")
    conn.close()
    return name


def configure(name):
    settings.configure(
        SECRET_KEY="bench", DEBUG=False, ALLOWED_HOSTS=["*"], USE_TZ=True,
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes",
                        "django.contrib.sessions", "visittrack_django"],
        DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": name,
                               "HOST": os.environ.get("PGHOST", "127.0.0.1"),
                               "PORT": os.environ["PGPORT"],
                               "USER": os.environ.get("PGUSER", "postgres"),
                               "CONN_MAX_AGE": None}},
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        MIDDLEWARE=[], VISITTRACK={})
    django.setup()


def page(request, slug):
    from django.http import HttpResponse
    return HttpResponse("<html><body><h1>Montréal</h1><p>%s</p></body></html>" % ("x" * 2000))


def urlpatterns_():
    from django.urls import path
    return [path("communities/<slug:slug>/", page, name="community")]


BASE = ["django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware"]
MODES = {"none": (BASE, None), "synchronous": (BASE + ["visittrack_django.middleware.VisittrackMiddleware"], "off"),
         "write-behind": (BASE + ["visittrack_django.middleware.VisittrackMiddleware"], "on")}


def main():
    name = database()
    configure(name)
    global urlpatterns
    urlpatterns = urlpatterns_()
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from visittrack_django import db as vtdb

    clients = {}
    for mode, (middleware, _) in MODES.items():
        with override_settings(MIDDLEWARE=middleware):
            clients[mode] = Client()
            clients[mode].get("/communities/montreal/", HTTP_USER_AGENT=FIREFOX)  # loads the handler
    times = {mode: [] for mode in MODES}
    n = 0
    for _ in range(ROUNDS):
        for mode, (_, write_behind) in MODES.items():
            if write_behind:
                with connection.cursor() as cur:
                    cur.execute("SELECT set_config('visittrack.write_behind', %s, false)", (write_behind,))
            client = clients[mode]
            for i in range(PER_ROUND):
                n += 1
                t0 = time.perf_counter()
                client.get("/communities/montreal/", HTTP_USER_AGENT=FIREFOX,
                           REMOTE_ADDR="198.51.100.%d" % (n % 250 + 1),
                           HTTP_ACCEPT_LANGUAGE="fr-CA" if n % 2 else "en")
                times[mode].append((time.perf_counter() - t0) * 1000)
    with connection.cursor() as cur:
        cur.execute("SELECT visittrack.flush_writes(), (visittrack.status())->'write_behind'->>'writer_attached'")
        flushed, attached = cur.fetchone()
    base = statistics.median(times["none"])
    print("Django %s, %d requests per mode in %d interleaved rounds, one persistent connection"
          % (django.get_version(), ROUNDS * PER_ROUND, ROUNDS))
    print("write-behind writer attached: %s; tracking failures: %d" % (attached, vtdb.failures["count"]))
    print("| mode | median ms | p90 ms | added at the median ms | ratio to none |")
    print("|---|---:|---:|---:|---:|")
    for mode, values in times.items():
        med = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print("| %s | %.3f | %.3f | %+.3f | %.2f |" % (mode, med, p90, med - base, med / base))


urlpatterns = []

if __name__ == "__main__":
    main()
