--
-- Anonymous visitors, community presence and conversions.
--

CREATE FUNCTION track_page_view(fingerprint text, url text, referrer text DEFAULT NULL,
                                user_agent text DEFAULT NULL, ip inet DEFAULT NULL,
                                user_id uuid DEFAULT NULL, session_id text DEFAULT NULL,
                                url_name text DEFAULT NULL, page_type text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'vt_track_page_view'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION track_page_view(text, text, text, text, inet, uuid, text, text, text) IS
'one page view; anonymous when user_id and session_id are NULL; returns pages visited in this session';

CREATE FUNCTION finalize_anonymous_sessions()
RETURNS integer
AS 'MODULE_PATHNAME', 'vt_finalize_anonymous_sessions'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION finalize_anonymous_sessions() IS
'closes anonymous sessions idle past anon_session_ttl (the worker runs it every round); returns how many';

CREATE FUNCTION link_conversion(user_id uuid, fingerprint text)
RETURNS uuid
AS 'MODULE_PATHNAME', 'vt_link_conversion'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION link_conversion(uuid, text) IS
'sign-up or login: links the visitor''s latest anonymous session to the user, with one account_created event';

CREATE FUNCTION community_visit(community_id uuid, user_id uuid DEFAULT NULL,
                                device_fingerprint text DEFAULT NULL,
                                visitor_division_id uuid DEFAULT NULL,
                                community_division_id uuid DEFAULT NULL,
                                community_slug text DEFAULT NULL, url text DEFAULT NULL,
                                referrer text DEFAULT NULL, ip inet DEFAULT NULL,
                                user_agent text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'vt_community_visit'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION community_visit(uuid, uuid, text, uuid, uuid, text, text, text, inet, text) IS
'a visit to a community: presence for everyone (community_window), a community_visit event for signed-in users only';

CREATE FUNCTION visitor_stats(community_id uuid)
RETURNS TABLE (total_visitors integer, authenticated_visitors integer, anonymous_visitors integer,
               authenticated_percentage numeric, anonymous_percentage numeric)
AS 'MODULE_PATHNAME', 'vt_visitor_stats'
LANGUAGE C VOLATILE SECURITY DEFINER ROWS 1;
COMMENT ON FUNCTION visitor_stats(uuid) IS
'distinct visitors of a community in the last community_window, with shares to two decimals';

CREATE FUNCTION current_visitors(community_id uuid)
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME', 'vt_current_visitors'
LANGUAGE C VOLATILE SECURITY DEFINER ROWS 50;
COMMENT ON FUNCTION current_visitors(uuid) IS
'who is viewing a community now: one JSON object per visitor, as stored in Redis';
