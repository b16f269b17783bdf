-- Retention: cleanup_anonymous_data drops whole daily partitions older than
-- the cutoff and deletes rows only in the partition holding the cutoff and
-- in the DEFAULT partition.  The cutoff is made exact by passing
-- retention = now() - <instant>.
TRUNCATE visittrack.anonymous_session, visittrack.anonymous_page_view;
SELECT visittrack.ensure_partitions('2026-01-13', '2026-01-16') AS created;

CREATE TEMP VIEW partitions AS
SELECT c.relname AS partition, p.relname AS parent
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
  JOIN pg_class p ON p.oid = i.inhparent
 WHERE p.relname IN ('anonymous_session', 'anonymous_page_view')
   AND p.relnamespace = 'visittrack'::regnamespace
   AND (c.relname !~ '_p\d{8}$' OR c.relname <= p.relname || '_p20260116');

-- cutoff 2026-01-15 12:00 UTC:
--   page views: Jan 13 (3), Jan 14 (2), Jan 15 08:00 (2) and Dec 20 (1, default
--   partition) are older; Jan 15 18:00, Jan 16 and Feb 20 (default) are not
--   sessions: Jan 13, Jan 14, Jan 15 09:00, Dec 20 (default) are older; Jan 15 20:00 is not
INSERT INTO visittrack.anonymous_page_view (session_id, device_fingerprint, url, viewed_at)
SELECT vt_test.uid(1), repeat('a', 32), '/r/' || n, at
  FROM (VALUES (1, timestamptz '2026-01-13 01:00+00'), (2, '2026-01-13 02:00+00'),
               (3, '2026-01-13 23:00+00'), (4, '2026-01-14 00:00+00'), (5, '2026-01-14 10:00+00'),
               (6, '2026-01-15 08:00+00'), (7, '2026-01-15 11:59:59+00'),
               (8, '2025-12-20 10:00+00'),
               (9, '2026-01-15 18:00+00'), (10, '2026-01-16 10:00+00'),
               (11, '2026-02-20 10:00+00')) AS v(n, at);
INSERT INTO visittrack.anonymous_session (session_id, device_fingerprint, session_start, last_activity)
SELECT vt_test.uid(n), repeat('a', 32), at, at
  FROM (VALUES (1, timestamptz '2026-01-13 01:00+00'), (2, '2026-01-14 10:00+00'),
               (3, '2026-01-15 09:00+00'), (4, '2025-12-20 10:00+00'),
               (5, '2026-01-15 20:00+00')) AS v(n, at);

SELECT parent, partition FROM partitions ORDER BY 1, 2;
SELECT tableoid::regclass AS partition, count(*)
  FROM visittrack.anonymous_page_view GROUP BY 1 ORDER BY 1;

-- 8 page views + 4 sessions
SELECT visittrack.cleanup_anonymous_data(now() - timestamptz '2026-01-15 12:00+00') AS removed;

-- the partitions of Jan 13 and 14 (and the empty ones of Jan 1, 2 and 5 made
-- by earlier tests) are gone; Jan 15 and the default partition were trimmed
SELECT parent, partition FROM partitions ORDER BY 1, 2;
SELECT tableoid::regclass AS partition, url FROM visittrack.anonymous_page_view ORDER BY viewed_at;
SELECT tableoid::regclass AS partition, session_id FROM visittrack.anonymous_session ORDER BY session_start;

-- nothing left to do
SELECT visittrack.cleanup_anonymous_data(now() - timestamptz '2026-01-15 12:00+00') AS removed;

-- exact => false: a dropped partition is counted from the statistics
-- (here made exact by ANALYZE of a small table), so the cost stays flat
SELECT visittrack.ensure_partitions('2026-01-10', '2026-01-10') AS created;
INSERT INTO visittrack.anonymous_page_view (session_id, device_fingerprint, url, viewed_at)
SELECT vt_test.uid(2), repeat('c', 32), '/s/' || g, timestamptz '2026-01-10 10:00+00' + g * interval '1 minute'
  FROM generate_series(1, 40) g;
