-- The data model: every table of the design document, with its key columns
-- and the indexes that serve its queries.
SELECT c.relname, c.relkind, c.relpersistence
  FROM pg_class c
 WHERE c.relnamespace = 'visittrack'::regnamespace AND c.relkind IN ('r', 'p')
   AND c.relispartition = false
 ORDER BY 1;

-- columns the API and the use-case queries rely on
SELECT table_name, string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
  FROM information_schema.columns
 WHERE table_schema = 'visittrack'
   AND table_name IN ('user_session', 'user_event', 'anonymous_session',
                      'anonymous_page_view', 'user_page_view', 'page_analytics')
 GROUP BY table_name ORDER BY table_name;

-- indexes (by user and time, by fingerprint, by date and path, ...)
SELECT indexrelid::regclass::text AS index, pg_get_indexdef(indexrelid, 0, false) LIKE '%UNIQUE%' AS is_unique,
       regexp_replace(pg_get_indexdef(indexrelid), '^.* USING ', '') AS definition
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace = 'visittrack'::regnamespace AND NOT c.relispartition
 ORDER BY 1;

-- anonymous tables are partitioned by day, with a default partition
SELECT inhparent::regclass::text AS parent, inhrelid::regclass::text AS partition,
       pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_inherits JOIN pg_class c ON c.oid = inhrelid
 WHERE inhparent IN ('visittrack.anonymous_session'::regclass, 'visittrack.anonymous_page_view'::regclass)
 ORDER BY 1, 2;
SELECT visittrack.ensure_partitions('2026-01-01', '2026-01-02');
SELECT visittrack.ensure_partitions('2026-01-01', '2026-01-02');
SELECT inhrelid::regclass::text AS partition, pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_inherits JOIN pg_class c ON c.oid = inhrelid
 WHERE inhparent = 'visittrack.anonymous_page_view'::regclass
 ORDER BY 1;
-- a row that landed in the default partition moves to its day's partition
INSERT INTO visittrack.anonymous_page_view (session_id, device_fingerprint, url, viewed_at)
VALUES (vt_test.uid(1), repeat('a', 32), '/early/', '2026-01-05 12:00+00');
SELECT tableoid::regclass, url FROM visittrack.anonymous_page_view;
SELECT visittrack.ensure_partitions('2026-01-05', '2026-01-05');
SELECT tableoid::regclass, url FROM visittrack.anonymous_page_view;
DELETE FROM visittrack.anonymous_page_view;
SELECT vt_test.error_of($$SELECT visittrack.ensure_partitions('2000-01-01', '2030-01-01')$$);

-- the API: names and argument lists are a contract
SELECT p.oid::regprocedure::text AS function, pg_get_function_result(p.oid) AS returns,
       p.prosecdef AS security_definer
  FROM pg_proc p
 WHERE p.pronamespace = 'visittrack'::regnamespace
 ORDER BY 1;

-- nothing is granted to PUBLIC
SELECT count(*) AS public_table_grants
  FROM information_schema.role_table_grants
 WHERE table_schema = 'visittrack' AND grantee = 'PUBLIC';
SELECT count(*) AS public_function_grants
  FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
 WHERE p.pronamespace = 'visittrack'::regnamespace AND a.grantee = 0;

-- the settings are a contract too: names, types, units, contexts, ranges,
-- defaults and descriptions (doc/settings.md)
SELECT name, vartype, unit, context, min_val, max_val, enumvals, boot_val,
       short_desc, extra_desc
  FROM pg_settings
 WHERE name LIKE 'visittrack.%'
 ORDER BY name;
