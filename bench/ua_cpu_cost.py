"""CPU time one backend spends per user-agent call, for the workloads of
bench/ua_*.sql: parse_user_agent() on repeating user agents (cache hits) and
on new ones (misses), is_bot() on new crawler-like ones, and a bare SELECT.

pgbench's rates depend on what else the machine runs; the backend's own CPU
time (utime + stime from /proc/PID/stat, read before and after one
statement that makes N calls) depends much less on it, so before/after
comparisons of the rules hold on a busy machine.  Run it on the machine of
the server, as a user that may read the backend's /proc entry (the server's
user or root), against a database with the extension:

    PGHOST=127.0.0.1 PGPORT=... PGUSER=postgres python3 bench/ua_cpu_cost.py [dbname] [N]
"""
import os
import sys

import psycopg2

DB = sys.argv[1] if len(sys.argv) > 1 else "postgres"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
TICK = os.sysconf("SC_CLK_TCK")

WORKLOADS = [
    ("SELECT 1 (baseline)",
     "SELECT count(*) FROM generate_series(1, %(n)s) g WHERE (SELECT 1) = 1"),
    ("parse_user_agent, cached (5 user agents)",
     """SELECT count(p.browser) FROM generate_series(1, %(n)s) g,
        LATERAL visittrack.parse_user_agent(CASE g %% 5
          WHEN 0 THEN 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
          WHEN 1 THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1'
          WHEN 2 THEN 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0'
          WHEN 3 THEN 'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36'
          ELSE 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' END) p"""),
    ("parse_user_agent, uncached (new browser user agents)",
     """SELECT count(p.browser) FROM generate_series(1, %(n)s) g,
        LATERAL visittrack.parse_user_agent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.'
            || (g + %(seed)s) || '.0 Safari/537.36') p"""),
    ("is_bot, uncached (new crawler-like user agents)",
     """SELECT count(*) FILTER (WHERE visittrack.is_bot('Mozilla/5.0 (compatible; ExampleCrawler/'
            || (g + %(seed)s) || '; +https://example.org/bot)')) FROM generate_series(1, %(n)s) g"""),
]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


conn = psycopg2.connect(dbname=DB)
conn.autocommit = True
cur = conn.cursor()
cur.execute("SELECT pg_backend_pid(), current_setting('visittrack.ua_cache_size')")
pid, cache_size = cur.fetchone()
cur.execute("SELECT visittrack.is_bot('warm-up: load the rules')")
seed = int.from_bytes(os.urandom(3), "big") * 100000
print("N = %d calls per uncached workload, 20 N for the others, ua_cache_size = %s" % (N, cache_size))
for name, sql in WORKLOADS:
    n = N if "uncached" in name else 20 * N  # cheap calls: more of them
    if "cached (5" in name:
        cur.execute(sql, {"n": 5, "seed": seed})  # first sight of the five
    before = cpu_seconds(pid)
    cur.execute(sql, {"n": n, "seed": seed})
    spent = cpu_seconds(pid) - before
    print("%-52s %8.1f us per call" % (name, spent / n * 1e6))
