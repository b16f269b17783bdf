-- The worker takes its tasks from visittrack.maintenance_tasks() at every
-- round: a task added there runs without a restart, one the list gives
-- to pg_cron alone (worker_every_rounds NULL) does not.  The list is put
-- back as it was at the end.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(4);

SELECT ok((SELECT count(*) FROM visittrack.maintenance_tasks() WHERE worker_every_rounds = 1) = 5,
          'the worker runs five tasks every round');

CREATE TABLE vt_test.worker_ran (what text, at timestamptz DEFAULT now());
CREATE TEMP TABLE saved_tasks AS
    SELECT pg_get_functiondef('visittrack.maintenance_tasks()'::regprocedure) AS def;
CREATE OR REPLACE FUNCTION visittrack.maintenance_tasks()
RETURNS TABLE (run_order integer, command text, worker_every_rounds integer, cron_job text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
    VALUES (1, 'INSERT INTO vt_test.worker_ran (what) VALUES (''every round'')', 1, 'test'),
           (2, 'INSERT INTO vt_test.worker_ran (what) VALUES (''pg_cron only'')', NULL, 'test')
$$;
-- a round starts every second (visittrack.worker_interval = 1)
SELECT pg_sleep(2.5);
SELECT ok((SELECT count(*) FROM vt_test.worker_ran WHERE what = 'every round') >= 1,
          'the worker ran the task added to maintenance_tasks()');
SELECT is((SELECT count(*)::int FROM vt_test.worker_ran WHERE what = 'pg_cron only'), 0,
          'it does not run a task listed for pg_cron only');

SELECT def FROM saved_tasks \gexec
SELECT pg_sleep(1.5);
DELETE FROM vt_test.worker_ran;
SELECT pg_sleep(1.5);
SELECT is((SELECT count(*)::int FROM vt_test.worker_ran), 0,
          'with the list put back, the added task runs no more');
DROP TABLE vt_test.worker_ran;

SELECT * FROM finish();
