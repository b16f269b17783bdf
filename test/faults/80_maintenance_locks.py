"""Partition maintenance never stalls tracking behind a long read.

A report holds a read of anonymous_page_view in an open transaction.
ensure_partitions() (which needs ACCESS EXCLUSIVE on the default
partitions) and cleanup_anonymous_data() (whose DROP of an old partition
needs ACCESS EXCLUSIVE on the parent) are called meanwhile.  A lock request
that waits puts every later request for the table in the queue behind it,
so a new visitor's track_page_view would wait as long as the maintenance
does.  The maintenance must give up after visittrack.maintenance_lock_timeout
(100 ms unless set), leave things as they were, and do its work on a later
call once the report is gone; the visitor's page view completes within that
timeout and a small margin.

Runs in a database of its own, so that no other test's partitions or rows
are in the way."""
import os
import threading
import time

import psycopg2

import vtfault as vt

DB = "vt_maintenance_locks"
MARGIN_MS = 600          # scheduling on a busy machine; a stall lasts seconds
VISITOR_TIMEOUT_MS = 3000
LOG = os.path.join(vt.RUN, "pg", "server.log")

admin = vt.connect(db="postgres")
vt.one(admin, "DROP DATABASE IF EXISTS " + DB)
vt.one(admin, "CREATE DATABASE " + DB)
setup = vt.connect(db=DB)
vt.one(setup, "CREATE EXTENSION visittrack")
vt.one(setup, "ALTER DATABASE %s SET visittrack.redis_prefix = 'maintlocks:'" % DB)
setup.close()

maint = vt.connect(db=DB)
vt.one(maint, "SET statement_timeout = '20s'")
setting = vt.one(maint, "SELECT current_setting('visittrack.maintenance_lock_timeout', true)")
lock_timeout_ms = 100
if setting:
    lock_timeout_ms = vt.one(maint, "SELECT extract(epoch FROM %s::interval) * 1000", (setting,))
    lock_timeout_ms = int(lock_timeout_ms)
print("maintenance lock timeout: %d ms" % lock_timeout_ms)
maint_pid = vt.one(maint, "SELECT pg_backend_pid()")

visitor = vt.connect(db=DB)
vt.one(visitor, "SET statement_timeout = %d" % VISITOR_TIMEOUT_MS)
fingerprint = os.urandom(16).hex()
# first call of the connection: loads the library, connects to Redis
vt.one(visitor, "SELECT visittrack.track_page_view(%s, '/warm-up')", (fingerprint,))

watcher = vt.connect(db="postgres")
log_start = os.path.getsize(LOG) if os.path.exists(LOG) else 0


def stall_test(what, maintenance_sql, report_sql):
    """Runs maintenance_sql while a report (report_sql, in an open
    transaction) reads, and a page view once the maintenance waits for a
    lock; returns (maintenance result, its ms, page view error, its ms)."""
    report = psycopg2.connect(host="127.0.0.1", port=vt.PGPORT, user="postgres", dbname=DB)
    report.autocommit = False
    report.cursor().execute(report_sql)       # BEGIN implied; stays open
    out = {}

    def run_maintenance():
        t0 = time.monotonic()
        try:
            out["result"] = vt.one(maint, maintenance_sql)
        except Exception as e:  # noqa: BLE001
            out["error"] = str(e).splitlines()[0]
        out["ms"] = (time.monotonic() - t0) * 1000.0

    thread = threading.Thread(target=run_maintenance)
    thread.start()
    # Start the page view as soon as the maintenance waits for its lock, so
    # that the view's lock request comes after the maintenance's.
    deadline = time.monotonic() + 5
    seen_waiting = False
    while time.monotonic() < deadline and thread.is_alive():
        if vt.one(watcher, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                  (maint_pid,)):
            seen_waiting = True
            break
        time.sleep(0.002)
    view_error, t0 = None, time.monotonic()
    try:
        vt.one(visitor, "SELECT visittrack.track_page_view(%s, %s)",
               (fingerprint, "/during-" + what))
    except Exception as e:  # noqa: BLE001
        view_error = str(e).splitlines()[0]
    view_ms = (time.monotonic() - t0) * 1000.0
    report.rollback()
    report.close()
    thread.join()
    print("%s: maintenance %s in %.0f ms (seen waiting for a lock: %s); page view %.0f ms%s"
          % (what, out.get("result", out.get("error")), out["ms"], seen_waiting, view_ms,
             ", " + view_error if view_error else ""))
    return out.get("result"), out.get("error"), out["ms"], view_error, view_ms


