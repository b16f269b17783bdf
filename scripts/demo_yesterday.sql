-- scripts/demo_yesterday.sql: used by scripts/demo.py.  The demo's traffic
-- went through the API within seconds; this spreads every session over
-- yesterday (UTC), as a day of real traffic would be: a start between 06:00
-- and 22:00, 15 s to 3 min per page.  Time on page, session rows,
-- conversions and events are rewritten to match.  Rows move to yesterday's
-- partitions (UPDATE moves rows between partitions).
SELECT visittrack.ensure_partitions();
SELECT setseed(0.2025);

CREATE TEMP TABLE demo_day AS
SELECT visittrack.utc_yesterday()::timestamp AT TIME ZONE 'UTC' AS day_start;

-- anonymous views: new times per session
CREATE TEMP TABLE demo_anon AS
WITH v AS (
    SELECT id, viewed_at AS old_at, session_id,
           row_number() OVER (PARTITION BY session_id ORDER BY viewed_at, id) AS n,
           count(*) OVER (PARTITION BY session_id) AS pages
      FROM visittrack.anonymous_page_view
), s AS (
    SELECT session_id,
           date_trunc('second', (SELECT day_start FROM demo_day) + interval '6 hours'
                                + random() * interval '16 hours') AS start
      FROM (SELECT DISTINCT session_id FROM v) d
), g AS (
    SELECT v.*, s.start, 15 + floor(random() * 166)::integer AS gap
      FROM v JOIN s USING (session_id)
)
SELECT id, old_at, session_id, n, pages, gap,
       start + make_interval(secs => sum(gap) OVER (PARTITION BY session_id ORDER BY n) - gap) AS new_at
  FROM g;

UPDATE visittrack.anonymous_page_view p
   SET viewed_at = d.new_at,
       time_on_page_seconds = CASE WHEN d.n < d.pages THEN d.gap END
  FROM demo_anon d
 WHERE p.id = d.id AND p.viewed_at = d.old_at;

UPDATE visittrack.anonymous_session a
   SET session_start = x.first_at,
       last_activity = x.last_at,
       session_end = CASE WHEN a.is_active THEN NULL ELSE x.last_at END,
       duration_seconds = CASE WHEN a.is_active THEN NULL
                               ELSE extract(epoch FROM x.last_at - x.first_at)::integer END,
       converted_at = CASE WHEN a.converted_to_user IS NOT NULL THEN x.last_at + interval '20 seconds' END
  FROM (SELECT session_id, min(new_at) AS first_at, max(new_at) AS last_at
          FROM demo_anon GROUP BY session_id) x
 WHERE a.session_id = x.session_id;

-- signed-in views: a session of a new account starts just after its sign-up
CREATE TEMP TABLE demo_user AS
WITH v AS (
    SELECT p.id, p.session_id, p.user_id,
           row_number() OVER (PARTITION BY p.session_id ORDER BY p.viewed_at, p.id) AS n,
           count(*) OVER (PARTITION BY p.session_id) AS pages
      FROM visittrack.user_page_view p
     WHERE p.session_id IS NOT NULL
), s AS (
    SELECT d.session_id,
           COALESCE((SELECT max(a.converted_at) + interval '1 minute' FROM visittrack.anonymous_session a
                      WHERE a.converted_to_user = d.user_id),
                    date_trunc('second', (SELECT day_start FROM demo_day) + interval '7 hours'
                                         + random() * interval '14 hours')) AS start
      FROM (SELECT DISTINCT session_id, user_id FROM v) d
), g AS (
    SELECT v.*, s.start, 20 + floor(random() * 220)::integer AS gap
      FROM v JOIN s USING (session_id)
)
SELECT id, session_id, n, pages, gap,
       start + make_interval(secs => sum(gap) OVER (PARTITION BY session_id ORDER BY n) - gap) AS new_at
  FROM g;

UPDATE visittrack.user_page_view p
   SET viewed_at = d.new_at,
       time_on_page_seconds = CASE WHEN d.n < d.pages THEN d.gap END
  FROM demo_user d
 WHERE p.id = d.id;

UPDATE visittrack.user_session u
   SET started_at = x.first_at - interval '1 minute',
       last_activity = x.last_at,
       ended_at = CASE WHEN u.is_active THEN NULL ELSE x.last_at + interval '2 minutes' END,
       expires_at = x.first_at - interval '1 minute'
                    + CASE WHEN u.persistent THEN interval '30 days' ELSE interval '4 hours' END
  FROM (SELECT session_id, min(new_at) AS first_at, max(new_at) AS last_at
          FROM demo_user GROUP BY session_id) x
 WHERE u.session_id = x.session_id;

-- events: the sign-up at its conversion, the rest a day earlier
UPDATE visittrack.user_event e
   SET created_at = a.converted_at,
       metadata = e.metadata || jsonb_build_object(
           'session_start', to_char(a.session_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'duration_seconds', extract(epoch FROM a.converted_at - a.session_start)::integer)
  FROM visittrack.anonymous_session a
 WHERE e.event_type = 'account_created'
   AND a.session_id::text = e.metadata->>'from_anonymous_session';
UPDATE visittrack.user_event SET created_at = created_at - interval '1 day'
 WHERE event_type <> 'account_created';
