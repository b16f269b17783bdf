-- visittrack 1.0 -> 1.1, assembled at build time from sql/upgrade/1.0--1.1/*.sql.
-- Every change to sql/install/ since release 1.0 is repeated here, so that
-- ALTER EXTENSION visittrack UPDATE gives the objects of a fresh install
-- (scripts/test, suite upgrade, compares the two).
\echo Use "ALTER EXTENSION visittrack UPDATE TO '1.1'" to load this file. \quit
