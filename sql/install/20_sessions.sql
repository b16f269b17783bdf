--
-- Fingerprints, signed-in sessions and events.
--
-- API functions are SECURITY DEFINER: the application role needs EXECUTE on
-- them (see grant_application_role) and no privilege on any table.  The C
-- functions run their SQL under search_path pg_catalog, visittrack.
--

CREATE FUNCTION fingerprint(ip inet, user_agent text,
                            accept_language text DEFAULT NULL, extra text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'vt_fingerprint_sql'
LANGUAGE C STABLE PARALLEL RESTRICTED SECURITY DEFINER;
COMMENT ON FUNCTION fingerprint(inet, text, text, text) IS
'device fingerprint: 32 hex digits of a keyed hash of ip (/64 for IPv6) and headers';

CREATE FUNCTION session_start(user_id uuid, session_key text, ip inet DEFAULT NULL,
                              user_agent text DEFAULT NULL, remember_me boolean DEFAULT false,
                              username text DEFAULT NULL, device_fingerprint text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'vt_session_start'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION session_start(uuid, text, inet, text, boolean, text, text) IS
'login: get or create the user_session row and the session:{session_id} entry; returns session_id';

CREATE FUNCTION session_touch(session_id text, url text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'vt_session_touch'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION session_touch(text, text) IS
'one page of a signed-in user: returns the new page count, NULL for an unknown, ended or expired session';

CREATE FUNCTION session_end(session_id text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'vt_session_end'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION session_end(text) IS
'logout: ends the session and deletes its Redis entry; true for a known session, idempotent';

CREATE FUNCTION session_get(session_id text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'vt_session_get'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION session_get(text) IS
'the session as stored in Redis; read through to user_session (refilling Redis) on a miss';

CREATE FUNCTION log_event(user_id uuid, event_type text, description text DEFAULT NULL,
                          metadata jsonb DEFAULT '{}', ip inet DEFAULT NULL,
                          user_agent text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'vt_log_event'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION log_event(uuid, text, text, jsonb, inet, text) IS
'records a user_event for a signed-in user; returns its id (NULL, nothing stored, for anonymous)';

CREATE FUNCTION end_expired_sessions()
RETURNS bigint
AS 'MODULE_PATHNAME', 'vt_end_expired_sessions'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION end_expired_sessions() IS
'ends signed-in sessions past expires_at (the worker runs it every round); returns how many';

CREATE FUNCTION status()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'vt_status'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION status() IS
'Redis health, fallback and reconciliation figures, queues, worker and counters';
