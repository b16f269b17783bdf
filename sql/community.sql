-- Who is viewing a community: presence for everyone, events for signed-in
-- visitors only.
SELECT * FROM visittrack.visitor_stats('c0000000-0000-0000-0000-000000000001');
SELECT visittrack.fingerprint('198.51.100.30', 'Mozilla/5.0 UA one') AS fp1 \gset
SELECT visittrack.fingerprint('198.51.100.31', 'UA two') AS fp2 \gset
SELECT visittrack.community_visit('c0000000-0000-0000-0000-000000000001',
       device_fingerprint => :'fp1', community_slug => 'montreal', url => '/communities/montreal/');
SELECT visittrack.community_visit('c0000000-0000-0000-0000-000000000001',
       device_fingerprint => :'fp1', community_slug => 'montreal', url => '/communities/montreal/events/');
SELECT visittrack.community_visit('c0000000-0000-0000-0000-000000000001',
       device_fingerprint => :'fp2', community_slug => 'montreal');
SELECT visittrack.community_visit('c0000000-0000-0000-0000-000000000001', vt_test.uid(1),
       visitor_division_id => 'd0000000-0000-0000-0000-000000000001',
       community_division_id => 'd0000000-0000-0000-0000-000000000001',
       community_slug => 'montreal', url => '/communities/montreal/', referrer => 'https://example.org/');
SELECT visittrack.community_visit('c0000000-0000-0000-0000-000000000001', vt_test.uid(2),
       visitor_division_id => 'd0000000-0000-0000-0000-000000000002',
       community_division_id => 'd0000000-0000-0000-0000-000000000001',
       community_slug => 'montreal');
SELECT visittrack.community_visit('c0000000-0000-0000-0000-000000000001', vt_test.uid(3),
       community_slug => 'montreal');
-- 3 signed-in, 2 anonymous (fp1 counted once)
SELECT * FROM visittrack.visitor_stats('c0000000-0000-0000-0000-000000000001');
SELECT v->>'user_id' AS user_id, v->'is_authenticated' AS auth, v->'pages_viewed' AS pages,
       v->>'division_id' AS division, v->>'current_page' AS page, v->>'community_slug' AS slug
  FROM visittrack.current_visitors('c0000000-0000-0000-0000-000000000001') v
 ORDER BY v->>'user_id' NULLS LAST, v->>'device_fingerprint';
SELECT (SELECT v->>'device_fingerprint' FROM visittrack.current_visitors('c0000000-0000-0000-0000-000000000001') v
         WHERE v->'pages_viewed' = '2') = :'fp1' AS repeat_visitor_counted_once;
-- events: one per signed-in visit, with is_cross_division; none for anonymous
SELECT user_id, description, metadata->'is_cross_division' AS cross_division,
       metadata->>'community_slug' AS slug, metadata->'is_authenticated' AS auth,
       metadata ? 'visitor_division_id' AS has_division
  FROM visittrack.user_event WHERE event_type = 'community_visit' ORDER BY id;
SELECT count(*) AS anonymous_rows FROM visittrack.user_event
 WHERE metadata->>'device_fingerprint' IN (:'fp1', :'fp2');
SELECT count(*) AS hot_table_rows FROM visittrack.hot_community_visitor;
-- another community is separate; an empty one gives zeros
SELECT * FROM visittrack.visitor_stats('c0000000-0000-0000-0000-000000000002');
SELECT count(*) FROM visittrack.current_visitors('c0000000-0000-0000-0000-000000000002');
-- a rolled-back signed-in visit leaves no presence and no event
BEGIN;
SELECT visittrack.community_visit('c0000000-0000-0000-0000-000000000003', vt_test.uid(9));
ROLLBACK;
SELECT total_visitors FROM visittrack.visitor_stats('c0000000-0000-0000-0000-000000000003');
-- bots are not visitors
SELECT visittrack.community_visit('c0000000-0000-0000-0000-000000000003', ip => '66.249.66.1',
       user_agent => 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)');
SELECT total_visitors FROM visittrack.visitor_stats('c0000000-0000-0000-0000-000000000003');
-- a fingerprint is computed from ip and user agent when not given
SELECT visittrack.community_visit('c0000000-0000-0000-0000-000000000003', ip => '198.51.100.30', user_agent => 'Mozilla/5.0 UA one');
SELECT v->>'device_fingerprint' = :'fp1' AS computed_fp
  FROM visittrack.current_visitors('c0000000-0000-0000-0000-000000000003') v;
-- bad input
SELECT vt_test.error_of($$SELECT visittrack.community_visit(NULL, device_fingerprint => '0123456789abcdef')$$);
SELECT vt_test.error_of($$SELECT visittrack.community_visit('c0000000-0000-0000-0000-000000000001')$$);
SELECT vt_test.error_of($$SELECT visittrack.community_visit('c0000000-0000-0000-0000-000000000001', device_fingerprint => E'\r\nDEL')$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.visitor_stats(NULL)$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.current_visitors(NULL)$$);
