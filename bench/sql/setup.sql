-- bench/sql/setup.sql: the benchmark database, as a superuser, in database bench.
--
-- The steady state of a site that has run for a while: 90 days of daily
-- partitions (the default anon_retention) plus a week ahead, two application
-- roles (one using Redis, one keeping hot state in PostgreSQL) and 2,000
-- signed-in sessions made through the real API.  The synthetic population
-- is derived from numbers so that pgbench scripts can name it without a
-- lookup:
--   fingerprint i (1..10000)   md5('fp' || i)
--   user i (1..2000)           md5('user' || i)::uuid, session key 'bench-key-' || i
--   community i (1..50)        md5('community' || i)::uuid
-- Session ids are keyed hashes made by session_start, kept in bench.session.

CREATE EXTENSION IF NOT EXISTS visittrack;

SELECT visittrack.ensure_partitions((now() AT TIME ZONE 'UTC')::date - 90,
                                    (now() AT TIME ZONE 'UTC')::date + 7) AS partitions_created;

-- Application roles, as the README recommends: EXECUTE on the API only.
-- vt_app uses the server's Redis; vt_app_local has no Redis (hot state in
-- PostgreSQL's unlogged tables), which is how every workload is also run in
-- "no Redis" mode without changing the scripts.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vt_app') THEN
        CREATE ROLE vt_app LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vt_app_local') THEN
        CREATE ROLE vt_app_local LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vt_app_wb') THEN
        CREATE ROLE vt_app_wb LOGIN;
    END IF;
END
$$;
SELECT visittrack.grant_application_role('vt_app');
SELECT visittrack.grant_application_role('vt_app_local');
ALTER ROLE vt_app_local IN DATABASE bench SET visittrack.redis_host = '';
-- vt_app with visittrack.write_behind on: the writer writes in batches.  (A
-- role whose Redis settings differ from the writer's, like vt_app_local,
-- writes synchronously whatever the setting: write_queue.h.)
SELECT visittrack.grant_application_role('vt_app_wb');
ALTER ROLE vt_app_wb IN DATABASE bench SET visittrack.write_behind = on;

CREATE SCHEMA IF NOT EXISTS bench;
GRANT USAGE ON SCHEMA bench TO vt_app, vt_app_local, vt_app_wb;

-- 2,000 signed-in users, each with one live session made by session_start
-- (the Redis session:{id} entries are written when this commits).
CREATE TABLE bench.session (
    i           integer PRIMARY KEY,
    user_id     uuid    NOT NULL,
    session_id  text    NOT NULL
);
INSERT INTO bench.session (i, user_id, session_id)
SELECT i, md5('user' || i)::uuid,
       visittrack.session_start(md5('user' || i)::uuid, 'bench-key-' || i,
                                ('198.51.100.' || (i % 250))::inet,
                                'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/'
                                    || (100 + i % 20) || '.0.0.0 Safari/537.36',
                                i % 10 = 0, 'user' || i)
  FROM generate_series(1, 2000) AS i;
GRANT SELECT ON bench.session TO vt_app, vt_app_local, vt_app_wb;
ANALYZE bench.session;

-- A little history so that the planner sees non-empty tables: one day of
-- signed-in activity per user.
SELECT count(visittrack.log_event(md5('user' || i)::uuid, 'login', 'Signed in'))
  FROM generate_series(1, 2000) AS i;
VACUUM ANALYZE;

-- A reference that is not visittrack: what any durable one-row write costs
-- here (bench/pgbench/commit_probe.sql).
CREATE TABLE bench.commit_probe (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v integer);
GRANT INSERT ON bench.commit_probe TO vt_app;
