"""Two outages under a concurrent load of page views, session pages and
community visits: Redis killed (its data lost) and restarted, and Redis
frozen (SIGSTOP: it stops answering, keeps its data) and resumed.  No call
fails, calls stay fast while it is out, and afterwards every count is exact
-- each visitor's page numbers run 1..N without a gap or a repeat, each
session's page count equals the touches made, presence counts every
visitor -- and the worker has copied the outage's hot state back to Redis.

Runs in the worker's database so that the worker's reconciliation is part
of the test.  Prints the outage figures."""
import os
import signal
import threading
import time
import uuid

import vtfault as vt

DB = "visittrack_worker"
CLIENTS = 6
VISITORS_PER_CLIENT = 15
TIMEOUT_MS = 250
RUN_S, KILL_AT_S, DOWN_S = 7.0, 2.0, 2.5
# the worker reconciles with this database's settings: use its key prefix
PREFIX = "worker:"
settings = dict(redis_timeout_ms=TIMEOUT_MS, redis_retry_interval_ms=500)



def scenario(kind):
    """kind: "killed" (SHUTDOWN NOSAVE, then a new Redis) or "frozen" (SIGSTOP/SIGCONT)."""
    global community, outage, calls, pages_seen, touches, sessions
    community = str(uuid.uuid4())
    outage = {"start": None, "end": None}
    calls = []          # (t, ms, ok)
    pages_seen = {}     # fingerprint -> list of page numbers returned
    touches = {}        # session_id -> touches that returned a count
    lock = threading.Lock()

    setup = vt.connect(DB, **settings)
    sessions = [vt.one(setup, "SELECT visittrack.session_start(%s, %s)",
                       (str(uuid.uuid4()), "outage-key-%s-%d" % (kind, i))) for i in range(CLIENTS)]


    def client(i):
        conn = vt.connect(DB, **settings)
        fps = [os.urandom(16).hex() for _ in range(VISITORS_PER_CLIENT)]
        for fp in fps:
            pages_seen[fp] = []
        touches[sessions[i]] = 0
        k = 0
        t_end = time.monotonic() + RUN_S
        while time.monotonic() < t_end:
            fp = fps[k % len(fps)]
            stmts = [("SELECT visittrack.track_page_view(%s, %s)", (fp, "/o/%d" % k), fp),
                     ("SELECT visittrack.session_touch(%s)", (sessions[i],), sessions[i]),
                     ("SELECT visittrack.community_visit(%s, device_fingerprint => %s)", (community, fp), None)]
            # two page views for every session page and community visit
            sql, args, who = stmts[(k % 4) - 1] if k % 4 in (2, 3) else stmts[0]
            t0 = time.monotonic()
            ok = True
            try:
                result = vt.one(conn, sql, args)
                if "track_page_view" in sql:
                    pages_seen[who].append(result)
                elif "session_touch" in sql and result is not None:
                    touches[who] += 1
            except Exception as e:  # noqa: BLE001
                ok = False
                print("call failed:", e)
            with lock:
                calls.append((t0, (time.monotonic() - t0) * 1000.0, ok))
            k += 1
        conn.close()


    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    t_start = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(KILL_AT_S)
    outage["start"] = time.monotonic()
    if kind == "killed":
        vt.redis_stop()
        time.sleep(DOWN_S)
        vt.redis_start()
    else:
        pid = int(vt.redis_client().info("server")["process_id"])
        os.kill(pid, signal.SIGSTOP)
        time.sleep(DOWN_S)
        os.kill(pid, signal.SIGCONT)
    outage["end"] = time.monotonic()


    def watch_backlog():
        """When is the PostgreSQL hot store empty again, while clients go on?"""
        c = vt.connect(DB, **settings)
        while time.monotonic() < outage["end"] + 10:
            if vt.one(c, "SELECT (SELECT count(*) FROM visittrack.hot_anon_session)"
                         " + (SELECT count(*) FROM visittrack.hot_community_visitor)") == 0:
                outage["copied"] = time.monotonic()
                break
            time.sleep(0.05)
        c.close()


    watcher = threading.Thread(target=watch_backlog)
    watcher.start()
    for t in threads:
        t.join()
    watcher.join()

    during = [ms for (t0, ms, ok) in calls if outage["start"] <= t0 <= outage["end"]]
    failed = sum(1 for c in calls if not c[2])
    print("outage (Redis %s) figures: %d calls in all, %d failed; %d calls while Redis was down: median %.2f ms, "
          "p99 %.2f ms, worst %.2f ms (timeout %d ms)"
          % (kind, len(calls), failed, len(during), vt.percentile(during, 50), vt.percentile(during, 99),
             max(during or [0]), TIMEOUT_MS))
    vt.check(failed == 0, "no call failed")
    vt.check(len(during) > 50, "calls kept flowing while Redis was down (%d)" % len(during))
    vt.check(max(during or [0]) < TIMEOUT_MS * 2 + 100, "no call waited much past the timeout")
    vt.check(vt.percentile(during, 50) < 20, "median call during the outage did not wait on Redis")

    # exact counts: every visitor's page numbers are 1..N, and N rows exist
    bad = [fp for fp, seq in pages_seen.items() if seq != list(range(1, len(seq) + 1))]
    vt.check(not bad, "each of %d visitors counted 1..N with no gap or repeat across the outage%s"
             % (len(pages_seen), "" if not bad else ": e.g. %s" % pages_seen[bad[0]][:40]))
    conn = vt.connect(DB, **settings)
    lost = 0
    split = 0
    for fp, seq in pages_seen.items():
        n = vt.one(conn, "SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = %s", (fp,))
        lost += len(seq) - n
        split += vt.one(conn, "SELECT count(DISTINCT session_id) FROM visittrack.anonymous_page_view "
                              "WHERE device_fingerprint = %s", (fp,)) - 1
    print("lost page views: %d; sessions split by the outage: %d" % (lost, split))
    vt.check(lost == 0, "no page view lost (%d views)" % sum(len(s) for s in pages_seen.values()))
    vt.check(split == 0, "no session split in two")
    for sid, n in touches.items():
        db = vt.one(conn, "SELECT pages_visited FROM visittrack.user_session WHERE session_id = %s AND is_active", (sid,))
        if db != n:
            vt.check(False, "session %s: %s pages in the table, %d touches" % (sid, db, n))
            break
    else:
        vt.check(True, "every signed-in session's page count equals its touches")

    # within seconds, the worker has copied the outage's hot state to Redis
    r = vt.redis_client()
    copied_after = outage.get("copied", float("inf")) - outage["end"]
    print("hot state copied back to Redis %.2f s after Redis returned (retry interval 0.5 s)" % copied_after)
    vt.check(copied_after < 5, "the PostgreSQL hot store was empty again within seconds")
    mismatch = [fp for fp, seq in pages_seen.items()
                if seq and int(r.hget(PREFIX + "anon_session:" + fp, "pages_visited") or 0) != seq[-1]]
    vt.check(not mismatch, "Redis holds every visitor's page count")
    with conn.cursor() as cur:
        cur.execute("SELECT total_visitors FROM visittrack.visitor_stats(%s)", (community,))
        total = cur.fetchone()[0]
    vt.check(total == len(pages_seen), "visitor_stats counts all %d visitors, outage included (got %s)"
             % (len(pages_seen), total))
    status = vt.one(conn, "SELECT visittrack.status()")
    vt.check(status["redis"]["up"] and status["reconciliation"]["copied"] > 0,
             "status() shows Redis up and %s entries reconciled" % status["reconciliation"]["copied"])


scenario("killed")
scenario("frozen")
vt.finish()