def exists(relname):
    return vt.one(maint, "SELECT to_regclass(%s) IS NOT NULL", ("visittrack." + relname,))


# 1. ensure_partitions() as the worker and pg_cron call it, behind a report
# reading the whole table (it holds ACCESS SHARE on every partition).
tomorrow = vt.one(maint, "SELECT to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYYMMDD')")
result, error, maint_ms, view_error, view_ms = stall_test(
    "ensure_partitions", "SELECT visittrack.ensure_partitions()",
    "SELECT count(*) FROM visittrack.anonymous_page_view")
vt.check(view_error is None and view_ms <= lock_timeout_ms + MARGIN_MS,
         "a page view during ensure_partitions() completes within %d ms + %d ms (%.0f ms%s)"
         % (lock_timeout_ms, MARGIN_MS, view_ms, ", " + view_error if view_error else ""))
vt.check(error is None and result == 0 and not exists("anonymous_page_view_p" + tomorrow)
         and not exists("anonymous_session_p" + tomorrow),
         "ensure_partitions() gave up, created nothing and did not fail (returned %r%s)"
         % (result, ", " + error if error else ""))
vt.check(maint_ms < lock_timeout_ms + MARGIN_MS,
         "ensure_partitions() returned within its lock timeout (%.0f ms)" % maint_ms)
created = vt.one(maint, "SELECT visittrack.ensure_partitions()")
vt.check(created == 14 and exists("anonymous_page_view_p" + tomorrow)
         and exists("anonymous_session_p" + tomorrow),
         "the next ensure_partitions(), without the report, creates the 14 partitions (%r)" % created)

# 2. cleanup_anonymous_data() dropping a partition past the retention, behind
# a report on today's views (planned for today's partitions only: the old
# partition is free, the parent is not).
old = vt.one(maint, "SELECT (now() AT TIME ZONE 'UTC')::date - 200")
old_tag = old.strftime("%Y%m%d")
vt.one(maint, "SELECT visittrack.ensure_partitions(%s, %s)", (old, old))
today = vt.one(maint, "SELECT date_trunc('day', now() AT TIME ZONE 'UTC')::text")
result, error, maint_ms, view_error, view_ms = stall_test(
    "cleanup_anonymous_data", "SELECT visittrack.cleanup_anonymous_data()",
    "SELECT count(*) FROM visittrack.anonymous_page_view "
    "WHERE viewed_at >= timestamptz '%s+00'" % today)
vt.check(view_error is None and view_ms <= lock_timeout_ms + MARGIN_MS,
         "a page view during cleanup_anonymous_data() completes within %d ms + %d ms (%.0f ms%s)"
         % (lock_timeout_ms, MARGIN_MS, view_ms, ", " + view_error if view_error else ""))
vt.check(error is None and exists("anonymous_page_view_p" + old_tag),
         "cleanup_anonymous_data() left the busy partition and did not fail (%r%s)"
         % (result, ", " + error if error else ""))
vt.check(maint_ms < lock_timeout_ms + MARGIN_MS,
         "cleanup_anonymous_data() returned within its lock timeout (%.0f ms)" % maint_ms)
vt.one(maint, "SELECT visittrack.cleanup_anonymous_data()")
vt.check(not exists("anonymous_page_view_p" + old_tag) and not exists("anonymous_session_p" + old_tag),
         "the next cleanup_anonymous_data(), without the report, drops the old partitions")

# what was skipped is in the server log, for the operator
with open(LOG, "rb") as f:
    f.seek(log_start)
    log = f.read().decode(errors="replace")
vt.check("created no partition" in log and "was not dropped" in log,
         "the server log says what was skipped and that the next run retries")

for conn in (maint, visitor, watcher):
    conn.close()
vt.one(admin, "DROP DATABASE " + DB)
admin.close()
vt.finish()
