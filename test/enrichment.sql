-- Enrichment: enrich_pending() fills sessions, geolocate() answers from the
-- small MaxMind database that scripts/test builds (test/support/
-- make_geoip_db.pl) and sets as visittrack.geoip_database for this database.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(24);

-- geolocate: known answers, IPv4 and IPv6, and an address in no network
SELECT ok(current_setting('visittrack.geoip_database') LIKE '%geoip-test.mmdb',
          'the test database is configured');
SELECT is(visittrack.geolocate('203.0.113.9'),
          '{"country": "Canada", "country_code": "CA", "region": "Quebec", "city": "Montréal",
            "latitude": 45.5017, "longitude": -73.5673}'::jsonb,
          'IPv4 address: country, region, city and coordinates');
SELECT is(visittrack.geolocate('2001:db8:1:2::7'),
          '{"country": "France", "country_code": "FR", "region": "Île-de-France", "city": "Paris",
            "latitude": 48.8566, "longitude": 2.3522}'::jsonb,
          'IPv6 address in a /48');
SELECT is(visittrack.geolocate('198.51.100.20'),
          '{"country": "Germany", "country_code": "DE"}'::jsonb,
          'a network with a country only gives the country only');
SELECT is(visittrack.geolocate('::ffff:203.0.113.9')->>'city', 'Montréal',
          'IPv4-mapped IPv6 address is looked up as IPv4');
SELECT is(visittrack.geolocate('192.0.2.1'), NULL, 'IPv4 address in no network: NULL');
SELECT is(visittrack.geolocate('2001:db8:2::1'), NULL, 'IPv6 address in no network: NULL');
SELECT ok((visittrack.enrichment_status()->'geoip'->>'open')::boolean, 'status shows the database open');
SET visittrack.geoip_database = '';
SELECT is(visittrack.geolocate('203.0.113.9'), NULL, 'no database configured: NULL');
RESET visittrack.geoip_database;
SELECT is(visittrack.geolocate('203.0.113.9')->>'country', 'Canada', 'reopened when the setting comes back');

-- enrich_pending: start from nothing pending
SELECT visittrack.enrich_pending(1000000) AS drained \gset
INSERT INTO visittrack.user_session (user_id, session_id, ip_address, user_agent, expires_at)
VALUES (vt_test.uid(701), 'enrich-701', '203.0.113.50',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0', now() + interval '1 hour'),
       (vt_test.uid(702), 'enrich-702', '192.0.2.1',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
        now() + interval '1 hour'),
       (vt_test.uid(703), 'enrich-703', NULL, 'curl/8.4.0', now() + interval '1 hour');
-- anonymous sessions on a day without a partition land in the default one
INSERT INTO visittrack.anonymous_session (session_id, device_fingerprint, session_start,
                                          last_activity, ip_address, user_agent)
VALUES (vt_test.uid(711), repeat('7', 32), '2001-02-03 10:00+00', '2001-02-03 10:05+00',
        '2001:db8:1::9', 'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36'),
       (vt_test.uid(712), repeat('8', 32), '2001-02-03 11:00+00', '2001-02-03 11:01+00',
        '203.0.113.7', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)');

SELECT is(visittrack.enrich_pending(2), 4, 'max_rows bounds each table: 2 signed-in + 2 anonymous');
SELECT is(visittrack.enrich_pending(), 1, 'the rest on the next call');
SELECT is(visittrack.enrich_pending(), 0, 'nothing left to do');

SELECT is(device_info, '{"device_type": "desktop", "browser": "Firefox", "browser_version": "115.0", "os": "Windows"}'::jsonb,
          'user_session.device_info for Firefox on Windows')
  FROM visittrack.user_session WHERE session_id = 'enrich-701';
SELECT is(location_data->>'city', 'Montréal', 'user_session.location_data from the IP address')
  FROM visittrack.user_session WHERE session_id = 'enrich-701';
SELECT is(location_data, '{}'::jsonb, 'an address in no network gives {}')
  FROM visittrack.user_session WHERE session_id = 'enrich-702';
SELECT is(device_info->>'device_type', 'mobile', 'iPhone is mobile')
  FROM visittrack.user_session WHERE session_id = 'enrich-702';
SELECT is(array_agg(is_bot ORDER BY session_id), ARRAY[false, false, true],
          'curl is flagged as a bot, browsers are not')
  FROM visittrack.user_session WHERE session_id LIKE 'enrich-70_';
SELECT is(count(*), 0::bigint, 'every row has enriched_at')
  FROM visittrack.user_session WHERE session_id LIKE 'enrich-70_' AND enriched_at IS NULL;

SELECT is(row(device_type, browser, os, is_bot)::text, '(tablet,Chrome,Android,f)',
          'anonymous_session: Android tablet')
  FROM visittrack.anonymous_session WHERE session_id = vt_test.uid(711);
SELECT is(location_data->>'country', 'France', 'anonymous_session.location_data from an IPv6 address')
  FROM visittrack.anonymous_session WHERE session_id = vt_test.uid(711);
SELECT is(row(device_type, is_bot)::text, '(bot,t)', 'anonymous_session: Googlebot is a bot')
  FROM visittrack.anonymous_session WHERE session_id = vt_test.uid(712);
SELECT is(count(*), 0::bigint, 'anonymous rows have enriched_at')
  FROM visittrack.anonymous_session WHERE session_id IN (vt_test.uid(711), vt_test.uid(712))
   AND enriched_at IS NULL;

-- a row flagged as a bot elsewhere stays a bot
INSERT INTO visittrack.user_session (user_id, session_id, user_agent, expires_at, is_bot)
VALUES (vt_test.uid(704), 'enrich-704',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0',
        now() + interval '1 hour', true);
SELECT visittrack.enrich_pending() AS done \gset
SELECT ok(is_bot, 'enrichment never clears a bot flag')
  FROM visittrack.user_session WHERE session_id = 'enrich-704';

DELETE FROM visittrack.user_session WHERE session_id LIKE 'enrich-70_';
DELETE FROM visittrack.anonymous_session WHERE session_id IN (vt_test.uid(711), vt_test.uid(712));

SELECT * FROM finish();
