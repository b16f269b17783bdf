-- Signed-in sessions: behaviour in the three hot-state situations
-- (Redis up, no Redis configured, Redis unreachable).  Autocommit, not one
-- rolled-back transaction: Redis writes happen at commit.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(25);

SELECT has_table('visittrack', t, 'table ' || t || ' exists')
  FROM unnest(ARRAY['user_session', 'user_event', 'anonymous_session',
                    'anonymous_page_view', 'page_analytics']) t;

-- Redis up
SELECT visittrack.session_start(vt_test.uid(101), 'tap-key-101', '198.51.100.7', 'Mozilla/5.0', false, 'ada') AS sid \gset
SELECT is(vt_test.redis1('EXISTS', vt_test.key('session:' || :'sid')), '1', 'login writes session:{id}');
SELECT is(visittrack.session_touch(:'sid'), 1, 'first page is 1');
SELECT is(visittrack.session_touch(:'sid'), 2, 'second page is 2');
SELECT is(vt_test.hget('session:' || :'sid', 'pages_visited'), '2', 'Redis count follows');
SELECT is((visittrack.session_get(:'sid'))->>'pages_visited', '2', 'session_get sees the count');

-- the same answers without Redis
SELECT visittrack.session_get(:'sid') AS with_redis \gset
SET visittrack.redis_host = '';
SELECT is(visittrack.session_get(:'sid'), :'with_redis'::jsonb,
          'no-Redis mode: session_get gives the same JSON from the table');
SELECT visittrack.session_start(vt_test.uid(102), 'tap-key-102') AS sid_local \gset
SELECT is(visittrack.session_touch(:'sid_local'), 1, 'no-Redis mode: touch counts');
SELECT is((visittrack.session_get(:'sid_local'))->>'pages_visited', '1', 'no-Redis mode: get reads the table');
SELECT ok(visittrack.session_end(:'sid_local'), 'no-Redis mode: logout');
SELECT is(visittrack.session_touch(:'sid_local'), NULL, 'no-Redis mode: ended session counts nothing');
SELECT is((SELECT count(*)::int FROM visittrack.hot_redis_backlog), 0, 'no-Redis mode leaves no backlog');
SELECT is((visittrack.status())->>'hot_store', 'postgresql', 'status says PostgreSQL holds the hot state');
RESET visittrack.redis_host;

-- Redis unreachable: a closed port.  Calls succeed, and stale keys are noted
-- for repair.
SET visittrack.redis_port = 1;
SET visittrack.redis_timeout_ms = 200;
SELECT visittrack.session_start(vt_test.uid(103), 'tap-key-103') AS sid_down \gset
SELECT is(length(:'sid_down'), 32, 'login works while Redis is unreachable');
SELECT is(visittrack.session_touch(:'sid_down'), 1, 'touch works while Redis is unreachable');
SELECT is((visittrack.session_get(:'sid_down'))->>'pages_visited', '1', 'get answers from the table');
SELECT ok(visittrack.session_end(:'sid_down'), 'logout works while Redis is unreachable');
SELECT ok((SELECT count(*) FROM visittrack.hot_redis_backlog WHERE key_id = :'sid_down') = 1,
          'the session key is noted for repair');
SELECT is((visittrack.status())->'redis'->>'up', 'false', 'status says Redis is down');
SELECT ok((visittrack.status())->'redis'->>'last_error' LIKE '%connect%', 'status keeps the last error');
SELECT ok(((visittrack.status())->'counters'->>'fallback_calls')::int > 0, 'fallback calls are counted');
RESET visittrack.redis_port;
RESET visittrack.redis_timeout_ms;
DELETE FROM visittrack.hot_redis_backlog;

SELECT * FROM finish();
