# Partition maintenance never stalls tracking behind a long read.
#
# A report holds a read of anonymous_page_view in an open transaction.
# ensure_partitions() (which needs ACCESS EXCLUSIVE on the default
# partitions) and cleanup_anonymous_data() (whose DROP of an old partition
# needs ACCESS EXCLUSIVE on the parent) are called meanwhile.  A lock request
# that waits puts every later request for the table in the queue behind it,
# so a new visitor's track_page_view would wait as long as the maintenance
# does.  The maintenance must give up after visittrack.maintenance_lock_timeout
# (100 ms unless set), leave things as they were, and do its work on a later
# call once the report is gone; the visitor's page view completes within that
# timeout and a small margin.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use VisitTrack;

my $MARGIN_MS = 600;	# scheduling on a busy machine; a stall lasts seconds
my $VISITOR_TIMEOUT_MS = 3000;
my ($node) = vt_node('maintenance_locks', db => 'vt');

# a psql of its own, fed without waiting: the maintenance call that may
# block, and the report holding its read
sub start_psql
{
	my %p = (in => '', out => '', err => '', timer => IPC::Run::timeout(120));
	$p{h} = IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('vt') ],
		'<', \$p{in}, '>', \$p{out}, '2>', \$p{err}, $p{timer});
	return \%p;
}

sub send_and_wait
{
	my ($p, $sql, $mark) = @_;
	$p->{in} .= "$sql\n\\echo $mark\n";
	$p->{h}->pump until $p->{out} =~ /\Q$mark\E/ || $p->{timer}->is_expired;
}

my $maint = session($node, 'vt');
call_ok($maint, "SET statement_timeout = '20s'");
my $setting = call_ok($maint, "SELECT current_setting('visittrack.maintenance_lock_timeout', true)");
my $lock_timeout_ms = $setting ne ''
  ? int(call_ok($maint, "SELECT extract(epoch FROM '$setting'::interval) * 1000")) : 100;
note("maintenance lock timeout: $lock_timeout_ms ms");

my $visitor = session($node, 'vt');
call_ok($visitor, "SET statement_timeout = $VISITOR_TIMEOUT_MS");
my $fingerprint = random_fingerprint();
# first call of the connection: loads the library, connects to Redis
call_ok($visitor, "SELECT visittrack.track_page_view('$fingerprint', '/warm-up')");
my $log_start = -s $node->logfile;
my $watcher = session($node, 'postgres');

# Runs $maintenance_sql while a report ($report_sql, in an open transaction)
# reads, and a page view once the maintenance waits for a lock; returns
# (maintenance result, its error, its ms, page view error, its ms).
sub stall_test
{
	my ($what, $maintenance_sql, $report_sql) = @_;
	my $report = start_psql();
	send_and_wait($report, "BEGIN;\n$report_sql;", 'report-reading');
	my $m = start_psql();
	send_and_wait($m, "SET statement_timeout = '20s'; SELECT pg_backend_pid();", 'maint-ready');
	my ($maint_pid) = $m->{out} =~ /^(\d+)$/m;
	$m->{out} = '';
	# psql times the call itself (\timing): what happens here meanwhile
	# does not count
	$m->{in} .= "\\timing on\n$maintenance_sql;\n\\timing off\n\\echo maint-done\n";
	$m->{h}->pump_nb;
	# Start the page view as soon as the maintenance waits for its lock, so
	# that the view's lock request comes after the maintenance's.
	my $seen_waiting = 0;
	my $deadline = time + 5;
	while (time < $deadline)
	{
		$m->{h}->pump_nb;
		last if $m->{out} =~ /maint-done/;
		if (call_ok($watcher, "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $maint_pid") eq 't')
		{
			$seen_waiting = 1;
			last;
		}
		usleep(2_000);
	}
	my (undef, $view_error, $view_ms) =
	  call($visitor, "SELECT visittrack.track_page_view('$fingerprint', '/during-$what')");
	$report->{in} .= "ROLLBACK;\n\\q\n";
	$report->{h}->finish;
	$m->{h}->pump until $m->{out} =~ /maint-done/ || $m->{timer}->is_expired;
	my ($maint_ms) = $m->{out} =~ /^Time: ([\d.]+) ms/m;
	$maint_ms //= 9**9**9;
	my ($result) = $m->{out} =~ /\A(.*)\n/;
	$result = undef if defined $result && $result =~ /^(Time:|Timing|maint-done)/;
	my ($error) = $m->{err} =~ /(ERROR:.*)/;
	$m->{in} .= "\\q\n";
	$m->{h}->finish;
	note(sprintf('%s: maintenance %s in %.0f ms (seen waiting for a lock: %s); page view %.0f ms%s',
			$what, $result // $error // '?', $maint_ms, $seen_waiting ? 'yes' : 'no', $view_ms,
			$view_error ? ", $view_error" : ''));
	return ($result, $error, $maint_ms, $view_error, $view_ms);
}

