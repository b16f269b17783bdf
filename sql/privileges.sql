-- The application role: EXECUTE on the API, no table access, no secrets.
CREATE ROLE vt_app LOGIN;
SELECT visittrack.grant_application_role('vt_app');
SET visittrack.redis_password = 'not-for-applications';
SET ROLE vt_app;
SELECT vt_test.error_of('SHOW visittrack.fingerprint_secret');
SELECT vt_test.error_of('SHOW visittrack.redis_password');
SELECT vt_test.error_of($$SELECT current_setting('visittrack.fingerprint_secret')$$);
SELECT vt_test.error_of('SHOW visittrack.fingerprint_secret_file');
SELECT count(*) AS secrets_listed FROM pg_settings
 WHERE name IN ('visittrack.fingerprint_secret', 'visittrack.redis_password',
                'visittrack.fingerprint_secret_file', 'visittrack.redis_password_file');
SELECT vt_test.error_of($$SET visittrack.fingerprint_secret = 'mine'$$);
SELECT vt_test.error_of($$SET visittrack.redis_host = 'evil.example'$$);
SELECT vt_test.error_of('SELECT * FROM visittrack.user_session');
SELECT vt_test.error_of('SELECT * FROM visittrack.secret');
SELECT vt_test.error_of($$INSERT INTO visittrack.user_event (user_id, event_type) VALUES (gen_random_uuid(), 'x')$$);
RESET ROLE;
RESET visittrack.redis_password;
SET ROLE vt_app;
-- the API works through its functions
SELECT length(visittrack.session_start('00000000-0000-0000-0000-0000000000a1', 'app-key')) AS sid_length;
SELECT visittrack.session_touch(visittrack.session_start('00000000-0000-0000-0000-0000000000a1', 'app-key')) AS pages;
SELECT visittrack.log_event('00000000-0000-0000-0000-0000000000a1', 'login') IS NOT NULL AS logged;
SELECT length(visittrack.fingerprint('10.1.2.3', 'UA')) AS fp_length;
-- commit-time Redis writes run as the extension owner, not as vt_app
-- (test/t/200_redis_state.pl looks at the keys): none is left for later
SELECT visittrack.session_start('00000000-0000-0000-0000-0000000000a2', 'app-key-2') AS app_sid \gset
SELECT visittrack.session_touch(:'app_sid') AS pages;
SELECT visittrack.session_end(:'app_sid') AS ended;
RESET ROLE;
SELECT count(*) AS redis_backlog FROM visittrack.hot_redis_backlog;
SET ROLE vt_app;
-- maintenance is not for the application
SELECT vt_test.error_of('SELECT visittrack.end_expired_sessions()');
RESET ROLE;
-- the superuser sees them
SHOW visittrack.fingerprint_secret;
SELECT current_setting('visittrack.fingerprint_secret_file') <> '' AS sees_secret_file;
DROP OWNED BY vt_app;
DROP ROLE vt_app;
