"""Partition upkeep while traffic flows: ensure_partitions() (the worker's
hourly task) attaches the coming days' partitions while page views are
inserted for today, and no insert fails.  Attaching the partition of the day
being written would race with the inserts (they may be routed to the
default partition just before the attach and fail its partition check just
after); the default range starts tomorrow for that reason."""
import os
import threading
import time

import vtfault as vt

errors, views = [], [0]
stop = threading.Event()


def traffic():
    conn = vt.connect()
    fp = os.urandom(16).hex()
    k = 0
    while not stop.is_set():
        try:
            vt.one(conn, "SELECT visittrack.track_page_view(%s, %s)", (fp, "/u/%d" % k))
            views[0] += 1
        except Exception as e:  # noqa: BLE001
            errors.append(str(e).splitlines()[0])
        k += 1
    conn.close()


threads = [threading.Thread(target=traffic) for _ in range(4)]
for t in threads:
    t.start()
admin = vt.connect()
attached = 0
# the upkeep as the worker runs it, then the same for days further ahead
attached += vt.one(admin, "SELECT visittrack.ensure_partitions()")
for k in range(1, 8):
    attached += vt.one(admin, "SELECT visittrack.ensure_partitions(d + %s, d + %s) "
                              "FROM (SELECT (now() AT TIME ZONE 'UTC')::date AS d) t", (10 * k, 10 * k + 6))
    time.sleep(0.1)
stop.set()
for t in threads:
    t.join()
print("%d partitions attached while %d page views were inserted" % (attached, views[0]))
vt.check(attached >= 7 * 14, "ensure_partitions attached partitions for the coming days (%d)" % attached)
vt.check(not errors, "no insert failed (%d errors%s)" % (len(errors), ": " + errors[0] if errors else ""))
vt.finish()
