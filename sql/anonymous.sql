-- track_page_view for anonymous visitors: the anon_session:{fingerprint}
-- hash, page views with time on page, persistence every 5th page.
SELECT visittrack.fingerprint('198.51.100.20', 'Mozilla/5.0 (X11; Linux) Firefox/120.0') AS fp \gset
SELECT visittrack.track_page_view(:'fp', '/search?q=events', 'https://www.google.com/',
       'Mozilla/5.0 (X11; Linux) Firefox/120.0', '198.51.100.20',
       url_name => 'search', page_type => 'search') AS pages;
-- pages 2..4: counted in Redis, no session row yet
SELECT visittrack.track_page_view(:'fp', '/communities/montreal/', '/search?q=events') AS pages;
SELECT visittrack.track_page_view(:'fp', '/communities/montreal/events/') AS pages;
SELECT visittrack.track_page_view(:'fp', '/about/') AS pages;
SELECT count(*) AS session_rows FROM visittrack.anonymous_session WHERE device_fingerprint = :'fp';
-- page 5: persisted
SELECT visittrack.track_page_view(:'fp', '/communities/toronto/') AS pages;
SELECT pages_visited, landing_page, referrer, is_active, host(ip_address) AS ip
  FROM visittrack.anonymous_session WHERE device_fingerprint = :'fp';
SELECT visittrack.track_page_view(:'fp', '/help/') AS pages;
SELECT pages_visited FROM visittrack.anonymous_session WHERE device_fingerprint = :'fp';
-- every view is a row; each but the last has its time on page
SELECT url, url_name, page_type, referrer, time_on_page_seconds IS NOT NULL AS timed, is_bot
  FROM visittrack.anonymous_page_view WHERE device_fingerprint = :'fp' ORDER BY viewed_at;
SELECT count(DISTINCT session_id) AS sessions FROM visittrack.anonymous_page_view WHERE device_fingerprint = :'fp';

-- the counter is applied at once: a rolled-back view still counted
BEGIN;
SELECT visittrack.track_page_view(:'fp', '/rolled-back/') AS pages;
ROLLBACK;
SELECT count(*) AS rolled_back_rows FROM visittrack.anonymous_page_view WHERE url = '/rolled-back/';

-- bad input and normalisation
SELECT vt_test.error_of($$SELECT visittrack.track_page_view(NULL, '/x')$$);
SELECT vt_test.error_of(format('SELECT visittrack.track_page_view(%L, NULL)', :'fp'));
SELECT vt_test.error_of($$SELECT visittrack.track_page_view('not-a-fingerprint', '/x')$$);
SELECT vt_test.error_of($$SELECT visittrack.track_page_view(E'abcdef0123456789\r\nFLUSHALL', '/x')$$);
SELECT visittrack.track_page_view(upper(:'fp'), '/upper-case-fingerprint/') AS same_visitor_pages;
SELECT visittrack.fingerprint('198.51.100.21', 'UA') AS fp2 \gset
SELECT visittrack.track_page_view(:'fp2', E'/path\r\nSET x y/' || repeat('a', 3000), E'ref\ttab') AS pages;
SELECT left(url, 30) AS url_start, length(url) AS url_length, referrer
  FROM visittrack.anonymous_page_view WHERE device_fingerprint = :'fp2';

-- a bot's views are kept, flagged
SELECT visittrack.fingerprint('66.249.66.1', 'Googlebot/2.1') AS bot_fp \gset
SELECT visittrack.track_page_view(:'bot_fp', '/', NULL,
       'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)') AS pages;
SELECT is_bot FROM visittrack.anonymous_page_view WHERE device_fingerprint = :'bot_fp';
