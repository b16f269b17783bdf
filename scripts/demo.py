"""The visittrack demo: traffic through the SQL API, as a Django site would
send it, and what visittrack then knows.  Run by scripts/demo."""
import os
import random
import textwrap
import time

import psycopg2
import redis

PGPORT = int(os.environ["PGPORT"])
REDIS_PORT = int(os.environ["VT_REDIS_PORT"])

conn = psycopg2.connect(host="127.0.0.1", port=PGPORT, user="postgres", dbname="visittrack_demo")
conn.autocommit = True
r = redis.Redis(host="127.0.0.1", port=REDIS_PORT, decode_responses=True)


def q(sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        if cur.description is None:
            return [], []
        return [d.name for d in cur.description], cur.fetchall()


def one(sql, args=()):
    return q(sql, args)[1][0][0]


def heading(text):
    print("\n" + text + "\n" + "-" * len(text))


def say(text):
    print(textwrap.fill(text, 100))


def table(sql, args=()):
    cols, rows = q(sql, args)
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    print("  " + " | ".join(c.ljust(w) for c, w in zip(cols, widths)))
    print("  " + "-+-".join("-" * w for w in widths))
    for row in cells:
        print("  " + " | ".join(v.ljust(w) for v, w in zip(row, widths)))
    print("  (%d row%s)" % (len(rows), "" if len(rows) == 1 else "s"))


USERS = {
    "alice": ("a11ce000-0000-4000-8000-000000000001", "203.0.113.45",
              "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"),
    "bob": ("b0b00000-0000-4000-8000-000000000002", "198.51.100.23",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"),
    "chloe": ("c410e000-0000-4000-8000-000000000003", "2001:db8:7:1::42",
              "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36"),
}

# the database's own key prefix (visittrack.redis_prefix is not set here)
PREFIX = one("SELECT visittrack.status()->'redis'->>'key_prefix'")

heading("1. Signed-in users log in")
sessions = {}
for name, (uid, ip, ua) in USERS.items():
    remember = name == "bob"
    sessions[name] = one("SELECT visittrack.session_start(%s, %s, %s, %s, %s, %s)",
                         (uid, "django-key-" + name, ip, ua, remember, name))
    one("SELECT visittrack.log_event(%s, 'login', 'Logged in', %s, %s, %s)",
        (uid, '{"method": "password"}', ip, ua))
    say("%-6s logged in%s: session_id %s" % (name, " (remember me)" if remember else "",
                                             sessions[name]))
say("The raw Django session keys are not stored anywhere; session_id is a keyed hash of them.")

heading("2. They browse")
pages = {
    "alice": ["/", "/communities/montreal/", "/communities/montreal/events/", "/search?q=jazz"],
    "bob": ["/communities/toronto/", "/communities/toronto/members/"],
    "chloe": ["/", "/communities/montreal/", "/about/", "/communities/montreal/", "/help/"],
}
for name, urls in pages.items():
    for url in urls:
        n = one("SELECT visittrack.session_touch(%s, %s)", (sessions[name], url))
    say("%-6s viewed %d pages; session_touch returned %d" % (name, len(urls), n))
one("SELECT visittrack.log_event(%s, 'post.created', 'New post in Montreal', %s)",
    (USERS["alice"][0], '{"community": "montreal", "post_id": 1234}'))

heading("3. What Redis holds (as redis-cli or redis-py sees it)")
for name in USERS:
    key = PREFIX + "session:" + sessions[name]
    h = r.hgetall(key)
    print("  %s  TTL %ss" % (key, r.ttl(key)))
    for f in ("user_id", "user_username", "ip_address", "persistent", "is_active",
              "started_at", "expires_at", "pages_visited"):
        print("      %-14s %s" % (f, h.get(f)))

heading("4. session_get reads Redis first, and the table when Redis has no entry")
r.delete(PREFIX + "session:" + sessions["chloe"])
say("Deleted chloe's Redis entry by hand; session_get still answers, from user_session, and puts the "
    "entry back:")
print("  " + str(one("SELECT visittrack.session_get(%s)", (sessions["chloe"],))))
print("  Redis entry back: %s (TTL %ss)" % (r.exists(PREFIX + "session:" + sessions["chloe"]) == 1,
                                            r.ttl(PREFIX + "session:" + sessions["chloe"])))

heading("5. Bob logs out")
one("SELECT visittrack.session_end(%s)", (sessions["bob"],))
one("SELECT visittrack.log_event(%s, 'logout')", (USERS["bob"][0],))
say("session_end: is_active = false, ended_at set, Redis entry deleted (exists now: %s). A page "
    "for the ended session is not counted: session_touch returns %s."
    % (r.exists(PREFIX + "session:" + sessions["bob"]) == 1,
       one("SELECT visittrack.session_touch(%s)", (sessions["bob"],))))

heading("6. A transaction that rolls back leaves nothing behind")
with conn.cursor() as cur:
    cur.execute("BEGIN")
    cur.execute("SELECT visittrack.session_start('d0d00000-0000-4000-8000-000000000004', 'rolled-back')")
    sid = cur.fetchone()[0]
    cur.execute("ROLLBACK")
say("session_start inside a rolled-back transaction: row %s, Redis entry %s."
    % ("present" if one("SELECT count(*) FROM visittrack.user_session WHERE session_id = %s", (sid,))
       else "absent", "present" if r.exists(PREFIX + "session:" + sid) else "absent"))

heading("7. The tables")
table("SELECT username, host(ip_address) AS ip, pages_visited AS pages, persistent, is_active,"
      " to_char(expires_at - started_at, 'DD \"d\" HH24 \"h\"') AS lifetime"
      " FROM visittrack.user_session ORDER BY id")
table("SELECT e.event_type, s.username, e.description, e.metadata"
      " FROM visittrack.user_event e LEFT JOIN visittrack.user_session s USING (user_id)"
      " ORDER BY e.id")

heading("8. status()")
status = one("SELECT visittrack.status()")
print("  redis:    %s" % status["redis"])
print("  worker:   %s" % status["worker"])
print("  counters: %s" % status["counters"])

# ---------------------------------------------------------------------------
# A day of traffic, and the design document's questions about it.
# ---------------------------------------------------------------------------
rng = random.Random(20251010)
MONTREAL = "c0770000-0000-4000-8000-00000000a001"
TORONTO = "c0770000-0000-4000-8000-00000000a002"
BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
]
BOTS = ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "python-requests/2.31.0"]
# (url, url_name, page_type); the first ones are the likely landing pages
SITE = [("/", "home", "home"),
        ("/communities/montreal/", "community-detail", "community"),
        ("/search?q=events", "search", "search"),
        ("/communities/toronto/", "community-detail", "community"),
        ("/communities/montreal/events/", "community-events", "event"),
        ("/events/jazz-night/", "event-detail", "event"),
        ("/about/", "about", "page"),
        ("/pricing/", "pricing", "page"),
        ("/signup/", "signup", "account")]
