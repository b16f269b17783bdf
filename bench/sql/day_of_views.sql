-- bench/sql/day_of_views.sql: one UTC day of page views, set-based.
--
-- psql variables: day (a date), anon_views, user_views (row counts),
-- with_sessions (true: also the anonymous_session rows of the day).
--
-- Anonymous views come in sessions of 5 pages, 40 s apart, spread over the
-- day; devices are the 10,000 of the benchmark; URLs follow a Zipf-like law
-- (log-uniform rank over 200 paths, as tpv_anon.sql); the session's first
-- view carries an external referrer or none, later ones an internal one;
-- every view but the last of a session has its time on page; 2 % of the
-- sessions are bots.  Signed-in views are 5-page sessions of the 2,000
-- users.

SELECT visittrack.ensure_partitions(:'day'::date, :'day'::date) AS partitions_created;

INSERT INTO visittrack.anonymous_page_view
    (session_id, device_fingerprint, url, url_name, page_type, referrer, viewed_at,
     time_on_page_seconds, is_bot)
SELECT md5('sess' || :'day' || k)::uuid,
       md5('fp' || (k % 10000 + 1)),
       '/communities/city-' || (u % 50) || '/page-' || u || '/',
       'community-page', 'community',
       CASE WHEN j > 0 THEN '/communities/'
            WHEN k % 4 = 0 THEN 'https://www.google.com/'
            WHEN k % 4 = 1 THEN 'https://t.co/' END,
       (:'day'::date)::timestamp AT TIME ZONE 'UTC'
           + make_interval(secs => k * (86000.0 / (:anon_views / 5)) + j * 40),
       CASE WHEN j < 4 THEN 5 + (k * 7 + j * 13) % 120 END,
       k % 50 = 0
  FROM (SELECT i / 5 AS k, i % 5 AS j, floor(exp(random() * ln(201)))::int AS u
          FROM generate_series(0, :anon_views - 1) AS i) AS g;

INSERT INTO visittrack.anonymous_session
    (session_id, device_fingerprint, session_start, session_end, last_activity, ip_address,
     user_agent, pages_visited, duration_seconds, landing_page, referrer, is_active, is_bot)
SELECT md5('sess' || :'day' || k)::uuid,
       md5('fp' || (k % 10000 + 1)),
       start, start + interval '160 seconds', start + interval '160 seconds',
       ('203.0.113.' || (k % 250))::inet,
       'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/'
           || (100 + k % 20) || '.0.0.0 Safari/537.36',
       5, 160, '/communities/city-' || (k % 50) || '/',
       CASE WHEN k % 4 = 0 THEN 'https://www.google.com/' WHEN k % 4 = 1 THEN 'https://t.co/' END,
       false, k % 50 = 0
  FROM (SELECT k, (:'day'::date)::timestamp AT TIME ZONE 'UTC'
                  + make_interval(secs => k * (86000.0 / (:anon_views / 5))) AS start
          FROM generate_series(0, :anon_views / 5 - 1) AS k) AS s
 WHERE :with_sessions;

INSERT INTO visittrack.user_page_view
    (session_id, user_id, url, url_name, page_type, referrer, viewed_at, time_on_page_seconds)
SELECT 'bench-' || :'day' || '-' || k, md5('user' || (k % 2000 + 1))::uuid,
       '/communities/city-' || (u % 50) || '/page-' || u || '/',
       'community-page', 'community',
       CASE WHEN j > 0 THEN '/communities/' END,
       (:'day'::date)::timestamp AT TIME ZONE 'UTC'
           + make_interval(secs => k * (86000.0 / greatest(1, :user_views / 5)) + j * 40),
       CASE WHEN j < 4 THEN 5 + (k * 7 + j * 13) % 120 END
  FROM (SELECT i / 5 AS k, i % 5 AS j, floor(exp(random() * ln(201)))::int AS u
          FROM generate_series(0, :user_views - 1) AS i) AS g;
