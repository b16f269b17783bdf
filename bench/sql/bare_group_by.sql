-- bench/sql/bare_group_by.sql: the reference for aggregate_page_analytics,
-- a bare GROUP BY over the same rows (psql variable day): per path, total,
-- anonymous and signed-in views, unique visitors and average time on page,
-- bots left out.  Only a count comes back, so that the time is the query's.
SELECT count(*) AS paths, sum(total_views) AS views
  FROM (SELECT url, count(*) AS total_views,
               count(*) FILTER (WHERE anonymous) AS anonymous_views,
               count(*) FILTER (WHERE NOT anonymous) AS authenticated_views,
               count(DISTINCT visitor) AS unique_visitors,
               avg(time_on_page_seconds) AS avg_time_on_page
          FROM (SELECT url, device_fingerprint AS visitor, time_on_page_seconds, true AS anonymous
                  FROM visittrack.anonymous_page_view
                 WHERE viewed_at >= (:'day'::date)::timestamp AT TIME ZONE 'UTC'
                   AND viewed_at < (:'day'::date + 1)::timestamp AT TIME ZONE 'UTC'
                   AND NOT is_bot
                UNION ALL
                SELECT url, user_id::text, time_on_page_seconds, false
                  FROM visittrack.user_page_view
                 WHERE viewed_at >= (:'day'::date)::timestamp AT TIME ZONE 'UTC'
                   AND viewed_at < (:'day'::date + 1)::timestamp AT TIME ZONE 'UTC'
                   AND NOT is_bot) AS v
         GROUP BY url) AS per_path;
