-- link_conversion: what an anonymous visitor did before signing up.
SELECT visittrack.fingerprint('198.51.100.40', 'Converting UA') AS fp \gset
SELECT visittrack.track_page_view(:'fp', '/blog/how-to/', 'https://news.example.com/') FROM generate_series(1, 3);
-- three pages: the session lives only in Redis; linking persists it first
SELECT count(*) AS rows_before FROM visittrack.anonymous_session WHERE device_fingerprint = :'fp';
SELECT visittrack.link_conversion(vt_test.uid(50), :'fp') AS linked \gset
SELECT pages_visited, landing_page, referrer, converted_to_user, converted_at IS NOT NULL AS converted
  FROM visittrack.anonymous_session WHERE device_fingerprint = :'fp';
SELECT description, metadata->>'from_anonymous_session' = :'linked' AS from_session,
       metadata->'pages_visited' AS pages, metadata->>'landing_page' AS landing,
       metadata->>'referrer' AS referrer, metadata ? 'duration_seconds' AS has_duration
  FROM visittrack.user_event WHERE event_type = 'account_created' AND user_id = vt_test.uid(50);
-- idempotent: same answer, no second event
SELECT visittrack.link_conversion(vt_test.uid(50), :'fp')::text = :'linked' AS same_again;
SELECT count(*) AS events FROM visittrack.user_event WHERE event_type = 'account_created' AND user_id = vt_test.uid(50);
-- never re-linked to another user
SELECT visittrack.link_conversion(vt_test.uid(51), :'fp') AS other_user;
SELECT converted_to_user FROM visittrack.anonymous_session WHERE device_fingerprint = :'fp';
SELECT count(*) AS events FROM visittrack.user_event WHERE event_type = 'account_created' AND user_id = vt_test.uid(51);
-- nothing to link
SELECT visittrack.link_conversion(vt_test.uid(52), '00000000000000000000000000000000') AS no_session;
SELECT vt_test.error_of($$SELECT visittrack.link_conversion(NULL, '00000000000000000000000000000000')$$);
SELECT vt_test.error_of(format('SELECT visittrack.link_conversion(%L, NULL)', vt_test.uid(52)));
SELECT vt_test.error_of(format('SELECT visittrack.link_conversion(%L, %L)', vt_test.uid(52), 'xyz'));
-- a session only in page views (Redis entry gone, never persisted) is found
-- too: the entry expires (a one-second idle time for these views)
SELECT visittrack.fingerprint('198.51.100.41', 'Gone UA') AS fp2 \gset
SET visittrack.anon_session_ttl = '1s';
SELECT visittrack.track_page_view(:'fp2', '/landing/', 'https://ref.example/') AS p1;
SELECT visittrack.track_page_view(:'fp2', '/second/') AS p2;
SELECT pg_sleep(1.2);
RESET visittrack.anon_session_ttl;
SELECT visittrack.link_conversion(vt_test.uid(53), :'fp2') IS NOT NULL AS linked_from_views;
SELECT pages_visited, landing_page, referrer FROM visittrack.anonymous_session WHERE device_fingerprint = :'fp2';
