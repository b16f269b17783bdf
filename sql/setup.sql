-- Regression suite set-up: the extension, the test helpers, and settings
-- that make the output repeatable (a fixed secret, a key prefix of our own).
CREATE EXTENSION visittrack;
\set QUIET on
\i test/support/helpers.sql
\set QUIET off
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET visittrack.fingerprint_secret = %L',
                   current_database(), 'regression-secret');
    EXECUTE format('ALTER DATABASE %I SET visittrack.redis_prefix = %L',
                   current_database(), 'regress:');
END $$;
SET visittrack.redis_prefix = 'regress:';
SELECT vt_test.redis_clear();
SELECT count(*) AS leftover_keys FROM vt_test.keys('*');
