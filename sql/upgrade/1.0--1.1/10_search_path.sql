--
-- Every SQL and PL/pgSQL function pins search_path = pg_catalog, visittrack,
-- pg_temp (pg_temp last: unlisted, it is searched first for tables, views
-- and types).  utc_yesterday(), application_functions() and check_range()
-- had none: utc_yesterday() was inlined into its callers' queries, where
-- "date - 1" resolved through the caller's search_path.
--
ALTER FUNCTION enrich_pending(integer) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION application_functions() SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION utc_yesterday() SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION aggregate_page_analytics(date) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION check_range(integer, text, integer, integer) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION conversion_funnel(integer) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION conversion_sessions(integer) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION conversion_landing_pages(integer, integer) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION conversion_referrers(integer, integer) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION session_duration_comparison(integer) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION cron_job_specs(name) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION require_pg_cron() SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION schedule_jobs(name) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION unschedule_jobs(name) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION purge_hot_state() SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION grant_application_role(name) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION cleanup_anonymous_data(interval, boolean) SET search_path = pg_catalog, visittrack, pg_temp;
ALTER FUNCTION ensure_partitions(date, date) SET search_path = pg_catalog, visittrack, pg_temp;

-- top_pages computes its first day once: utc_yesterday() is no longer inlined.
CREATE OR REPLACE FUNCTION top_pages(days integer DEFAULT 7, max_rows integer DEFAULT 10)
RETURNS TABLE (url_path text, page_type text, total_views bigint, anonymous_views bigint,
               authenticated_views bigint, unique_visitors bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
DECLARE
    since date;
BEGIN
    PERFORM check_range(days, 'days', 1, 3660);
    PERFORM check_range(max_rows, 'max_rows', 1, 10000);
    -- once, not per row: utc_yesterday() is not inlined
    since := utc_yesterday() + 1 - days;
    RETURN QUERY
    WITH per_path AS (
        SELECT p.url_path, sum(p.total_views)::bigint AS total_views,
               sum(p.anonymous_views)::bigint AS anonymous_views,
               sum(p.authenticated_views)::bigint AS authenticated_views,
               sum(p.unique_visitors)::bigint AS unique_visitors
          FROM page_analytics p
         WHERE p.date >= since
         GROUP BY p.url_path
    ), per_type AS (
        SELECT DISTINCT ON (p.url_path) p.url_path, p.page_type
          FROM page_analytics p
         WHERE p.date >= since AND p.page_type IS NOT NULL
         GROUP BY p.url_path, p.page_type
         ORDER BY p.url_path, sum(p.total_views) DESC, p.page_type
    )
    SELECT pp.url_path, pt.page_type, pp.total_views, pp.anonymous_views,
           pp.authenticated_views, pp.unique_visitors
      FROM per_path pp LEFT JOIN per_type pt USING (url_path)
     ORDER BY pp.total_views DESC, pp.url_path
     LIMIT max_rows;
END
$$;

