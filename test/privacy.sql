-- Erasure across commits: Redis keys go when the erasing transaction
-- commits and stay when it rolls back; the same erasure with no Redis
-- configured (PostgreSQL holds the hot state).  Autocommit, not one
-- rolled-back transaction.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(14);

-- a user with a live session, a conversion and a community presence
SELECT visittrack.fingerprint('192.0.2.71', 'tap forget UA') AS fp \gset
SELECT visittrack.track_page_view(:'fp', '/tap/' || g) FROM generate_series(1, 5) g;
SELECT visittrack.link_conversion(vt_test.uid(7001), :'fp') IS NOT NULL AS linked \gset
SELECT visittrack.session_start(vt_test.uid(7001), 'tap-forget-key', '192.0.2.71', 'tap forget UA') AS sid \gset
SELECT visittrack.community_visit(vt_test.uid(7900), vt_test.uid(7001));

-- erased in a transaction that rolls back: rows and the session key stay
BEGIN;
SELECT visittrack.forget_user(vt_test.uid(7001));
ROLLBACK;
SELECT is((SELECT count(*)::int FROM visittrack.user_session WHERE user_id = vt_test.uid(7001)), 1,
          'a rolled-back erasure leaves the session row');
SELECT is(vt_test.redis1('EXISTS', vt_test.key('session:' || :'sid')), '1',
          'a rolled-back erasure leaves the session key');

-- erased for real
SELECT is((visittrack.forget_user(vt_test.uid(7001)))->>'user_session', '1', 'forget_user reports the session');
SELECT is(vt_test.redis1('EXISTS', vt_test.key('session:' || :'sid')), '0',
          'the session key is gone after commit');
SELECT is(vt_test.redis1('EXISTS', vt_test.key('anon_session:' || :'fp')), '0',
          'the converted visitor''s anonymous key is gone');
SELECT is((SELECT total_visitors FROM visittrack.visitor_stats(vt_test.uid(7900))), 0,
          'the user is no longer a visitor of the community');
SELECT is((SELECT count(*)::int FROM visittrack.user_event WHERE user_id = vt_test.uid(7001)), 0,
          'no event of the user is left');
SELECT is((SELECT count(*)::int FROM visittrack.anonymous_page_view WHERE device_fingerprint = :'fp'), 0,
          'no page view of the converted session is left');

-- no Redis configured: the same erasure reaches the PostgreSQL hot store
SET visittrack.redis_host = '';
SELECT visittrack.fingerprint('192.0.2.72', 'tap local forget UA') AS lfp \gset
SELECT visittrack.track_page_view(:'lfp', '/local/' || g) FROM generate_series(1, 3) g;
SELECT visittrack.community_visit(vt_test.uid(7901), device_fingerprint => :'lfp');
SELECT is((SELECT count(*)::int FROM visittrack.hot_anon_session WHERE device_fingerprint = :'lfp'), 1,
          'no-Redis mode: the visitor is in the local hot store');
SELECT is(visittrack.forget_fingerprint(:'lfp'),
          '{"anonymous_session": 0, "anonymous_page_view": 3, "hot_anonymous_sessions": 1, "community_presence": 1}'::jsonb,
          'no-Redis mode: forget_fingerprint counts rows and local hot state');
SELECT is((SELECT count(*)::int FROM visittrack.hot_anon_session WHERE device_fingerprint = :'lfp'), 0,
          'no-Redis mode: the local hot session is gone');
SELECT is((SELECT count(*)::int FROM visittrack.hot_community_visitor WHERE visitor_key = 'anon_' || :'lfp'), 0,
          'no-Redis mode: the local presence is gone');
SELECT visittrack.session_start(vt_test.uid(7002), 'tap-forget-local') AS lsid \gset
SELECT is((visittrack.forget_user(vt_test.uid(7002)))->>'hot_sessions', '0',
          'no-Redis mode: no session key to delete');
RESET visittrack.redis_host;
SELECT is((SELECT count(*)::int FROM visittrack.user_session WHERE user_id = vt_test.uid(7002)), 0,
          'no-Redis mode: the session row is gone');

SELECT * FROM finish();
