-- pgbench: visitor_stats of the "live" community (1,000 visitors in the
-- window, kept alive by live_visit.sql while this runs).  The \set is for
-- the latency log (see select1.sql).
\set x 1
SELECT * FROM visittrack.visitor_stats(md5('community-live')::uuid);
