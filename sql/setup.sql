-- Regression suite set-up: the extension, the test helpers, and settings
-- that make the output repeatable (a key prefix of our own; the fixed
-- fingerprint secret comes from the file scripts/test names in
-- visittrack.fingerprint_secret_file).
CREATE EXTENSION visittrack;
\set QUIET on
\i test/support/helpers.sql
\set QUIET off
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET visittrack.redis_prefix = %L',
                   current_database(), 'regress:');
END $$;
SET visittrack.redis_prefix = 'regress:';
SELECT vt_test.redis_clear();
SELECT count(*) AS leftover_keys FROM vt_test.keys('*');
