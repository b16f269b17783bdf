--
-- conversion_landing_pages and conversion_referrers differed in one column;
-- both now return conversion_groups(), grouped by their own column.
--
CREATE FUNCTION conversion_groups(grouped_by text, days integer, max_rows integer)
RETURNS TABLE (grouping_value text, sessions bigint, conversions bigint, conversion_rate numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
BEGIN
    IF grouped_by IS NULL OR grouped_by NOT IN ('landing_page', 'referrer') THEN
        RAISE EXCEPTION 'conversion_groups: grouped_by must be landing_page or referrer, got %', grouped_by
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM check_range(days, 'days', 1, 3660);
    PERFORM check_range(max_rows, 'max_rows', 1, 10000);
    RETURN QUERY
    SELECT g.value, count(*), count(*) FILTER (WHERE g.converted),
           round(100.0 * count(*) FILTER (WHERE g.converted) / count(*), 2)
      FROM (SELECT CASE grouped_by WHEN 'landing_page' THEN s.landing_page ELSE s.referrer END AS value,
                   s.converted
              FROM conversion_sessions(days) s) g
     GROUP BY g.value
     ORDER BY 3 DESC, 4 DESC, 2 DESC, 1
     LIMIT max_rows;
END
$$;
COMMENT ON FUNCTION conversion_groups(text, integer, integer) IS
'anonymous sessions of the last days days grouped by landing_page or referrer: sessions, conversions, conversion rate in percent (behind conversion_landing_pages and conversion_referrers)';
REVOKE EXECUTE ON FUNCTION conversion_groups(text, integer, integer) FROM PUBLIC;

CREATE OR REPLACE FUNCTION conversion_landing_pages(days integer DEFAULT 30, max_rows integer DEFAULT 10)
RETURNS TABLE (landing_page text, sessions bigint, conversions bigint, conversion_rate numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
BEGIN
    RETURN QUERY SELECT * FROM conversion_groups('landing_page', days, max_rows);
END
$$;

CREATE OR REPLACE FUNCTION conversion_referrers(days integer DEFAULT 30, max_rows integer DEFAULT 10)
RETURNS TABLE (referrer text, sessions bigint, conversions bigint, conversion_rate numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
BEGIN
    RETURN QUERY SELECT * FROM conversion_groups('referrer', days, max_rows);
END
$$;

--
-- The periodic tasks are listed once, in maintenance_tasks(): the background
-- worker reads it at every round, cron_job_specs() makes the pg_cron jobs
-- from it, and schedule_jobs() leaves out, where the worker runs, the jobs
-- whose every command the worker runs (doc/operations.md, "Scheduling").
--
CREATE FUNCTION maintenance_tasks()
RETURNS TABLE (run_order integer, command text, worker_every_rounds integer, cron_job text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
    VALUES
        (1, 'SELECT visittrack.end_expired_sessions()', 1, 'finalize'),
        (2, 'SELECT visittrack.finalize_anonymous_sessions()', 1, 'finalize'),
        (3, 'SELECT visittrack.reconcile_hot_state()', 1, 'finalize'),
        (4, 'SELECT visittrack.purge_hot_state()', 1, 'finalize'),
        (5, 'SELECT visittrack.enrich_pending()', 1, 'finalize'),
        (6, 'SELECT visittrack.ensure_partitions()', 60, 'cleanup'),
        (7, 'SELECT visittrack.cleanup_anonymous_data(exact => false)', NULL, 'cleanup'),
        (8, 'SELECT visittrack.aggregate_page_analytics()', NULL, 'aggregate')
$$;
COMMENT ON FUNCTION maintenance_tasks() IS
'visittrack''s periodic work in running order: the statement, how often the background worker runs it (every N rounds; NULL: never) and the pg_cron job that runs it';
REVOKE EXECUTE ON FUNCTION maintenance_tasks() FROM PUBLIC;

CREATE OR REPLACE FUNCTION cron_job_specs(target_database name)
RETURNS TABLE (job_name text, schedule text, command text, database text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
    SELECT 'visittrack-' || j.task
               || CASE WHEN j.per_database AND target_database <> current_database()
                       THEN '@' || target_database ELSE '' END,
           j.schedule,
           COALESCE(j.command,
                    (SELECT string_agg(t.command, '; ' ORDER BY t.run_order)
                       FROM maintenance_tasks() t WHERE t.cron_job = j.task)),
           CASE WHEN j.per_database THEN target_database ELSE current_database() END::text
      FROM (VALUES
        (1, 'aggregate', true, '10 0 * * *', NULL),
        (2, 'cleanup', true, '20 0 * * *', NULL),
        (3, 'finalize', true, '* * * * *', NULL),
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

CREATE OR REPLACE FUNCTION schedule_jobs(target_database name DEFAULT current_database())
RETURNS TABLE (job_name text, schedule text, command text, database text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
DECLARE
    j record;
    worker jsonb := status()->'worker';
    worker_here boolean;
    worker_jobs text[];
BEGIN
    IF target_database IS NULL THEN
        RAISE EXCEPTION 'target_database must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM require_pg_cron();
    IF NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = target_database) THEN
        RAISE EXCEPTION 'database "%" does not exist', target_database
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    worker_here := worker->>'pid' IS NOT NULL AND worker->>'database' = target_database;
    -- the jobs whose every command the worker runs itself
    worker_jobs := ARRAY(SELECT 'visittrack-' || t.cron_job FROM maintenance_tasks() t
                          GROUP BY t.cron_job HAVING bool_and(t.worker_every_rounds IS NOT NULL));

    FOR j IN SELECT * FROM cron_job_specs(target_database) LOOP
        IF split_part(j.job_name, '@', 1) = ANY (worker_jobs) AND worker_here THEN
            IF EXISTS (SELECT 1 FROM cron.job c WHERE c.jobname = j.job_name
                                                  AND c.username = current_user) THEN
                PERFORM cron.unschedule(j.job_name);
            END IF;
            CONTINUE;
        END IF;
        PERFORM cron.schedule_in_database(j.job_name, j.schedule, j.command, j.database);
    END LOOP;

    RETURN QUERY
    SELECT c.jobname::text, c.schedule, c.command, c.database
      FROM cron.job c JOIN cron_job_specs(target_database) s ON s.job_name = c.jobname
     WHERE c.username = current_user
     ORDER BY c.jobname;
END
$$;
