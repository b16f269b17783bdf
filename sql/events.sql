-- log_event: rows for signed-in users, nothing for anonymous ones, clear
-- errors for bad input.
SELECT visittrack.log_event(vt_test.uid(1), 'login', 'Logged in', '{"method": "password"}',
                            '203.0.113.45', 'Mozilla/5.0') > 0 AS logged;
SELECT user_id, event_type, description, metadata, ip_address, user_agent
  FROM visittrack.user_event ORDER BY id;
-- defaults
SELECT visittrack.log_event(vt_test.uid(1), 'profile.updated') IS NOT NULL AS logged;
SELECT event_type, description, metadata FROM visittrack.user_event ORDER BY id DESC LIMIT 1;
-- anonymous: validated, never stored
SELECT visittrack.log_event(NULL, 'search', 'q=events') AS anonymous_id;
SELECT count(*) AS anonymous_rows FROM visittrack.user_event WHERE event_type = 'search';
SELECT vt_test.error_of($$SELECT visittrack.log_event(NULL, 'Not Valid')$$);

-- validation, with SQLSTATEs
SELECT vt_test.error_of($$SELECT visittrack.log_event('00000000-0000-0000-0000-000000000001', NULL)$$);
SELECT vt_test.error_of($$SELECT visittrack.log_event('00000000-0000-0000-0000-000000000001', '')$$);
SELECT vt_test.error_of($$SELECT visittrack.log_event('00000000-0000-0000-0000-000000000001', 'Login')$$);
SELECT vt_test.error_of($$SELECT visittrack.log_event('00000000-0000-0000-0000-000000000001', 'log in')$$);
SELECT vt_test.error_of($$SELECT visittrack.log_event('00000000-0000-0000-0000-000000000001', E'login\r\n')$$);
SELECT vt_test.error_of($$SELECT visittrack.log_event('00000000-0000-0000-0000-000000000001', repeat('a', 65))$$);
SELECT vt_test.error_of($$SELECT visittrack.log_event('00000000-0000-0000-0000-000000000001', '%s%n')$$);
SELECT vt_test.error_of($$SELECT visittrack.log_event('00000000-0000-0000-0000-000000000001', 'login', NULL, '[1, 2]')$$);
SELECT vt_test.error_of($$SELECT visittrack.log_event('00000000-0000-0000-0000-000000000001', 'login', NULL, '"text"')$$);
SELECT vt_test.error_of($$SELECT visittrack.log_event('00000000-0000-0000-0000-000000000001', 'login', NULL, '42')$$);
SELECT vt_test.error_of($$SELECT visittrack.log_event('00000000-0000-0000-0000-000000000001', 'login', NULL,
                          jsonb_build_object('blob', repeat('x', 70000)))$$);
-- NULL metadata means {}
SELECT visittrack.log_event(vt_test.uid(2), 'logout', NULL, NULL) IS NOT NULL AS logged;
SELECT metadata FROM visittrack.user_event WHERE user_id = vt_test.uid(2);
-- long text is cut, control characters in free text become spaces
SELECT visittrack.log_event(vt_test.uid(3), 'note', repeat('d', 5000) || E'\n', '{}', NULL, repeat('u', 1000)) IS NOT NULL AS logged;
SELECT length(description) AS description_length, length(user_agent) AS agent_length
  FROM visittrack.user_event WHERE user_id = vt_test.uid(3);
SELECT visittrack.log_event(vt_test.uid(3), 'note', E'line one\nline two') IS NOT NULL AS logged;
SELECT description FROM visittrack.user_event WHERE user_id = vt_test.uid(3) ORDER BY id DESC LIMIT 1;
