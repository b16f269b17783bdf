"""Benchmark of aggregate_page_analytics() against a bare GROUP BY.

Fills one UTC day with synthetic page views (85 % anonymous in sessions of
ten views, 15 % signed-in; 500 paths, a third with a query string; 2 % bot
views and 1 in 70 sessions flagged a bot), then times, in turns:

  aggregate    SELECT visittrack.aggregate_page_analytics(day), with the
               server's parallel settings (as it runs in production)
  agg_serial   the same with max_parallel_workers_per_gather = 0
  bare         SELECT <path>, count(*) FROM <the same views> GROUP BY 1,
               max_parallel_workers_per_gather = 0
  bare_par     the same with the server's parallel settings

and reports the backend's CPU time (from /proc, so run it on the database
host; parallel workers' CPU is not in it) and wall time, best and median of
the runs, and the ratios: serial to serial in CPU time (what to compare on
a busy machine), parallel to parallel in wall time.

    python3 bench/page_analytics.py [--views N] [--order time|random]
                                    [--runs R] [--check] [--dbname bench]

--order time stores the views in time order, as live traffic writes them;
--order random shuffles them (the worst case for the session bookkeeping).
--check also compares the rows of a parallel run and of a serial one with a
pure-SQL computation (window functions; slow).  Connection settings come
from PGHOST, PGPORT, PGUSER.
"""
import argparse
import os
import statistics
import time

import psycopg2

DAY = "2030-01-15"

GENERATE = """
TRUNCATE visittrack.anonymous_page_view, visittrack.anonymous_session, visittrack.user_page_view;
SELECT visittrack.ensure_partitions(date %(day)s - 1, date %(day)s + 1);
INSERT INTO visittrack.anonymous_page_view
       (session_id, device_fingerprint, url, url_name, page_type, viewed_at, time_on_page_seconds, is_bot)
SELECT md5('s' || s)::uuid, md5('f' || (s %% %(visitors)s)),
       '/p/' || ((s * 7 + k * 13) %% 500) || '/' || CASE WHEN k %% 3 = 0 THEN '?utm=' || k ELSE '' END,
       'n', CASE WHEN (s * 7 + k * 13) %% 500 < 100 THEN 'community' ELSE 'page' END,
       (%(day)s::date::timestamp AT TIME ZONE 'UTC') + (s %% 86000) * interval '1 second' + k * interval '5 second',
       CASE WHEN k < 9 THEN 5 END, s %% 50 = 0
  FROM generate_series(1, %(anon_sessions)s) s, generate_series(0, 9) k
 ORDER BY %(order)s;
INSERT INTO visittrack.user_page_view (session_id, user_id, url, url_name, page_type, viewed_at, time_on_page_seconds)
SELECT md5('us' || s), md5('u' || (s %% 5000))::uuid, '/p/' || ((s * 7 + k * 13) %% 500) || '/', 'n', 'page',
       (%(day)s::date::timestamp AT TIME ZONE 'UTC') + (s %% 86000) * interval '1 second' + k * interval '5 second',
       CASE WHEN k < 9 THEN 7 END
  FROM generate_series(1, %(user_sessions)s) s, generate_series(0, 9) k
 ORDER BY %(order)s;
INSERT INTO visittrack.anonymous_session
       (session_id, device_fingerprint, session_start, last_activity, pages_visited, is_bot,
        is_active, enriched_at, user_agent)
SELECT md5('s' || s)::uuid, md5('f' || (s %% %(visitors)s)),
       (%(day)s::date::timestamp AT TIME ZONE 'UTC') + (s %% 86000) * interval '1 second',
       (%(day)s::date::timestamp AT TIME ZONE 'UTC') + (s %% 86000) * interval '1 second' + interval '45 s',
       10, s %% 70 = 0, false, now(), 'Mozilla/5.0 (bench)'
  FROM generate_series(1, %(anon_sessions)s) s WHERE s %% 5 = 0;
"""

BARE = """
SELECT split_part(split_part(url, '?', 1), '#', 1), count(*)
  FROM (SELECT url FROM visittrack.anonymous_page_view
         WHERE viewed_at >= (%(day)s::date::timestamp AT TIME ZONE 'UTC') AND viewed_at < (%(day)s::date::timestamp AT TIME ZONE 'UTC') + interval '1 day'
        UNION ALL
        SELECT url FROM visittrack.user_page_view
         WHERE viewed_at >= (%(day)s::date::timestamp AT TIME ZONE 'UTC') AND viewed_at < (%(day)s::date::timestamp AT TIME ZONE 'UTC') + interval '1 day') v
 GROUP BY 1
"""

