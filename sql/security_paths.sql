-- Names in visittrack's SQL never resolve through a search_path that a
-- caller, a role or a database owner controls.
--
-- (a) Every SQL and PL/pgSQL function of the extension pins its search_path,
-- with pg_temp last (unlisted, pg_temp is searched first for tables, views
-- and types): the list of those that do not must stay empty.
SELECT p.oid::regprocedure AS function_without_pinned_search_path,
       p.proconfig
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'visittrack'::regnamespace
   AND l.lanname IN ('sql', 'plpgsql')
   AND NOT coalesce('search_path=pg_catalog, visittrack, pg_temp' = ANY (p.proconfig), false)
 ORDER BY 1;
-- (b) A role that may create objects plants operators and functions that
-- shadow pg_catalog's, each of which reports when it runs (a NOTICE, and a
-- row in a table of its own).  A superuser (a DBA, a pg_cron job) then calls
-- every maintenance and report function with its default arguments, with
-- that schema first in search_path: nothing planted may run.
CREATE ROLE vt_planter;
CREATE SCHEMA planted AUTHORIZATION vt_planter;
SET ROLE vt_planter;
CREATE TABLE planted.ran (what text, as_role name);
CREATE FUNCTION planted.note(what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'planted % ran as %', what, current_user;
    INSERT INTO planted.ran VALUES (what, current_user);
END $$;
CREATE FUNCTION planted.date_mi(d date, n integer) RETURNS date
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM planted.note('date - integer');
    RETURN d OPERATOR(pg_catalog.-) n;
END $$;
CREATE OPERATOR planted.- (LEFTARG = date, RIGHTARG = integer, FUNCTION = planted.date_mi);
CREATE FUNCTION planted.date_pl(d date, n integer) RETURNS date
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM planted.note('date + integer');
    RETURN d OPERATOR(pg_catalog.+) n;
END $$;
CREATE OPERATOR planted.+ (LEFTARG = date, RIGHTARG = integer, FUNCTION = planted.date_pl);
CREATE FUNCTION planted.tstz_mi(t timestamptz, i interval) RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM planted.note('timestamptz - interval');
    RETURN t OPERATOR(pg_catalog.-) i;
END $$;
CREATE OPERATOR planted.- (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = planted.tstz_mi);
CREATE FUNCTION planted.now() RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM planted.note('now()');
    RETURN pg_catalog.now();
END $$;
CREATE FUNCTION planted.current_database() RETURNS name
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM planted.note('current_database()');
    RETURN pg_catalog.current_database();
END $$;
RESET ROLE;
-- the planted objects work: an unqualified "date - 1" runs one of them
SET search_path = planted, pg_catalog;
SELECT date '2026-01-02' - 1 AS shadowed;
RESET search_path;
DELETE FROM planted.ran;
-- the superuser's calls, every argument left to its default
SET search_path = planted, pg_catalog;
SELECT visittrack.aggregate_page_analytics() >= 0 AS aggregated;
SELECT visittrack.ensure_partitions() >= 0 AS partitions_ensured;
SELECT visittrack.cleanup_anonymous_data() >= 0 AS cleaned_up;
SELECT visittrack.enrich_pending() >= 0 AS enriched;
SELECT count(*) >= 0 AS top_pages FROM visittrack.top_pages();
SELECT count(*) >= 0 AS funnel FROM visittrack.conversion_funnel();
SELECT count(*) >= 0 AS landing_pages FROM visittrack.conversion_landing_pages();
SELECT count(*) >= 0 AS referrers FROM visittrack.conversion_referrers();
SELECT count(*) >= 0 AS durations FROM visittrack.session_duration_comparison();
SELECT visittrack.flush_writes() AS flushed;
-- pg_cron is not installed here: the defaults are evaluated all the same
SELECT vt_test.error_of('SELECT visittrack.schedule_jobs()');
SELECT vt_test.error_of('SELECT visittrack.unschedule_jobs()');
RESET search_path;
SELECT what, as_role FROM planted.ran;
-- (c) A reporting role, granted the report functions (SECURITY DEFINER),
-- puts temporary views named like visittrack's tables in its own session,
-- each running its planted function: the report functions must read
-- visittrack's tables, never run the role's code as their owner.
GRANT USAGE ON SCHEMA visittrack TO vt_planter;
GRANT EXECUTE ON FUNCTION visittrack.top_pages(integer, integer),
                          visittrack.conversion_funnel(integer),
                          visittrack.conversion_landing_pages(integer, integer),
                          visittrack.conversion_referrers(integer, integer),
                          visittrack.session_duration_comparison(integer) TO vt_planter;
SET ROLE vt_planter;
-- 0, noting that it ran: a view's column that must be computed
CREATE FUNCTION planted.seen(what text) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM planted.note(what);
    RETURN 0;
END $$;
CREATE TEMP VIEW page_analytics AS
    SELECT current_date AS date, '/temp'::text AS url_path, NULL::text AS page_type,
           1 + planted.seen('temp view page_analytics') AS total_views,
           1 AS anonymous_views, 0 AS authenticated_views, 1 AS unique_visitors;
CREATE TEMP VIEW anonymous_session AS
    SELECT '/temp'::text AS landing_page, NULL::text AS referrer,
           1 + planted.seen('temp view anonymous_session') AS pages_visited,
           1 AS duration_seconds, now() - interval '1 minute' AS session_start,
           now() AS session_end, now() AS last_activity, NULL::uuid AS converted_to_user,
           false AS is_active, false AS is_bot;
CREATE TEMP VIEW user_session AS
    SELECT now() - interval '1 minute' AS started_at, now() AS ended_at,
           1 + planted.seen('temp view user_session') AS pages_visited,
           false AS is_active, false AS is_bot;
SELECT count(*) >= 0 AS top_pages FROM visittrack.top_pages();
SELECT count(*) >= 0 AS funnel FROM visittrack.conversion_funnel();
SELECT count(*) >= 0 AS landing_pages FROM visittrack.conversion_landing_pages();
SELECT count(*) >= 0 AS referrers FROM visittrack.conversion_referrers();
SELECT count(*) >= 0 AS durations FROM visittrack.session_duration_comparison();
DROP VIEW pg_temp.page_analytics, pg_temp.anonymous_session, pg_temp.user_session;
RESET ROLE;
SELECT what, as_role FROM planted.ran;
SET client_min_messages = warning;
DROP SCHEMA planted CASCADE;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA visittrack FROM vt_planter;
REVOKE USAGE ON SCHEMA visittrack FROM vt_planter;
DROP ROLE vt_planter;
RESET client_min_messages;
