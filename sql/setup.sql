-- Regression suite set-up: the extension, the test helpers, and settings
-- that make the output repeatable (a key prefix of our own, whose keys
-- scripts/test clears before the suite; the fixed fingerprint secret comes
-- from the file scripts/test names in visittrack.fingerprint_secret_file).
-- No test here looks into Redis: what visittrack keeps there is checked by
-- test/t/200_redis_state.pl.
CREATE EXTENSION visittrack;
\set QUIET on
\i test/support/sql_helpers.sql
\set QUIET off
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET visittrack.redis_prefix = %L',
                   current_database(), 'regress:');
END $$;
SET visittrack.redis_prefix = 'regress:';
