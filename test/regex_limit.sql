-- A user agent that makes a rule reach its regex match limit is suspect:
-- a bot ("regex-limit"), never a silent "no match".  The shipped rule sets
-- do not reach the default limit with any user agent we found, so the
-- limit is lowered here (visittrack.regex_match_limit) until a crafted one
-- does, while an ordinary browser's user agent still does not.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(12);

SELECT 'Mozilla/5.0 (Linux; Android ' || repeat('_', 480) AS crafted,
       'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36' AS chrome
\gset

SELECT is(visittrack.is_bot(:'crafted'), false,
          'at the default limit the crafted user agent is an ordinary one');

CREATE TEMP TABLE limits_before AS
SELECT (visittrack.status()->'counters'->>'ua_regex_limits')::bigint AS n;

SET visittrack.regex_match_limit = 20000;
SELECT is(visittrack.is_bot(:'crafted'), true,
          'a rule that reaches the limit makes the user agent a bot');
SELECT is(visittrack.ua_details(:'crafted')->>'bot_reason', 'regex-limit',
          'and says why');
SELECT is((SELECT browser FROM visittrack.parse_user_agent(:'crafted')), 'Other',
          'the browser a limit hit left undecided is "Other", not an error');
SELECT is((SELECT device_type FROM visittrack.parse_user_agent(:'crafted')), 'bot',
          'device type bot');
SELECT ok((visittrack.status()->'counters'->>'ua_regex_limits')::bigint > (SELECT n FROM limits_before),
          'status() counts the user agents a rule gave up on');

SELECT is(visittrack.is_bot(:'chrome'), false,
          'an ordinary browser does not reach the lowered limit');
SELECT is((SELECT browser FROM visittrack.parse_user_agent(:'chrome')), 'Chrome',
          'and is parsed as before');

-- on the request path, as stored with the page view
SELECT ok(visittrack.track_page_view('ab12cd34ef56ab12cd34ef56ab12cd34', '/limit', NULL, :'crafted') > 0,
          'a view with that user agent is tracked');
SELECT is((SELECT bool_and(is_bot) FROM visittrack.anonymous_page_view
            WHERE device_fingerprint = 'ab12cd34ef56ab12cd34ef56ab12cd34' AND url = '/limit'),
          true, 'track_page_view stores the view as a bot''s');

-- a changed limit applies to user agents already cached
RESET visittrack.regex_match_limit;
SELECT is(visittrack.is_bot(:'crafted'), false, 'back at the default limit: not a bot again');
SELECT throws_ok('SET visittrack.regex_match_limit = 10', '22023', NULL,
                 'the limit has a floor');

SELECT * FROM finish();
