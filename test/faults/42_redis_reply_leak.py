"""Replies that hiredis allocated (with malloc) are freed when a call is
interrupted half-way, and the half-read connection is dropped.

A fake Redis answers the first command of each connection with a 1 MB
reply and then nothing more, so a call holds that reply while it waits for
the next one; pg_cancel_backend interrupts it.  After many such calls the
backend's memory has not grown by their replies, every interrupted
connection was closed, and the next call, through to the real Redis, is
served by Redis."""
import os
import socket
import threading
import time

import psycopg2.errors

import vtfault as vt

REPLY_BYTES = 1 << 20
CALLS = 40
BIG_REPLY = b"$%d\r\n" % REPLY_BYTES + b"x" * REPLY_BYTES + b"\r\n"

state = {"proxy": False, "stalled": 0, "closed": 0, "proxied": 0}
replied = threading.Event()
lock = threading.Lock()


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client):
    if state["proxy"]:
        with lock:
            state["proxied"] += 1
        upstream = socket.create_connection(("127.0.0.1", vt.REDIS_PORT))
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream)
        return
    with lock:
        state["stalled"] += 1
    try:
        client.recv(65536)          # the connection set-up's pipeline
        client.sendall(BIG_REPLY)   # answers its first command only
        replied.set()
        while client.recv(65536):   # then silence, until the backend hangs up
            pass
    except OSError:
        pass
    with lock:
        state["closed"] += 1
    client.close()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)


def accept_forever():
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(client,), daemon=True).start()


threading.Thread(target=accept_forever, daemon=True).start()

conn = vt.connect(redis_port=listener.getsockname()[1], redis_timeout_ms=30000,
                  redis_retry_interval_ms=0, redis_prefix="replyleak:")
pid = vt.one(conn, "SELECT pg_backend_pid()")
other = vt.connect()


def memory_kb():
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmData"):
                fields[key] = int(value.split()[0])
    return fields


def interrupted_call(i):
    outcome = {}

    def call():
        try:
            vt.one(conn, "SELECT visittrack.track_page_view(%s, '/leak')", (os.urandom(16).hex(),))
            outcome["result"] = "returned"
        except psycopg2.errors.QueryCanceled:
            outcome["result"] = "canceled"
        except Exception as e:  # noqa: BLE001
            outcome["result"] = "error: %s" % e

    replied.clear()
    t = threading.Thread(target=call)
    t.start()
    if not replied.wait(10):
        outcome["result"] = "the fake Redis got no request"
    time.sleep(0.15)                # the backend reads the whole reply, then waits
    vt.one(other, "SELECT pg_cancel_backend(%s)", (pid,))
    t.join(10)
    return outcome.get("result", "still running")


# a few first, so that the allocator has settled before measuring
for i in range(3):
    interrupted_call(i)
before = memory_kb()
results = [interrupted_call(i) for i in range(CALLS)]
after = memory_kb()
time.sleep(0.3)
grown = {k: after[k] - before[k] for k in before}
print("%d interrupted calls holding a %d kB reply each: VmRSS %+d kB, VmData %+d kB; %d/%d connections closed"
      % (CALLS, REPLY_BYTES // 1024, grown["VmRSS"], grown["VmData"], state["closed"], state["stalled"]))
vt.check(all(r == "canceled" for r in results),
         "every call was canceled (%s)" % sorted(set(results)))
budget_kb = CALLS * REPLY_BYTES // 1024 // 4
vt.check(grown["VmRSS"] < budget_kb and grown["VmData"] < budget_kb,
         "the backend did not keep the replies (grew less than %d kB)" % budget_kb)
vt.check(state["closed"] == state["stalled"],
         "each interrupted connection was dropped (%d of %d)" % (state["closed"], state["stalled"]))

# the next call reconnects, and Redis serves it
state["proxy"] = True
fp = os.urandom(16).hex()
vt.check(vt.one(conn, "SELECT visittrack.track_page_view(%s, '/after')", (fp,)) == 1,
         "the next call works")
vt.check(state["proxied"] >= 1, "on a new connection")
keys = list(vt.redis_client().scan_iter(match="*%s*" % fp))
vt.check(len(keys) > 0, "and was served by Redis (%s)" % keys)
other.close()
conn.close()
listener.close()
vt.finish()
