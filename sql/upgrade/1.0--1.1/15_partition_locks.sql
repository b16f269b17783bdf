--
-- Partition maintenance never makes page views queue behind its locks:
-- ensure_partitions() and cleanup_anonymous_data() wait for a lock at most
-- visittrack.maintenance_lock_timeout (100 ms), then give up and leave the
-- work to their next run.
--

CREATE OR REPLACE FUNCTION ensure_partitions(first_day date DEFAULT (pg_catalog.now() AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.+) 1,
                                  last_day date DEFAULT (pg_catalog.now() AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.+) 7)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
SET lock_timeout = '100ms'
AS $$
DECLARE
    t record;
    d date;
    part text;
    lo timestamptz;
    hi timestamptz;
    created integer := 0;
BEGIN
    IF first_day IS NULL OR last_day IS NULL THEN
        RAISE EXCEPTION 'first_day and last_day must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF last_day - first_day > 3660 THEN
        RAISE EXCEPTION 'too many partitions requested: % days', last_day - first_day + 1
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Ask for at most ten years at a time.';
    END IF;
    -- Nothing missing (the usual hourly case): done, without taking a lock.
    IF NOT EXISTS (
        SELECT 1 FROM generate_series(first_day, last_day, interval '1 day') g,
                      unnest(ARRAY['anonymous_session', 'anonymous_page_view']) tbl
         WHERE to_regclass(format('visittrack.%I', tbl || '_p' || to_char(g, 'YYYYMMDD'))) IS NULL)
    THEN
        RETURN 0;
    END IF;
    IF current_setting('visittrack.maintenance_lock_timeout', true) <> '' THEN
        PERFORM set_config('lock_timeout',
                           current_setting('visittrack.maintenance_lock_timeout'), true);
    END IF;
    BEGIN
        -- ATTACH takes an exclusive lock on the default partition.  Take both
        -- now, in the order page views lock them (page views' first, at
        -- executor start; sessions' when a row is routed), so that a page view
        -- holding one never waits for us holding the other.
        LOCK TABLE anonymous_page_view_default, anonymous_session_default IN ACCESS EXCLUSIVE MODE;
        FOR t IN SELECT * FROM (VALUES ('anonymous_session', 'session_start'),
                                       ('anonymous_page_view', 'viewed_at')) AS v(tbl, col)
        LOOP
            FOR d IN SELECT g::date FROM generate_series(first_day, last_day, interval '1 day') g
            LOOP
                part := format('%s_p%s', t.tbl, to_char(d, 'YYYYMMDD'));
                CONTINUE WHEN to_regclass(format('visittrack.%I', part)) IS NOT NULL;
                lo := d::timestamp AT TIME ZONE 'UTC';
                hi := (d + 1)::timestamp AT TIME ZONE 'UTC';
                -- Room on each page for the updates a row gets soon after its
                -- insert (a view's time on page, a live session's count), so
                -- that they stay HOT updates: no new index entries
                -- (doc/performance.md).
                EXECUTE format('CREATE TABLE visittrack.%I (LIKE visittrack.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'
                               ' WITH (fillfactor = 80)', part, t.tbl);
                EXECUTE format('WITH moved AS (DELETE FROM visittrack.%I WHERE %I >= $1 AND %I < $2 RETURNING *)
                                INSERT INTO visittrack.%I SELECT * FROM moved',
                               t.tbl || '_default', t.col, t.col, part)
                    USING lo, hi;
                EXECUTE format('ALTER TABLE visittrack.%I ATTACH PARTITION visittrack.%I FOR VALUES FROM (%L) TO (%L)',
                               t.tbl, part, lo, hi);
                created := created + 1;
            END LOOP;
        END LOOP;
    EXCEPTION WHEN lock_not_available THEN
        RAISE LOG 'visittrack: ensure_partitions(%, %) created no partition: %',
                  first_day, last_day, SQLERRM
            USING DETAIL = format('A lock was not free within lock_timeout (%s).',
                                  current_setting('lock_timeout')),
                  HINT = 'The next run tries again.';
        RETURN 0;
    END;
    RETURN created;
END
$$;
COMMENT ON FUNCTION ensure_partitions(date, date) IS
'creates missing daily partitions of the anonymous tables (the worker and pg_cron call it); returns how many, 0 when a lock was busy (it retries on its next run)';

CREATE OR REPLACE FUNCTION cleanup_anonymous_data(retention interval DEFAULT NULL,
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
