--
-- Settings as values, for SQL code and for people.
--

CREATE FUNCTION windows(OUT session_ttl integer, OUT remember_me_ttl integer,
                        OUT anon_session_ttl integer, OUT community_window integer,
                        OUT anon_persist_every integer, OUT anon_retention integer)
AS 'MODULE_PATHNAME', 'vt_windows'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION windows() IS
'the current windows and thresholds, in seconds (anon_persist_every in pages)';

-- The request-path API: what an application role needs (grant_application_role).
CREATE FUNCTION application_functions()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
    SELECT ARRAY['fingerprint', 'session_start', 'session_touch', 'session_end',
                 'session_get', 'log_event', 'community_visit', 'visitor_stats',
                 'current_visitors', 'track_page_view', 'link_conversion',
                 'parse_user_agent', 'is_bot', 'windows']
$$;
