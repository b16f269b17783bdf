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


-- The history job's command names every function and operator with its
-- schema (pg_cron runs it under the search_path of its database and role);
-- schedule_jobs() registers it anew.
CREATE OR REPLACE FUNCTION cron_job_specs(target_database name)
RETURNS TABLE (job_name text, schedule text, command text, database text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
    SELECT 'visittrack-' || j.task
               || CASE WHEN j.per_database AND target_database <> current_database()
                       THEN '@' || target_database ELSE '' END,
           j.schedule, j.command,
           CASE WHEN j.per_database THEN target_database ELSE current_database() END::text
      FROM (VALUES
        (1, 'aggregate', true, '10 0 * * *', 'SELECT visittrack.aggregate_page_analytics()'),
        (2, 'cleanup', true, '20 0 * * *',
         'SELECT visittrack.ensure_partitions(); SELECT visittrack.cleanup_anonymous_data(exact => false)'),
        (3, 'finalize', true, '* * * * *',
         'SELECT visittrack.end_expired_sessions(); SELECT visittrack.finalize_anonymous_sessions(); '
         'SELECT visittrack.reconcile_hot_state(); SELECT visittrack.purge_hot_state(); '
         'SELECT visittrack.enrich_pending()'),
        -- pg_cron runs this as the job's owner (a superuser) under the
        -- search_path of the pg_cron database and that role: every function
        -- and operator is named with its schema.
        (4, 'cron-history', false, '30 0 * * *',
         'DELETE FROM cron.job_run_details '
         'WHERE end_time OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) interval ''7 days'') '
         'AND jobid OPERATOR(pg_catalog.=) ANY (SELECT jobid FROM cron.job '
         'WHERE jobname OPERATOR(pg_catalog.~~) ''visittrack-%'')')
      ) AS j(n, task, per_database, schedule, command)
     ORDER BY j.n
$$;
