-- Test helpers of the pgTAP suites (test/*.sql, test/worker/*.sql),
-- installed into schema vt_test of their databases by scripts/test: the
-- SQL helpers, and functions that look at Redis by running redis-cli
-- (COPY FROM PROGRAM, superuser only).  The pg_regress suite (sql/) does
-- not use these: it installs sql_helpers.sql alone.
\ir sql_helpers.sql

-- Quote one word for /bin/sh.
CREATE OR REPLACE FUNCTION vt_test.sh_quote(word text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT '''' || replace(word, '''', '''"''"''') || '''' $$;

-- Run redis-cli against the configured Redis and return its output lines.
CREATE OR REPLACE FUNCTION vt_test.redis(VARIADIC args text[]) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    cmd text := format('redis-cli -h %s -p %s -n %s',
                       current_setting('visittrack.redis_host'),
                       current_setting('visittrack.redis_port'),
                       current_setting('visittrack.redis_db'));
    a text;
BEGIN
    FOREACH a IN ARRAY args LOOP
        cmd := cmd || ' ' || vt_test.sh_quote(a);
    END LOOP;
    IF to_regclass('pg_temp.redis_output') IS NULL THEN
        CREATE TEMP TABLE redis_output (n serial, line text);
    END IF;
    TRUNCATE redis_output;
    EXECUTE format('COPY redis_output (line) FROM PROGRAM %L WITH (FORMAT csv, DELIMITER %L, QUOTE %L)',
                   cmd || ' 2>&1', E'\x02', E'\x01');
    RETURN QUERY SELECT line FROM redis_output ORDER BY n;
END $$;

-- The key prefix in force: the configured one, else the database's own.
CREATE OR REPLACE FUNCTION vt_test.prefix() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('visittrack.redis_prefix'), ''),
                    visittrack.status()->'redis'->>'key_prefix')
$$;

-- A key with the prefix in force.
CREATE OR REPLACE FUNCTION vt_test.key(name text) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT vt_test.prefix() || name $$;

-- One Redis reply line (first line of the output).
CREATE OR REPLACE FUNCTION vt_test.redis1(VARIADIC args text[]) RETURNS text
LANGUAGE sql AS $$ SELECT r FROM vt_test.redis(VARIADIC args) r LIMIT 1 $$;

-- Field of a Redis hash.
CREATE OR REPLACE FUNCTION vt_test.hget(key text, field text) RETURNS text
LANGUAGE sql AS $$ SELECT vt_test.redis1('HGET', vt_test.key(key), field) $$;

-- Keys matching a pattern (prefix added, its glob characters escaped), sorted.
CREATE OR REPLACE FUNCTION vt_test.keys(pattern text) RETURNS SETOF text
LANGUAGE sql AS $$
    SELECT k FROM vt_test.redis('KEYS', regexp_replace(vt_test.prefix(), '([][*?\\])', '\\\1', 'g') || pattern) k
     WHERE k <> '' ORDER BY 1
$$;

-- Delete every key with the configured prefix.
CREATE OR REPLACE FUNCTION vt_test.redis_clear() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE k text;
BEGIN
    FOR k IN SELECT vt_test.keys('*') LOOP
        PERFORM vt_test.redis('DEL', k);
    END LOOP;
END $$;

