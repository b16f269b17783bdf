-- visittrack install script, assembled at build time from sql/install/*.sql.
\echo Use "CREATE EXTENSION visittrack" to load this file. \quit
