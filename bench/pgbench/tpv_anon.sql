-- pgbench: track_page_view of an anonymous visitor.
-- A random device of 10,000 (fingerprint md5('fp' || f)), a URL of 200 with
-- Zipf-like popularity (s = 1.1), referrers mixed (search, social, internal,
-- none), one of 20 user agents (parsed once per backend, then cached, as
-- real traffic repeats a few) and the device's IP address.
\set f random(1, 10000)
\set u random_zipfian(1, 200, 1.1)
\set r random(1, 10)
SELECT visittrack.track_page_view(
    md5('fp' || :f::int),
    '/communities/city-' || (:u::int % 50) || '/page-' || :u::int || '/',
    CASE :r::int WHEN 1 THEN 'https://www.google.com/' WHEN 2 THEN 'https://t.co/'
                 WHEN 3 THEN 'https://news.example.org/weekly' WHEN 4 THEN '/'
                 WHEN 5 THEN '/communities/' WHEN 6 THEN '/search?q=events' END,
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/'
        || (100 + :f::int % 20) || '.0.0.0 Safari/537.36',
    ('203.0.113.' || (:f::int % 250))::inet,
    NULL, NULL, 'community-page', 'community');
