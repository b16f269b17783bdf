-- Secret settings (doc/settings.md, "Secrets"): refused per database, per
-- role and in a function's SET clause (SQLSTATE 55P02, a hint naming the
-- file setting), so that nothing lands in catalogs every role can read;
-- the secret from the file scripts/test names gives the same fingerprints
-- as the same secret set for a session.  One rolled-back transaction.
\set QUIET on
SET client_min_messages = warning;
BEGIN;
SELECT plan(15);

CREATE FUNCTION pg_temp.hint_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE stmt;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN hint;
END $$;

CREATE ROLE vt_secret_app;

SELECT throws_ok(format('ALTER DATABASE %I SET visittrack.fingerprint_secret = %L', current_database(), 'tap-db-secret'),
                 '55P02', 'visittrack.fingerprint_secret cannot be set per database, per role or for a function',
                 'ALTER DATABASE ... SET visittrack.fingerprint_secret is refused');
SELECT throws_ok($$ALTER DATABASE postgres SET visittrack.redis_password = 'tap-db-secret'$$,
                 '55P02', 'visittrack.redis_password cannot be set per database, per role or for a function',
                 'ALTER DATABASE ... SET visittrack.redis_password is refused');
SELECT throws_ok($$ALTER ROLE vt_secret_app SET visittrack.fingerprint_secret = 'tap-role-secret'$$,
                 '55P02', NULL, 'ALTER ROLE ... SET of a secret is refused');
SELECT throws_ok(format('ALTER ROLE vt_secret_app IN DATABASE %I SET visittrack.redis_password = %L',
                        current_database(), 'tap-role-secret'),
                 '55P02', NULL, 'ALTER ROLE ... IN DATABASE ... SET of a secret is refused');
SELECT throws_ok($$ALTER ROLE ALL SET visittrack.fingerprint_secret = 'tap-role-secret'$$,
                 '55P02', NULL, 'ALTER ROLE ALL SET of a secret is refused');
SELECT throws_ok($$CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql
                   SET visittrack.fingerprint_secret = 'tap-function-secret' AS 'SELECT 1'$$,
                 '55P02', NULL, 'a function''s SET clause with a secret is refused');
SELECT throws_ok($$ALTER DATABASE postgres SET visittrack.fingerprint_secret_file = '/tmp/x'$$,
                 '55P02', NULL, 'the file setting is for postgresql.conf only');
SELECT is(pg_temp.hint_of($$ALTER ROLE vt_secret_app SET visittrack.redis_password = 'x'$$),
          'Put the secret in a file readable only by the server''s user and name that file in visittrack.redis_password_file in postgresql.conf.',
          'the hint names the file setting');

SELECT is((SELECT count(*)::int FROM pg_db_role_setting, unnest(setconfig) c
            WHERE c LIKE 'visittrack.fingerprint_secret%' OR c LIKE 'visittrack.redis_password%'),
          0, 'no secret setting in pg_db_role_setting');
SELECT is((SELECT count(*)::int FROM pg_db_role_setting, unnest(setconfig) c WHERE c LIKE '%tap-%-secret%'),
          0, 'no secret value in pg_db_role_setting');

-- an empty value holds nothing secret and is accepted
SELECT lives_ok($$ALTER ROLE vt_secret_app SET visittrack.fingerprint_secret = ''$$,
                'an empty value is accepted per role');

-- the file's secret ('regression-secret', scripts/test) is the key
SELECT isnt(current_setting('visittrack.fingerprint_secret_file'), '', 'the key comes from a file');
SELECT visittrack.fingerprint('198.51.100.7', 'tap secrets UA') AS file_fp \gset
SET LOCAL visittrack.fingerprint_secret = 'regression-secret';
SELECT is(visittrack.fingerprint('198.51.100.7', 'tap secrets UA'), :'file_fp',
          'the file secret gives the fingerprint of the same secret set for the session');
SET LOCAL visittrack.fingerprint_secret = 'another secret';
SELECT isnt(visittrack.fingerprint('198.51.100.7', 'tap secrets UA'), :'file_fp',
            'a superuser''s session secret takes precedence over the file');
RESET visittrack.fingerprint_secret;
SELECT is(visittrack.fingerprint('198.51.100.7', 'tap secrets UA'), :'file_fp',
          'RESET returns to the file secret');

SELECT * FROM finish();
ROLLBACK;
