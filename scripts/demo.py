"""The visittrack demo: traffic through the SQL API, as a Django site would
send it, and what visittrack then knows.  Run by scripts/demo."""
import os
import textwrap

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
    key = "session:" + sessions[name]
    h = r.hgetall(key)
    print("  %s  TTL %ss" % (key, r.ttl(key)))
    for f in ("user_id", "user_username", "ip_address", "persistent", "is_active",
              "started_at", "expires_at", "pages_visited"):
        print("      %-14s %s" % (f, h.get(f)))

heading("4. session_get reads Redis first, and the table when Redis has no entry")
r.delete("session:" + sessions["chloe"])
say("Deleted chloe's Redis entry by hand; session_get still answers, from user_session, and puts the "
    "entry back:")
print("  " + str(one("SELECT visittrack.session_get(%s)", (sessions["chloe"],))))
print("  Redis entry back: %s (TTL %ss)" % (r.exists("session:" + sessions["chloe"]) == 1,
                                            r.ttl("session:" + sessions["chloe"])))

heading("5. Bob logs out")
one("SELECT visittrack.session_end(%s)", (sessions["bob"],))
one("SELECT visittrack.log_event(%s, 'logout')", (USERS["bob"][0],))
say("session_end: is_active = false, ended_at set, Redis entry deleted (exists now: %s). A page "
    "for the ended session is not counted: session_touch returns %s."
    % (r.exists("session:" + sessions["bob"]) == 1,
       one("SELECT visittrack.session_touch(%s)", (sessions["bob"],))))

heading("6. A transaction that rolls back leaves nothing behind")
with conn.cursor() as cur:
    cur.execute("BEGIN")
    cur.execute("SELECT visittrack.session_start('d0d00000-0000-4000-8000-000000000004', 'rolled-back')")
    sid = cur.fetchone()[0]
    cur.execute("ROLLBACK")
say("session_start inside a rolled-back transaction: row %s, Redis entry %s."
    % ("present" if one("SELECT count(*) FROM visittrack.user_session WHERE session_id = %s", (sid,))
       else "absent", "present" if r.exists("session:" + sid) else "absent"))

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
print("\nDemo finished.")
