--
-- 1.1: right of access (as sql/install/72_access.sql).
--

CREATE FUNCTION export_user(user_id uuid)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack, pg_temp
AS $$
DECLARE
    uid ALIAS FOR user_id;
    doc jsonb;
BEGIN
    IF uid IS NULL THEN
        RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- rows still waiting for the writers (write-behind) belong in the export
    IF NOT visittrack.flush_writes(30000) THEN
        RAISE EXCEPTION 'export_user cannot run while queued writes wait for the visittrack writer'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Check visittrack.status()->''write_behind'' (is the writer attached?) and retry.';
    END IF;
    -- each statement below takes its own snapshot (VOLATILE, READ COMMITTED):
    -- it sees what the writers wrote during the wait
    WITH converted AS (
        SELECT a.* FROM anonymous_session a WHERE a.converted_to_user = uid
    )
    SELECT jsonb_build_object(
        'user_id', uid,
        'exported_at', now(),
        'sessions', coalesce((SELECT jsonb_agg(to_jsonb(s) - 'id' ORDER BY s.started_at)
                                FROM user_session s WHERE s.user_id = uid), '[]'),
        'events', coalesce((SELECT jsonb_agg(to_jsonb(e) - 'id' ORDER BY e.created_at, e.id)
                              FROM user_event e WHERE e.user_id = uid), '[]'),
        'page_views', coalesce((SELECT jsonb_agg(to_jsonb(v) - 'id' ORDER BY v.viewed_at, v.id)
                                  FROM user_page_view v WHERE v.user_id = uid), '[]'),
        'anonymous_history', jsonb_build_object(
            'sessions', coalesce((SELECT jsonb_agg(to_jsonb(c) ORDER BY c.session_start)
                                    FROM converted c), '[]'),
            'page_views', coalesce((SELECT jsonb_agg(to_jsonb(v) - 'id' ORDER BY v.viewed_at, v.id)
                                      FROM anonymous_page_view v
                                     WHERE v.session_id IN (SELECT c.session_id FROM converted c)), '[]')),
        'hot_state', jsonb_build_object(
            'sessions', coalesce((SELECT jsonb_agg(visittrack.session_get(s.session_id) ORDER BY s.started_at)
                                    FROM user_session s
                                   WHERE s.user_id = uid AND s.is_active), '[]')))
      INTO doc;
    RETURN doc;
END
$$;
COMMENT ON FUNCTION export_user(uuid) IS
'everything visittrack holds about a signed-in user (sessions, events, page views, the anonymous history linked at conversion, the hot session entries), as one JSON document';

REVOKE EXECUTE ON FUNCTION export_user(uuid) FROM PUBLIC;
