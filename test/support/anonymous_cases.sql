-- Anonymous sessions and community presence: behaviour that must be the
-- same whichever store holds the hot state.  Included by
-- test/anonymous_redis.sql and test/anonymous_local.sql, which set :mode.
-- Windows are shortened to seconds instead of waiting for minutes.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(26);
SELECT visittrack.fingerprint('203.0.113.9', :'mode' || ' visitor A') AS fa \gset
SELECT visittrack.fingerprint('203.0.113.9', :'mode' || ' visitor B') AS fb \gset
SELECT visittrack.fingerprint('203.0.113.9', :'mode' || ' visitor C') AS fc \gset
SELECT CASE WHEN :'mode' = 'redis' THEN 1000 ELSE 2000 END AS u \gset
-- a 2 s idle window instead of 30 min, from the first view on
SET visittrack.anon_session_ttl = '2s';

-- persistence exactly at page 5, landing page and referrer from the first view
SELECT is(visittrack.track_page_view(:'fa', '/landing/?utm=x', 'https://search.example/'), 1, 'first view is page 1');
SELECT is(visittrack.track_page_view(:'fa', '/two/', '/landing/?utm=x'), 2, 'page 2');
SELECT is(visittrack.track_page_view(:'fa', '/three/'), 3, 'page 3');
SELECT is(visittrack.track_page_view(:'fa', '/four/'), 4, 'page 4');
SELECT is((SELECT count(*)::int FROM visittrack.anonymous_session WHERE device_fingerprint = :'fa'), 0,
          'no session row before page 5');
SELECT is(visittrack.track_page_view(:'fa', '/five/', 'https://elsewhere.example/'), 5, 'page 5');
SELECT results_eq(
    format($$SELECT pages_visited, landing_page, referrer FROM visittrack.anonymous_session
              WHERE device_fingerprint = %L$$, :'fa'),
    $$VALUES (5, '/landing/?utm=x', 'https://search.example/')$$,
    'page 5 persists the session with the first view''s landing page and referrer');

-- time on page: filled when the next view arrives
SELECT pg_sleep(1.1);
SELECT is(visittrack.track_page_view(:'fa', '/six/'), 6, 'page 6');
SELECT is((SELECT time_on_page_seconds FROM visittrack.anonymous_page_view
            WHERE device_fingerprint = :'fa' AND url = '/five/'), 1,
          'time on page of /five/ is the 1 s until /six/');
SELECT is((SELECT time_on_page_seconds FROM visittrack.anonymous_page_view
            WHERE device_fingerprint = :'fa' AND url = '/six/'), NULL,
          'the latest view has no time on page yet');

-- finalisation after the idle window
SELECT pg_sleep(2.2);
SELECT ok(visittrack.finalize_anonymous_sessions() >= 1, 'finalize_anonymous_sessions closes idle sessions');
SELECT results_eq(
    format($$SELECT is_active, pages_visited, duration_seconds,
                    session_end = (SELECT max(viewed_at) FROM visittrack.anonymous_page_view
                                    WHERE device_fingerprint = %L)
               FROM visittrack.anonymous_session WHERE device_fingerprint = %L$$, :'fa', :'fa'),
    $$VALUES (false, 6, 1, true)$$,
    'the closed session has its final count, session_end = last view, and duration');
SELECT visittrack.finalize_anonymous_sessions();
SELECT is((SELECT duration_seconds FROM visittrack.anonymous_session WHERE device_fingerprint = :'fa'), 1,
          'finalizing again changes nothing');
-- the next view starts a new session
SELECT is(visittrack.track_page_view(:'fa', '/back-again/'), 1, 'a view after the idle window starts a new session');
SELECT is((SELECT count(DISTINCT session_id)::int FROM visittrack.anonymous_page_view WHERE device_fingerprint = :'fa'), 2,
          'two sessions of page views');
