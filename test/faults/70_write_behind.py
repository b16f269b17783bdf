"""visittrack.write_behind under stress, in the database the writer serves:
counts stay exact with 8 concurrent clients; a Redis outage in the middle
of a stream of views and visits fails no call and loses no row; a writer
stopped with writes queued writes them all before it exits, and while it is
away calls write synchronously.  The shared-memory cache of anonymous
sessions keeps Redis exact: after 8 clients, after Redis restarted empty,
and across a restart of the writers."""
import os
import threading
import time
import uuid

import vtfault as vt

DB = os.environ.get("VT_WORKER_DB", "visittrack_worker")   # visittrack.database: the writer runs here
CLIENTS, VIEWS = 8, 50


def connect():
    return vt.connect(db=DB, write_behind="on")


def status(conn, field):
    return vt.one(conn, "SELECT visittrack.status()->'write_behind'->>%s", (field,))


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def redis_session(fingerprint):
    prefix = vt.one(conn, "SELECT visittrack.status()->'redis'->>'key_prefix'")
    return tuple(vt.redis_client().hmget(prefix + "anon_session:" + fingerprint, "pages_visited", "session_id"))


def session_of(fingerprint):
    return vt.one(conn, "SELECT min(session_id::text) FROM visittrack.anonymous_page_view WHERE device_fingerprint = %s",
                  (fingerprint,))


def count_views(conn, fp):
    return vt.one(conn, "SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = %s", (fp,))


conn = connect()
vt.check(wait_for(lambda: status(conn, "active") == "true", 10), "write-behind is active in %s" % DB)

# --- exact counts: one visitor, 8 clients -------------------------------------
fp = os.urandom(16).hex()


def views(c, i):
    return [vt.one(c, "SELECT visittrack.track_page_view(%s, %s)", (fp, "/wb/%d/%d" % (i, k)))
            for k in range(VIEWS)]


pages, errors = vt.run_clients(CLIENTS, views, connect)
vt.check(not errors, "%d clients x %d views without error %s" % (CLIENTS, VIEWS, errors[:1]))
vt.check(sorted(pages) == list(range(1, CLIENTS * VIEWS + 1)),
         "page counts returned are exactly 1..%d" % (CLIENTS * VIEWS))
vt.check(vt.one(conn, "SELECT visittrack.flush_writes(30000)") is True, "flush_writes: the writer caught up")
vt.check(count_views(conn, fp) == CLIENTS * VIEWS, "%d page view rows" % (CLIENTS * VIEWS))
vt.check(vt.one(conn, "SELECT count(DISTINCT session_id) FROM visittrack.anonymous_page_view WHERE device_fingerprint = %s",
                (fp,)) == 1, "all in one session")
rows = vt.one(conn, "SELECT array_agg(pages_visited) FROM visittrack.anonymous_session WHERE device_fingerprint = %s", (fp,))
vt.check(rows == [CLIENTS * VIEWS], "one session row with pages_visited %d (got %s)" % (CLIENTS * VIEWS, rows))
plain = vt.connect(db=DB, write_behind="off")
vt.check(vt.one(plain, "SELECT visittrack.track_page_view(%s, '/wb/plain')", (fp,)) == CLIENTS * VIEWS + 1,
         "a session without write-behind counts the cached visitor where the cache left off: %d"
         % (CLIENTS * VIEWS + 1))
plain.close()
vt.check(vt.one(conn, "SELECT visittrack.track_page_view(%s, '/wb/again')", (fp,)) == CLIENTS * VIEWS + 2,
         "and the next write-behind view goes on from there: %d" % (CLIENTS * VIEWS + 2))
vt.one(conn, "SELECT visittrack.flush_writes(30000)")
vt.check(redis_session(fp) == (str(CLIENTS * VIEWS + 2), session_of(fp)),
         "Redis's anon_session hash (mirrored from the shared-memory cache) has %d pages, same session (got %s)"
         % (CLIENTS * VIEWS + 2, redis_session(fp)))

# --- exact presence: 200 visitors, overlapping clients --------------------------
community = str(uuid.uuid4())
users = [str(uuid.uuid4()) for _ in range(100)]
anons = [os.urandom(16).hex() for _ in range(100)]


def visits(c, i):
    for k in range(100):
        j = (i * 25 + k) % 100
        vt.one(c, "SELECT visittrack.community_visit(%s, %s)", (community, users[j]))
        vt.one(c, "SELECT visittrack.community_visit(%s, device_fingerprint => %s)", (community, anons[j]))
    return []


_, errors = vt.run_clients(CLIENTS, visits, connect)
vt.check(not errors, "concurrent community visits without error %s" % errors[:1])
vt.one(conn, "SELECT visittrack.flush_writes(30000)")
with conn.cursor() as cur:
    cur.execute("SELECT * FROM visittrack.visitor_stats(%s)", (community,))
    stats = cur.fetchone()
vt.check(stats[:3] == (200, 100, 100), "visitor_stats counts 200 = 100 signed in + 100 anonymous (got %s)" % (stats[:3],))
total = vt.one(conn, "SELECT sum((v->>'pages_viewed')::int) FROM visittrack.current_visitors(%s) v", (community,))
vt.check(total == CLIENTS * 200, "pages_viewed add up to all %d visits (got %s)" % (CLIENTS * 200, total))
events = vt.one(conn, "SELECT count(*) FROM visittrack.user_event WHERE event_type = 'community_visit' "
                      "AND metadata->>'community_id' = %s", (community,))
