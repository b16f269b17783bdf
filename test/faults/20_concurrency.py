"""Counts stay exact under concurrency, with Redis and without it:
8 connections sending 50 page views each for one fingerprint give pages
1..400 exactly once, one session row and 400 page views; 8 connections
recording overlapping community visits count each distinct visitor once."""
import os
import uuid

import vtfault as vt

CLIENTS, VIEWS = 8, 50


for mode, settings in (("redis", {}), ("no-Redis", {"redis_host": ""})):
    fp = os.urandom(16).hex()

    def views(conn, i):
        return [vt.one(conn, "SELECT visittrack.track_page_view(%s, %s)", (fp, "/page/%d/%d" % (i, k)))
                for k in range(VIEWS)]

    pages, errors = vt.run_clients(CLIENTS, views, **settings)
    vt.check(not errors, "%s: %d clients x %d views without error %s" % (mode, CLIENTS, VIEWS, errors[:1]))
    vt.check(sorted(pages) == list(range(1, CLIENTS * VIEWS + 1)),
             "%s: page counts returned are exactly 1..%d (max %s)" % (mode, CLIENTS * VIEWS, max(pages or [0])))
    conn = vt.connect(**settings)
    vt.check(vt.one(conn, "SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = %s", (fp,))
             == CLIENTS * VIEWS, "%s: %d page view rows" % (mode, CLIENTS * VIEWS))
    vt.check(vt.one(conn, "SELECT count(DISTINCT session_id) FROM visittrack.anonymous_page_view WHERE device_fingerprint = %s", (fp,))
             == 1, "%s: all in one session" % mode)
    rows = vt.one(conn, "SELECT array_agg(pages_visited) FROM visittrack.anonymous_session WHERE device_fingerprint = %s", (fp,))
    vt.check(rows == [CLIENTS * VIEWS], "%s: one session row with pages_visited %d (got %s)" % (mode, CLIENTS * VIEWS, rows))

    # community presence: 8 clients, 200 distinct visitors (100 signed in),
    # each client visiting an overlapping half of them
    community = str(uuid.uuid4())
    users = [str(uuid.uuid4()) for _ in range(100)]
    anons = [os.urandom(16).hex() for _ in range(100)]

    def visits(conn, i):
        for k in range(100):
            j = (i * 25 + k) % 100
            vt.one(conn, "SELECT visittrack.community_visit(%s, %s)", (community, users[j]))
            vt.one(conn, "SELECT visittrack.community_visit(%s, device_fingerprint => %s)", (community, anons[j]))
        return []

    _, errors = vt.run_clients(CLIENTS, visits, **settings)
    vt.check(not errors, "%s: concurrent community visits without error %s" % (mode, errors[:1]))
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM visittrack.visitor_stats(%s)", (community,))
        stats = cur.fetchone()
    vt.check(stats[:3] == (200, 100, 100), "%s: visitor_stats counts 200 = 100 signed in + 100 anonymous (got %s)"
             % (mode, stats[:3]))
    total_pages = vt.one(conn, "SELECT sum((v->>'pages_viewed')::int) FROM visittrack.current_visitors(%s) v", (community,))
    vt.check(total_pages == CLIENTS * 200, "%s: pages_viewed add up to all %d visits (got %s)"
             % (mode, CLIENTS * 200, total_pages))
    conn.close()

vt.finish()
