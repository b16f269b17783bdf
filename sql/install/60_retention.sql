--
-- Retention of anonymous data, the list of periodic tasks and the pg_cron
-- jobs.  See doc/operations.md ("Retention", "Scheduling").
--

-- Removes anonymous sessions (by session_start) and page views (by
-- viewed_at) older than now() - retention; returns rows removed.  Daily
-- partitions entirely older than the cutoff are dropped; rows are deleted
-- only in the partition holding the cutoff and in the DEFAULT partition, so
-- the cost does not grow with the rows removed -- except for counting them:
-- with exact (the default) each dropped partition is counted first, a scan
-- about twenty times cheaper than deleting its rows; with exact => false
-- (the daily pg_cron job) the count of a dropped partition is the planner's
-- statistics (pg_class.reltuples, kept by autovacuum), and the cost is flat.  Deletes run
-- first and drops last: the ACCESS EXCLUSIVE locks that DROP takes on the
-- parent tables (held until commit) then last a few milliseconds only.
--
-- Like ensure_partitions, it never makes page views queue behind it: every
-- lock waits at most visittrack.maintenance_lock_timeout (100 ms).  A drop
-- or delete whose lock is not free in time (a report reading the table,
-- say) is skipped, logged at LOG level and done by the next run.
--
-- retention NULL (the default) means visittrack.anon_retention (90 days
-- unless set otherwise).  An explicit retention must be at least one day and
-- at most 100 years; shorter windows (tests) are set through
-- visittrack.anon_retention, which only a superuser can change.
CREATE FUNCTION cleanup_anonymous_data(retention interval DEFAULT NULL,
                                       exact boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
SET lock_timeout = '100ms'
AS $$
DECLARE
    cutoff timestamptz;
    t record;
    p record;
    n bigint;
    removed bigint := 0;
    to_drop text[] := '{}';
    part text;
BEGIN
    IF retention IS NULL THEN
        retention := make_interval(secs => (windows()).anon_retention);
    ELSIF retention < interval '1 day' THEN
        RAISE EXCEPTION 'retention must be at least 1 day, got %', retention
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'To keep anonymous data for less than a day (tests), set visittrack.anon_retention as a superuser and call cleanup_anonymous_data() without an argument.';
    ELSIF retention > interval '36500 days' THEN
        RAISE EXCEPTION 'retention must be at most 100 years, got %', retention
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    cutoff := now() - retention;
    IF current_setting('visittrack.maintenance_lock_timeout', true) <> '' THEN
        PERFORM set_config('lock_timeout',
                           current_setting('visittrack.maintenance_lock_timeout'), true);
    END IF;

    FOR t IN SELECT * FROM (VALUES ('anonymous_session', 'session_start'),
                                   ('anonymous_page_view', 'viewed_at')) AS v(tbl, col)
    LOOP
        FOR p IN
            SELECT c.relname,
                   c.relpartbound IS NOT NULL
                       AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default,
                   (regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                 'FROM \(''([^'']*)''\) TO'))[1]::timestamptz AS lower_bound,
                   (regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                 'TO \(''([^'']*)''\)'))[1]::timestamptz AS upper_bound
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = format('visittrack.%I', t.tbl)::regclass
             ORDER BY 1
        LOOP
            IF p.upper_bound IS NOT NULL AND p.upper_bound <= cutoff THEN
                to_drop := to_drop || p.relname::text;
            ELSIF p.is_default OR p.lower_bound < cutoff THEN
                -- the boundary day, and rows of days without a partition
                BEGIN
                    EXECUTE format('DELETE FROM visittrack.%I WHERE %I < $1', p.relname, t.col)
                        USING cutoff;
                    GET DIAGNOSTICS n = ROW_COUNT;
                    removed := removed + n;
                EXCEPTION WHEN lock_not_available THEN
                    RAISE LOG 'visittrack: old rows of % were not deleted: %', p.relname, SQLERRM
                        USING HINT = 'The next cleanup_anonymous_data() run deletes them.';
                END;
            END IF;
        END LOOP;
    END LOOP;

    FOREACH part IN ARRAY to_drop
    LOOP
        BEGIN
            -- lock before counting, so no row arrives between count and drop
            EXECUTE format('LOCK TABLE visittrack.%I IN ACCESS EXCLUSIVE MODE', part);
            n := NULL;
            IF NOT exact THEN
                SELECT round(c.reltuples) INTO n FROM pg_class c
                 WHERE c.oid = format('visittrack.%I', part)::regclass AND c.reltuples >= 0;
            END IF;
            IF n IS NULL THEN
                EXECUTE format('SELECT count(*) FROM visittrack.%I', part) INTO n;
            END IF;
            EXECUTE format('DROP TABLE visittrack.%I', part);
            removed := removed + n;
        EXCEPTION WHEN lock_not_available THEN
            RAISE LOG 'visittrack: partition % was not dropped: %', part, SQLERRM
                USING HINT = 'The next cleanup_anonymous_data() run drops it.';
        END;
    END LOOP;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION cleanup_anonymous_data(interval, boolean) IS
