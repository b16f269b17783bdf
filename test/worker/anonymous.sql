-- The worker closes idle anonymous sessions on its own.  The window is
-- shortened to 2 s server-wide (ALTER SYSTEM + reload, which the worker
-- picks up on SIGHUP) for the length of this test.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(3);
ALTER SYSTEM SET visittrack.anon_session_ttl = '2s';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT is((visittrack.windows()).anon_session_ttl, 2, 'the anonymous window is 2 s');
SELECT visittrack.fingerprint('192.0.2.77', 'worker test') AS fp \gset
SELECT visittrack.track_page_view(:'fp', '/w/' || g) FROM generate_series(1, 5) g;
SELECT is((SELECT is_active FROM visittrack.anonymous_session WHERE device_fingerprint = :'fp'), true,
          'the session is open after five pages');
-- 2 s idle window + up to 1 s until the next round + margin
SELECT pg_sleep(4.5);
SELECT results_eq(format($$SELECT is_active, pages_visited FROM visittrack.anonymous_session
                           WHERE device_fingerprint = %L$$, :'fp'),
                  $$VALUES (false, 5)$$,
                  'the worker finalized it without anyone calling finalize_anonymous_sessions');
ALTER SYSTEM RESET visittrack.anon_session_ttl;
SELECT pg_reload_conf();
SELECT * FROM finish();
