-- User-agent parsing, bot detection and geolocation (doc/enrichment.md).
-- Rules come from Debian's uap-core and ruby-device-detector.
SELECT t.n, t.what, p.*
  FROM (VALUES
    (1, 'Firefox on Windows', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0'),
    (2, 'Chrome on macOS', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'),
    (3, 'Chrome on Linux', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36'),
    (4, 'Safari on iPhone', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1'),
    (5, 'Chrome on Android phone', 'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36'),
    (6, 'Android tablet', 'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36'),
    (7, 'iPad', 'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1'),
    (8, 'Edge on Windows', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.61'),
    (9, 'Googlebot', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'),
    (10, 'bingbot', 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)'),
    (11, 'curl', 'curl/8.4.0'),
    (12, 'python-requests', 'python-requests/2.31.0'),
    (13, 'Go', 'Go-http-client/1.1'),
    (14, 'Java', 'Java/1.8.0_151'),
    (15, 'HeadlessChrome', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36'),
    (16, 'PhantomJS', 'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1'),
    (17, 'smart TV', 'Mozilla/5.0 (Linux; Tizen 2.3) AppleWebKit/538.1 (KHTML, like Gecko) Version/2.3 TV Safari/538.1 HbbTV/1.2.1 (+DRM; Samsung; SmartTV2015; T-HKMLAKUC-1490.3; ; urn:samsungtv:familyname:2015-HDLAKUC)'),
    (18, 'unknown', 'SomethingNobodyKnows'),
    (19, 'empty', ''),
    (20, 'blank', E' \t '),
    (21, 'NULL', NULL)
  ) AS t(n, what, ua)
  CROSS JOIN LATERAL visittrack.parse_user_agent(t.ua) p
 ORDER BY t.n;

-- is_bot agrees with parse_user_agent; NULL and empty user agents are bots
SELECT visittrack.is_bot('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0') AS firefox,
       visittrack.is_bot('Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)') AS ahrefs,
       visittrack.is_bot('okhttp/4.9.3') AS okhttp,
       visittrack.is_bot('') AS empty,
       visittrack.is_bot(NULL) AS null_agent;
-- a feature phone's Java ME token is not the JDK's HTTP client
SELECT visittrack.is_bot('HuaweiC6100 Java/HWJa/1.0 Profile/MIDP-2.0 Configuration/CLDC-1.1') AS feature_phone;

-- everything found, and why a bot is a bot
SELECT visittrack.ua_details('Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36');
SELECT u.ua, visittrack.ua_details(u.ua)->>'bot_reason' AS bot_reason
  FROM (VALUES ('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'),
               ('Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)'),
               ('curl/8.4.0'), ('')) u(ua);

-- the device-type mapping applied to ua-parser results
SELECT visittrack.device_type_of('x', 'Spider', 'Spider', 'Desktop', 'Other') AS spider,
       visittrack.device_type_of('x', 'iPad', 'Apple', 'iPad', 'iOS') AS ipad,
       visittrack.device_type_of('Mozilla/5.0 (Linux; Android 9) Mobile', 'Samsung SM-G960F', 'Samsung', 'SM-G960F', 'Android') AS phone,
       visittrack.device_type_of('x', 'Other', NULL, NULL, 'Windows') AS windows,
       visittrack.device_type_of('x', 'Other', NULL, NULL, 'Other') AS unknown;

-- user agents are looked at as stored: control characters become spaces and
-- long ones are cut to visittrack.max_user_agent_length
SELECT browser, os FROM visittrack.parse_user_agent(E'Mozilla/5.0 (Windows NT 10.0;\nWin64; x64; rv:115.0) Gecko/20100101 Firefox/115.0');
SELECT browser, is_bot FROM visittrack.parse_user_agent('curl/8.4.0 ' || repeat('x', 100000));

-- repeated user agents are answered from the backend's cache
SELECT visittrack.is_bot('Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/118.0') AS first_time;
SELECT (visittrack.enrichment_status()->'cache'->>'hits')::int AS hits_before \gset
SELECT count(*) FILTER (WHERE NOT visittrack.is_bot('Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/118.0')) AS browsers
  FROM generate_series(1, 5);
SELECT (visittrack.enrichment_status()->'cache'->>'hits')::int - :hits_before AS cache_hits;
SELECT s->>'uap_regexes' AS uap_regexes, (s->>'uap_rules')::int > 1000 AS uap_rules_loaded,
       s->'pattern_lists'->0->>'setting' AS first_list,
       (s->'pattern_lists'->0->>'patterns')::int > 100 AS patterns_loaded
  FROM visittrack.enrichment_status() s;

-- missing or broken rule files: clear errors naming what to install
SET visittrack.uap_regexes_path = '/nonexistent/regexes.yaml';
SELECT vt_test.error_of($$SELECT * FROM visittrack.parse_user_agent('curl/8.4.0')$$);
SELECT vt_test.error_of($$SELECT visittrack.is_bot('curl/8.4.0')$$);
SET visittrack.uap_regexes_path = '';
SELECT vt_test.error_of($$SELECT visittrack.is_bot('curl/8.4.0')$$);
SET visittrack.uap_regexes_path = 'PG_VERSION';   -- a file, but not YAML rules
SELECT vt_test.error_of($$SELECT visittrack.is_bot('curl/8.4.0')$$);
RESET visittrack.uap_regexes_path;
SET visittrack.bot_patterns_path = '/nonexistent/device_detector-*/regexes/bots.yml';
SELECT vt_test.error_of($$SELECT visittrack.is_bot('curl/8.4.0')$$);
SET visittrack.crawler_patterns_path = '/nonexistent/crawler-user-agents.json';
SET visittrack.bot_patterns_path = '';
SELECT vt_test.error_of($$SELECT visittrack.is_bot('curl/8.4.0')$$);
RESET visittrack.crawler_patterns_path;
-- without the pattern list, ua-parser and the heuristics still decide
SELECT visittrack.is_bot('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)') AS googlebot,
       visittrack.is_bot('curl/8.4.0') AS curl;
RESET visittrack.bot_patterns_path;
SELECT browser FROM visittrack.parse_user_agent('curl/8.4.0');
-- the rules are for superusers to point at
CREATE ROLE vt_enrich_user;
SET ROLE vt_enrich_user;
SELECT vt_test.error_of($$SET visittrack.uap_regexes_path = '/tmp/mine.yaml'$$);
SELECT vt_test.error_of($$SET visittrack.geoip_database = '/tmp/mine.mmdb'$$);
RESET ROLE;
DROP ROLE vt_enrich_user;

-- geolocation: NULL when no database is configured, clear errors otherwise
SHOW visittrack.geoip_database;
SELECT visittrack.geolocate('203.0.113.9') AS unset;
SELECT visittrack.geolocate(NULL) AS null_ip;
SET visittrack.geoip_database = '/nonexistent/GeoLite2-City.mmdb';
SELECT vt_test.error_of($$SELECT visittrack.geolocate('203.0.113.9')$$);
SET visittrack.geoip_database = 'PG_VERSION';
SELECT vt_test.error_of($$SELECT visittrack.geolocate('203.0.113.9')$$);
RESET visittrack.geoip_database;
SELECT visittrack.geolocate('203.0.113.9') AS unset_again;

-- enrich_pending argument check (the filling itself is in test/enrichment.sql)
SELECT vt_test.error_of($$SELECT visittrack.enrich_pending(-1)$$);
