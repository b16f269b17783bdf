-- Page analytics and the use-case functions against data whose answers are
-- worked out by hand (doc/analytics.md defines every figure).  Earlier
-- suites' rows would get in the way: start from empty tables.
TRUNCATE visittrack.anonymous_session, visittrack.anonymous_page_view,
         visittrack.user_session, visittrack.user_page_view, visittrack.user_event,
         visittrack.page_analytics;

-- Day 2026-02-10 (UTC).  Fingerprints: a (two sessions), b, c, d (a bot).
-- Sessions: s1, s2 of a; s3 (one view) and s6 (two views at the same
-- instant) of b; s4 of c, which started the evening before; s5 of c, flagged
-- a bot by enrichment.  Signed-in: user 1 in session us1, user 2 outside any
-- session, user 3 in us3, flagged a bot.
INSERT INTO visittrack.anonymous_session (session_id, device_fingerprint, session_start, last_activity, is_bot)
VALUES (vt_test.uid(5), repeat('c', 32), '2026-02-10 11:00+00', '2026-02-10 11:01+00', true);
INSERT INTO visittrack.anonymous_page_view
       (session_id, device_fingerprint, url, page_type, viewed_at, time_on_page_seconds, is_bot)
VALUES (vt_test.uid(1), repeat('a', 32), '/home?utm=1',             'home',      '2026-02-10 09:00:00+00', 30,   false),
       (vt_test.uid(1), repeat('a', 32), '/communities/montreal/',  'community', '2026-02-10 09:00:30+00', 60,   false),
       (vt_test.uid(1), repeat('a', 32), '/about#team',             'page',      '2026-02-10 09:01:30+00', NULL, false),
       (vt_test.uid(2), repeat('a', 32), '/communities/montreal/',  'community', '2026-02-10 15:00:00+00', 20,   false),
       (vt_test.uid(2), repeat('a', 32), '/home',                   NULL,        '2026-02-10 15:00:20+00', NULL, false),
       (vt_test.uid(3), repeat('b', 32), '/communities/montreal/?ref=x', 'community', '2026-02-10 10:00:00+00', NULL, false),
       (vt_test.uid(4), repeat('c', 32), '/home',                   'home',      '2026-02-09 23:59:50+00', 20,   false),
       (vt_test.uid(4), repeat('c', 32), '/communities/toronto/',   'community', '2026-02-10 00:00:10+00', 5,    false),
       (vt_test.uid(4), repeat('c', 32), '/about',                  'info',      '2026-02-10 00:00:15+00', NULL, false),
       (vt_test.uid(5), repeat('c', 32), '/home',                   'home',      '2026-02-10 11:00:00+00', 60,   false),
       (vt_test.uid(5), repeat('c', 32), '/home',                   'home',      '2026-02-10 11:01:00+00', NULL, false),
       (vt_test.uid(7), repeat('d', 32), '/home',                   'home',      '2026-02-10 12:00:00+00', NULL, true),
       (vt_test.uid(6), repeat('b', 32), '/x',                      NULL,        '2026-02-10 18:00:00+00', NULL, false),
       (vt_test.uid(6), repeat('b', 32), '/y',                      NULL,        '2026-02-10 18:00:00+00', NULL, false),
       (vt_test.uid(1), repeat('a', 32), '/home',                   'home',      '2026-02-11 00:00:00+00', NULL, false);
INSERT INTO visittrack.user_session (user_id, session_id, started_at, last_activity, expires_at, is_bot)
VALUES (vt_test.uid(103), 'us3', '2026-02-10 14:00+00', '2026-02-10 14:00+00', '2026-02-10 18:00+00', true);
INSERT INTO visittrack.user_page_view (session_id, user_id, url, page_type, viewed_at, time_on_page_seconds)
VALUES ('us1', vt_test.uid(101), '/home',                  'home',      '2026-02-10 12:00:00+00', 40),
       ('us1', vt_test.uid(101), '/communities/montreal/', 'community', '2026-02-10 12:00:40+00', 10),
       ('us1', vt_test.uid(101), '/settings',              'settings',  '2026-02-10 12:00:50+00', NULL),
       (NULL,  vt_test.uid(102), '/home',                  'home',      '2026-02-10 13:00:00+00', NULL),
       ('us3', vt_test.uid(103), '/home',                  'home',      '2026-02-10 14:00:00+00', NULL);

