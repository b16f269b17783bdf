# The writers obey pg_terminate_backend: a writer waiting on a lock ends
# within a second or two, the cluster is not restarted, what it had taken
# from its ring is written by the next writer exactly once, and the other
# writer's ring is neither lost nor stopped meanwhile.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $VIEWS = 300;					# page views queued in each case
my $VISITORS = 50;					# anonymous visitors of the community,
my $VISITS = 2 * $VISITORS;			# twice each

my $node = PostgreSQL::Test::Cluster->new('writer_terminate');
$node->init;
$node->append_conf('postgresql.conf', <<'EOF');
shared_preload_libraries = 'visittrack'
visittrack.database = 'vt'
visittrack.redis_host = ''
visittrack.worker = off
EOF
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE vt');
$node->safe_psql('vt', 'CREATE EXTENSION visittrack');
$node->safe_psql('vt', 'ALTER DATABASE vt SET visittrack.write_behind = on');

sub writer_pids
{
	return $node->safe_psql('vt',
		"SELECT string_agg(pid::text, ' ' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'visittrack writer'");
}

sub wait_active
{
	ok($node->poll_query_until('vt',
			"SELECT visittrack.status()->'write_behind'->>'active'", 'true'),
		"$_[0]: write-behind is active (both writers attached)");
}

# A session locking a table against writes (reads go on) in an open transaction.
sub lock_table
{
	my ($table) = @_;
	my %s = (in => '', out => '', err => '', table => $table);
	$s{timer} = IPC::Run::timeout(180);
	$s{h} = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('vt') ],
		'<', \$s{in}, '>', \$s{out}, '2>', \$s{err}, $s{timer});
	$s{in} .= "BEGIN;\nLOCK TABLE $table IN EXCLUSIVE MODE;\nSELECT 'locked';\n";
	$s{h}->pump until $s{out} =~ /locked/ || $s{timer}->is_expired;
	like($s{out}, qr/locked/, "a session holds EXCLUSIVE (no writes, reads allowed) on $table");
	return \%s;
}

# The lock holder is still connected and answers: the cluster was not restarted.
sub still_connected
{
	my ($s) = @_;
	$s->{out} = '';
	$s->{in} .= "SELECT 'still here';\n";
	$s->{h}->pump until $s->{out} =~ /still here/ || $s->{timer}->is_expired || !$s->{h}->pumpable;
	return $s->{out} =~ /still here/;
}

sub unlock_table
{
	my ($s) = @_;
	$s->{in} .= "COMMIT;\n\\q\n";
	$s->{h}->finish;
}

# The writer blocked on a lock of $table.
sub writer_waiting_on
{
	my ($table) = @_;
	my $pid = '';
	my $deadline = time + 30;
	while (time < $deadline)
	{
		$pid = $node->safe_psql('vt', qq{
			SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
			 WHERE a.backend_type = 'visittrack writer' AND a.wait_event_type = 'Lock'
			   AND NOT l.granted AND l.relation = '$table'::regclass});
		last if $pid ne '';
		usleep(100_000);
	}
	return $pid;
}