-- a live session is not closed even when its row looks idle
SELECT visittrack.track_page_view(:'fb', '/b/' || g) FROM generate_series(1, 5) g;
SELECT pg_sleep(1.2);
SELECT visittrack.track_page_view(:'fb', '/b/6');
SELECT pg_sleep(1.2);
SELECT visittrack.finalize_anonymous_sessions();
SELECT is((SELECT is_active FROM visittrack.anonymous_session WHERE device_fingerprint = :'fb'), true,
          'a session whose hot state is still live stays open');
RESET visittrack.anon_session_ttl;

-- community presence: a 2 s window instead of 5 min
SET visittrack.community_window = '2s';
SELECT gen_random_uuid() AS community \gset
SELECT visittrack.community_visit(:'community', device_fingerprint => :'fa');
SELECT visittrack.community_visit(:'community', device_fingerprint => :'fb');
SELECT visittrack.community_visit(:'community', vt_test.uid(:u + 700));
SELECT visittrack.community_visit(:'community', device_fingerprint => :'fa');
SELECT results_eq(format('SELECT total_visitors, authenticated_visitors, anonymous_visitors FROM visittrack.visitor_stats(%L)', :'community'),
                  $$VALUES (3, 1, 2)$$, 'distinct visitors are counted once');
SELECT results_eq(format('SELECT authenticated_percentage, anonymous_percentage FROM visittrack.visitor_stats(%L)', :'community'),
                  $$VALUES (33.33, 66.67)$$, 'percentages to two decimals');
SELECT pg_sleep(1.2);
SELECT visittrack.community_visit(:'community', device_fingerprint => :'fb');
SELECT pg_sleep(1.0);
SELECT results_eq(format('SELECT total_visitors, authenticated_visitors, anonymous_visitors FROM visittrack.visitor_stats(%L)', :'community'),
                  $$VALUES (1, 0, 1)$$, 'visitors leave the window one by one while another keeps it busy');
SELECT is((SELECT v->>'device_fingerprint' FROM visittrack.current_visitors(:'community') v), :'fb',
          'current_visitors lists the one still here');
SELECT is((SELECT (v->>'pages_viewed')::int FROM visittrack.current_visitors(:'community') v), 2,
          'its pages_viewed counts both visits in the window');
SELECT visittrack.community_visit(:'community', device_fingerprint => :'fa');
SELECT is((SELECT (v->>'pages_viewed')::int FROM visittrack.current_visitors(:'community') v
            WHERE v->>'device_fingerprint' = :'fa'), 1, 'a visitor coming back after leaving starts again at 1');
SELECT pg_sleep(2.1);
SELECT results_eq(format('SELECT total_visitors FROM visittrack.visitor_stats(%L)', :'community'),
                  $$VALUES (0)$$, 'everyone leaves in the end');
RESET visittrack.community_window;
SELECT is((SELECT count(*)::int FROM visittrack.user_event
            WHERE metadata->>'device_fingerprint' IN (:'fa', :'fb', :'fc')), 0,
          'anonymous community visits write no event');
SELECT is((SELECT count(*)::int FROM visittrack.user_event
            WHERE event_type = 'community_visit' AND metadata->>'community_id' = :'community'), 1,
          'the signed-in visit wrote one community_visit event');

-- conversion
SELECT visittrack.track_page_view(:'fc', '/pricing/', 'https://ads.example/') FROM generate_series(1, 2);
SELECT visittrack.link_conversion(vt_test.uid(:u + 701), :'fc') AS conv \gset
SELECT results_eq(
    format($$SELECT (metadata->>'pages_visited')::int, metadata->>'landing_page', metadata->>'referrer'
               FROM visittrack.user_event WHERE event_type = 'account_created' AND user_id = %L$$, vt_test.uid(:u + 701)),
    $$VALUES (2, '/pricing/', 'https://ads.example/')$$,
    'account_created carries the pre-signup facts');

SELECT * FROM finish();
