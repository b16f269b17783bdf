"""Helpers for the scripted fault tests: connections to the throwaway
PostgreSQL and Redis that scripts/test started, and control of Redis."""
import os
import subprocess
import sys
import threading
import time

import psycopg2
import redis

PGPORT = int(os.environ["PGPORT"])
REDIS_PORT = int(os.environ["VT_REDIS_PORT"])
RUN = os.environ["VT_RUN"]
DB = os.environ.get("VT_FAULT_DB", "visittrack_tap")

failures = []


def connect(db=DB, **settings):
    conn = psycopg2.connect(host="127.0.0.1", port=PGPORT, user="postgres", dbname=db)
    conn.autocommit = True
    with conn.cursor() as cur:
        for name, value in settings.items():
            cur.execute("SELECT set_config(%s, %s, false)", ("visittrack." + name, str(value)))
    return conn


def one(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        if cur.description is None:
            return None
        row = cur.fetchone()
        return row[0] if row else None


def redis_client():
    return redis.Redis(host="127.0.0.1", port=REDIS_PORT, decode_responses=True)


def redis_stop():
    try:
        redis_client().shutdown(nosave=True)
    except redis.exceptions.ConnectionError:
        pass
    for _ in range(50):
        try:
            redis_client().ping()
            time.sleep(0.1)
        except redis.exceptions.ConnectionError:
            return


def redis_start():
    subprocess.run(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--daemonize", "yes",
                    "--dir", RUN + "/redis", "--logfile", RUN + "/redis/redis.log"],
                   check=True, stdout=subprocess.DEVNULL)
    for _ in range(50):
        try:
            if redis_client().ping():
                return
        except redis.exceptions.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("Redis did not come back")


def run_clients(n, work, connect_fn=None, **settings):
    """Run work(conn, i) in n threads, each with its own connection (from
    connect_fn, or connect(**settings)); returns (all results, errors)."""
    results, errors = [], []

    def client(i):
        conn = connect_fn() if connect_fn else connect(**settings)
        try:
            results.extend(work(conn, i))
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def check(condition, what):
    print(("ok     " if condition else "FAILED ") + what)
    if not condition:
        failures.append(what)


def timed(fn, *args):
    t0 = time.monotonic()
    result = fn(*args)
    return result, (time.monotonic() - t0) * 1000.0


def percentile(values, p):
    values = sorted(values)
    if not values:
        return 0.0
    k = min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))
    return values[k]


def finish():
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")
