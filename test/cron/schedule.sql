-- pg_cron jobs, run in the database where pg_cron is installed (postgres in
-- the test cluster, cron.database_name).  The background worker runs in
-- visittrack_worker, so that database gets no minutely job and
-- visittrack_tap does.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(13);

SELECT is((SELECT count(*)::int FROM cron.job WHERE jobname LIKE 'visittrack-%'), 0, 'no visittrack job to begin with');

SELECT results_eq($$SELECT job_name, schedule, database FROM visittrack.schedule_jobs('visittrack_tap')$$,
                  $$VALUES ('visittrack-aggregate@visittrack_tap', '10 0 * * *', 'visittrack_tap'),
                           ('visittrack-cleanup@visittrack_tap', '20 0 * * *', 'visittrack_tap'),
                           ('visittrack-cron-history', '30 0 * * *', 'postgres'),
                           ('visittrack-finalize@visittrack_tap', '* * * * *', 'visittrack_tap')$$,
                  'schedule_jobs registers the jobs of a database without the worker');
SELECT results_eq($$SELECT command FROM cron.job WHERE jobname = 'visittrack-aggregate@visittrack_tap'$$,
                  $$VALUES ('SELECT visittrack.aggregate_page_analytics()')$$,
                  'the aggregation job runs aggregate_page_analytics()');
SELECT ok((SELECT command LIKE '%cleanup_anonymous_data(exact => false)%' AND command LIKE '%ensure_partitions()%'
             FROM cron.job WHERE jobname = 'visittrack-cleanup@visittrack_tap'),
          'the cleanup job makes partitions and removes old anonymous data');

SELECT array_agg(jobid ORDER BY jobid) AS ids FROM cron.job WHERE jobname LIKE 'visittrack-%' \gset
SELECT visittrack.schedule_jobs('visittrack_tap');
SELECT is((SELECT array_agg(jobid ORDER BY jobid) FROM cron.job WHERE jobname LIKE 'visittrack-%'), :'ids'::bigint[],
          'scheduling again changes nothing (an upsert by name)');

SELECT ok((visittrack.status())->'worker'->>'database' = 'visittrack_worker'
          AND (visittrack.status())->'worker'->>'pid' IS NOT NULL, 'the worker runs in visittrack_worker');
SELECT results_eq($$SELECT job_name FROM visittrack.schedule_jobs('visittrack_worker')$$,
                  $$VALUES ('visittrack-aggregate@visittrack_worker'), ('visittrack-cleanup@visittrack_worker'),
                           ('visittrack-cron-history')$$,
                  'no minutely job where the worker runs');

SELECT results_eq($$SELECT job_name, database FROM visittrack.schedule_jobs() WHERE job_name LIKE '%finalize%'$$,
                  $$VALUES ('visittrack-finalize', 'postgres')$$,
                  'jobs for the pg_cron database itself carry no suffix');

SELECT is(visittrack.unschedule_jobs('visittrack_tap'), 3, 'unschedule_jobs removes a database''s jobs');
SELECT is((SELECT count(*)::int FROM cron.job WHERE jobname = 'visittrack-cron-history'), 1,
          'the shared history job stays while other databases have jobs');
SELECT is(visittrack.unschedule_jobs('visittrack_worker') + visittrack.unschedule_jobs(), 6,
          'the last database takes the history job with it');
SELECT is((SELECT count(*)::int FROM cron.job WHERE jobname LIKE 'visittrack-%'), 0, 'no visittrack job is left');
SELECT is(visittrack.unschedule_jobs('visittrack_tap'), 0, 'unscheduling again removes nothing');

SELECT * FROM finish();
