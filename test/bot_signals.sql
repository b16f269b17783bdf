-- The generic bot signals of src/enrich/bots.c, one case each, and the
-- real browsers' user agents they must leave alone.  The signals are shown
-- with no other source: no crawler pattern list, and ua-parser rules that
-- know nothing (a file of empty lists, written here), since the maintained
-- lists catch some of these generic names as well.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(20);

CREATE TEMP TABLE signal_case (ua text, reason text);
INSERT INTO signal_case VALUES
    ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Zorblebot', 'bot-name'),
    ('Mozilla/5.0 (compatible; Quuxcrawler 1.0)', 'bot-name'),
    ('Mozilla/5.0 (Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36; Wumpusspider', 'bot-name'),
    ('Zorble Feed Fetcher 2', 'bot-name'),
    ('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 ZorbleUptime/3', 'monitoring'),
    ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15 Quux Link Checker', 'monitoring'),
    ('Mozilla/5.0 (Windows NT 6.1; WOW64) QuuxUriPreview Preview/0.5', 'preview'),
    ('Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1) Zorble-HTTPClient/2', 'http-client'),
    ('Zorble Exporter/0.20 (Feed Parser)', 'http-client'),
    ('ZorbleSync/4.2 (+metrics)', 'unknown-client'),
    ('Mozilla/5.0 (compatible; Quux Zorble Engine; 1.0)', 'unknown-client');

DO $$
BEGIN
    EXECUTE format($q$COPY (VALUES ('user_agent_parsers: []'), ('os_parsers: []'), ('device_parsers: []'))
                        TO %L$q$, current_setting('data_directory') || '/bot_signals_no_rules.yaml');
END $$;
SELECT set_config('visittrack.uap_regexes_path',
                  current_setting('data_directory') || '/bot_signals_no_rules.yaml', false);
SET visittrack.bot_patterns_path = '';
SET visittrack.crawler_patterns_path = '';

SELECT is(visittrack.ua_details(ua)->>'bot_reason', reason, reason || ': ' || ua)
  FROM signal_case ORDER BY ua;

-- with every source on (the defaults)
RESET visittrack.uap_regexes_path;
RESET visittrack.bot_patterns_path;

-- real browsers and devices that carry look-alike words
SELECT is(visittrack.is_bot(ua), false, 'not a bot: ' || ua)
  FROM (VALUES
    ('Mozilla/5.0 (Linux; U; Android 4.3; de-de; Cubot One Android 4.3 Build/JOP40D) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30'),
    ('Mozilla/5.0 (Linux; U; Android 4.2.1; en-gb; CUBOT ONE Build/JOP40D) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30'),
    ('Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1; User Agent; .NET CLR 1.1.4322)'),
    ('Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36'),
    ('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 327.0.0.23.90 (iPhone15,3; iOS 17_4; en_US)'),
    ('Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54'),
    ('Dalvik/2.1.0 (Linux; U; Android 12; SM-A525F Build/SP1A.210812.016)'),
    ('DoCoMo/2.0 N905i(c100;TB;W24H16)')
  ) AS b(ua);

-- a client that names no browser but that ua-parser knows is not unknown
SELECT isnt(visittrack.ua_details('Dalvik/2.1.0 (Linux; U; Android 12; SM-A525F Build/SP1A.210812.016)')->>'device_type',
            'bot', 'an Android app''s HTTP client keeps its device');

SELECT * FROM finish();
