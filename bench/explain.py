#!/usr/bin/python3
"""EXPLAIN (ANALYZE, BUFFERS) of the anonymous page view statement.

usage: explain.py SRC_PAGEVIEWS_C  (libpq environment: PGHOST, PGPORT, ...)

Takes the statement of record_anonymous_view() verbatim from
src/api/pageviews.c (so that it follows the C code), prepares it with the same
parameter types in database bench, and explains it for a live session
under plan_cache_mode force_custom_plan, force_generic_plan and auto (after
five executions, as the SPI plan cache sees it), each in a rolled-back
transaction.  Prints the plans and a summary line per mode.
"""
import re
import sys

import psycopg2

TYPES = ("uuid, text, text, text, text, boolean, timestamptz, timestamptz, timestamptz, "
         "inet, text, integer, text, text, boolean, text")


def statement(path):
    src = open(path).read()
    m = re.search(r"record_anonymous_view\(.*?static VtQuery q = \{(.*?)\n\t\t(\d+), \{", src, re.S)
    if not m:
        return None, 0
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))), int(m.group(2))


def main():
    sql, nargs = statement(sys.argv[1])
    if sql is None or nargs != 16:
        print("explain: could not find the 16-argument statement of record_anonymous_view "
              "in %s; skipped" % sys.argv[1])
        return
    conn = psycopg2.connect(dbname="bench")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("PREPARE anon_view(%s) AS %s" % (TYPES, sql))
    cur.execute("""SELECT session_id, device_fingerprint, viewed_at
                     FROM visittrack.anonymous_page_view
                    WHERE viewed_at > now() - interval '1 hour' AND time_on_page_seconds IS NULL
                    ORDER BY viewed_at DESC LIMIT 1""")
    row = cur.fetchone()
    if row is None:
        print("explain: no recent anonymous page view to continue; skipped")
        return
    sid, fp, prev = row
    args = cur.mogrify("%s, %s, '/communities/city-1/page-1/', 'community-page', 'community', false, "
                       "now(), %s, %s - interval '1 minute', '203.0.113.1', 'Mozilla/5.0', 5, "
                       "'/communities/', NULL, true, '/'", (sid, fp, prev, prev)).decode()
    cur.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'visittrack.anonymous_page_view'::regclass")
    print("anonymous_page_view partitions: %d" % cur.fetchone()[0])
    for mode in ("force_custom_plan", "force_generic_plan", "auto"):
        cur.execute("BEGIN")
        cur.execute("SET LOCAL plan_cache_mode = %s" % mode)
        if mode == "auto":
            for _ in range(6):
                cur.execute("EXECUTE anon_view(%s)" % args)
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, SUMMARY) EXECUTE anon_view(%s)" % args)
        plan = [r[0] for r in cur.fetchall()]
        cur.execute("ROLLBACK")
        text = "\n".join(plan)
        generic = "$8" in text or "$1" in text
        removed = re.findall(r"Subplans Removed: (\d+)", text)
        scans = len(re.findall(r"Index Scan using \S+ on anonymous_page_view_p", text))
        timing = dict(re.findall(r"(Planning|Execution) Time: ([\d.]+) ms", text))
        print("\n== plan_cache_mode = %s: %s plan; partitions scanned by the UPDATE: %d; "
              "Subplans Removed: %s; planning %s ms, execution %s ms"
              % (mode, "generic" if generic else "custom", scans,
                 ", ".join(removed) or "none", timing.get("Planning", "?"),
                 timing.get("Execution", "?")))
        if mode != "auto":
            print(text)


if __name__ == "__main__":
    main()
