-- pgbench: session_touch, one page of a signed-in user (one of the 2,000
-- live sessions; the session id comes from bench.session in the same
-- statement).
\set s random(1, 2000)
\set u random_zipfian(1, 200, 1.1)
SELECT visittrack.session_touch(s.session_id,
           '/communities/city-' || (:u::int % 50) || '/page-' || :u::int || '/')
  FROM bench.session s WHERE s.i = :s;