sub exists_rel
{
	return call_ok($maint, "SELECT to_regclass('visittrack.$_[0]') IS NOT NULL") eq 't';
}

# 1. ensure_partitions() as the worker and pg_cron call it, behind a report
# reading the whole table (it holds ACCESS SHARE on every partition).
my $tomorrow = call_ok($maint, "SELECT to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYYMMDD')");
my ($result, $error, $maint_ms, $view_error, $view_ms) = stall_test('ensure_partitions',
	'SELECT visittrack.ensure_partitions()', 'SELECT count(*) FROM visittrack.anonymous_page_view');
ok(!defined $view_error && $view_ms <= $lock_timeout_ms + $MARGIN_MS,
	sprintf('a page view during ensure_partitions() completes within %d ms + %d ms (%.0f ms%s)',
		$lock_timeout_ms, $MARGIN_MS, $view_ms, $view_error ? ", $view_error" : ''));
ok(!defined $error && defined $result && $result eq '0'
	  && !exists_rel("anonymous_page_view_p$tomorrow") && !exists_rel("anonymous_session_p$tomorrow"),
	'ensure_partitions() gave up, created nothing and did not fail (returned '
	  . ($result // 'nothing') . ($error ? ", $error" : '') . ')');
cmp_ok($maint_ms, '<', $lock_timeout_ms + $MARGIN_MS,
	sprintf('ensure_partitions() returned within its lock timeout (%.0f ms)', $maint_ms));
my $created = call_ok($maint, 'SELECT visittrack.ensure_partitions()');
ok($created eq '14' && exists_rel("anonymous_page_view_p$tomorrow") && exists_rel("anonymous_session_p$tomorrow"),
	"the next ensure_partitions(), without the report, creates the 14 partitions ($created)");

# 2. cleanup_anonymous_data() dropping a partition past the retention, behind
# a report on today's views (planned for today's partitions only: the old
# partition is free, the parent is not).
my ($old, $old_tag) = split /\|/, call_ok($maint,
	"SELECT d, to_char(d, 'YYYYMMDD') FROM (SELECT (now() AT TIME ZONE 'UTC')::date - 200 AS d) x");
call_ok($maint, "SELECT visittrack.ensure_partitions('$old', '$old')");
my $today = call_ok($maint, "SELECT date_trunc('day', now() AT TIME ZONE 'UTC')::text");
($result, $error, $maint_ms, $view_error, $view_ms) = stall_test('cleanup_anonymous_data',
	'SELECT visittrack.cleanup_anonymous_data()',
	"SELECT count(*) FROM visittrack.anonymous_page_view WHERE viewed_at >= timestamptz '$today+00'");
ok(!defined $view_error && $view_ms <= $lock_timeout_ms + $MARGIN_MS,
	sprintf('a page view during cleanup_anonymous_data() completes within %d ms + %d ms (%.0f ms%s)',
		$lock_timeout_ms, $MARGIN_MS, $view_ms, $view_error ? ", $view_error" : ''));
ok(!defined $error && exists_rel("anonymous_page_view_p$old_tag"),
	'cleanup_anonymous_data() left the busy partition and did not fail ('
	  . ($result // 'nothing') . ($error ? ", $error" : '') . ')');
cmp_ok($maint_ms, '<', $lock_timeout_ms + $MARGIN_MS,
	sprintf('cleanup_anonymous_data() returned within its lock timeout (%.0f ms)', $maint_ms));
call_ok($maint, 'SELECT visittrack.cleanup_anonymous_data()');
ok(!exists_rel("anonymous_page_view_p$old_tag") && !exists_rel("anonymous_session_p$old_tag"),
	'the next cleanup_anonymous_data(), without the report, drops the old partitions');

# what was skipped is in the server log, for the operator
my $log = slurp_file($node->logfile, $log_start);
ok($log =~ /created no partition/ && $log =~ /was not dropped/,
	'the server log says what was skipped and that the next run retries');

$maint->quit;
$visitor->quit;
$watcher->quit;
$node->stop;
done_testing();
