# A server that does not preload visittrack: CREATE EXTENSION and LOAD work,
# the session survives, and the SQL API works (doc/operations.md,
# "Without preloading").  The settings that exist only when preloaded
# (shared memory sizes, the worker's and the writers') are absent, and
# appear once the library is preloaded.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('no_preload');
$node->init;
$node->append_conf('postgresql.conf', "visittrack.redis_host = ''\n");
$node->start;

my ($rc, $out, $err) = $node->psql('postgres',
	"CREATE EXTENSION visittrack; SELECT 'alive'");
is($rc, 0, 'CREATE EXTENSION visittrack without shared_preload_libraries succeeds');
is($out, 'alive', 'the session goes on after CREATE EXTENSION');
unlike($err, qr/FATAL/, 'no FATAL: ' . ($err // ''));

($rc, $out, $err) = $node->psql('postgres', "LOAD 'visittrack'; SELECT 'alive'");
is($out, 'alive', 'LOAD visittrack keeps the session');
unlike($err, qr/FATAL|WARNING/, 'LOAD says nothing: ' . ($err // ''));

# SQLSTATE of a statement, or 'ok'
my $sqlstate_of = q{
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
};

# The request API, anonymous and signed in, in one session.
my $user = '00000000-0000-0000-0000-000000000001';
my $community = '00000000-0000-0000-0000-0000000000c1';
$out = $node->safe_psql('postgres', qq{
SET visittrack.write_behind = on;  -- no writer without preloading: written at once
SELECT visittrack.session_start('$user', 'k', '127.0.0.1', 'Mozilla/5.0') AS sid \\gset
SELECT visittrack.fingerprint('10.0.0.7', 'Mozilla/5.0') AS fp \\gset
SELECT 'anon ' || visittrack.track_page_view(:'fp', 'https://example.com/a');
SELECT 'anon ' || visittrack.track_page_view(:'fp', 'https://example.com/b');
SELECT 'signed ' || visittrack.track_page_view(:'fp', 'https://example.com/c',
                                                user_id => '$user', session_id => :'sid');
SELECT 'touch ' || visittrack.session_touch(:'sid');
SELECT visittrack.community_visit('$community', user_id => '$user');
SELECT visittrack.community_visit('$community', device_fingerprint => :'fp');
SELECT 'stats ' || total_visitors || ' ' || authenticated_visitors || ' ' || anonymous_visitors
  FROM visittrack.visitor_stats('$community');
SELECT 'event ' || (visittrack.log_event('$user', 'login') > 0);
SELECT 'rows ' || (SELECT count(*) FROM visittrack.anonymous_page_view) || ' '
               || (SELECT count(*) FROM visittrack.user_page_view) || ' '
               || (SELECT count(*) FROM visittrack.user_event);
SELECT 'ended ' || visittrack.session_end(:'sid');
});
like($out, qr/^anon 1\nanon 2\n/m, 'track_page_view counts an anonymous visitor');
like($out, qr/^signed \d+$/m, 'track_page_view of a signed-in visitor');
like($out, qr/^touch \d+$/m, 'session_touch');
like($out, qr/^stats 2 1 1$/m, 'community_visit and visitor_stats: one signed-in, one anonymous');
like($out, qr/^event true$/m, 'log_event');
# user_event: the login and the signed-in community visit
like($out, qr/^rows 2 1 2$/m, 'with write_behind on but no writer, rows are written at once');
like($out, qr/^ended true$/m, 'session_end');

# status() describes this backend; nothing is queued, so flush_writes() is done at once.
$out = $node->safe_psql('postgres', q{
SET visittrack.write_behind = on;
SELECT s->>'shared_state', s->'write_behind'->>'active', s->'write_behind'->>'queue_bytes',
       s->'worker'->>'pid' IS NULL, s->'write_behind'->'anonymous_cache'->>'capacity'
  FROM visittrack.status() s;
SELECT visittrack.flush_writes(0);
SELECT visittrack.reconcile_hot_state(), visittrack.purge_hot_state() >= 0,
       visittrack.end_expired_sessions() >= 0, visittrack.finalize_anonymous_sessions() >= 0;
});
is($out, "false|false|0|t|0\nt\n0|t|t|t",
	'status(), flush_writes() and the maintenance functions work without preloading');

# Settings that size shared memory or configure the worker and writers do not exist.
$out = $node->safe_psql('postgres', $sqlstate_of . q{
SELECT string_agg(name || '=' || pg_temp.sqlstate_of('SHOW ' || name), ' ' ORDER BY name)
  FROM unnest(ARRAY['visittrack.write_queue_size', 'visittrack.anon_cache_size',
                    'visittrack.database', 'visittrack.worker',
                    'visittrack.worker_interval', 'visittrack.write_behind_delay']) AS name;
});
is($out, join(' ', map { "visittrack.$_=42704" }
	qw(anon_cache_size database worker worker_interval write_behind_delay write_queue_size)),
	'preload-only settings are not defined without preloading');

# Preloaded, the same settings exist and status() covers the whole server.
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'visittrack'\nvisittrack.worker = off\n");
$node->restart;
$out = $node->safe_psql('postgres', q{
SELECT current_setting('visittrack.write_queue_size'), current_setting('visittrack.anon_cache_size'),
       (visittrack.status())->>'shared_state';
});
is($out, '8MB|16384|true', 'preloaded: shared-memory settings exist and the state is shared');

$node->stop;
done_testing();
