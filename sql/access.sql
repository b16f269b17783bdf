-- Right of access: export_user returns everything visittrack holds about a
-- signed-in user, and nothing about anyone else.  Each statement commits,
-- so commit-time Redis writes are done when the next one looks.
SELECT visittrack.fingerprint('192.0.2.44', 'access test UA') AS fp \gset
-- anonymous history: six pages, then signup (link_conversion)
SELECT visittrack.track_page_view(:'fp', '/access/anon/' || g, 'https://search.example/')
  FROM generate_series(1, 6) g;
SELECT visittrack.link_conversion(vt_test.uid(601), :'fp') IS NOT NULL AS linked;
-- signed in: a session with three pages, an event; another user's data beside it
SELECT visittrack.session_start(vt_test.uid(601), 'access-key', '192.0.2.44', 'access test UA') AS sid \gset
SELECT visittrack.track_page_view(:'fp', '/access/me/' || g, NULL, NULL, NULL, vt_test.uid(601), :'sid')
  FROM generate_series(1, 3) g;
SELECT visittrack.log_event(vt_test.uid(601), 'profile.updated', 'changed name', '{"field": "name"}') IS NOT NULL AS logged;
SELECT visittrack.session_start(vt_test.uid(602), 'other-key') AS other_sid \gset
SELECT visittrack.log_event(vt_test.uid(602), 'other.event') IS NOT NULL AS logged;

SELECT visittrack.export_user(vt_test.uid(601)) AS doc \gset
-- every part against the tables
SELECT (:'doc'::jsonb)->>'user_id' = vt_test.uid(601)::text AS right_user,
       jsonb_array_length((:'doc'::jsonb)->'sessions') =
         (SELECT count(*) FROM visittrack.user_session WHERE user_id = vt_test.uid(601)) AS sessions_match,
       jsonb_array_length((:'doc'::jsonb)->'events') =
         (SELECT count(*) FROM visittrack.user_event WHERE user_id = vt_test.uid(601)) AS events_match,
       (SELECT array_agg(v->>'url' ORDER BY v->>'url') FROM jsonb_array_elements((:'doc'::jsonb)->'page_views') v) =
         (SELECT array_agg(url ORDER BY url) FROM visittrack.user_page_view WHERE user_id = vt_test.uid(601)) AS page_views_match,
       jsonb_array_length((:'doc'::jsonb)->'anonymous_history'->'sessions') =
         (SELECT count(*) FROM visittrack.anonymous_session WHERE converted_to_user = vt_test.uid(601)) AS anon_sessions_match,
       (SELECT array_agg(v->>'url' ORDER BY v->>'url') FROM jsonb_array_elements((:'doc'::jsonb)->'anonymous_history'->'page_views') v) =
         (SELECT array_agg(p.url ORDER BY p.url) FROM visittrack.anonymous_page_view p
            JOIN visittrack.anonymous_session s USING (session_id)
           WHERE s.converted_to_user = vt_test.uid(601)) AS anon_views_match;
-- what it says, in detail
SELECT jsonb_array_length((:'doc'::jsonb)->'page_views') AS page_views,
       jsonb_array_length((:'doc'::jsonb)->'anonymous_history'->'page_views') AS anonymous_page_views,
       (:'doc'::jsonb)->'anonymous_history'->'sessions'->0->>'landing_page' AS landing_page,
       (:'doc'::jsonb)->'events'->0->>'event_type' AS first_event,
       (:'doc'::jsonb)->'events'->0->'metadata'->>'pages_visited' AS pages_before_signup,
       (:'doc'::jsonb)->'events'->1->'metadata' AS second_event_metadata,
       (:'doc'::jsonb)->'hot_state'->'sessions'->0->>'session_id' = :'sid' AS hot_session_listed,
       (:'doc'::jsonb)->'hot_state'->'sessions'->0->>'pages_visited' AS hot_pages;
-- nothing of the other user
SELECT position(vt_test.uid(602)::text IN :'doc') = 0 AS nothing_of_others,
       position(:'other_sid' IN :'doc') = 0 AS no_other_session;
-- an unknown user: an empty document, not an error
SELECT visittrack.export_user(vt_test.uid(603)) - 'exported_at' AS unknown_user;
SELECT vt_test.error_of('SELECT visittrack.export_user(NULL)');
-- not for the application role
CREATE ROLE vt_access_app LOGIN;
SELECT visittrack.grant_application_role('vt_access_app');
SET ROLE vt_access_app;
SELECT vt_test.error_of($$SELECT visittrack.export_user('00000000-0000-0000-0000-000000000601')$$);
RESET ROLE;
DROP OWNED BY vt_access_app;
DROP ROLE vt_access_app;
