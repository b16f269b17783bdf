--
-- Upkeep: daily partitions, purge of expired local hot state, privileges.
--

-- Creates the daily partitions of anonymous_session and anonymous_page_view
-- for first_day .. last_day (UTC days) that do not exist yet, moving any
-- rows that had landed in the DEFAULT partition for those days.  Returns the
-- number of partitions created.
--
-- By default it works ahead, from tomorrow: attaching a partition for a day
-- that is receiving inserts races with them (an insert routed to the
-- default partition just before the attach fails its partition check just
-- after).  Days before tomorrow, e.g. the day of installation, stay in the
-- default partition unless asked for explicitly, at a quiet time.
--
-- It never makes a page view wait for long: every lock it takes waits at
-- most visittrack.maintenance_lock_timeout (100 ms).  Waiting longer, say
-- behind a report reading anonymous_page_view, would queue every new page
-- view behind its ACCESS EXCLUSIVE request.  When a lock is not free in
-- time it undoes what it did, logs that at LOG level and returns 0; the
-- next run (hourly in the worker, daily in pg_cron) tries again, and as it
-- works a week ahead, missed runs cost nothing.
--
-- The defaults are qualified like the bodies, so that they read the same
-- whatever search_path the extension is installed or updated under.
CREATE FUNCTION ensure_partitions(first_day date DEFAULT (pg_catalog.now() AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.+) 1,
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

-- Deletes local hot state that has outlived its window (Redis expires its
-- keys by itself).  Returns rows removed.
CREATE FUNCTION purge_hot_state()
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
DECLARE
    w record := visittrack.windows();
    removed bigint;
    n bigint;
BEGIN
    DELETE FROM hot_anon_session
     WHERE last_activity <= now() - make_interval(secs => w.anon_session_ttl);
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM hot_community_visitor
     WHERE last_seen <= now() - make_interval(secs => w.community_window);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN removed + n;
END
$$;
COMMENT ON FUNCTION purge_hot_state() IS
'deletes expired rows of the PostgreSQL-local hot store (the worker runs it every round)';

-- Lets an application role call the tracking API, and nothing else.
CREATE FUNCTION grant_application_role(role_name name)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA visittrack TO %I', role_name);
    FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_proc p
         WHERE p.pronamespace = 'visittrack'::regnamespace
           AND p.proname = ANY (visittrack.application_functions())
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, role_name);
    END LOOP;
END
$$;
COMMENT ON FUNCTION grant_application_role(name) IS
'grants a role USAGE on the schema and EXECUTE on the request-path API (no table privileges)';

CREATE FUNCTION reconcile_hot_state()
RETURNS bigint
AS 'MODULE_PATHNAME', 'vt_reconcile_hot_state'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION reconcile_hot_state() IS
'copies hot state kept in PostgreSQL during a Redis outage back to Redis (the worker runs it); returns entries copied';

-- With visittrack.write_behind on, page-view rows, community presence and
-- cached page counts reach the tables and Redis a moment after the call
-- (doc/settings.md).  This waits until everything queued by transactions
-- committed before the call is written: for scripts and tests that read
-- those tables right after writing, and before exports.
CREATE FUNCTION flush_writes(timeout_ms integer DEFAULT 10000)
RETURNS boolean
AS 'MODULE_PATHNAME', 'vt_flush_writes'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION flush_writes(integer) IS
'waits until writes queued for the visittrack writer are written; false on timeout';
