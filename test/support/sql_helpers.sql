-- SQL test helpers, with no access to anything outside the database:
-- installed into schema vt_test by the regression suite's first test
-- (sql/setup.sql) and, through helpers.sql, into each pgTAP database.
CREATE SCHEMA IF NOT EXISTS vt_test;
GRANT USAGE ON SCHEMA vt_test TO PUBLIC;

-- "SQLSTATE: message" of a statement, or 'ok'.
CREATE OR REPLACE FUNCTION vt_test.error_of(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- A uuid made from a small number, for readable tests.
CREATE OR REPLACE FUNCTION vt_test.uid(n integer) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$ SELECT lpad(to_hex(n), 32, '0')::uuid $$;