REFERENCE = """
WITH v AS MATERIALIZED (
    SELECT false AS auth, a.session_id::text AS sess, a.device_fingerprint AS visitor,
           split_part(split_part(a.url, '?', 1), '#', 1) AS path, a.page_type, a.viewed_at, a.id,
           a.time_on_page_seconds AS top
      FROM visittrack.anonymous_page_view a
     WHERE a.viewed_at >= (%(day)s::date::timestamp AT TIME ZONE 'UTC') AND a.viewed_at < (%(day)s::date::timestamp AT TIME ZONE 'UTC') + interval '1 day'
       AND NOT a.is_bot
       AND NOT EXISTS (SELECT 1 FROM visittrack.anonymous_session s
                        WHERE s.session_id = a.session_id AND s.is_bot
                          AND s.session_start >= (%(day)s::date::timestamp AT TIME ZONE 'UTC') - interval '1 day'
                          AND s.session_start < (%(day)s::date::timestamp AT TIME ZONE 'UTC') + interval '1 day')
    UNION ALL
    SELECT true, u.session_id, u.user_id::text, split_part(split_part(u.url, '?', 1), '#', 1),
           u.page_type, u.viewed_at, u.id, u.time_on_page_seconds
      FROM visittrack.user_page_view u
     WHERE u.viewed_at >= (%(day)s::date::timestamp AT TIME ZONE 'UTC') AND u.viewed_at < (%(day)s::date::timestamp AT TIME ZONE 'UTC') + interval '1 day'
       AND NOT u.is_bot
       AND NOT EXISTS (SELECT 1 FROM visittrack.user_session s WHERE s.session_id = u.session_id AND s.is_bot)
), w AS (
    SELECT v.*, sess IS NOT NULL AND lag(id) OVER s IS NULL AS is_entry,
           sess IS NOT NULL AND lead(id) OVER s IS NULL AS is_exit
      FROM v WINDOW s AS (PARTITION BY auth, sess ORDER BY viewed_at, id)
), types AS (
    SELECT DISTINCT ON (path) path, page_type FROM w WHERE page_type IS NOT NULL
     GROUP BY path, page_type ORDER BY path, count(*) DESC, page_type COLLATE "C"
), ref AS (
    SELECT w.path, t.page_type, count(*), count(*) FILTER (WHERE NOT auth), count(*) FILTER (WHERE auth),
           count(DISTINCT (auth, visitor)), round(avg(top), 2),
           count(*) FILTER (WHERE is_entry), count(*) FILTER (WHERE is_exit),
           count(*) FILTER (WHERE is_entry AND is_exit)
      FROM w LEFT JOIN types t USING (path) GROUP BY w.path, t.page_type
), agg AS (
    SELECT url_path, page_type, total_views::bigint, anonymous_views::bigint, authenticated_views::bigint,
           unique_visitors::bigint, avg_time_on_page_seconds::numeric, entries::bigint, exits::bigint,
           bounces::bigint
      FROM visittrack.page_analytics WHERE date = %(day)s
)
SELECT * FROM (SELECT * FROM ref EXCEPT SELECT * FROM agg) missing
UNION ALL
SELECT * FROM (SELECT * FROM agg EXCEPT SELECT * FROM ref) extra
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--views", type=int, default=1000000)
    ap.add_argument("--order", choices=["time", "random"], default="time")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--dbname", default="bench")
    args = ap.parse_args()

    conn = psycopg2.connect(dbname=args.dbname)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")

    def cpu():
        fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    params = {"day": DAY, "anon_sessions": args.views * 85 // 1000, "user_sessions": args.views * 15 // 1000,
              "visitors": max(1, args.views * 6 // 100)}
    params["order"] = "7" if args.order == "time" else "random()"
    started = time.time()
    cur.execute(GENERATE.replace("%(order)s", params["order"]), params)
    cur.execute("VACUUM ANALYZE visittrack.anonymous_page_view, visittrack.user_page_view, visittrack.anonymous_session")
    cur.execute("SELECT (SELECT count(*) FROM visittrack.anonymous_page_view) + (SELECT count(*) FROM visittrack.user_page_view)")
    print("%d page views on %s, stored in %s order (%.0f s to make)"
          % (cur.fetchone()[0], DAY, args.order, time.time() - started))

    aggregate = "SELECT visittrack.aggregate_page_analytics(%(day)s)"
    queries = {
        "aggregate": (aggregate, "RESET max_parallel_workers_per_gather"),
        "agg_serial": (aggregate, "SET max_parallel_workers_per_gather = 0"),
        "bare": (BARE, "SET max_parallel_workers_per_gather = 0"),
        "bare_par": (BARE, "RESET max_parallel_workers_per_gather"),
    }
    results = {k: [] for k in queries}
    for _ in range(args.runs):
        for name, (sql, setting) in queries.items():
            cur.execute(setting)
            c0, t0 = cpu(), time.time()
            cur.execute(sql, params)
            cur.fetchall()
            results[name].append((cpu() - c0, time.time() - t0))
    for name, runs in results.items():
        cpus = [c for c, _ in runs]
        walls = [w for _, w in runs]
        print("%-10s cpu best %.3f s median %.3f s | wall best %.3f s median %.3f s"
              % (name, min(cpus), statistics.median(cpus), min(walls), statistics.median(walls)))
    best = {k: (min(c for c, _ in v), min(w for _, w in v)) for k, v in results.items()}
    print("agg_serial / bare:    cpu %.2f  wall %.2f" % (best["agg_serial"][0] / best["bare"][0],
                                                        best["agg_serial"][1] / best["bare"][1]))
    print("aggregate / bare_par: wall %.2f (both parallel: their workers' CPU is not counted above)"
          % (best["aggregate"][1] / best["bare_par"][1]))
    if args.check:
        for mode, setting in (("parallel", "RESET max_parallel_workers_per_gather"),
                              ("serial", "SET max_parallel_workers_per_gather = 0")):
            cur.execute(setting)
            cur.execute(aggregate, params)
            cur.execute("SET max_parallel_workers_per_gather = 0")
            cur.execute(REFERENCE, params)
            diff = cur.fetchall()
            print("check of a %s run against the SQL computation: %s"
                  % (mode, "identical" if not diff else "%d rows differ" % len(diff)))


if __name__ == "__main__":
    main()
