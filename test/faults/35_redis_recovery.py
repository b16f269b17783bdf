"""Recovery cases found in review, each with real Redis processes:

- a backend whose kept connection died while idle (Redis restarted)
  reconnects on its next call: no outage declared, no fallback;
- Redis restarted empty: an anonymous visitor's session continues from its
  page views (same session id, next page number), not a new session;
- a replica (READONLY after a failover) is treated as unavailable, with the
  reason in status(), instead of failing every call on the old connection;
- erasure while Redis does not answer is carried out when it is back;
- a logout during an outage: session_get does not trust the stale key."""
import os
import signal
import subprocess
import time

import vtfault as vt

settings = dict(redis_timeout_ms=200, redis_retry_interval_ms=300, redis_prefix="recovery:")
r = vt.redis_client()


def counters(conn):
    return vt.one(conn, "SELECT visittrack.status()->'counters'")


# 1. a connection that died while idle
conn = vt.connect(**settings)
fp = os.urandom(16).hex()
vt.one(conn, "SELECT visittrack.track_page_view(%s, '/a')", (fp,))
before = counters(conn)
vt.redis_stop()
vt.redis_start()
time.sleep(0.1)
pages = vt.one(conn, "SELECT visittrack.track_page_view(%s, '/b')", (fp,))
after = counters(conn)
vt.check(after["redis_failures"] == before["redis_failures"] and after["fallback_calls"] == before["fallback_calls"],
         "a connection that died while idle is replaced without declaring an outage (failures %d -> %d)"
         % (before["redis_failures"], after["redis_failures"]))

# 2. Redis restarted empty: the session continues from its page views
sid = vt.one(conn, "SELECT session_id::text FROM visittrack.anonymous_page_view WHERE device_fingerprint = %s"
                   " ORDER BY viewed_at LIMIT 1", (fp,))
vt.check(pages == 2 and r.hget("recovery:anon_session:" + fp, "session_id") == sid,
         "after Redis came back empty, the visitor's session went on: page %s of session %s" % (pages, sid[:8]))
pages = vt.one(conn, "SELECT visittrack.track_page_view(%s, '/c')", (fp,))
vt.check(pages == 3 and vt.one(conn, "SELECT count(DISTINCT session_id) FROM visittrack.anonymous_page_view"
                                     " WHERE device_fingerprint = %s", (fp,)) == 1,
         "one session, pages 1..3")

# 3. a read-only replica
replica_port = vt.redis_client().connection_pool.connection_kwargs["port"] + 1000
replica = subprocess.Popen(["redis-server", "--port", str(replica_port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--replicaof", "127.0.0.1", str(vt.REDIS_PORT)],
                           stdout=subprocess.DEVNULL)
try:
    time.sleep(0.5)
    rconn = vt.connect(redis_port=replica_port, redis_timeout_ms=200, redis_retry_interval_ms=300,
                       redis_prefix="recovery:")
    fp2 = os.urandom(16).hex()
    n = vt.one(rconn, "SELECT visittrack.track_page_view(%s, '/replica')", (fp2,))
    status = vt.one(rconn, "SELECT visittrack.status()")
    vt.check(n == 1 and not status["redis"]["up"] and "READONLY" in (status["redis"]["last_error"] or ""),
             "a read-only replica is treated as unavailable: %s" % status["redis"]["last_error"])
    vt.check(vt.one(rconn, "SELECT visittrack.track_page_view(%s, '/replica2')", (fp2,)) == 2,
             "and the page views go on, counted in PostgreSQL")
    rconn.close()
finally:
    replica.terminate()
    replica.wait()

# 4. erasure while Redis does not answer (frozen), carried out when it is back
fp3 = os.urandom(16).hex()
vt.one(conn, "SELECT visittrack.track_page_view(%s, '/e')", (fp3,))
vt.check(r.exists("recovery:anon_session:" + fp3) == 1, "the visitor is in Redis")
pid = int(r.info("server")["process_id"])
time.sleep(0.4)  # retry interval of the replica episode
os.kill(pid, signal.SIGSTOP)
try:
    vt.one(conn, "SELECT visittrack.forget_fingerprint(%s)", (fp3,))
finally:
    os.kill(pid, signal.SIGCONT)
vt.check(vt.one(conn, "SELECT count(*) FROM visittrack.hot_redis_backlog WHERE key_kind = 'anon_session'"
                      " AND key_id = %s", (fp3,)) == 1, "the erasure Redis missed is noted")
time.sleep(0.4)
vt.one(conn, "SELECT visittrack.reconcile_hot_state()")
vt.check(r.exists("recovery:anon_session:" + fp3) == 0, "and carried out when Redis is back")

# 5. a logout during an outage: the key in Redis is stale until reconciled
sid4 = vt.one(conn, "SELECT visittrack.session_start(gen_random_uuid(), 'recovery-logout')")
vt.check(r.hget("recovery:session:" + sid4, "is_active") == "true", "a live session in Redis")
saved = r.hgetall("recovery:session:" + sid4)
pid = int(r.info("server")["process_id"])
os.kill(pid, signal.SIGSTOP)
try:
    vt.one(conn, "SELECT visittrack.session_end(%s)", (sid4,))
finally:
    os.kill(pid, signal.SIGCONT)
time.sleep(0.4)
# a resumed Redis runs the DEL it had received; a lost one leaves this:
r.hset("recovery:session:" + sid4, mapping=saved)
vt.check(r.hget("recovery:session:" + sid4, "is_active") == "true", "Redis holds the logged-out session (write lost)")
got = vt.one(conn, "SELECT visittrack.session_get(%s)", (sid4,))
vt.check(got["is_active"] is False, "session_get does not trust it: is_active %s" % got["is_active"])
vt.one(conn, "SELECT visittrack.reconcile_hot_state()")
vt.check(r.exists("recovery:session:" + sid4) == 0 or r.hget("recovery:session:" + sid4, "is_active") != "true",
         "reconciliation repaired the key")
vt.one(conn, "DELETE FROM visittrack.hot_redis_backlog")
vt.finish()
