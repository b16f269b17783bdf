"""Prepare the test database once, as a superuser, so that the tests run
without any superuser right (manage.py test --keepdb)."""
import getpass

import psycopg2
from django.core.management.base import BaseCommand
from django.db import connections
from psycopg2 import sql

from ...conf import config

# Lets the application role empty visittrack's tables in this test database
# only (visittrack_django.testing.reset_visittrack).  SECURITY DEFINER,
# owned by the superuser who runs this command, search_path pinned.
RESET_FUNCTION = """
CREATE SCHEMA IF NOT EXISTS visittrack_test;
CREATE OR REPLACE FUNCTION visittrack_test.reset() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tables text;
BEGIN
    SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ')
      INTO tables
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'visittrack' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.relname <> 'secret';
    EXECUTE 'TRUNCATE ' || tables;
END
$$;
REVOKE ALL ON FUNCTION visittrack_test.reset() FROM PUBLIC;
"""


class Command(BaseCommand):
    help = ("As a superuser, create (or complete) the test database: owned by the application "
            "role, with the visittrack extension, the application and reporting grants, its own "
            "Redis namespace (visittrack.redis_prefix) and a reset function for the tests.  "
            "Then run the tests with --keepdb.")

    def add_arguments(self, parser):
        parser.add_argument("--superuser", default="postgres", help="role to connect as")
        parser.add_argument("--password", action="store_true", help="prompt for its password")
        parser.add_argument("--database", default=None,
                            help="alias whose test database to prepare (default: VISITTRACK['DATABASE'])")
        parser.add_argument("--prefix", default=None,
                            help="Redis key prefix (default: the test database name and ':')")

    def handle(self, *args, **options):
        alias = options["database"] or config().database
        settings = connections[alias].settings_dict
        test_name = settings["TEST"].get("NAME") or "test_" + settings["NAME"]
        owner = settings["USER"]
        prefix = options["prefix"] or test_name + ":"
        params = {"host": settings.get("HOST") or None, "port": settings.get("PORT") or None,
                  "user": options["superuser"]}
        if options["password"]:
            params["password"] = getpass.getpass("password for %s: " % options["superuser"])
        conn = psycopg2.connect(dbname="postgres", **params)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (test_name,))
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(test_name), sql.Identifier(owner)))
                    self.stdout.write("created database %s owned by %s" % (test_name, owner))
                cur.execute(sql.SQL("ALTER DATABASE {} SET visittrack.redis_prefix = {}").format(
                    sql.Identifier(test_name), sql.Literal(prefix)))
        finally:
            conn.close()
        conn = psycopg2.connect(dbname=test_name, **params)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("CREATE EXTENSION IF NOT EXISTS visittrack")
                cur.execute("SELECT visittrack.grant_application_role(%s)", (owner,))
                cur.execute("SELECT visittrack.grant_reporting_role(%s)", (owner,))
                cur.execute(RESET_FUNCTION)
                cur.execute(sql.SQL("GRANT USAGE ON SCHEMA visittrack_test TO {0};"
                                    " GRANT EXECUTE ON FUNCTION visittrack_test.reset() TO {0}")
                            .format(sql.Identifier(owner)))
        finally:
            conn.close()
        self.stdout.write("test database %s ready: extension, grants to %s, "
                          "visittrack.redis_prefix = %r; run the tests with --keepdb"
                          % (test_name, owner, prefix))
