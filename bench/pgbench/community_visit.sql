-- pgbench: community_visit, mixed: 30 % signed-in users (one of 2,000, with
-- divisions; also writes a community_visit user_event), 70 % anonymous
-- devices (one of 10,000; Redis or hot table only).  50 communities with
-- Zipf-like popularity.
\set c random_zipfian(1, 50, 1.1)
\set a random(1, 10)
\set s random(1, 2000)
\set f random(1, 10000)
SELECT visittrack.community_visit(
    md5('community' || :c::int)::uuid,
    CASE WHEN :a::int <= 3 THEN md5('user' || :s::int)::uuid END,
    CASE WHEN :a::int > 3 THEN md5('fp' || :f::int) END,
    CASE WHEN :a::int <= 3 THEN md5('division' || (:s::int % 5))::uuid END,
    md5('division' || (:c::int % 5))::uuid,
    'city-' || :c::int,
    '/communities/city-' || :c::int || '/',
    CASE WHEN :a::int IN (1, 4) THEN 'https://www.google.com/' END,
    ('203.0.113.' || (:f::int % 250))::inet,
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/'
        || (100 + :f::int % 20) || '.0.0.0 Safari/537.36');
