-- pgbench: parse_user_agent() on user agents the backend has seen (cache hits).
-- Five common user agents in turn, as real traffic repeats a few.
\set i random(1, 5)
SELECT * FROM visittrack.parse_user_agent(CASE :i::integer
    WHEN 1 THEN 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
    WHEN 2 THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1'
    WHEN 3 THEN 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0'
    WHEN 4 THEN 'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36'
    ELSE 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' END);
