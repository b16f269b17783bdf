-- Anonymous sessions and presence with Redis holding the hot state.
\set mode redis
\ir support/anonymous_cases.sql
