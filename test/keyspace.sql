-- The Redis key namespace: prefixes follow a grammar that keeps tenants
-- apart, session ids cannot hold a key separator or a glob character,
-- erasure escapes the prefix in its SCAN pattern, and an empty
-- visittrack.redis_prefix means the database's own prefix.  Autocommit, not
-- one rolled-back transaction: Redis writes happen at commit.
\set QUIET on
SET client_min_messages = warning;
SELECT plan(14);

CREATE FUNCTION pg_temp.try_prefix(p text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('visittrack.redis_prefix', p, false);
    RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END $$;

-- the grammar: one name, then the only ':'
SELECT throws_ok($$SET visittrack.redis_prefix = 'tap:anon_'$$, '22023', NULL,
                 'a prefix with a ":" before its end is refused');
SELECT throws_ok($$SET visittrack.redis_prefix = 'tap'$$, '22023', NULL,
                 'a prefix must end with ":"');
SELECT throws_ok($$SET visittrack.redis_prefix = ':'$$, '22023', NULL,
                 'a prefix needs a name before its ":"');
SELECT lives_ok($$SET visittrack.redis_prefix = 'x[1]*?\:'$$,
                'glob characters are allowed in a prefix');
RESET visittrack.redis_prefix;

-- Tenant B's prefix ends where tenant A's kind "anon_session" begins:
-- A's anonymous view with B's session id as fingerprint would build B's
-- session key.  Refused now; before, it raised B's signed-in page count.
SELECT pg_temp.try_prefix('tap:anon_') AS b_prefix_accepted \gset
SELECT visittrack.session_start(vt_test.uid(8101), 'tap-keyspace-tenant-b') AS bsid \gset
SELECT visittrack.session_touch(:'bsid');
SELECT set_config('visittrack.redis_prefix', 'tap:', false);
SELECT visittrack.track_page_view(:'bsid', '/tenant-a/');
SELECT pg_temp.try_prefix('tap:anon_');
SELECT is(vt_test.hget('session:' || :'bsid', 'pages_visited'), '1',
          'an anonymous view of one tenant never counts in another tenant''s session');
RESET visittrack.redis_prefix;

-- ids: no key separator, no glob character
SELECT throws_ok($$SELECT visittrack.session_touch('abc:visitors')$$, '22023', NULL,
                 'a session id with ":" is refused');
SELECT throws_ok($$SELECT visittrack.session_get('*')$$, '22023', NULL,
                 'a session id with a glob character is refused');
SELECT throws_ok($$SELECT visittrack.session_end('a{b}')$$, '22023', NULL,
                 'a session id with a hash tag is refused');

-- erasure with glob characters in the prefix
SET visittrack.redis_prefix = 'x[1]:';
SELECT visittrack.fingerprint('192.0.2.81', 'tap keyspace glob UA') AS gfp \gset
SELECT visittrack.community_visit(vt_test.uid(8900), device_fingerprint => :'gfp');
SELECT is((SELECT total_visitors FROM visittrack.visitor_stats(vt_test.uid(8900))), 1,
          'prefix x[1]: the visitor is present');
SELECT is((visittrack.forget_fingerprint(:'gfp'))->>'community_presence', '1',
          'prefix x[1]: erasure finds the presence');
SELECT is((SELECT total_visitors FROM visittrack.visitor_stats(vt_test.uid(8900))), 0,
          'prefix x[1]: erasure removes the visitor');
SELECT is((SELECT count(*)::int FROM vt_test.keys('community:*')), 0, 'prefix x[1]: no community key left');
RESET visittrack.redis_prefix;

-- the database's own prefix when none is set
SET visittrack.redis_prefix = '';
SELECT is(visittrack.status()->'redis'->>'key_prefix',
          'vt.' || lpad(to_hex((SELECT system_identifier FROM pg_control_system())), 16, '0')
          || '.' || (SELECT oid FROM pg_database WHERE datname = current_database()) || ':',
          'an empty prefix is the database''s own: vt.<system identifier>.<database oid>:');
SELECT visittrack.session_start(vt_test.uid(8102), 'tap-keyspace-default') AS dsid \gset
SELECT is(vt_test.redis1('EXISTS', visittrack.status()->'redis'->>'key_prefix' || 'session:' || :'dsid'), '1',
          'keys are written under the database''s own prefix');
RESET visittrack.redis_prefix;

SELECT * FROM finish();
