-- pgbench: track_page_view of a signed-in user, by session_id (one of the
-- 2,000 sessions bench/sql/setup.sql made; the lookup of its id in
-- bench.session is a primary-key probe inside the same statement).
\set s random(1, 2000)
\set u random_zipfian(1, 200, 1.1)
\set r random(1, 10)
SELECT visittrack.track_page_view(
    NULL,
    '/communities/city-' || (:u::int % 50) || '/page-' || :u::int || '/',
    CASE :r::int WHEN 1 THEN 'https://www.google.com/' WHEN 2 THEN '/'
                 WHEN 3 THEN '/communities/' WHEN 4 THEN '/search?q=events' END,
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/'
        || (100 + :s::int % 20) || '.0.0.0 Safari/537.36',
    ('198.51.100.' || (:s::int % 250))::inet,
    s.user_id, s.session_id, 'community-page', 'community')
  FROM bench.session s WHERE s.i = :s;
