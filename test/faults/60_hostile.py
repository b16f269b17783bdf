"""Hostile input across the API: NULL in each required argument, megabyte
strings, CR/LF and Redis protocol fragments in ids, URLs and slugs, format
strings, odd Unicode, huge metadata, bad fingerprints and event types.
Each call either fails with the documented SQLSTATE or is normalised as
doc/reference.md says.  Afterwards the server is up, no Redis key holds a
control character, and no row that existed before was lost."""
import os
import uuid

import psycopg2

import vtfault as vt

conn = vt.connect()
r = vt.redis_client()
MB = "x" * (1 << 20)
U = "00000000-0000-0000-0000-0000000000f1"
FP = "0123456789abcdef0123456789abcdef"
PROTO = "\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
ODD = "\u202eevil\u200d\U0001F600e\u0301\uffff\u00ad"
COMMUNITY = str(uuid.uuid4())

# rows that must survive whatever follows
sid = vt.one(conn, "SELECT visittrack.session_start(%s, 'hostile-baseline')", (U,))
vt.one(conn, "SELECT visittrack.session_touch(%s, '/baseline')", (sid,))
vt.one(conn, "SELECT visittrack.log_event(%s, 'baseline')", (U,))
for k in range(6):
    vt.one(conn, "SELECT visittrack.track_page_view(%s, %s)", (FP, "/baseline/%d" % k))
BASELINE = {
    "user_session": "SELECT count(*) FROM visittrack.user_session WHERE user_id = '%s'" % U,
    "user_event": "SELECT count(*) FROM visittrack.user_event WHERE user_id = '%s'" % U,
    "anonymous_page_view": "SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = '%s'" % FP,
    "anonymous_session": "SELECT count(*) FROM visittrack.anonymous_session WHERE device_fingerprint = '%s'" % FP,
}
before = {t: vt.one(conn, q) for t, q in BASELINE.items()}

# (what, SQL, arguments, expected SQLSTATE or "ok")
CASES = [
    # NULL where a value is required
    ("fingerprint(NULL, NULL)", "SELECT visittrack.fingerprint(NULL, NULL)", (), "22004"),
    ("session_start user_id NULL", "SELECT visittrack.session_start(NULL, 'k')", (), "22004"),
    ("session_start key NULL", "SELECT visittrack.session_start(%s, NULL)", (U,), "22004"),
    ("session_touch NULL", "SELECT visittrack.session_touch(NULL)", (), "22004"),
    ("session_end NULL", "SELECT visittrack.session_end(NULL)", (), "22004"),
    ("session_get NULL", "SELECT visittrack.session_get(NULL)", (), "22004"),
    ("log_event type NULL", "SELECT visittrack.log_event(%s, NULL)", (U,), "22004"),
    ("track_page_view fingerprint NULL", "SELECT visittrack.track_page_view(NULL, '/x')", (), "22004"),
    ("track_page_view url NULL", "SELECT visittrack.track_page_view(%s, NULL)", (FP,), "22004"),
    ("community_visit id NULL", "SELECT visittrack.community_visit(NULL, %s)", (U,), "22004"),
    ("community_visit nobody", "SELECT visittrack.community_visit(%s)", (COMMUNITY,), "22004"),
    ("visitor_stats NULL", "SELECT * FROM visittrack.visitor_stats(NULL)", (), "22004"),
    ("current_visitors NULL", "SELECT * FROM visittrack.current_visitors(NULL)", (), "22004"),
    ("link_conversion user NULL", "SELECT visittrack.link_conversion(NULL, %s)", (FP,), "22004"),
    ("link_conversion fingerprint NULL", "SELECT visittrack.link_conversion(%s, NULL)", (U,), "22004"),
    # protocol fragments and control characters in ids
    ("session id with CR/LF", "SELECT visittrack.session_touch(%s)", ("abc" + PROTO,), "22023"),
    ("session id with RESP", "SELECT visittrack.session_get(%s)", ("*1\r\n$8\r\nFLUSHALL\r\n",), "22023"),
    ("session id with space", "SELECT visittrack.session_end(%s)", ("a b",), "22023"),
    ("session id unicode", "SELECT visittrack.session_get(%s)", (ODD,), "22023"),
    ("session id 1 MB", "SELECT visittrack.session_touch(%s)", (MB,), "22023"),
    ("fingerprint with CR/LF", "SELECT visittrack.track_page_view(%s, '/x')", (FP + PROTO,), "22023"),
    ("fingerprint 1 MB", "SELECT visittrack.track_page_view(%s, '/x')", (MB,), "22023"),
    ("fingerprint format string", "SELECT visittrack.track_page_view(%s, '/x')", ("%s%n%x%p%s%s%s%s%s%s",), "22023"),
    ("fingerprint unicode", "SELECT visittrack.link_conversion(%s, %s)", (U, ODD * 4), "22023"),
    ("device fingerprint with RESP", "SELECT visittrack.community_visit(%s, device_fingerprint => %s)",
     (COMMUNITY, PROTO), "22023"),
    ("session_start bad device fingerprint", "SELECT visittrack.session_start(%s, 'k2', device_fingerprint => %s)",
     (U, "zz" * 20), "22023"),
    # event types and metadata
    ("event type with CR/LF", "SELECT visittrack.log_event(%s, %s)", (U, "login" + PROTO), "22023"),
    ("event type format string", "SELECT visittrack.log_event(%s, '%%s%%n')", (U,), "22023"),
    ("event type 1 MB", "SELECT visittrack.log_event(%s, %s)", (U, MB), "22023"),
    ("event type unicode", "SELECT visittrack.log_event(%s, %s)", (U, ODD), "22023"),
    ("metadata array", "SELECT visittrack.log_event(%s, 'x', NULL, '[1]')", (U,), "22023"),
    ("metadata scalar", "SELECT visittrack.log_event(%s, 'x', NULL, 'null')", (U,), "22023"),
    ("metadata 1 MB", "SELECT visittrack.log_event(%s, 'x', NULL, jsonb_build_object('b', %s::text))", (U, MB), "54000"),
    ("metadata deep", "SELECT visittrack.log_event(%s, 'x', NULL, %s::jsonb)",
     (U, '{"a":' * 500 + "1" + "}" * 500), "ok"),
    # normalised, not refused
    ("url 1 MB is cut", "SELECT visittrack.track_page_view(%s, %s)", (FP, "/" + MB), "ok"),
    ("url with RESP is encoded", "SELECT visittrack.track_page_view(%s, %s)", (FP, "/p" + PROTO), "ok"),
    ("url format string", "SELECT visittrack.track_page_view(%s, %s)", (FP, "/%s%n%x%p"), "ok"),
    ("url odd unicode", "SELECT visittrack.track_page_view(%s, %s)", (FP, "/" + ODD), "ok"),
    ("referrer 1 MB", "SELECT visittrack.track_page_view(%s, '/r', %s)", (FP, MB), "ok"),
    ("user agent 1 MB", "SELECT visittrack.track_page_view(%s, '/ua', NULL, %s)", (FP, MB), "ok"),
    ("url_name and page_type 1 MB", "SELECT visittrack.track_page_view(%s, '/n', url_name => %s, page_type => %s)",
     (FP, MB, MB), "ok"),
    ("slug with RESP", "SELECT visittrack.community_visit(%s, %s, community_slug => %s, url => %s)",
     (COMMUNITY, U, PROTO + ODD, "/c" + PROTO), "ok"),
    ("slug 1 MB", "SELECT visittrack.community_visit(%s, %s, community_slug => %s)", (COMMUNITY, U, MB), "ok"),
    ("description 1 MB with CR/LF", "SELECT visittrack.log_event(%s, 'note', %s)", (U, MB + PROTO), "ok"),
    ("session key 1 MB", "SELECT visittrack.session_start(%s, %s)", (U, MB), "ok"),
    ("session key with RESP", "SELECT visittrack.session_start(%s, %s)", (U, PROTO), "ok"),
    ("username with RESP", "SELECT visittrack.session_start(%s, 'k3', username => %s)", (U, PROTO + ODD), "ok"),
    ("user agent format string", "SELECT visittrack.session_start(%s, 'k4', user_agent => '%%s%%n%%x')", (U,), "ok"),
    ("fingerprint in upper case", "SELECT visittrack.track_page_view(%s, '/upper')", (FP.upper(),), "ok"),
    ("unknown session", "SELECT visittrack.session_touch('ffffffffffffffffffffffffffffffff')", (), "ok"),
    ("IPv6 with zone-like text", "SELECT visittrack.fingerprint('fe80::1', %s)", (PROTO,), "ok"),
    ("zero-length url", "SELECT visittrack.track_page_view(%s, '')", (FP,), "ok"),
]