-- By hand, bots left out (d's flagged view, s5's two views, us3's view):
--   /home                   views s1 s2 us1 user2 = 4 (2 anon, 2 signed in);
--                           visitors a, user1, user2 = 3; time 30, 40 -> 35.00;
--                           entries s1 us1 = 2; exits s2 = 1; type home (3 of 4)
--   /communities/montreal/  views s1 s2 s3 us1 = 4 (3, 1); visitors a b user1 = 3;
--                           time 60 20 10 -> 30.00; entries s2 s3; exits s3;
--                           bounce s3
--   /about                  views s1 s4 = 2; visitors a c; no time; exits s1 s4;
--                           type: page and info once each -> info (ties: smallest)
--   /communities/toronto/   s4's first view of the day: entry; time 5
--   /x /y                   s6, same instant: /x (smaller id) enters, /y exits
--   /settings               us1's last view: exit
SELECT visittrack.aggregate_page_analytics('2026-02-10') AS rows_written;
SELECT url_path, page_type, total_views AS total, anonymous_views AS anon,
       authenticated_views AS auth, unique_visitors AS uniq,
       avg_time_on_page_seconds AS avg_time, entries, exits, bounces
  FROM visittrack.page_analytics WHERE date = '2026-02-10' ORDER BY url_path;

-- each of the day's six sessions enters once and exits once; user 2's view
-- outside any session does neither
SELECT sum(entries) AS entries, sum(exits) AS exits, sum(total_views) AS views
  FROM visittrack.page_analytics WHERE date = '2026-02-10';

-- running the day again replaces it with the same rows
CREATE TEMP TABLE first_run AS
    SELECT * FROM visittrack.page_analytics WHERE date = '2026-02-10';
SELECT visittrack.aggregate_page_analytics('2026-02-10') AS rows_written;
SELECT count(*) AS differences FROM (
    (SELECT date, url_path, page_type, total_views, anonymous_views, authenticated_views,
            unique_visitors, avg_time_on_page_seconds, entries, exits, bounces FROM first_run
     EXCEPT
     SELECT date, url_path, page_type, total_views, anonymous_views, authenticated_views,
            unique_visitors, avg_time_on_page_seconds, entries, exits, bounces
       FROM visittrack.page_analytics WHERE date = '2026-02-10')
    UNION ALL
    (SELECT date, url_path, page_type, total_views, anonymous_views, authenticated_views,
            unique_visitors, avg_time_on_page_seconds, entries, exits, bounces
       FROM visittrack.page_analytics WHERE date = '2026-02-10'
     EXCEPT
     SELECT date, url_path, page_type, total_views, anonymous_views, authenticated_views,
            unique_visitors, avg_time_on_page_seconds, entries, exits, bounces FROM first_run)) d;
SELECT count(*) AS rows_now FROM visittrack.page_analytics WHERE date = '2026-02-10';

-- the evening before: s4's first view alone, so entry, exit and bounce
SELECT visittrack.aggregate_page_analytics('2026-02-09') AS rows_written;
SELECT url_path, total_views, unique_visitors, avg_time_on_page_seconds, entries, exits, bounces
  FROM visittrack.page_analytics WHERE date = '2026-02-09';

-- a day without traffic writes nothing, and clears what was there
SELECT visittrack.aggregate_page_analytics('2026-02-12') AS rows_written;
INSERT INTO visittrack.page_analytics (date, url_path) VALUES ('2026-02-13', '/stale');
SELECT visittrack.aggregate_page_analytics('2026-02-13') AS rows_written;
SELECT count(*) AS rows_left FROM visittrack.page_analytics WHERE date IN ('2026-02-12', '2026-02-13');

-- days are UTC days whatever the session's time zone
SET TimeZone = 'Asia/Tokyo';
SELECT visittrack.aggregate_page_analytics('2026-02-10') AS rows_written_in_tokyo;
RESET TimeZone;

SELECT vt_test.error_of($$SELECT visittrack.aggregate_page_analytics(NULL)$$);
SELECT vt_test.error_of($$SELECT visittrack.aggregate_page_analytics('infinity')$$);

-- Parallel plans: each process aggregates the views it reads, and the
-- leader combines the partial states (page_day_combinefn).  Day 2026-02-20:
-- 4,000 anonymous sessions of 1 to 5 views (some with two views at the same
-- instant, 1 in 53 flagged a bot by enrichment, some views flagged) and
-- 1,000 signed-in sessions of 3 views (ids that are not hex, 1 in 41 flagged
-- a bot; some views outside any session), stored view by view across the
-- sessions, so that a session's views lie far apart in the table and every
-- process reads some of them.  The function gives the same rows through a
-- plan with partial aggregates as through a serial one.
INSERT INTO visittrack.anonymous_page_view
       (session_id, device_fingerprint, url, page_type, viewed_at, time_on_page_seconds, is_bot)
SELECT vt_test.uid(100000 + s), md5('fp' || s % 500),
       '/p/' || (s * 7 + k * 13) % 50 || CASE WHEN k = 2 THEN '?utm=x' ELSE '' END,
       CASE WHEN (s + k) % 7 = 0 THEN NULL WHEN (s * 7 + k * 13) % 50 < 10 THEN 'community' ELSE 'page' END,
       '2026-02-20 00:00+00'::timestamptz + (s % 80000) * interval '1 second'
           + least(k, CASE WHEN s % 11 = 0 THEN 3 ELSE 4 END) * interval '20 seconds',
       CASE WHEN k < s % 5 THEN 5 + (s + k) % 60 END, (s + k) % 89 = 0
  FROM generate_series(1, 4000) AS s, generate_series(0, 4) AS k
 WHERE k <= s % 5
 ORDER BY k, s;
INSERT INTO visittrack.anonymous_session (session_id, device_fingerprint, session_start, last_activity, is_bot)
SELECT vt_test.uid(100000 + s), md5('fp' || s % 500),
       '2026-02-20 00:00+00'::timestamptz + (s % 80000) * interval '1 second',
       '2026-02-20 00:00+00'::timestamptz + (s % 80000) * interval '1 second', true
  FROM generate_series(53, 4000, 53) AS s;
INSERT INTO visittrack.user_page_view (session_id, user_id, url, page_type, viewed_at, time_on_page_seconds)
SELECT CASE WHEN s % 13 <> 0 THEN 'w-' || s END, vt_test.uid(5000 + s % 100),
       '/p/' || (s * 3 + k * 17) % 50, 'page',
       '2026-02-20 00:00+00'::timestamptz + (s * 61 % 80000) * interval '1 second' + k * interval '30 seconds',
       CASE WHEN k < 2 THEN 10 + s % 30 END
  FROM generate_series(1, 1000) AS s, generate_series(0, 2) AS k
 ORDER BY k, s;
INSERT INTO visittrack.user_session (user_id, session_id, started_at, last_activity, expires_at, is_bot)
SELECT vt_test.uid(5000 + s % 100), 'w-' || s, '2026-02-20 00:00+00', '2026-02-20 00:00+00',
       '2026-02-21 00:00+00', true
  FROM generate_series(41, 1000, 41) AS s;
ANALYZE visittrack.anonymous_page_view, visittrack.user_page_view;
SET max_parallel_workers_per_gather = 0;
SELECT visittrack.aggregate_page_analytics('2026-02-20') AS rows_written_serially;
CREATE TEMP TABLE serial_run AS
    SELECT url_path, page_type, total_views, anonymous_views, authenticated_views,
           unique_visitors, avg_time_on_page_seconds, entries, exits, bounces
      FROM visittrack.page_analytics WHERE date = '2026-02-20';
RESET max_parallel_workers_per_gather;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET min_parallel_index_scan_size = 0;
-- the aggregate runs partially in each process, under a Gather
CREATE FUNCTION pg_temp.plan_of(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        RETURN NEXT line;
    END LOOP;
END
$$;
SELECT bool_or(line ~ 'Finalize Aggregate') AS finalize, bool_or(line ~ 'Gather') AS gather,
       bool_or(line ~ 'Partial Aggregate') AS partial
  FROM pg_temp.plan_of($$
    SELECT visittrack.collect_page_day(false, a.session_id, NULL, a.device_fingerprint, NULL,
                                       a.url, a.page_type, a.viewed_at, a.id, a.time_on_page_seconds)
      FROM visittrack.anonymous_page_view a
     WHERE a.viewed_at >= '2026-02-20 00:00+00' AND a.viewed_at < '2026-02-21 00:00+00'$$) AS line;
SELECT visittrack.aggregate_page_analytics('2026-02-20') AS rows_written_in_parallel;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET min_parallel_index_scan_size;
SELECT count(*) AS differences FROM (
    (SELECT * FROM serial_run
     EXCEPT
     SELECT url_path, page_type, total_views, anonymous_views, authenticated_views,
            unique_visitors, avg_time_on_page_seconds, entries, exits, bounces
       FROM visittrack.page_analytics WHERE date = '2026-02-20')
    UNION ALL
    (SELECT url_path, page_type, total_views, anonymous_views, authenticated_views,
            unique_visitors, avg_time_on_page_seconds, entries, exits, bounces
       FROM visittrack.page_analytics WHERE date = '2026-02-20'
     EXCEPT
     SELECT * FROM serial_run)) d;
SELECT sum(total_views) AS views, sum(anonymous_views) AS anonymous, sum(unique_visitors) AS unique_visitors,
       sum(entries) AS entries, sum(exits) AS exits, sum(bounces) AS bounces
  FROM visittrack.page_analytics WHERE date = '2026-02-20';

-- Which process reads which views is up to the executor, so the combining
-- is checked on parts chosen here: a table partitioned by "part", read with
-- partitionwise aggregation, gives one partial state per partition.
--   S1 (fingerprint a): /x at 10:00 in part 1, /y at 09:00 in part 2 (its
--      entry), /z at 11:00 in part 3 (its exit)
--   S2 (a): /x and /y at the same instant in parts 1 and 2: /y has the
--      smaller id (entry), /x exits; one view in each part, two in all: no
--      bounce
--   S3, S4 (device-3, not hex, so numbered by each process in its own
--      order): S3 one view of /x (a bounce); S4 /x then /z
--   us-a (user 101): /y in part 1, /x in part 3; us-b (user 102): one view
--      of /z (a bounce); user 101 on /x outside any session
--   page types of /z: alpha (part 2) and zeta (part 3) once each: alpha
-- => /x  home   6 views (4, 2), 3 visitors, time 45 / 3, entries 2, exits 3, bounces 1
--    /y  page   3 views (2, 1), 2 visitors, time 75 / 3, entries 3, exits 0
--    /z  alpha  3 views (2, 1), 3 visitors, no time,     entries 1, exits 3, bounces 1
CREATE TEMP TABLE parts (part integer, authenticated boolean, anon_session uuid, user_session text,
                         fingerprint text, user_id uuid, url text, page_type text,
                         viewed_at timestamptz, id bigint, top integer) PARTITION BY LIST (part);
CREATE TEMP TABLE parts_1 PARTITION OF parts FOR VALUES IN (1);
CREATE TEMP TABLE parts_2 PARTITION OF parts FOR VALUES IN (2);
CREATE TEMP TABLE parts_3 PARTITION OF parts FOR VALUES IN (3);
INSERT INTO parts VALUES
    (1, true,  NULL, 'us-a', NULL, vt_test.uid(101), '/y', 'page', '2026-03-01 15:00+00', 201, 40),
    (1, false, vt_test.uid(31), NULL, repeat('a', 32), NULL, '/x?q=1', 'home', '2026-03-01 10:00+00', 101, 30),
    (1, false, vt_test.uid(32), NULL, repeat('a', 32), NULL, '/x', 'home', '2026-03-01 12:00+00', 105, NULL),
    (2, false, vt_test.uid(34), NULL, 'device-3', NULL, '/x', 'home', '2026-03-01 14:00+00', 107, 10),
    (2, false, vt_test.uid(34), NULL, 'device-3', NULL, '/z', 'alpha', '2026-03-01 14:01+00', 108, NULL),
    (2, false, vt_test.uid(31), NULL, repeat('a', 32), NULL, '/y', 'page', '2026-03-01 09:00+00', 102, 20),
    (2, false, vt_test.uid(32), NULL, repeat('a', 32), NULL, '/y', 'page', '2026-03-01 12:00+00', 104, 15),
    (2, true,  NULL, NULL, NULL, vt_test.uid(101), '/x', 'home', '2026-03-01 17:00+00', 204, 5),
    (3, true,  NULL, 'us-b', NULL, vt_test.uid(102), '/z', NULL, '2026-03-01 16:00+00', 203, NULL),
    (3, false, vt_test.uid(33), NULL, 'device-3', NULL, '/x', 'other', '2026-03-01 13:00+00', 106, NULL),
    (3, true,  NULL, 'us-a', NULL, vt_test.uid(101), '/x', 'home', '2026-03-01 15:05+00', 202, NULL),
    (3, false, vt_test.uid(31), NULL, repeat('a', 32), NULL, '/z#f', 'zeta', '2026-03-01 11:00+00', 103, NULL);
ANALYZE parts;
SET enable_partitionwise_aggregate = on;
SET cpu_tuple_cost = 1;  -- makes the partitionwise plan the cheaper one
EXPLAIN (COSTS OFF)
SELECT visittrack.collect_page_day(authenticated, anon_session, user_session, fingerprint, user_id,
                                   url, page_type, viewed_at, id, top) FROM parts;
CREATE TEMP TABLE combined AS
SELECT s.* FROM (SELECT visittrack.collect_page_day(authenticated, anon_session, user_session, fingerprint,
                                                    user_id, url, page_type, viewed_at, id, top) AS a
                   FROM parts) q, unnest(q.a) s;
RESET enable_partitionwise_aggregate;
RESET cpu_tuple_cost;
SELECT * FROM combined ORDER BY url_path;
-- and in one state, without combining: the same
SELECT count(*) AS differences FROM (
    (SELECT * FROM combined
     EXCEPT
     SELECT s.* FROM (SELECT visittrack.collect_page_day(authenticated, anon_session, user_session,
                                                         fingerprint, user_id, url, page_type,
                                                         viewed_at, id, top) AS a FROM parts) q,
                     unnest(q.a) s)
    UNION ALL
    (SELECT s.* FROM (SELECT visittrack.collect_page_day(authenticated, anon_session, user_session,
                                                         fingerprint, user_id, url, page_type,
                                                         viewed_at, id, top) AS a FROM parts) q,
                     unnest(q.a) s
     EXCEPT
     SELECT * FROM combined)) d;

-- Use case 3, top_pages: page_analytics rows of the last days.  Today - 1
-- and today - 3 count for 7 days; today - 10 only for 30; the fixed
-- February days above are older than both.
INSERT INTO visittrack.page_analytics
       (date, url_path, page_type, total_views, anonymous_views, authenticated_views, unique_visitors)
VALUES (visittrack.utc_yesterday(),      '/a', 'article', 10, 6, 4, 5),
       (visittrack.utc_yesterday() - 2,  '/a', 'landing', 20, 20, 0, 9),
       (visittrack.utc_yesterday(),      '/b', 'article', 25, 5, 20, 7),
       (visittrack.utc_yesterday(),      '/c', NULL,       5, 5, 0, 1),
       (visittrack.utc_yesterday() - 9,  '/b', 'article', 50, 50, 0, 40),
       (visittrack.utc_yesterday() - 2,  '/d', 'article', 25, 0, 25, 3);
-- /a: 30 views over two days, type landing (20 of its 30 views)
SELECT * FROM visittrack.top_pages();
SELECT * FROM visittrack.top_pages(7, 2);
SELECT * FROM visittrack.top_pages(30, 1);
SELECT vt_test.error_of($$SELECT * FROM visittrack.top_pages(NULL)$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.top_pages(0)$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.top_pages(-7)$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.top_pages(100000)$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.top_pages(7, 0)$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.top_pages(7, NULL)$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.top_pages(7, 2000000000)$$);

-- Use case 2, the conversion funnel: persisted anonymous sessions started in
-- the window, bots left out.
--   c1 /landing/a via Google,   7 pages, 300 s, converted
--   c2 /landing/a via news,     3 pages, 100 s, converted
--   c3 /landing/a direct,       2 pages,  50 s
--   c4 /landing/b via google,   1 page,    0 s
--   c5 /landing/b via google,   4 pages, still open (120 s so far)
--   c6 a bot, converted; c7 converted 40 days ago
-- => 5 sessions, 2 conversions (40.00 %), 5.00 pages and 200.00 s before
--    sign-up; /landing/a converts 2 of 3, news.example.org 1 of 1,
--    www.google.com 1 of 3.
INSERT INTO visittrack.anonymous_session
       (session_id, device_fingerprint, session_start, last_activity, session_end, is_active,
        pages_visited, duration_seconds, landing_page, referrer, converted_to_user, converted_at, is_bot)
VALUES (vt_test.uid(11), repeat('1', 32), now() - interval '5 hours', now() - interval '295 minutes', now() - interval '295 minutes', false,
        7, 300, '/landing/a?utm=1', 'https://www.Google.com/search?q=x', vt_test.uid(201), now() - interval '4 hours', false),
       (vt_test.uid(12), repeat('2', 32), now() - interval '6 hours', now() - interval '6 hours', now() - interval '6 hours', false,
        3, 100, '/landing/a', 'https://news.example.org/post', vt_test.uid(202), now() - interval '5 hours', false),
       (vt_test.uid(13), repeat('3', 32), now() - interval '7 hours', now() - interval '7 hours', now() - interval '7 hours', false,
        2, 50, '/landing/a', NULL, NULL, NULL, false),
       (vt_test.uid(14), repeat('4', 32), now() - interval '8 hours', now() - interval '8 hours', now() - interval '8 hours', false,
        1, 0, '/landing/b', 'https://www.google.com/', NULL, NULL, false),
       (vt_test.uid(15), repeat('5', 32), now() - interval '10 minutes', now() - interval '8 minutes', NULL, true,
        4, NULL, '/landing/b', 'https://www.google.com/', NULL, NULL, false),
       (vt_test.uid(16), repeat('6', 32), now() - interval '9 hours', now() - interval '9 hours', now() - interval '9 hours', false,
        9, 900, '/landing/b', 'https://www.google.com/', vt_test.uid(206), now() - interval '9 hours', true),
       (vt_test.uid(17), repeat('7', 32), now() - interval '40 days', now() - interval '40 days', now() - interval '40 days', false,
        9, 900, '/landing/c', 'https://old.example/', vt_test.uid(207), now() - interval '40 days', false);
SELECT * FROM visittrack.conversion_funnel();
SELECT * FROM visittrack.conversion_landing_pages();
SELECT * FROM visittrack.conversion_referrers();
SELECT * FROM visittrack.conversion_referrers(30, 1);
-- the session of 40 days ago counts in a 60-day window
SELECT sessions, conversions, conversion_rate FROM visittrack.conversion_funnel(60);
SELECT vt_test.error_of($$SELECT * FROM visittrack.conversion_funnel(NULL)$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.conversion_funnel(0)$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.conversion_landing_pages(30, -1)$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.conversion_referrers(99999, 5)$$);
-- both are conversion_groups(), an internal function closed to PUBLIC
SELECT (SELECT array_agg(l ORDER BY l) FROM visittrack.conversion_landing_pages() l)::text
     = (SELECT array_agg(g ORDER BY g) FROM visittrack.conversion_groups('landing_page', 30, 10) g)::text
       AS landing_pages_are_groups,
       (SELECT array_agg(r ORDER BY r) FROM visittrack.conversion_referrers(30, 2) r)::text
     = (SELECT array_agg(g ORDER BY g) FROM visittrack.conversion_groups('referrer', 30, 2) g)::text
       AS referrers_are_groups;
SELECT vt_test.error_of($$SELECT * FROM visittrack.conversion_groups('device_type', 30, 5)$$);
SELECT has_function_privilege('public', 'visittrack.conversion_groups(text, integer, integer)', 'EXECUTE')
       AS public_may_group;

-- Use case 4, session durations of the last 7 days, bots left out.
--   signed in: 3600 s / 10 pages and 1800 s / 4 pages ended in the window;
--   one still active, one bot, one ended 8 days ago
--   => 2 sessions, 2700.00 s, 7.00 pages
--   anonymous: c1..c4 finalized (300, 100, 50, 0 s; 7, 3, 2, 1 pages);
--   c5 open, c6 a bot, c7 too old
--   => 4 sessions, 112.50 s, 3.25 pages
INSERT INTO visittrack.user_session
       (user_id, session_id, pages_visited, started_at, last_activity, ended_at, expires_at, is_active, is_bot)
VALUES (vt_test.uid(301), 'e1', 10, now() - interval '2 hours', now() - interval '1 hour', now() - interval '1 hour', now() + interval '2 hours', false, false),
       (vt_test.uid(302), 'e2', 4, now() - interval '3 hours', now() - interval '150 minutes', now() - interval '150 minutes', now() + interval '1 hour', false, false),
       (vt_test.uid(303), 'e3', 8, now() - interval '1 hour', now(), NULL, now() + interval '3 hours', true, false),
       (vt_test.uid(304), 'e4', 99, now() - interval '2 hours', now() - interval '1 hour', now() - interval '1 hour', now() + interval '2 hours', false, true),
       (vt_test.uid(305), 'e5', 2, now() - interval '9 days', now() - interval '8 days', now() - interval '8 days', now() - interval '8 days', false, false);
SELECT * FROM visittrack.session_duration_comparison();
SELECT visitor_kind, sessions FROM visittrack.session_duration_comparison(30);
SELECT vt_test.error_of($$SELECT * FROM visittrack.session_duration_comparison(NULL)$$);
SELECT vt_test.error_of($$SELECT * FROM visittrack.session_duration_comparison(-1)$$);

-- the use-case functions are SECURITY DEFINER with a fixed search_path;
-- those that only read are STABLE
SELECT p.proname, p.provolatile, p.prosecdef, p.proconfig
  FROM pg_proc p
 WHERE p.pronamespace = 'visittrack'::regnamespace
   AND p.proname IN ('aggregate_page_analytics', 'top_pages', 'conversion_funnel',
                     'conversion_landing_pages', 'conversion_referrers',
                     'session_duration_comparison')
 ORDER BY 1;

-- A session that link_conversion persisted (fewer than anon_persist_every
-- pages) has no user agent: enrichment does not take that for a bot, so the
-- conversion stays in the funnel.
SELECT visittrack.fingerprint('198.51.100.95', 'Funnel UA') AS cfp \gset
SELECT visittrack.track_page_view(:'cfp', '/landing/z', 'https://ref.example/',
       'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0') FROM generate_series(1, 2);
SELECT visittrack.link_conversion(vt_test.uid(250), :'cfp') IS NOT NULL AS linked;
SELECT visittrack.enrich_pending() >= 1 AS enriched;
SELECT is_bot, user_agent IS NULL AS no_user_agent, enriched_at IS NOT NULL AS enriched
  FROM visittrack.anonymous_session WHERE device_fingerprint = :'cfp';
SELECT * FROM visittrack.conversion_landing_pages() WHERE landing_page = '/landing/z';