'removes anonymous sessions and page views older than the retention (NULL: visittrack.anon_retention, 90 days) by dropping whole daily partitions; returns rows removed (exact => false: dropped partitions counted from statistics, flat cost)';

-- Visittrack's periodic work, in the order it runs: the one list that both
-- the background worker (which reads it at every round) and the pg_cron
-- jobs (cron_job_specs) are made from.  worker_every_rounds: the worker runs
-- the command on rounds divisible by it (NULL: pg_cron only); cron_job: the
-- pg_cron job that runs it, after the job's earlier commands.
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

-- The pg_cron jobs visittrack wants for one database (doc/operations.md):
-- one per cron_job of maintenance_tasks(), its commands in running order.
-- The last one runs in the pg_cron database itself (the current one) and
-- keeps a week of run history for visittrack's jobs; it is shared by every
-- database scheduled from here.
CREATE FUNCTION cron_job_specs(target_database name)
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
COMMENT ON FUNCTION cron_job_specs(name) IS
'the pg_cron jobs schedule_jobs() registers for a database: name, schedule (UTC), command';

-- ERROR unless pg_cron is usable from this database.
CREATE FUNCTION require_pg_cron()
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
DECLARE
    cron_db text := current_setting('cron.database_name', true);
BEGIN
    IF to_regprocedure('cron.schedule_in_database(text,text,text,text,text,boolean)') IS NOT NULL THEN
        RETURN;
    END IF;
    IF cron_db IS NOT NULL AND cron_db <> current_database() THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('pg_cron runs its jobs from database "%s" (cron.database_name).', cron_db),
                  HINT = format('In database "%s": CREATE EXTENSION pg_cron; CREATE EXTENSION visittrack; SELECT visittrack.schedule_jobs(%L);',
                                cron_db, current_database());
    END IF;
    RAISE EXCEPTION 'pg_cron is not installed in this database'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Add pg_cron to shared_preload_libraries (and set cron.database_name), restart, then run CREATE EXTENSION pg_cron.';
END
$$;

-- Registers (or updates: cron.schedule_in_database is an upsert by name)
-- the jobs for target_database, from the database where pg_cron is
-- installed.  A job whose every command the background worker runs (the
-- minutely one) is registered only when the worker is not running in
-- target_database, and removed when it is.  Returns the jobs now registered for target_database.
CREATE FUNCTION schedule_jobs(target_database name DEFAULT current_database())
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
COMMENT ON FUNCTION schedule_jobs(name) IS
'registers the pg_cron jobs (daily aggregation, daily cleanup and partitions, minutely finalization when the worker is not running) for a database; call it where pg_cron is installed; idempotent';

-- Removes the jobs of target_database; returns how many were removed.
CREATE FUNCTION unschedule_jobs(target_database name DEFAULT current_database())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
DECLARE
    j record;
    removed integer := 0;
BEGIN
    IF target_database IS NULL THEN
        RAISE EXCEPTION 'target_database must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM require_pg_cron();
    FOR j IN SELECT c.jobname FROM cron.job c JOIN cron_job_specs(target_database) s
                                  ON s.job_name = c.jobname
              WHERE c.username = current_user AND c.jobname <> 'visittrack-cron-history' LOOP
        PERFORM cron.unschedule(j.jobname);
        removed := removed + 1;
    END LOOP;
    -- the shared history job goes with the last database scheduled from here
    IF NOT EXISTS (SELECT 1 FROM cron.job c WHERE c.username = current_user
                      AND c.jobname LIKE 'visittrack-%' AND c.jobname <> 'visittrack-cron-history')
       AND EXISTS (SELECT 1 FROM cron.job c WHERE c.username = current_user
                      AND c.jobname = 'visittrack-cron-history') THEN
        PERFORM cron.unschedule('visittrack-cron-history');
        removed := removed + 1;
    END IF;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION unschedule_jobs(name) IS
'removes the pg_cron jobs schedule_jobs() registered for a database; returns how many; idempotent';