failures = 0
for what, sql, args, expected in CASES:
    try:
        vt.one(conn, sql, args)
        got = "ok"
    except psycopg2.Error as e:
        got = e.pgcode
        message = e.pgerror.splitlines()[0] if e.pgerror else ""
    ok = got == expected
    if not ok:
        failures += 1
        print("FAILED %-40s expected %s, got %s %s" % (what, expected, got, message if got != "ok" else ""))
vt.check(failures == 0, "%d hostile calls: each the documented error or normalisation" % len(CASES))
vt.check(len(CASES) >= 40, "at least 40 hostile calls (%d)" % len(CASES))

# normalisations are the documented ones
lengths = vt.one(conn, "SELECT array[max(length(url)), max(length(referrer)), max(length(url_name)),"
                       " max(length(page_type))] FROM visittrack.anonymous_page_view WHERE device_fingerprint = %s", (FP,))
vt.check(lengths == [2048, 2048, 200, 200], "URLs and referrers cut to 2048 bytes, names to 200 (%s)" % lengths)
encoded = vt.one(conn, "SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = %s"
                       " AND url LIKE '/p%%0D%%0A*3%%0D%%0A$3%%0D%%0ASET%%'", (FP,))
vt.check(encoded == 1, "CR/LF in a URL stored percent-encoded")
vt.check(vt.one(conn, "SELECT max(length(description)) FROM visittrack.user_event WHERE user_id = %s", (U,)) == 4000,
         "descriptions cut to 4000 bytes")
vt.check(vt.one(conn, "SELECT max(length(user_agent)) FROM visittrack.anonymous_session WHERE device_fingerprint = %s",
                (FP,)) in (None, 512), "user agents cut to 512 bytes")

# afterwards: the server is up, Redis keys are clean, nothing was lost
fresh = vt.connect()
vt.check(vt.one(fresh, "SELECT 1") == 1, "the server is up")
raw = vt.redis_client().connection_pool.connection_kwargs
import redis as redis_module  # noqa: E402
binary = redis_module.Redis(host=raw["host"], port=raw["port"])
bad_keys = [k for k in binary.scan_iter(count=1000) if any(b < 0x20 or b == 0x7f for b in k)]
vt.check(not bad_keys, "no Redis key contains a control character (%d keys scanned)" % binary.dbsize())
after = {t: vt.one(fresh, q) for t, q in BASELINE.items()}
lost = {t: (before[t], after[t]) for t in BASELINE if after[t] < before[t]}
vt.check(not lost, "no row that existed before was lost %s" % (lost or ""))
vt.finish()
