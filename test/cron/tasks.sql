-- The pg_cron jobs are made from maintenance_tasks(), the list the
-- background worker reads: each job runs its tasks' statements in their
-- order, every task runs somewhere, and the jobs left to the worker are
-- those whose every task it runs.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(4);

SELECT set_eq($$SELECT job_name, command FROM visittrack.cron_job_specs('visittrack_tap')
                 WHERE job_name <> 'visittrack-cron-history'$$,
              $$SELECT 'visittrack-' || cron_job || '@visittrack_tap',
                       string_agg(command, '; ' ORDER BY run_order)
                  FROM visittrack.maintenance_tasks() GROUP BY cron_job$$,
              'each pg_cron job runs the statements maintenance_tasks() lists for it, in order');
SELECT is((SELECT count(*)::int FROM visittrack.maintenance_tasks()
            WHERE cron_job IS NULL AND worker_every_rounds IS NULL), 0,
          'every task is run by the worker or by a pg_cron job');
SELECT results_eq($$SELECT command, worker_every_rounds FROM visittrack.maintenance_tasks()
                     WHERE worker_every_rounds IS NOT NULL ORDER BY run_order$$,
                  $$VALUES ('SELECT visittrack.end_expired_sessions()', 1),
                           ('SELECT visittrack.finalize_anonymous_sessions()', 1),
                           ('SELECT visittrack.reconcile_hot_state()', 1),
                           ('SELECT visittrack.purge_hot_state()', 1),
                           ('SELECT visittrack.enrich_pending()', 1),
                           ('SELECT visittrack.ensure_partitions()', 60)$$,
                  'the worker''s tasks: five every round, partitions every 60 rounds (hourly)');
SELECT is(has_function_privilege('public', 'visittrack.maintenance_tasks()', 'EXECUTE'), false,
          'the task list is not open to PUBLIC');

SELECT * FROM finish();