REFERRERS = ["https://www.google.com/", "https://www.google.com/", "https://news.example.org/montreal",
             None, None, "https://www.facebook.com/"]


def browse(fp, ua, ip, n_pages, user_id=None, community_visits=True):
    """One visitor's pages: track_page_view, plus community_visit on community pages."""
    url, name, ptype = SITE[rng.randrange(4)]
    referrer = rng.choice(REFERRERS)
    for i in range(n_pages):
        one("SELECT visittrack.track_page_view(%s, %s, %s, %s, %s, %s, NULL, %s, %s)",
            (fp, url, referrer, ua, ip, user_id, name, ptype))
        if community_visits and ptype == "community":
            community = MONTREAL if "montreal" in url else TORONTO
            one("SELECT visittrack.community_visit(%s, %s, %s, community_slug => %s, url => %s, "
                "ip => %s, user_agent => %s)",
                (community, user_id, None if user_id else fp, url.split("/")[2], url, ip, ua))
        referrer = url
        url, name, ptype = SITE[min(len(SITE) - 1, rng.randrange(len(SITE)))]


heading("9. A day of traffic")
visitors = []
for v in range(40):
    ip = "198.51.100.%d" % (10 + v)
    ua = rng.choice(BROWSERS)
    fp = one("SELECT visittrack.fingerprint(%s, %s, 'en-CA')", (ip, ua))
    visitors.append((fp, ua, ip))
    browse(fp, ua, ip, rng.choice([1, 1, 2, 3, 4, 5, 6, 7, 9]))
signups = []
for k, (fp, ua, ip) in enumerate(visitors[:6]):
    # a sign-up: the anonymous session is linked to the new account, then
    # the new user browses signed in
    uid = "5e0e0000-0000-4000-8000-%012d" % (k + 1)
    browse(fp, ua, ip, 2, community_visits=False)
    one("SELECT visittrack.link_conversion(%s, %s)", (uid, fp))
    sid = one("SELECT visittrack.session_start(%s, %s, %s, %s, false, %s, %s)",
              (uid, "django-signup-%d" % k, ip, ua, "new_user_%d" % k, fp))
    one("SELECT visittrack.log_event(%s, 'account.created', 'Signed up', '{}', %s, %s)", (uid, ip, ua))
    browse(fp, ua, ip, rng.randint(2, 6), user_id=uid)
    signups.append((uid, sid))
