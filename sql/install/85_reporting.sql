--
-- The reporting role: dashboards and analysts read aggregates, never rows
-- about a person.
--

-- What a reporting role may call (grant_reporting_role).
CREATE FUNCTION reporting_functions()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
    SELECT ARRAY['top_pages', 'conversion_funnel', 'conversion_landing_pages',
                 'conversion_referrers', 'session_duration_comparison',
                 'visitor_stats', 'status', 'enrichment_status', 'windows']
$$;
COMMENT ON FUNCTION reporting_functions() IS
'the report functions a reporting role may call (grant_reporting_role)';

-- Lets a reporting role read aggregates: the report functions and the daily
-- page_analytics table.  No request-path function, no table with sessions,
-- page views, events, addresses or fingerprints.
CREATE FUNCTION grant_reporting_role(role_name name)
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
           AND p.proname = ANY (visittrack.reporting_functions())
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, role_name);
    END LOOP;
    EXECUTE format('GRANT SELECT ON visittrack.page_analytics TO %I', role_name);
END
$$;
COMMENT ON FUNCTION grant_reporting_role(name) IS
'grants a role USAGE on the schema, EXECUTE on the report functions and SELECT on page_analytics (nothing about a person)';
