-- pgbench: parse_user_agent() on a user agent never seen before (cache miss:
-- every ua-parser list evaluated, bot patterns matched, result cached).
\set r random(1, 1000000000)
SELECT * FROM visittrack.parse_user_agent(
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.' || :r || '.0 Safari/537.36');
