-- visittrack.write_behind: calls return at once, the visittrack writer
-- (attached to this database, visittrack.database) writes page-view rows
-- (anonymous and signed-in), community presence, community_visit events and
-- cached page counts in batches.  Each statement below is its own transaction (pg_prove runs the
-- file in autocommit), so what a call queues is pushed when it returns.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(20);

SET visittrack.write_behind = on;
SELECT is((visittrack.status())->'write_behind'->>'writer_attached', 'true', 'the writer is attached');
SELECT is((visittrack.status())->'write_behind'->>'active', 'true',
          'this session''s writes are queued (same database, same Redis settings)');
SELECT (visittrack.status())->'write_behind'->>'queued' AS queued_before \gset

-- anonymous page views: the count comes back at once, the rows after a flush
SELECT visittrack.fingerprint('192.0.2.90', 'write-behind test ' || gen_random_uuid()) AS fp,
       gen_random_uuid() AS member, gen_random_uuid() AS signed_in \gset
SELECT visittrack.track_page_view(:'fp', '/wb/1', 'https://www.example.com/') AS p1 \gset
SELECT pg_sleep(1.1);
SELECT visittrack.track_page_view(:'fp', '/wb/' || g) FROM generate_series(2, 3) g;
SELECT pg_sleep(0.3);    -- let the writer take these, so the next closes one from an earlier batch
SELECT visittrack.track_page_view(:'fp', '/wb/4');
SELECT visittrack.track_page_view(:'fp', '/wb/5', NULL, 'Mozilla/5.0 write-behind', '192.0.2.90') AS p5 \gset
BEGIN;
SELECT visittrack.track_page_view(:'fp', '/wb/rolled-back');
ROLLBACK;
SELECT is(:p1 || ',' || :p5, '1,5', 'page counts are returned at once');
SELECT ok(visittrack.flush_writes(10000), 'flush_writes: the writer caught up');
SELECT results_eq(format($$SELECT url, time_on_page_seconds IS NOT NULL FROM visittrack.anonymous_page_view
                           WHERE device_fingerprint = %L ORDER BY viewed_at$$, :'fp'),
                  $$VALUES ('/wb/1', true), ('/wb/2', true), ('/wb/3', true), ('/wb/4', true), ('/wb/5', false)$$,
                  'five rows, in order, each closed by the next view (in its batch or an earlier one)');
SELECT is((SELECT time_on_page_seconds FROM visittrack.anonymous_page_view
            WHERE device_fingerprint = :'fp' AND url = '/wb/1'), 1, 'time on page of the first view: 1 s');
SELECT results_eq(format($$SELECT pages_visited, landing_page, referrer, host(ip_address)
                             FROM visittrack.anonymous_session WHERE device_fingerprint = %L$$, :'fp'),
                  $$VALUES (5, '/wb/1', 'https://www.example.com/', '192.0.2.90')$$,
                  'the session row written at the fifth page, with landing page and referrer');
SELECT is((SELECT count(*) FROM visittrack.anonymous_page_view
            WHERE device_fingerprint = :'fp' AND url = '/wb/rolled-back'), 0::bigint,
          'a view in a rolled-back transaction is counted but its row never queued');

-- community presence and the signed-in visitor's event
SELECT gen_random_uuid() AS community \gset
SELECT visittrack.community_visit(:'community', device_fingerprint => :'fp');
SELECT now() AS visit_at
  FROM (SELECT visittrack.community_visit(:'community', (:'member')::uuid, NULL,
                                          vt_test.uid(1), vt_test.uid(2), 'wb-club', '/c/wb')) v \gset
SELECT ok(visittrack.flush_writes(10000), 'flushed after the visits');
SELECT results_eq(format($$SELECT total_visitors, authenticated_visitors, anonymous_visitors
                             FROM visittrack.visitor_stats(%L)$$, :'community'),
                  $$VALUES (2, 1, 1)$$, 'visitor_stats counts both queued visits');
SELECT is(vt_test.redis1('SCARD', vt_test.key('community:' || :'community' || ':visitors:anonymous')), '1',
          'the anonymous visitor is in the seed''s Redis set');
SELECT results_eq(format($$SELECT metadata->>'community_slug', (metadata->>'is_cross_division')::boolean,
                                  created_at = %L::timestamptz
                             FROM visittrack.user_event WHERE user_id = %L AND event_type = 'community_visit'$$,
                         :'visit_at', (:'member')::uuid),
                  $$VALUES ('wb-club', true, true)$$,
                  'the community_visit event with the seed''s metadata, dated by the call, not by the writer');
SELECT visittrack.community_visit(:'community', (:'member')::uuid, NULL, NULL, NULL, 'wb-club', '/c/wb/2');
SELECT ok(visittrack.flush_writes(10000), 'flushed after a second visit');
SELECT is((SELECT v->>'pages_viewed' FROM visittrack.current_visitors(:'community') v
            WHERE v->>'user_id' = (:'member')::uuid::text), '2', 'a second visit counts a second page');

-- a signed-in session: the count from the table at once, Redis's copy after the flush
SELECT visittrack.session_start(:'signed_in', 'wb-key-' || :'signed_in') AS sid \gset
SELECT visittrack.session_touch(:'sid', '/s/1');
SELECT is(visittrack.session_touch(:'sid', '/s/2'), 2, 'session_touch returns the new count at once');
SELECT ok(visittrack.flush_writes(10000), 'flushed after the touches');
SELECT is(vt_test.hget('session:' || :'sid', 'pages_visited'), '2', 'Redis''s session entry follows');
SELECT results_eq(format($$SELECT url, time_on_page_seconds IS NOT NULL FROM visittrack.user_page_view
                           WHERE session_id = %L ORDER BY viewed_at$$, :'sid'),
                  $$VALUES ('/s/1', true), ('/s/2', false)$$,
                  'the signed-in page view rows, written by the writer, the first closed by the second');

-- erasure waits for what is queued: nothing comes back after it
SELECT visittrack.track_page_view(:'fp', '/wb/after-erasure-' || g) FROM generate_series(1, 3) g;
SELECT visittrack.forget_fingerprint(:'fp');
SELECT pg_sleep(0.3);
SELECT is((SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = :'fp'), 0::bigint,
          'forget_fingerprint waited for the queued views and erased them');

SELECT ok(((visittrack.status())->'write_behind'->>'queued')::bigint >= :queued_before + 10
          AND ((visittrack.status())->'write_behind'->>'dropped')::bigint = 0,
          'status() counts the queued writes; none dropped');
RESET visittrack.write_behind;

SELECT * FROM finish();
