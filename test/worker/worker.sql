-- The background worker runs in this database (visittrack.database) every
-- visittrack.worker_interval (1 s in tests) without anyone calling it.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(4);

SELECT ok(((visittrack.status())->'worker'->>'pid')::int > 0, 'the worker is running');
SELECT ok((SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'visittrack worker'
            AND datname = current_database()) = 1, 'it is connected to this database');

-- an expired session is ended by the worker
SET visittrack.session_ttl = '1s';
SELECT visittrack.session_start(vt_test.uid(201), 'worker-key-201') AS sid \gset
RESET visittrack.session_ttl;
SELECT pg_sleep(3.5);
SELECT is((SELECT is_active FROM visittrack.user_session WHERE session_id = :'sid'), false,
          'the worker ended the expired session');
SELECT ok((visittrack.status())->'worker'->>'last_run' IS NOT NULL, 'status shows the last round');

SELECT * FROM finish();
