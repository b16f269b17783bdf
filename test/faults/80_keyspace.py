"""Redis as untrusted input, and one key namespace per database.

Two databases on one Redis, neither with visittrack.redis_prefix set, keep
separate visitors: the same fingerprint starts a session in each, and
link_conversion in one never sees the other's landing page.

Bytes placed in Redis that are not valid UTF-8 (or not of the shape
visittrack writes) never reach a table and never fail a call: the
anonymous session persisted every 5th page, finalize_anonymous_sessions,
link_conversion, session_get and current_visitors all go on, and status()
counts what was ignored."""
import time
import uuid

import psycopg2
import redis

import vtfault as vt

DBS = ("vt_keyspace_a", "vt_keyspace_b")
FP = "5eed0000000000000000000000000001"
USER = "00000000-0000-0000-0000-00000000ee01"

admin = vt.connect(db="postgres")
for db in DBS:
    vt.one(admin, "DROP DATABASE IF EXISTS %s" % db)
    vt.one(admin, "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" % db)
    c = vt.connect(db=db)
    vt.one(c, "CREATE EXTENSION visittrack")
    c.close()
a, b = vt.connect(db=DBS[0]), vt.connect(db=DBS[1])
raw = vt.redis_client()
raw_bytes = redis.Redis(host="127.0.0.1", port=vt.REDIS_PORT)   # bytes, not str


def prefix(conn):
    return vt.one(conn, "SELECT coalesce(visittrack.status()->'redis'->>'key_prefix',"
                        " current_setting('visittrack.redis_prefix'))")


def valid_utf8(conn, sql, args=()):
    """Every text value the query returns is valid UTF-8 (read as bytes)."""
    with conn.cursor() as cur:
        try:
            cur.execute(sql, args)
        except psycopg2.Error:      # convert_to refuses invalid text
            return False
        for row in cur.fetchall():
            for value in row:
                if value is None:
                    continue
                try:
                    bytes.fromhex(value).decode("utf-8")
                except UnicodeDecodeError:
                    return False
    return True


# --- two databases, no prefix set ---------------------------------------
vt.check(vt.one(a, "SELECT current_setting('visittrack.redis_prefix')") == "", "no prefix is set")
vt.check(prefix(a) != prefix(b), "each database has its own key prefix (%s, %s)" % (prefix(a), prefix(b)))
pa = vt.one(a, "SELECT visittrack.track_page_view(%s, '/a-landing')", (FP,))
pb = vt.one(b, "SELECT visittrack.track_page_view(%s, '/b-landing')", (FP,))
vt.check(pa == 1 and pb == 1, "the same visitor starts a session in each database (pages %s, %s)" % (pa, pb))
sa = vt.one(a, "SELECT session_id::text FROM visittrack.anonymous_page_view WHERE device_fingerprint = %s", (FP,))
sb = vt.one(b, "SELECT session_id::text FROM visittrack.anonymous_page_view WHERE device_fingerprint = %s", (FP,))
vt.check(sa != sb, "two sessions, not one")
vt.one(b, "SELECT visittrack.link_conversion(%s, %s)", (USER, FP))
landing = vt.one(b, "SELECT metadata->>'landing_page' FROM visittrack.user_event"
                    " WHERE user_id = %s AND event_type = 'account_created'", (USER,))
vt.check(landing == "/b-landing", "link_conversion sees its own database's landing page (%s)" % landing)
vt.check(raw.exists(prefix(a) + "anon_session:" + FP) == 1 and raw.exists(prefix(b) + "anon_session:" + FP) == 1,
         "one anon_session key per database")

# --- invalid UTF-8 in Redis ----------------------------------------------
conn = a
pfx = prefix(conn)
BAD = b"\xff\xfe"
rejected_before = int(vt.one(conn, "SELECT visittrack.status()->'counters'->>'redis_rejected'") or 0)

# persisted at page 5 with a landing page that is not UTF-8
fp1 = "5eed0000000000000000000000000002"
vt.one(conn, "SELECT visittrack.track_page_view(%s, '/first')", (fp1,))
raw_bytes.hset(pfx + "anon_session:" + fp1, mapping={"landing_page": BAD, "referrer": b"\xc3",
                                                      "current_page": BAD})
errors = []
for k in range(2, 8):
    try:
        vt.one(conn, "SELECT visittrack.track_page_view(%s, %s)", (fp1, "/page/%d" % k))
    except Exception as e:  # noqa: BLE001
        errors.append(e)
vt.check(not errors, "page views go on with a damaged landing page in Redis (%s)" % errors[:1])
vt.check(vt.one(conn, "SELECT count(*) FROM visittrack.anonymous_session WHERE device_fingerprint = %s", (fp1,)) >= 1,
         "the session was persisted")
vt.check(valid_utf8(conn, "SELECT encode(convert_to(landing_page, 'UTF8'), 'hex'), encode(convert_to(referrer, 'UTF8'), 'hex')"
                          "  FROM visittrack.anonymous_session WHERE device_fingerprint = %s", (fp1,)),
         "no invalid UTF-8 in anonymous_session (page 5)")

