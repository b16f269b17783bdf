-- pgbench: the traffic of the "live" community while visitor_stats is
-- measured: one of its 1,000 visitors (300 signed in, 700 anonymous) comes
-- back, so the count stays at 1,000.  Run beside tpv_anon.sql.
\set v random(1, 1000)
SELECT visittrack.community_visit(
    md5('community-live')::uuid,
    CASE WHEN :v::int <= 300 THEN md5('user' || :v::int)::uuid END,
    CASE WHEN :v::int > 300 THEN md5('fp' || :v::int) END,
    NULL, NULL, 'live', '/communities/live/', NULL,
    ('203.0.113.' || (:v::int % 250))::inet,
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/'
        || (100 + :v::int % 20) || '.0.0.0 Safari/537.36');
