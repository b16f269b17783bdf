# The maintenance worker obeys pg_terminate_backend too: blocked on a lock
# in one of its tasks, it ends at once, alone (no crash restart), and the
# postmaster starts it again.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('worker_terminate');
$node->init;
$node->append_conf('postgresql.conf', <<'EOF2');
shared_preload_libraries = 'visittrack'
visittrack.database = 'vt'
visittrack.redis_host = ''
visittrack.worker_interval = 1
EOF2
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE vt');
$node->safe_psql('vt', 'CREATE EXTENSION visittrack');

# end_expired_sessions(), the worker's first task, updates user_session
my ($in, $out, $err) = ('', '', '');
my $timer = IPC::Run::timeout(120);
my $h = IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('vt') ],
	'<', \$in, '>', \$out, '2>', \$err, $timer);
$in .= "BEGIN;\nLOCK TABLE visittrack.user_session IN EXCLUSIVE MODE;\nSELECT 'locked';\n";
$h->pump until $out =~ /locked/ || $timer->is_expired;

my $pid = '';
my $deadline = time + 60;	# the worker retries every 10 s until the database exists
while ($pid eq '' && time < $deadline)
{
	$pid = $node->safe_psql('vt',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'visittrack worker' AND wait_event_type = 'Lock'");
	usleep(200_000) if $pid eq '';
}
isnt($pid, '', "the worker waits on the lock of user_session (pid $pid)");

my $t0 = time;
is($node->safe_psql('vt', "SELECT pg_terminate_backend($pid)"), 't', 'pg_terminate_backend returns true');
my $took;
while (!defined $took && time < $t0 + 10)
{
	$took = time - $t0
	  if $node->safe_psql('vt', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid") eq '0';
	usleep(50_000);
}
ok(defined $took && $took < 3,
	'the worker is gone within 3 s (' . (defined $took ? sprintf('%.1f s', $took) : 'still there') . ')');

$out = '';
$in .= "SELECT 'still here';\n";
$h->pump until $out =~ /still here/ || $timer->is_expired;
like($out, qr/still here/, 'the session holding the lock stays connected');
$in .= "COMMIT;\n\\q\n";
$h->finish;

ok($node->poll_query_until('vt',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'visittrack worker' AND pid <> $pid", '1'),
	'the postmaster starts the worker again');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminating any other active server processes|was terminated by signal/,
	'no crash restart of the cluster');
like($log, qr/"visittrack worker" \(PID $pid\) exited with exit code 1/, 'it exited with code 1');

$node->stop;
done_testing();