# pg_terminate_backend($pid); seconds until the process is gone (undef: not within 10 s).
sub terminate
{
	my ($pid) = @_;
	my $t0 = time;
	is($node->safe_psql('vt', "SELECT pg_terminate_backend($pid)"), 't',
		"pg_terminate_backend($pid) returns true");
	while (time < $t0 + 10)
	{
		return time - $t0
		  if $node->safe_psql('vt', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid") eq '0';
		usleep(50_000);
	}
	return undef;
}

sub queue_views_and_visits
{
	my ($fp, $community) = @_;
	# one transaction: its records are queued when it commits
	$node->safe_psql('vt', qq{
		SELECT count(visittrack.track_page_view('$fp', '/t/' || g)) FROM generate_series(1, $VIEWS) g;
		SELECT count(visittrack.community_visit('$community', device_fingerprint => md5('$community' || g % $VISITORS)))
		  FROM generate_series(1, $VISITS) g;});
}

sub views_written
{
	return $node->safe_psql('vt',
		"SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = '$_[0]'");
}

sub visits_written
{
	return $node->safe_psql('vt', qq{
		SELECT (SELECT total_visitors FROM visittrack.visitor_stats('$_[0]')) || '/' ||
		       (SELECT coalesce(sum((v->>'pages_viewed')::int), 0) FROM visittrack.current_visitors('$_[0]') v)});
}

sub poll_until
{
	my ($what, $expected, $seconds) = @_;
	my $deadline = time + $seconds;
	my $got;
	while (time < $deadline)
	{
		$got = $what->();
		return $got if $got eq $expected;
		usleep(100_000);
	}
	return $got;
}

sub no_crash_restart
{
	my ($case) = @_;
	my $log = slurp_file($node->logfile);
	unlike($log, qr/terminating any other active server processes|was terminated by signal/,
		"$case: no crash restart of the cluster");
}

# --- 1: the rows writer, waiting on a lock ------------------------------------
wait_active('rows writer');
my $fp1 = '0123456789abcdef0123456789abcdef';
my $c1 = '00000000-0000-0000-0000-00000000c001';
my $rows_lock = lock_table('visittrack.anonymous_page_view');
my $hot_lock = lock_table('visittrack.hot_community_visitor');
queue_views_and_visits($fp1, $c1);
my $rows_writer = writer_waiting_on('visittrack.anonymous_page_view');
isnt($rows_writer, '', "the rows writer waits on the lock (pid $rows_writer)");
isnt(writer_waiting_on('visittrack.hot_community_visitor'), '', 'so does the hot-state writer');

my $took = terminate($rows_writer);
ok(defined $took && $took < 3,
	'the rows writer is gone within 3 s of pg_terminate_backend, lock still held ('
	  . (defined $took ? sprintf('%.1f s', $took) : 'still there after 10 s') . ')');
ok(still_connected($rows_lock), 'rows writer: other sessions stay connected');
no_crash_restart('rows writer');
ok(poll_until(sub {
			slurp_file($node->logfile) =~
			  /"visittrack writer" \(PID $rows_writer\) exited with exit code 1/ ? 1 : 0 },
		1, 10),
	'the postmaster saw exit code 1: it restarts this writer alone');

# the other ring is intact and still drained while the rows writer is away
unlock_table($hot_lock);
is(poll_until(sub { visits_written($c1) }, "$VISITORS/$VISITS", 30), "$VISITORS/$VISITS",
	"with the rows writer gone, the hot-state writer writes its $VISITS visits once each");
is(views_written($fp1), '0', 'no view row written while the lock is held');

unlock_table($rows_lock);
is($node->safe_psql('vt', 'SELECT visittrack.flush_writes(30000)'), 't',
	'after the lock is released, flush_writes() returns true (the restarted writer wrote the ring)');
is(views_written($fp1), $VIEWS, "every one of the $VIEWS queued views is written exactly once");
isnt(writer_pids(), '', 'the writers run again');

# --- 2: the hot-state writer, while the rows writer has a queue ----------------
wait_active('hot-state writer');
my $fp2 = 'fedcba9876543210fedcba9876543210';
my $c2 = '00000000-0000-0000-0000-00000000c002';
$rows_lock = lock_table('visittrack.anonymous_page_view');
$hot_lock = lock_table('visittrack.hot_community_visitor');
queue_views_and_visits($fp2, $c2);
my $hot_writer = writer_waiting_on('visittrack.hot_community_visitor');
isnt($hot_writer, '', "the hot-state writer waits on the lock (pid $hot_writer)");
isnt(writer_waiting_on('visittrack.anonymous_page_view'), '', 'the rows writer has a queue it cannot write yet');

$took = terminate($hot_writer);
ok(defined $took && $took < 3,
	'the hot-state writer is gone within 3 s of pg_terminate_backend ('
	  . (defined $took ? sprintf('%.1f s', $took) : 'still there after 10 s') . ')');
ok(still_connected($hot_lock), 'hot-state writer: other sessions stay connected');
no_crash_restart('hot-state writer');

unlock_table($rows_lock);
is(poll_until(sub { views_written($fp2) }, $VIEWS, 30), $VIEWS,
	"with the hot-state writer gone, the rows writer writes all $VIEWS views");
unlock_table($hot_lock);
is($node->safe_psql('vt', 'SELECT visittrack.flush_writes(30000)'), 't',
	'flush_writes() returns true once the hot-state writer is back');
is(visits_written($c2), "$VISITORS/$VISITS", "its $VISITS queued visits are written once each");
is(views_written($fp2), $VIEWS, 'and no view twice');

# --- 3: a fast shutdown while a writer waits on a lock loses nothing ----------
# The shutdown ends the lock holder too; the writer's cancelled batch stays
# in the ring and the writer drains it before it exits.
wait_active('fast shutdown');
my $fp3 = '00112233445566778899aabbccddeeff';
$rows_lock = lock_table('visittrack.anonymous_page_view');
queue_views_and_visits($fp3, '00000000-0000-0000-0000-00000000c003');
isnt(writer_waiting_on('visittrack.anonymous_page_view'), '', 'the rows writer waits on the lock');
$node->stop('fast');
$rows_lock->{h}->kill_kill;
$node->start;
is(views_written($fp3), $VIEWS, "after a fast shutdown, all $VIEWS queued views are in the table");

$node->stop;
done_testing();
