-- Prints every object of extension visittrack, with its definition, in a
-- stable order: scripts/test (suite upgrade) diffs this output between a
-- database updated from 1.0 and one installed fresh.
\pset format unaligned
\pset tuples_only on
WITH members AS (
    SELECT d.classid, d.objid, d.objsubid
      FROM pg_depend d
     WHERE d.refclassid = 'pg_extension'::regclass
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'visittrack')
       AND d.deptype = 'e'
), rels AS (
    SELECT c.oid FROM pg_class c
     WHERE c.relnamespace = 'visittrack'::regnamespace
)
SELECT line FROM (
    -- the member list itself
    SELECT 'member ' || pg_describe_object(classid, objid, objsubid) AS line FROM members
    UNION ALL
    -- functions and procedures: full definition, privileges, comment
    SELECT 'function ' || p.oid::regprocedure || E'\n' ||
           CASE WHEN p.prokind = 'a'
                THEN (SELECT format('aggregate sfunc=%s stype=%s final=%s combine=%s ser=%s deser=%s init=%s parallel=%s',
                                    a.aggtransfn, format_type(a.aggtranstype, NULL), a.aggfinalfn,
                                    a.aggcombinefn, a.aggserialfn, a.aggdeserialfn, a.agginitval, p.proparallel)
                        FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
                ELSE pg_get_functiondef(p.oid) END ||
           E'\nacl ' || coalesce(p.proacl::text, 'default') ||
           E'\ncomment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
      FROM pg_proc p WHERE p.pronamespace = 'visittrack'::regnamespace
    UNION ALL
    -- tables, views, sequences, indexes: kind, options, privileges, comment
    SELECT format('relation %s kind=%s persistence=%s options=%s acl=%s partkey=%s bound=%s comment=%s',
                  c.oid::regclass, c.relkind, c.relpersistence, c.reloptions,
                  coalesce(c.relacl::text, 'default'),
                  CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
                  pg_get_expr(c.relpartbound, c.oid),
                  coalesce(obj_description(c.oid, 'pg_class'), '-'))
      FROM pg_class c JOIN rels USING (oid)
    UNION ALL
    SELECT format('column %s.%s %s notnull=%s default=%s identity=%s generated=%s comment=%s',
                  a.attrelid::regclass, a.attname, format_type(a.atttypid, a.atttypmod),
                  a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
                  coalesce(col_description(a.attrelid, a.attnum), '-'))
      FROM pg_attribute a JOIN rels r ON r.oid = a.attrelid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
      FROM pg_index i JOIN rels r ON r.oid = i.indrelid
    UNION ALL
    SELECT format('constraint %s %s %s', co.conrelid::regclass, co.conname, pg_get_constraintdef(co.oid))
      FROM pg_constraint co WHERE co.connamespace = 'visittrack'::regnamespace
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid)
      FROM pg_trigger t JOIN rels r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'view ' || c.oid::regclass || ' ' || pg_get_viewdef(c.oid)
      FROM pg_class c JOIN rels USING (oid) WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT format('type %s kind=%s %s', t.oid::regtype, t.typtype,
                  (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                     FROM pg_enum e WHERE e.enumtypid = t.oid))
      FROM pg_type t WHERE t.typnamespace = 'visittrack'::regnamespace AND t.typtype <> 'b'
       AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid AND c.relkind <> 'c')
    UNION ALL
    SELECT 'schema acl ' || coalesce(n.nspacl::text, 'default') FROM pg_namespace n WHERE n.nspname = 'visittrack'
    UNION ALL
    SELECT 'config ' || extconfig::regclass[]::text || ' ' || coalesce(extcondition::text, '')
      FROM pg_extension WHERE extname = 'visittrack'
) all_lines
ORDER BY line COLLATE "C";
