"""A bot check that is cancelled leaves bot detection working in the same
backend.  The check is cancelled (statement_timeout) while it loads a large
ua-parser rule file; it must end promptly with the cancel, not be taken for
"rule files unavailable" (which answers from the heuristics alone for a
while).  A rule file that really is missing gives heuristics with a WARNING,
and fixing the setting brings the rules back at once."""
import os
import time

import psycopg2.errors
import yaml

import vtfault as vt

# A crawler that only the rule sets know: no "+http" contact, no marker, no
# generic word such as "bot" (bots.c's signals catch "bingbot" by itself).
CRAWLER = "Mozilla/5.0 (compatible; Qwantify/2.4w; http://www.qwant.com/)"
REAL_RULES = "/usr/share/uap-core/regexes.yaml"


def view_is_bot(conn, ua):
    fp = os.urandom(16).hex()
    vt.one(conn, "SELECT visittrack.track_page_view(%s, '/bot-check', NULL, %s)", (fp, ua))
    return vt.one(conn, "SELECT bool_and(is_bot) FROM visittrack.anonymous_page_view"
                        " WHERE device_fingerprint = %s", (fp,))


def warnings(conn):
    found = [n for n in conn.notices if "user-agent rules unavailable" in n]
    del conn.notices[:]
    return found


# ua-parser's rules, the browser list 60 times over: seconds to compile
rules = yaml.safe_load(open(REAL_RULES))
rules["user_agent_parsers"] = [dict(r) for r in rules["user_agent_parsers"] * 60]
big = os.path.join(vt.RUN, "regexes-large.yaml")
with open(big, "w") as f:
    yaml.safe_dump(rules, f)
os.chmod(big, 0o644)

conn = vt.connect()
vt.check(view_is_bot(conn, CRAWLER) is True, "the crawler is detected to begin with")

# how long the large file takes to load, uncancelled (is_bot has no catch)
vt.one(conn, "SET visittrack.uap_regexes_path = %s", (big,))
_, load_ms = vt.timed(vt.one, conn, "SELECT visittrack.is_bot('loading')")
vt.one(conn, "RESET visittrack.uap_regexes_path")
vt.one(conn, "SELECT visittrack.is_bot('back to the usual rules')")
print("loading the large rule file takes %.0f ms" % load_ms)

outcomes = []
for attempt in range(3):
    vt.one(conn, "SET visittrack.uap_regexes_path = %s", (big,))
    vt.one(conn, "SET statement_timeout = 200")
    t0 = time.monotonic()
    try:
        view_is_bot(conn, CRAWLER + " #%d" % attempt)
        outcome = "answered"
    except psycopg2.errors.QueryCanceled:
        outcome = "canceled"
    ms = (time.monotonic() - t0) * 1000.0
    vt.one(conn, "RESET statement_timeout")
    vt.one(conn, "RESET visittrack.uap_regexes_path")
    detected = view_is_bot(conn, CRAWLER + " after %d" % attempt)
    outcomes.append((outcome, ms, detected))
    print("attempt %d: %s after %.0f ms; the crawler then detected: %s" % (attempt, outcome, ms, detected))

vt.check(all(o == "canceled" for o, _, _ in outcomes), "each check ended with the cancel, none was swallowed")
vt.check(all(ms < min(1000, load_ms / 2) for _, ms, _ in outcomes),
         "promptly: the load does not run to its end first (worst %.0f ms, load %.0f ms)"
         % (max(ms for _, ms, _ in outcomes), load_ms))
vt.check(all(d is True for _, _, d in outcomes), "right after each cancel the same backend detects the crawler")
vt.check(warnings(conn) == [], "no 'rules unavailable' WARNING for a cancel")

# a rule file that is really missing: heuristics, one WARNING; fixed: rules at once
vt.one(conn, "SET visittrack.uap_regexes_path = '/nonexistent/regexes.yaml'")
vt.check(view_is_bot(conn, CRAWLER + " missing") is False, "missing rule file: heuristics only")
vt.check(view_is_bot(conn, "curl/8.0") is True, "which still catch an HTTP client")
vt.check(len(warnings(conn)) == 1, "one WARNING for the missing file, not one per call")
vt.one(conn, "RESET visittrack.uap_regexes_path")
vt.check(view_is_bot(conn, CRAWLER + " fixed") is True, "setting fixed: the rules are back at once")
conn.close()
os.unlink(big)
vt.finish()
