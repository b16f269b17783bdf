-- pgbench: log_event of a signed-in user (one of 2,000) with a small JSON
-- object, IP address and user agent.
\set s random(1, 2000)
\set p random(1, 100000)
SELECT visittrack.log_event(
    md5('user' || :s::int)::uuid, 'post.viewed', 'Viewed a post',
    jsonb_build_object('post_id', :p::int, 'community', 'city-' || (:p::int % 50)),
    ('198.51.100.' || (:s::int % 250))::inet,
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/'
        || (100 + :s::int % 20) || '.0.0.0 Safari/537.36');
