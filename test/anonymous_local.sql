-- The same behaviour with no Redis configured: PostgreSQL holds the hot state.
SET visittrack.redis_host = '';
\set mode local
\ir support/anonymous_cases.sql
