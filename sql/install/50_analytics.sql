--
-- Page analytics: the daily rollup and the design document's use cases 2-4
-- (conversion funnel, content popularity, session duration comparison).
-- See doc/analytics.md for the exact meaning of every figure.
--

-- Finds the signed-in sessions flagged as bots without reading the table.
CREATE INDEX user_session_bot_idx ON user_session (session_id) WHERE is_bot;

-- One path of one day, as collect_page_day() returns it.
CREATE TYPE page_day_stats AS (
    url_path            text,
    page_type           text,
    total_views         integer,
    anonymous_views     integer,
    authenticated_views integer,
    unique_visitors     integer,
    time_on_page_sum    bigint,
    time_on_page_count  integer,
    entries             integer,
    exits               integer,
    bounces             integer
);

CREATE FUNCTION page_day_transfn(internal, boolean, uuid, text, text, uuid, text, text,
                                 timestamptz, bigint, integer)
RETURNS internal
AS 'MODULE_PATHNAME', 'vt_page_day_transfn'
LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

CREATE FUNCTION page_day_finalfn(internal, boolean, uuid, text, text, uuid, text, text,
                                 timestamptz, bigint, integer)
RETURNS page_day_stats[]
AS 'MODULE_PATHNAME', 'vt_page_day_finalfn'
LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

-- Parallel aggregation: each process's state goes to the leader as bytes,
-- where the states are merged (src/analytics.c, "parallel aggregation").
CREATE FUNCTION page_day_serialfn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'vt_page_day_serialfn'
LANGUAGE C STRICT PARALLEL SAFE;

CREATE FUNCTION page_day_deserialfn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'vt_page_day_deserialfn'
LANGUAGE C STRICT PARALLEL SAFE;

CREATE FUNCTION page_day_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'vt_page_day_combinefn'
LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

