-- pgbench: is_bot() on an unseen crawler-like user agent (cache miss).
\set r random(1, 1000000000)
SELECT visittrack.is_bot('Mozilla/5.0 (compatible; ExampleCrawler/' || :r || '; +https://example.org/bot)');
