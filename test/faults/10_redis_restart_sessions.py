"""Signed-in sessions survive Redis being killed and restarted empty:
no call fails, calls stay fast while Redis is down, and the database's
counts are what session_get reports (and what Redis holds) afterwards."""
import time

import vtfault as vt

TIMEOUT_MS = 200
conn = vt.connect(redis_timeout_ms=TIMEOUT_MS, redis_retry_interval_ms=500,
                  redis_prefix="fault-sessions:")
r = vt.redis_client()

sids = [vt.one(conn, "SELECT visittrack.session_start(%s::uuid, %s)",
               ("00000000-0000-0000-0000-%012d" % i, "fault-key-%d" % i)) for i in range(20)]
for sid in sids:
    for _ in range(3):
        vt.one(conn, "SELECT visittrack.session_touch(%s)", (sid,))
vt.check(all(r.hget("fault-sessions:session:" + s, "pages_visited") == "3" for s in sids),
         "Redis holds 3 pages for each of 20 sessions")

vt.redis_stop()
errors, times = 0, []
for sid in sids:
    for _ in range(2):
        try:
            _, ms = vt.timed(vt.one, conn, "SELECT visittrack.session_touch(%s)", (sid,))
            times.append(ms)
        except Exception as e:  # noqa: BLE001 -- any failure counts
            errors += 1
            print("call failed:", e)
vt.check(errors == 0, "no call failed while Redis was down (%d calls)" % len(times))
vt.check(max(times) < TIMEOUT_MS * 3, "worst call %.1f ms is within the timeout" % max(times))
vt.check(vt.percentile(times, 50) < 20, "median call %.2f ms: no waiting once Redis is known down"
         % vt.percentile(times, 50))
vt.check(vt.one(conn, "SELECT (visittrack.status())->'redis'->>'up'") == "false",
         "status() reports Redis down")

vt.redis_start()
time.sleep(0.6)  # the retry interval
pages = [vt.one(conn, "SELECT (visittrack.session_get(%s))->>'pages_visited'", (s,)) for s in sids]
vt.check(all(p == "5" for p in pages), "after restart, session_get reports 5 pages for every session")
vt.check(all(r.hget("fault-sessions:session:" + s, "pages_visited") == "5" for s in sids),
         "and Redis has been refilled with 5")
vt.check(vt.one(conn, "SELECT (visittrack.status())->'redis'->>'up'") == "true",
         "status() reports Redis up again")
for s in sids:
    vt.one(conn, "SELECT visittrack.session_end(%s)", (s,))
vt.one(conn, "DELETE FROM visittrack.hot_redis_backlog")
vt.finish()
