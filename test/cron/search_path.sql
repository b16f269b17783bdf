-- The job visittrack schedules in the pg_cron database runs as a superuser
-- under that database's and that role's search_path: with a planted schema
-- first in it, the history job's command runs no planted operator or
-- function (every name in it carries its schema).
\set QUIET on
SET client_min_messages = warning;
BEGIN;
SELECT plan(3);
CREATE ROLE vt_cron_planter;
CREATE SCHEMA cron_planted AUTHORIZATION vt_cron_planter;
SET LOCAL ROLE vt_cron_planter;
CREATE TABLE cron_planted.ran (what text);
CREATE FUNCTION cron_planted.note(what text) RETURNS void
LANGUAGE sql AS $$ INSERT INTO cron_planted.ran VALUES (what) $$;
CREATE FUNCTION cron_planted.now() RETURNS timestamptz
LANGUAGE sql AS $$ SELECT cron_planted.note('now()'); SELECT pg_catalog.now() $$;
CREATE FUNCTION cron_planted.tstz_lt(a timestamptz, b timestamptz) RETURNS boolean
LANGUAGE sql AS $$ SELECT cron_planted.note('<'); SELECT a OPERATOR(pg_catalog.<) b $$;
CREATE OPERATOR cron_planted.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = cron_planted.tstz_lt);
CREATE FUNCTION cron_planted.tstz_mi(a timestamptz, b interval) RETURNS timestamptz
LANGUAGE sql AS $$ SELECT cron_planted.note('-'); SELECT a OPERATOR(pg_catalog.-) b $$;
CREATE OPERATOR cron_planted.- (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = cron_planted.tstz_mi);
CREATE FUNCTION cron_planted.int8_eq(a bigint, b bigint) RETURNS boolean
LANGUAGE sql AS $$ SELECT cron_planted.note('='); SELECT a OPERATOR(pg_catalog.=) b $$;
CREATE OPERATOR cron_planted.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = cron_planted.int8_eq);
CREATE FUNCTION cron_planted.name_like(a name, b text) RETURNS boolean
LANGUAGE sql AS $$ SELECT cron_planted.note('~~'); SELECT a OPERATOR(pg_catalog.~~) b $$;
CREATE OPERATOR cron_planted.~~ (LEFTARG = name, RIGHTARG = text, FUNCTION = cron_planted.name_like);
RESET ROLE;
-- a finished run of a visittrack job, older than the week kept
INSERT INTO cron.job (schedule, command, jobname) VALUES ('30 0 * * *', 'SELECT 1', 'visittrack-planted-test')
RETURNING jobid AS planted_job \gset
INSERT INTO cron.job_run_details (jobid, runid, status, start_time, end_time)
VALUES (:planted_job, -1, 'succeeded', now() - interval '8 days', now() - interval '8 days');
SELECT command AS history_command FROM visittrack.cron_job_specs(current_database())
 WHERE job_name = 'visittrack-cron-history' \gset
\o /dev/null
SET LOCAL search_path = cron_planted, pg_catalog;
SELECT 1::bigint = 1::bigint;
SELECT count(*) AS sanity FROM cron_planted.ran \gset
:history_command;
RESET search_path;
\o
SELECT ok(:sanity > 0, 'an unqualified bigint = runs the planted operator');
SELECT is((SELECT count(*)::int FROM cron_planted.ran), :sanity,
          'the history job runs no planted operator or function');
SELECT is((SELECT count(*)::int FROM cron.job_run_details WHERE jobid = :planted_job), 0,
          'the history job removed the old run all the same');
SELECT * FROM finish();
ROLLBACK;
