"""A Redis that accepts connections but never answers: no call hangs past
visittrack.redis_timeout_ms, only one call per retry interval pays the
timeout, and pg_cancel_backend interrupts a call that is waiting on Redis."""
import os
import socket
import threading
import time

import psycopg2
import psycopg2.errors

import vtfault as vt

held = []


def silent_server():
    """A listening socket that accepts connections and never answers."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)

    def accept_forever():
        while True:
            try:
                held.append(s.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept_forever, daemon=True).start()
    return s


silent = silent_server()
port = silent.getsockname()[1]

TIMEOUT_MS, RETRY_MS = 200, 1000
conn = vt.connect(redis_port=port, redis_timeout_ms=TIMEOUT_MS, redis_retry_interval_ms=RETRY_MS,
                  redis_prefix="silent:")
fp = os.urandom(16).hex()
times, errors = [], 0
t_end = time.monotonic() + 2.5
n = 0
while time.monotonic() < t_end:
    n += 1
    try:
        _, ms = vt.timed(vt.one, conn, "SELECT visittrack.track_page_view(%s, %s)", (fp, "/s/%d" % n))
        times.append(ms)
    except Exception as e:  # noqa: BLE001
        errors += 1
        print("call failed:", e)
slow = [t for t in times if t > TIMEOUT_MS / 2]
print("silent Redis: %d calls in 2.5 s, %d failed, %d waited for the timeout, worst %.1f ms, median %.2f ms"
      % (len(times), errors, len(slow), max(times), vt.percentile(times, 50)))
vt.check(errors == 0, "no call failed against a silent Redis")
vt.check(max(times) < TIMEOUT_MS + 150, "no call waited much longer than the %d ms timeout" % TIMEOUT_MS)
vt.check(1 <= len(slow) <= 4, "only about one call per %d ms retry interval paid the timeout (%d)"
         % (RETRY_MS, len(slow)))
vt.check(vt.one(conn, "SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = %s", (fp,))
         == len(times), "every page view was recorded")
pages = vt.one(conn, "SELECT visittrack.track_page_view(%s, '/last')", (fp,))
vt.check(pages == len(times) + 1, "and counted (%s)" % pages)
status = vt.one(conn, "SELECT visittrack.status()")
vt.check("timed out" in (status["redis"]["last_error"] or ""), "status() says: %s" % status["redis"]["last_error"])
conn.close()

# pg_cancel_backend during a long wait on Redis (another silent server, of
# which nothing is known yet, so the call does try it)
silent2 = silent_server()
conn = vt.connect(redis_port=silent2.getsockname()[1], redis_timeout_ms=30000,
                  redis_retry_interval_ms=0, redis_prefix="silent2:")
pid = vt.one(conn, "SELECT pg_backend_pid()")
outcome = {}


def waiting_call():
    t0 = time.monotonic()
    try:
        vt.one(conn, "SELECT visittrack.track_page_view(%s, '/wait')", (os.urandom(16).hex(),))
        outcome["result"] = "returned"
    except psycopg2.errors.QueryCanceled:
        outcome["result"] = "canceled"
    except Exception as e:  # noqa: BLE001
        outcome["result"] = "error: %s" % e
    outcome["ms"] = (time.monotonic() - t0) * 1000.0


t = threading.Thread(target=waiting_call)
t.start()
time.sleep(0.5)
other = vt.connect()
t_cancel = time.monotonic()
vt.one(other, "SELECT pg_cancel_backend(%s)", (pid,))
t.join(10)
after_cancel = (time.monotonic() - t_cancel) * 1000.0
print("cancel: the call ended %.0f ms after pg_cancel_backend (%s, %.0f ms in all, timeout 30000 ms)"
      % (after_cancel, outcome.get("result"), outcome.get("ms", -1)))
vt.check(outcome.get("result") == "canceled", "the waiting call was canceled")
vt.check(after_cancel < 1000, "promptly")
vt.check(vt.one(conn, "SELECT 1") == 1, "the session is usable afterwards")
other.close()
conn.close()
silent.close()
silent2.close()
vt.finish()