vt.check(events == CLIENTS * 100, "one community_visit event per signed-in visit: %d (got %s)" % (CLIENTS * 100, events))

# --- Redis goes away in the middle of the stream -------------------------------
stop = threading.Event()
outage_community = str(uuid.uuid4())
calls, failures_seen = [], []
visitors = [os.urandom(16).hex() for _ in range(40)]


def stream(i):
    c = connect()
    k = 0
    try:
        while not stop.is_set():
            v = visitors[(i * 10 + k) % len(visitors)]
            try:
                vt.one(c, "SELECT visittrack.track_page_view(%s, %s)", (v, "/outage/%d" % k))
                vt.one(c, "SELECT visittrack.community_visit(%s, device_fingerprint => %s)", (outage_community, v))
                calls.append(v)
            except Exception as e:  # noqa: BLE001
                failures_seen.append(e)
            k += 1
    finally:
        c.close()


threads = [threading.Thread(target=stream, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
time.sleep(1.0)
vt.redis_stop()
time.sleep(1.5)
vt.redis_start()
time.sleep(1.0)
stop.set()
for t in threads:
    t.join()
vt.check(not failures_seen, "Redis killed and restarted under 4 clients: %d calls, none failed %s"
         % (len(calls), failures_seen[:1]))
vt.check(vt.one(conn, "SELECT visittrack.flush_writes(30000)") is True, "the writer caught up after the outage")
rows = vt.one(conn, "SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = ANY(%s) "
                    "AND url LIKE '/outage/%%'", (visitors,))
vt.check(rows == len(calls), "every view of the stream has its row: %d of %d" % (rows, len(calls)))
split = vt.one(conn, "SELECT count(*) FROM (SELECT device_fingerprint FROM visittrack.anonymous_page_view "
                     "WHERE device_fingerprint = ANY(%s) GROUP BY 1 HAVING count(DISTINCT session_id) > 1) s", (visitors,))
vt.check(split == 0, "no visitor's session split by the outage (%s split)" % split)
stale = [v for v in set(calls) if redis_session(v) != (str(calls.count(v)), session_of(v))]
vt.check(not stale, "Redis (restarted empty) has every visitor's exact page count again: %d of %d wrong"
         % (len(stale), len(set(calls))))
# visits that reached neither Redis nor the writer's pipeline were kept in
# PostgreSQL; the worker copies them back to Redis within a few rounds
vt.check(wait_for(lambda: vt.one(conn, "SELECT total_visitors FROM visittrack.visitor_stats(%s)", (outage_community,))
                  == len(set(calls)), 15),
         "every visitor of the stream is counted once after reconciliation (%d)" % len(set(calls)))

# --- the writer stops with writes queued, then is away -------------------------
fp2 = os.urandom(16).hex()
vt.one(conn, "SELECT count(visittrack.track_page_view(%s, '/burst/' || g)) FROM generate_series(1, 2000) g", (fp2,))
writers = vt.one(conn, "SELECT array_agg(pid) FROM pg_stat_activity WHERE backend_type = 'visittrack writer'")
vt.check(len(writers) == 2, "two writers run: rows and hot state (%s)" % writers)
vt.one(conn, "SELECT count(pg_terminate_backend(pid)) FROM unnest(%s::int[]) AS pid", (writers,))
vt.check(wait_for(lambda: vt.one(conn, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (writers,)) == 0, 10),
         "the writers exit on SIGTERM")
vt.check(count_views(conn, fp2) == 2000, "they wrote all 2,000 queued views before exiting (got %s)" % count_views(conn, fp2))
vt.check(redis_session(fp2)[0] == "2000", "and mirrored the cached session to Redis (%s pages)" % redis_session(fp2)[0])
expected_next = 2001
if status(conn, "writer_attached") == "false":
    expected_next = 2002
    vt.check(vt.one(conn, "SELECT visittrack.track_page_view(%s, '/burst/next')", (fp2,)) == 2001,
             "with the writers away, the count goes on: 2001")
    vt.check(redis_session(fp2)[0] == "2001",
             "and with nobody to queue it for, the view merged the session into Redis itself (%s)"
             % redis_session(fp2)[0])
    fp3 = os.urandom(16).hex()
    for k in range(10):
        vt.one(conn, "SELECT visittrack.track_page_view(%s, %s)", (fp3, "/away/%d" % k))
    vt.check(count_views(conn, fp3) == 10, "with no writers, calls write their rows themselves (visible at once)")
vt.check(wait_for(lambda: status(conn, "active") == "true", 15), "the writers are back and write-behind active again")
nxt = vt.one(conn, "SELECT visittrack.track_page_view(%s, '/burst/after')", (fp2,))
vt.check(nxt == expected_next, "the count goes on without a gap or a repeat once they are back: %d (got %s)"
         % (expected_next, nxt))
vt.check(status(conn, "dropped") == "0", "no queued write was dropped")
conn.close()

vt.finish()
