-- Privacy: IP address handling in every place an address is stored,
-- erasure of a signed-in user and of an anonymous visitor (rows and Redis
-- keys; each statement here commits, so commit-time Redis writes are done
-- when the next one looks), and anonymous community visits leaving no row.

-- visittrack.ip_anonymize: none, truncate (/24, /48), drop.  Each mode: a
-- login, an event, a community visit's event, an anonymous session (written
-- at page 5) and the Redis session hash.
CREATE TEMP TABLE ip_seen (mode text, place text, ip text);
CREATE FUNCTION pg_temp.ip_round(mode text, n integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    sid text;
    fp text := visittrack.fingerprint('2001:db8:1:2::7', 'IP test ' || mode);
BEGIN
    PERFORM set_config('visittrack.ip_anonymize', mode, false);
    sid := visittrack.session_start(vt_test.uid(n), 'ip-key-' || mode, '203.0.113.45', 'IP test UA');
    PERFORM visittrack.log_event(vt_test.uid(n), 'login', ip => '203.0.113.45');
    PERFORM visittrack.community_visit(vt_test.uid(900), vt_test.uid(n), ip => '198.51.100.77');
    PERFORM visittrack.track_page_view(fp, '/ip/' || g, ip => '2001:db8:1:2::7') FROM generate_series(1, 5) g;
    INSERT INTO ip_seen
    SELECT mode, 'user_session', ip_address::text FROM visittrack.user_session WHERE session_id = sid
    UNION ALL
    SELECT mode, 'user_event ' || event_type, ip_address::text FROM visittrack.user_event
     WHERE user_id = vt_test.uid(n)
    UNION ALL
    SELECT mode, 'anonymous_session', ip_address::text FROM visittrack.anonymous_session
     WHERE device_fingerprint = fp;
    PERFORM set_config('visittrack.ip_anonymize', 'none', false);
END $$;
SELECT pg_temp.ip_round('none', 801);
SELECT pg_temp.ip_round('truncate', 802);
SELECT pg_temp.ip_round('drop', 803);
SELECT * FROM ip_seen ORDER BY place, mode;
-- session_get: the Redis session hash (written at commit, so after the rounds)
SELECT mode, visittrack.session_get(s.session_id)->>'ip_address' AS session_get_ip
  FROM (VALUES ('none', 801), ('truncate', 802), ('drop', 803)) AS m(mode, n)
  JOIN visittrack.user_session s ON s.user_id = vt_test.uid(m.n)
 ORDER BY 1;
SELECT vt_test.error_of($$SET visittrack.ip_anonymize = 'hash'$$);

-- Anonymous community visits reach no durable table.
CREATE TEMP TABLE durable_counts AS
SELECT (SELECT count(*) FROM visittrack.user_session) AS sessions,
       (SELECT count(*) FROM visittrack.user_event) AS events,
       (SELECT count(*) FROM visittrack.user_page_view) AS user_views,
       (SELECT count(*) FROM visittrack.anonymous_session) AS anon_sessions,
       (SELECT count(*) FROM visittrack.anonymous_page_view) AS anon_views,
       (SELECT count(*) FROM visittrack.page_analytics) AS analytics;
SELECT visittrack.community_visit(vt_test.uid(901), device_fingerprint => repeat('e', 32),
                                  community_slug => 'montreal', url => '/communities/montreal/',
                                  ip => '203.0.113.99', user_agent => 'Mozilla/5.0 Firefox/120.0');
SELECT visittrack.community_visit(vt_test.uid(901), ip => '203.0.113.98', user_agent => 'Mozilla/5.0 Another UA');
SELECT total_visitors, anonymous_visitors FROM visittrack.visitor_stats(vt_test.uid(901));
SELECT (SELECT count(*) FROM visittrack.user_session) = sessions
   AND (SELECT count(*) FROM visittrack.user_event) = events
   AND (SELECT count(*) FROM visittrack.user_page_view) = user_views
   AND (SELECT count(*) FROM visittrack.anonymous_session) = anon_sessions
   AND (SELECT count(*) FROM visittrack.anonymous_page_view) = anon_views
   AND (SELECT count(*) FROM visittrack.page_analytics) = analytics AS no_durable_row
  FROM durable_counts;

-- forget_user: a user with two sessions (one live), events, page views, a
-- community presence, and the anonymous session that became the account.
SELECT visittrack.fingerprint('198.51.100.60', 'Forget me UA') AS fp \gset
SELECT visittrack.track_page_view(:'fp', '/before-signup/' || g, ip => '198.51.100.60')
  FROM generate_series(1, 6) g;
SELECT visittrack.community_visit(vt_test.uid(902), device_fingerprint => :'fp');
SELECT visittrack.link_conversion(vt_test.uid(700), :'fp') IS NOT NULL AS converted;
SELECT visittrack.session_start(vt_test.uid(700), 'forget-key-1', '198.51.100.60', 'Forget me UA') AS sid1 \gset
SELECT visittrack.session_touch(:'sid1', '/home') AS pages;
SELECT visittrack.session_end(:'sid1') AS ended;
SELECT visittrack.session_start(vt_test.uid(700), 'forget-key-2', '198.51.100.60', 'Forget me UA') AS sid2 \gset
SELECT visittrack.track_page_view(:'fp', '/after-signup/', user_id => vt_test.uid(700)) AS pages;
SELECT visittrack.log_event(vt_test.uid(700), 'post.created') IS NOT NULL AS logged;
SELECT visittrack.community_visit(vt_test.uid(902), vt_test.uid(700));
-- someone else, who must stay
SELECT visittrack.session_start(vt_test.uid(701), 'keep-key', '198.51.100.61', 'Keep me UA') AS keep_sid \gset
SELECT visittrack.community_visit(vt_test.uid(902), vt_test.uid(701));

SELECT total_visitors FROM visittrack.visitor_stats(vt_test.uid(902));

SELECT visittrack.forget_user(vt_test.uid(700));

SELECT (SELECT count(*) FROM visittrack.user_session WHERE user_id = vt_test.uid(700)) AS sessions,
       (SELECT count(*) FROM visittrack.user_event WHERE user_id = vt_test.uid(700)) AS events,
       (SELECT count(*) FROM visittrack.user_page_view WHERE user_id = vt_test.uid(700)) AS page_views,
       (SELECT count(*) FROM visittrack.anonymous_session WHERE converted_to_user = vt_test.uid(700)) AS converted_sessions,
       (SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = :'fp') AS anonymous_views;
SELECT total_visitors, authenticated_visitors FROM visittrack.visitor_stats(vt_test.uid(902));
SELECT count(*) AS other_user_sessions FROM visittrack.user_session WHERE user_id = vt_test.uid(701);
-- again: nothing left
SELECT visittrack.forget_user(vt_test.uid(700));

-- forget_fingerprint: an anonymous visitor with two sessions, one persisted,
-- one live in Redis, and a community presence.
SELECT visittrack.fingerprint('198.51.100.62', 'Anonymous forget UA') AS afp \gset
-- the first session's Redis entry expires (a one-second idle time)
SET visittrack.anon_session_ttl = '1s';
SELECT visittrack.track_page_view(:'afp', '/a/' || g) FROM generate_series(1, 5) g;
SELECT pg_sleep(1.2);
RESET visittrack.anon_session_ttl;
UPDATE visittrack.anonymous_session SET is_active = false, session_end = last_activity,
       session_start = session_start - interval '2 days', last_activity = last_activity - interval '2 days'
 WHERE device_fingerprint = :'afp';
UPDATE visittrack.anonymous_page_view SET viewed_at = viewed_at - interval '2 days'
 WHERE device_fingerprint = :'afp';
SELECT visittrack.track_page_view(:'afp', '/b/' || g) FROM generate_series(1, 2) g;
SELECT visittrack.community_visit(vt_test.uid(903), device_fingerprint => :'afp');
SELECT visittrack.forget_fingerprint(upper(:'afp'));
SELECT (SELECT count(*) FROM visittrack.anonymous_session WHERE device_fingerprint = :'afp') AS sessions,
       (SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = :'afp') AS page_views;
SELECT total_visitors FROM visittrack.visitor_stats(vt_test.uid(903));
SELECT visittrack.forget_fingerprint(:'afp');

SELECT vt_test.error_of($$SELECT visittrack.forget_user(NULL)$$);
SELECT vt_test.error_of($$SELECT visittrack.forget_fingerprint(NULL)$$);
SELECT vt_test.error_of($$SELECT visittrack.forget_fingerprint('not hex')$$);

-- erasure is not part of the application's API
SELECT 'forget_user' = ANY (visittrack.application_functions()) AS app_forget_user,
       'forget_fingerprint' = ANY (visittrack.application_functions()) AS app_forget_fingerprint;