-- One pass over a day's page views (bots already left out): one element per
-- URL path.  Arguments: authenticated, the anonymous session, the signed-in
-- session (NULL: none), the visitor (fingerprint, or user id when signed
-- in), url, page_type, viewed_at, view id, time_on_page_seconds.  Parallel
-- safe: partial states over any split of the rows combine into exactly the
-- serial result.
CREATE AGGREGATE collect_page_day(authenticated boolean, anon_session uuid, user_session text,
                                  fingerprint text, user_id uuid, url text, page_type text,
                                  viewed_at timestamptz, view_id bigint, time_on_page integer) (
    SFUNC = page_day_transfn,
    STYPE = internal,
    FINALFUNC = page_day_finalfn,
    FINALFUNC_EXTRA,
    FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = page_day_combinefn,
    SERIALFUNC = page_day_serialfn,
    DESERIALFUNC = page_day_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE collect_page_day(boolean, uuid, text, text, uuid, text, text, timestamptz, bigint, integer) IS
'one-pass rollup of a day''s page views per URL path (used by aggregate_page_analytics)';

-- The UTC day before today.  Not inlined (the SET): inlined, "date - 1"
-- would resolve through the search_path of the caller's query, e.g. in
-- aggregate_page_analytics()'s default argument.
CREATE FUNCTION utc_yesterday()
RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, visittrack, pg_temp
AS $$ SELECT (pg_catalog.now() AT TIME ZONE 'UTC')::date - 1 $$;
COMMENT ON FUNCTION utc_yesterday() IS 'yesterday as a UTC day (the default day of aggregate_page_analytics)';

-- Rebuilds the page_analytics rows of one UTC day from anonymous_page_view
-- and user_page_view, bots left out.  Delete and insert happen in the
-- caller's transaction, so readers see either the old or the new rows;
-- concurrent runs for the same day wait for each other.  Returns rows written.
CREATE FUNCTION aggregate_page_analytics(day date DEFAULT visittrack.utc_yesterday())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
SET jit = off
AS $$
DECLARE
    lo timestamptz;
    hi timestamptz;
    sessions_from timestamptz;
    bot_anon uuid[];
    bot_user text[];
    stats page_day_stats[];
    written integer;
BEGIN
    IF day IS NULL THEN
        RAISE EXCEPTION 'day must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT isfinite(day) THEN
        RAISE EXCEPTION 'day must be a finite date, not %', day
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    lo := day::timestamp AT TIME ZONE 'UTC';
    hi := (day + 1)::timestamp AT TIME ZONE 'UTC';

    PERFORM pg_advisory_xact_lock(hashtext('visittrack.aggregate_page_analytics'),
                                  day - date '2000-01-01');
    DELETE FROM page_analytics WHERE date = day;

    -- Sessions flagged as bots: anonymous ones by enrichment (looked for
    -- among the sessions started from the day before on), signed-in ones.
    -- Read just before the views, in the same transaction.  The bound is a
    -- value, not an expression, so the planner prunes anonymous_session's
    -- partitions (timestamptz - interval is only stable: with it, the plan
    -- would open every partition).
    sessions_from := lo - interval '1 day';
    bot_anon := ARRAY(SELECT b.session_id FROM anonymous_session b
                       WHERE b.is_bot AND b.session_start >= sessions_from
                         AND b.session_start < hi);
    bot_user := ARRAY(SELECT b.session_id FROM user_session b WHERE b.is_bot);

    -- The views go through collect_page_day in a read-only statement of its
    -- own: a statement that writes (INSERT ... SELECT) never runs in
    -- parallel, this one gets parallel workers at a million views, whose
    -- partial states the leader combines.  EXECUTE ... INTO (parameters, no
    -- string building), because on PostgreSQL 15 a static SELECT ... INTO
    -- planned the Gather but launched no workers (doc/analytics.md).  The
    -- parameters are planned as constants, so "<> ALL (flagged sessions)"
    -- is a hash lookup in the scan: the same rows as the anti-join on the
    -- session tables it replaces, without a join per view.
    EXECUTE $q$
        SELECT collect_page_day(v.authenticated, v.anon_session, v.user_session,
                                v.fingerprint, v.user_id, v.url, v.page_type, v.viewed_at, v.id,
                                v.time_on_page_seconds)
          FROM (SELECT false AS authenticated, a.session_id AS anon_session,
                       NULL::text AS user_session, a.device_fingerprint AS fingerprint,
                       NULL::uuid AS user_id,
                       a.url, a.page_type, a.viewed_at, a.id, a.time_on_page_seconds
                  FROM anonymous_page_view a
                 WHERE a.viewed_at >= $1 AND a.viewed_at < $2 AND NOT a.is_bot
                   AND a.session_id <> ALL ($3)
                UNION ALL
                SELECT true, NULL, u.session_id, NULL, u.user_id,
                       u.url, u.page_type, u.viewed_at, u.id, u.time_on_page_seconds
                  FROM user_page_view u
                 WHERE u.viewed_at >= $1 AND u.viewed_at < $2 AND NOT u.is_bot
                   AND (u.session_id IS NULL OR u.session_id <> ALL ($4))) v
    $q$ INTO stats USING lo, hi, bot_anon, bot_user;

    INSERT INTO page_analytics
        (date, url_path, page_type, total_views, anonymous_views, authenticated_views,
         unique_visitors, avg_time_on_page_seconds, entries, exits, bounces, computed_at)
    SELECT day, s.url_path, s.page_type, s.total_views, s.anonymous_views,
           s.authenticated_views, s.unique_visitors,
           round(s.time_on_page_sum::numeric / NULLIF(s.time_on_page_count, 0), 2),
           s.entries, s.exits, s.bounces, now()
      FROM unnest(stats) s;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
COMMENT ON FUNCTION aggregate_page_analytics(date) IS
'rebuilds page_analytics for one UTC day (default yesterday): views, unique visitors, time on page, entries, exits, bounces per path, bots excluded; returns rows written';

-- Argument checks shared by the use-case functions: NULL is 22004, out of
-- range is 22023, and the message names the argument.
CREATE FUNCTION check_range(value integer, name text, lowest integer, highest integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be null', name
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF value < lowest OR value > highest THEN
        RAISE EXCEPTION '% must be between % and %, got %', name, lowest, highest, value
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = CASE WHEN value < lowest THEN format('Pass a value of at least %s.', lowest)
                              ELSE format('%s is capped at %s.', name, highest) END;
    END IF;
    RETURN value;
END
$$;
COMMENT ON FUNCTION check_range(integer, text, integer, integer) IS
'value when lowest <= value <= highest, else an error naming the argument (22004 for NULL, 22023)';

-- Use case 3: which pages are most popular.
CREATE FUNCTION top_pages(days integer DEFAULT 7, max_rows integer DEFAULT 10)
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
COMMENT ON FUNCTION top_pages(integer, integer) IS
'most viewed paths of the last days UTC days (date >= today - days) from page_analytics; unique_visitors is the sum of daily unique visitors';

-- Use case 2: what anonymous visitors do before signing up.  The sessions
-- considered are the persisted anonymous sessions, bots excluded, that
-- started in the last "days" days.
CREATE FUNCTION conversion_funnel(days integer DEFAULT 30)
RETURNS TABLE (sessions bigint, conversions bigint, conversion_rate numeric,
               avg_pages_before_signup numeric, avg_duration_seconds numeric,
               top_landing_page text, top_referrer text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
BEGIN
    PERFORM check_range(days, 'days', 1, 3660);
    RETURN QUERY
    WITH s AS (
        SELECT * FROM conversion_sessions(days)
    )
    SELECT count(*),
           count(*) FILTER (WHERE s.converted),
           round(100.0 * count(*) FILTER (WHERE s.converted) / NULLIF(count(*), 0), 2),
           round(avg(s.pages_visited) FILTER (WHERE s.converted), 2),
           round(avg(s.duration_seconds) FILTER (WHERE s.converted), 2),
           (SELECT l.landing_page FROM conversion_landing_pages(days, 1) l WHERE l.conversions > 0),
           (SELECT r.referrer FROM conversion_referrers(days, 1) r WHERE r.conversions > 0)
      FROM s;
END
$$;

-- The sessions behind the funnel: landing page as a path, referrer as the
-- referring host ('(direct)' without one, the referrer itself when it has
-- no scheme), duration up to the end of the session (or its last activity
-- while it is open).
CREATE FUNCTION conversion_sessions(days integer)
RETURNS TABLE (landing_page text, referrer text, pages_visited integer,
               duration_seconds numeric, converted boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
    SELECT COALESCE(NULLIF(split_part(split_part(a.landing_page, '?', 1), '#', 1), ''), '(unknown)'),
           CASE WHEN a.referrer IS NULL OR a.referrer = '' THEN '(direct)'
                ELSE COALESCE(lower(substring(a.referrer FROM '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#:]+)')),
                              split_part(split_part(a.referrer, '?', 1), '#', 1))
           END,
           a.pages_visited,
           COALESCE(a.duration_seconds,
                    floor(extract(epoch FROM COALESCE(a.session_end, a.last_activity) - a.session_start)))::numeric,
           a.converted_to_user IS NOT NULL
      FROM anonymous_session a
     WHERE a.session_start >= now() - make_interval(days => days)
       AND NOT a.is_bot
$$;
COMMENT ON FUNCTION conversion_sessions(integer) IS
'persisted, non-bot anonymous sessions started in the last days days, as the conversion functions count them';

-- conversion_landing_pages and conversion_referrers: the sessions of the
-- last days days grouped by one of conversion_sessions' columns
-- ('landing_page' or 'referrer'), best converting first.
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

CREATE FUNCTION conversion_landing_pages(days integer DEFAULT 30, max_rows integer DEFAULT 10)
RETURNS TABLE (landing_page text, sessions bigint, conversions bigint, conversion_rate numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
BEGIN
    RETURN QUERY SELECT * FROM conversion_groups('landing_page', days, max_rows);
END
$$;
COMMENT ON FUNCTION conversion_landing_pages(integer, integer) IS
'landing pages (paths) of anonymous sessions started in the last days days: sessions, conversions, conversion rate in percent';

CREATE FUNCTION conversion_referrers(days integer DEFAULT 30, max_rows integer DEFAULT 10)
RETURNS TABLE (referrer text, sessions bigint, conversions bigint, conversion_rate numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
BEGIN
    RETURN QUERY SELECT * FROM conversion_groups('referrer', days, max_rows);
END
$$;
COMMENT ON FUNCTION conversion_referrers(integer, integer) IS
'referring hosts of anonymous sessions started in the last days days: sessions, conversions, conversion rate in percent';

COMMENT ON FUNCTION conversion_funnel(integer) IS
'anonymous sessions of the last days days, how many converted, the share in percent, average pages and duration before sign-up, the best converting landing page and referrer';

-- Use case 4: do signed-in users spend more time on the site?
CREATE FUNCTION session_duration_comparison(days integer DEFAULT 7)
RETURNS TABLE (visitor_kind text, sessions bigint, avg_duration_seconds numeric,
               avg_pages numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
DECLARE
    since timestamptz;
BEGIN
    PERFORM check_range(days, 'days', 1, 3660);
    since := now() - make_interval(days => days);
    RETURN QUERY
    SELECT 'authenticated'::text, count(*),
           round(avg(extract(epoch FROM u.ended_at - u.started_at)), 2),
           round(avg(u.pages_visited), 2)
      FROM user_session u
     WHERE NOT u.is_active AND u.ended_at >= since AND NOT u.is_bot
    UNION ALL
    SELECT 'anonymous'::text, count(*),
           round(avg(a.duration_seconds), 2),
           round(avg(a.pages_visited), 2)
      FROM anonymous_session a
     WHERE NOT a.is_active AND a.session_end >= since AND NOT a.is_bot;
END
$$;
COMMENT ON FUNCTION session_duration_comparison(integer) IS
'ended signed-in sessions and finalized anonymous sessions of the last days days (bots excluded): count, average duration in seconds and pages';