for name in ("alice", "chloe"):
    uid, ip, ua = USERS[name]
    browse(None, ua, ip, 5, user_id=uid)
for b, ua in enumerate(BOTS):
    ip = "66.249.66.%d" % (b + 1)
    fp = one("SELECT visittrack.fingerprint(%s, %s)", (ip, ua))
    browse(fp, ua, ip, 12)
say("40 anonymous visitors browsed 1 to 9 pages each, 6 of them signed up and went on signed in, "
    "alice and chloe browsed signed in, and two bots (Googlebot and python-requests) crawled 12 pages "
    "each. %d page views in all." % one(
        "SELECT (SELECT count(*) FROM visittrack.anonymous_page_view)"
        " + (SELECT count(*) FROM visittrack.user_page_view)"))

heading("10. Use case 1: who is viewing Montreal right now? (Redis, 5-minute window)")
table("SELECT * FROM visittrack.visitor_stats(%s)", (MONTREAL,))
table("SELECT v->>'user_id' AS user_id, left(v->>'device_fingerprint', 12) AS fingerprint,"
      " v->>'is_authenticated' AS signed_in, v->>'pages_viewed' AS pages, v->>'current_page' AS page"
      "  FROM visittrack.current_visitors(%s) v"
      " ORDER BY 3 DESC, (v->>'pages_viewed')::int DESC, 2 LIMIT 8", (MONTREAL,))
say("(at most 8 of them shown). Bots are not counted as visitors; anonymous visitors are in Redis only.")

heading("11. The day becomes yesterday")
# Sessions end: idle anonymous sessions are finalised (a 1 s idle window
# here instead of 30 min), signed-in users log out.
q("SET visittrack.anon_session_ttl = '1s'")
time.sleep(1.2)
one("SELECT visittrack.finalize_anonymous_sessions()")
q("RESET visittrack.anon_session_ttl")
for uid, sid in signups:
    one("SELECT visittrack.session_end(%s)", (sid,))
for name in ("alice", "chloe"):
    one("SELECT visittrack.session_end(%s)", (sessions[name],))
# Every call above happened within seconds.  Spread each session over
# yesterday (UTC) as real traffic would be: a start between 06:00 and 22:00,
# 15 s to 3 min per page, and the derived columns made consistent.
q(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo_yesterday.sql")).read())
say("Each session now starts at a random time of yesterday (UTC) and spends 15 s to 3 min per page; "
    "session rows, time on page, conversions and events follow. The daily aggregation then runs, "
    "as the pg_cron job 'visittrack-aggregate' would at 00:10:")
print("  aggregate_page_analytics() wrote %d rows for %s"
      % (one("SELECT visittrack.aggregate_page_analytics()"), one("SELECT visittrack.utc_yesterday()")))

heading("12. Use case 3: which pages are most popular? top_pages(7)")
table("SELECT * FROM visittrack.top_pages(7)")
table("SELECT url_path, total_views AS views, unique_visitors AS visitors, avg_time_on_page_seconds AS avg_time,"
      " entries, exits, bounces FROM visittrack.page_analytics WHERE date = visittrack.utc_yesterday()"
      " ORDER BY total_views DESC, url_path LIMIT 6")
say("The bots' %d views are not in these counts." % one(
    "SELECT count(*) FROM visittrack.anonymous_page_view WHERE is_bot"))

heading("13. Use case 2: what do anonymous visitors do before signing up? conversion_funnel(30)")
table("SELECT * FROM visittrack.conversion_funnel(30)")
table("SELECT * FROM visittrack.conversion_landing_pages(30, 5)")
table("SELECT * FROM visittrack.conversion_referrers(30, 5)")
table("SELECT u.username, e.metadata->'pages_visited' AS pages, e.metadata->'duration_seconds' AS seconds,"
      " e.metadata->>'landing_page' AS landing_page, e.metadata->>'referrer' AS referrer"
      "  FROM visittrack.user_event e JOIN visittrack.user_session u USING (user_id)"
      " WHERE e.event_type = 'account_created' ORDER BY u.username")
say("Sessions that did not reach 5 pages are never written to anonymous_session unless they convert, "
    "so the funnel counts the persisted ones (doc/analytics.md).")

heading("14. Use case 4: do signed-in users spend more time on the site? session_duration_comparison(7)")
table("SELECT * FROM visittrack.session_duration_comparison(7)")
print("\nDemo finished.")