ANALYZE visittrack.anonymous_page_view_p20260110;
SELECT visittrack.cleanup_anonymous_data(now() - timestamptz '2026-01-11 00:00+00', exact => false) AS removed;
SELECT count(*) AS partitions_of_jan_10 FROM partitions WHERE partition LIKE '%20260110';

-- bad retentions
SELECT vt_test.error_of($$SELECT visittrack.cleanup_anonymous_data('1 hour')$$);
SELECT vt_test.error_of($$SELECT visittrack.cleanup_anonymous_data('0')$$);
SELECT vt_test.error_of($$SELECT visittrack.cleanup_anonymous_data('-3 days')$$);
SELECT vt_test.error_of($$SELECT visittrack.cleanup_anonymous_data('200 years')$$);

-- Without an argument the setting decides (90 days by default): everything
-- above is older than that, so the rest goes.
SHOW visittrack.anon_retention;
SELECT visittrack.cleanup_anonymous_data() AS removed;
SELECT count(*) AS views_left FROM visittrack.anonymous_page_view;
SELECT count(*) AS sessions_left FROM visittrack.anonymous_session;

-- A superuser shortens the window through the setting (tests, demos): rows
-- of two hours ago go with a one-hour retention, rows of now stay.
INSERT INTO visittrack.anonymous_page_view (session_id, device_fingerprint, url, viewed_at)
VALUES (vt_test.uid(20), repeat('b', 32), '/old', now() - interval '2 hours'),
       (vt_test.uid(20), repeat('b', 32), '/new', now());
SET visittrack.anon_retention = '1h';
SELECT visittrack.cleanup_anonymous_data() AS removed;
RESET visittrack.anon_retention;
SELECT url FROM visittrack.anonymous_page_view;
DELETE FROM visittrack.anonymous_page_view;

-- After the anonymous rows are gone, the account_created event still holds
-- what the visitor did before signing up.
SELECT visittrack.fingerprint('198.51.100.90', 'Retention UA') AS fp \gset
SELECT visittrack.track_page_view(:'fp', '/pricing/?src=ad', 'https://ads.example/') FROM generate_series(1, 3);
SELECT visittrack.link_conversion(vt_test.uid(90), :'fp') IS NOT NULL AS linked;
UPDATE visittrack.anonymous_session SET session_start = session_start - interval '120 days',
       last_activity = last_activity - interval '120 days' WHERE device_fingerprint = :'fp';
UPDATE visittrack.anonymous_page_view SET viewed_at = viewed_at - interval '120 days'
 WHERE device_fingerprint = :'fp';
SELECT visittrack.cleanup_anonymous_data() AS removed;
SELECT count(*) AS anonymous_rows_left
  FROM (SELECT 1 FROM visittrack.anonymous_session WHERE device_fingerprint = :'fp'
        UNION ALL SELECT 1 FROM visittrack.anonymous_page_view WHERE device_fingerprint = :'fp') r;
SELECT metadata->'pages_visited' AS pages, metadata->>'landing_page' AS landing,
       metadata->>'referrer' AS referrer, metadata ? 'duration_seconds' AS has_duration
  FROM visittrack.user_event WHERE user_id = vt_test.uid(90) AND event_type = 'account_created';

-- Scheduling: pg_cron lives in database postgres here (cron.database_name),
-- so schedule_jobs() says where to call it instead (test/cron/ runs it
-- there).
SELECT vt_test.error_of($$SELECT * FROM visittrack.schedule_jobs()$$);
SELECT vt_test.error_of($$SELECT visittrack.unschedule_jobs()$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.schedule_jobs(NULL)$$);
-- the jobs it registers, for this database and for another one
SELECT * FROM visittrack.cron_job_specs(current_database());
SELECT job_name, database FROM visittrack.cron_job_specs('app');