# a session id or start that is not ours: the view starts over, no ERROR
fp3 = "5eed0000000000000000000000000003"
vt.one(conn, "SELECT visittrack.track_page_view(%s, '/x')", (fp3,))
raw_bytes.hset(pfx + "anon_session:" + fp3, mapping={"session_id": b"\xff" * 36, "started_at": BAD,
                                                      "pages_visited": b"12e9"})
try:
    pages = vt.one(conn, "SELECT visittrack.track_page_view(%s, '/y')", (fp3,))
    sid3 = raw.hget(pfx + "anon_session:" + fp3, "session_id") or ""
    # page 1 of a new session, or page 2 when the page views show the session
    vt.check(pages in (1, 2) and len(sid3) == 36 and set(sid3) <= set("0123456789abcdef-"),
             "a damaged session identity is replaced (page %s, session %s)" % (pages, sid3))
except Exception as e:  # noqa: BLE001
    vt.check(False, "a damaged session identity fails no call (%s)" % e)

# link_conversion of a visitor only in Redis, whose landing page is not UTF-8
fp2 = "5eed0000000000000000000000000004"
user2 = str(uuid.uuid4())
vt.one(conn, "SELECT visittrack.track_page_view(%s, '/landing-2', 'https://example.org/')", (fp2,))
raw_bytes.hset(pfx + "anon_session:" + fp2, mapping={"landing_page": BAD, "referrer": BAD})
try:
    linked = vt.one(conn, "SELECT visittrack.link_conversion(%s, %s)", (user2, fp2))
    vt.check(linked is not None, "link_conversion links the session")
except Exception as e:  # noqa: BLE001
    vt.check(False, "link_conversion fails no call (%s)" % e)
vt.check(valid_utf8(conn, "SELECT encode(convert_to(landing_page, 'UTF8'), 'hex'), encode(convert_to(referrer, 'UTF8'), 'hex')"
                          "  FROM visittrack.anonymous_session WHERE device_fingerprint = %s", (fp2,)),
         "no invalid UTF-8 in anonymous_session (link_conversion)")
vt.check(valid_utf8(conn, "SELECT encode(convert_to(metadata::text, 'UTF8'), 'hex') FROM visittrack.user_event"
                          " WHERE user_id = %s", (user2,)),
         "no invalid UTF-8 in the account_created event")
try:
    landing2 = vt.one(conn, "SELECT landing_page FROM visittrack.anonymous_session WHERE device_fingerprint = %s",
                      (fp2,))
except UnicodeDecodeError as e:
    landing2 = e
vt.check(landing2 == "/landing-2", "the landing page comes from the page views instead (%s)" % landing2)

# finalize_anonymous_sessions with a damaged last_activity
raw_bytes.hset(pfx + "anon_session:" + fp1, mapping={"last_activity": BAD})
try:
    fin = vt.connect(db=DBS[0], anon_session_ttl=1)
    time.sleep(1.2)
    vt.one(fin, "SELECT visittrack.finalize_anonymous_sessions()")
    vt.check(vt.one(fin, "SELECT bool_and(NOT is_active) FROM visittrack.anonymous_session"
                         " WHERE device_fingerprint = %s", (fp1,)) is True,
             "finalize_anonymous_sessions closes the session")
    fin.close()
except Exception as e:  # noqa: BLE001
    vt.check(False, "finalize_anonymous_sessions fails no call (%s)" % e)

# session_get with a username that is not UTF-8: the table answers
sid = vt.one(conn, "SELECT visittrack.session_start(%s, 'keyspace-key', username => 'ada')", (USER,))
raw_bytes.hset(pfx + "session:" + sid, "user_username", BAD)
try:
    vt.check(vt.one(conn, "SELECT visittrack.session_get(%s)->>'user_username'", (sid,)) == "ada",
             "session_get answers from the table when the Redis entry is damaged")
except Exception as e:  # noqa: BLE001
    vt.check(False, "session_get fails no call (%s)" % e)

# current_visitors with entries that jsonb would refuse
community = str(uuid.uuid4())
vt.one(conn, "SELECT visittrack.community_visit(%s, device_fingerprint => %s)", (community, fp1))
raw_bytes.hset(pfx + "community:" + community + ":visitors",
               mapping={"anon_x": b"{not json", "anon_y": b'{"a":"\xff"}', "anon_z": b'{"n":1e999999}',
                        "anon_w": b"[" * 100000})
try:
    n = vt.one(conn, "SELECT count(*) FROM visittrack.current_visitors(%s)", (community,))
    vt.check(n == 1, "current_visitors leaves out entries that are not valid JSON (%s left)" % n)
except Exception as e:  # noqa: BLE001
    vt.check(False, "current_visitors fails no call (%s)" % e)

rejected = int(vt.one(conn, "SELECT visittrack.status()->'counters'->>'redis_rejected'") or 0)
vt.check(rejected > rejected_before, "status() counts the values ignored (%d)" % (rejected - rejected_before))

prefixes = (prefix(a), prefix(b))
for c in (a, b):
    c.close()
for p in prefixes:
    for key in raw.scan_iter(match=p + "*"):
        raw.delete(key)
for db in DBS:
    vt.one(admin, "DROP DATABASE %s WITH (FORCE)" % db)
vt.finish()
