-- The worker closes idle anonymous sessions on its own.  scripts/test sets
-- visittrack.anon_session_ttl = 2s for this database (the worker reads it at
-- connection), so "idle" comes after 2 s instead of 30 min.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(3);
SELECT is((visittrack.windows()).anon_session_ttl, 2, 'this database has a 2 s anonymous window');
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
SELECT * FROM finish();
