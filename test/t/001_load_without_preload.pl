# A server that does not preload visittrack: CREATE EXTENSION and LOAD work,
# the session survives, and the SQL API that needs no shared memory works.
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

$out = $node->safe_psql('postgres',
	"SELECT visittrack.session_start('00000000-0000-0000-0000-000000000001', 'k', '127.0.0.1', 'Mozilla/5.0') IS NOT NULL");
is($out, 't', 'session_start works without preloading');

$node->stop;
done_testing();
