--
-- Enrichment: user agents (ua-parser rules, crawler patterns, heuristics),
-- IP geolocation (MaxMind-format database), and the batch that fills the
-- device, location and bot columns of sessions.  See doc/enrichment.md.
--
-- Rule files and the GeoIP database are read at run time from the paths in
-- visittrack.uap_regexes_path, visittrack.bot_patterns_path and
-- visittrack.geoip_database, hence STABLE rather than IMMUTABLE.
--

CREATE FUNCTION parse_user_agent(user_agent text)
RETURNS TABLE (device_type text, browser text, browser_version text, os text, is_bot boolean)
AS 'MODULE_PATHNAME', 'vt_parse_user_agent'
LANGUAGE C STABLE PARALLEL SAFE SECURITY DEFINER ROWS 1;
COMMENT ON FUNCTION parse_user_agent(text) IS
'device type (desktop, mobile, tablet, bot, other), browser and version, OS and bot flag of a user agent; NULL or empty counts as a bot';

CREATE FUNCTION is_bot(user_agent text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'vt_is_bot'
LANGUAGE C STABLE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION is_bot(text) IS
'true for crawlers (ua-parser Spider, crawler pattern list), headless browsers, HTTP client libraries and missing user agents';

CREATE FUNCTION ua_details(user_agent text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'vt_ua_details'
LANGUAGE C STABLE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION ua_details(text) IS
'everything parse_user_agent found, with OS version, ua-parser device family, brand and model, and why a bot is a bot';

CREATE FUNCTION device_type_of(user_agent text, device_family text, device_brand text,
                               device_model text, os_family text)
RETURNS text
AS 'MODULE_PATHNAME', 'vt_device_type_of'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION device_type_of(text, text, text, text, text) IS
'the device type visittrack gives a ua-parser result (device family "Spider" is bot); for checking parsers against uap-core''s tests';

CREATE FUNCTION geolocate(ip inet)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'vt_geolocate_sql'
LANGUAGE C STABLE STRICT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION geolocate(inet) IS
'country, country_code, region, city, latitude, longitude of an address from visittrack.geoip_database; NULL when unset or not found';

CREATE FUNCTION enrichment_status()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'vt_enrichment_status'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION enrichment_status() IS
'rule files in use, rule counts, this backend''s user-agent cache figures and the GeoIP database';

-- Finds anonymous sessions still to enrich without reading every partition.
CREATE INDEX anonymous_session_unenriched_idx
    ON anonymous_session (session_start) WHERE enriched_at IS NULL;

-- Fills device, location and bot columns of sessions not enriched yet, at
-- most max_rows of each table per call, oldest first.  Rows locked by
-- someone else are left for the next call.  Returns rows enriched.  The
-- worker runs it every round.
CREATE FUNCTION enrich_pending(max_rows integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
DECLARE
    signed_in integer;
    anonymous integer;
BEGIN
    IF max_rows IS NULL OR max_rows < 0 THEN
        RAISE EXCEPTION 'max_rows must be a non-negative integer'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    WITH todo AS (
        SELECT s.id, p.*, geolocate(s.ip_address) AS location
          FROM user_session s
               CROSS JOIN LATERAL parse_user_agent(s.user_agent) p
         WHERE s.enriched_at IS NULL
         ORDER BY s.id
         LIMIT max_rows
           FOR UPDATE OF s SKIP LOCKED)
    UPDATE user_session u
       SET device_info = jsonb_build_object('device_type', t.device_type,
                                            'browser', t.browser,
                                            'browser_version', t.browser_version,
                                            'os', t.os),
           location_data = coalesce(t.location, '{}'),
           is_bot = u.is_bot OR t.is_bot,
           enriched_at = now()
      FROM todo t
     WHERE u.id = t.id;
    GET DIAGNOSTICS signed_in = ROW_COUNT;

    WITH todo AS (
        SELECT s.session_id, s.session_start, p.*, geolocate(s.ip_address) AS location
          FROM anonymous_session s
               CROSS JOIN LATERAL parse_user_agent(s.user_agent) p
         WHERE s.enriched_at IS NULL
         ORDER BY s.session_start
         LIMIT max_rows
           FOR UPDATE OF s SKIP LOCKED)
    -- A NULL user agent here means "not known to visittrack" (a session that
    -- link_conversion persisted from its page views, or page views sent
    -- without one), not a client that sent none: it does not make a bot, as
    -- it does not on the request path (track_page_view).
    UPDATE anonymous_session a
       SET device_type = t.device_type,
           browser = t.browser,
           os = t.os,
           location_data = coalesce(t.location, '{}'),
           is_bot = a.is_bot OR (t.is_bot AND a.user_agent IS NOT NULL),
           enriched_at = now()
      FROM todo t
     WHERE a.session_id = t.session_id AND a.session_start = t.session_start;
    GET DIAGNOSTICS anonymous = ROW_COUNT;

    RETURN signed_in + anonymous;
END
$$;
COMMENT ON FUNCTION enrich_pending(integer) IS
'fills device_info/location_data/is_bot of user_session and device_type/browser/os/location_data/is_bot of anonymous_session rows not enriched yet; returns rows enriched';
