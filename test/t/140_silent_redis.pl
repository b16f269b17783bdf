# A Redis that accepts connections but never answers: no call hangs past
# visittrack.redis_timeout_ms, only one call per retry interval pays the
# timeout, and pg_cancel_backend interrupts a call that is waiting on Redis.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use IO::Socket::INET;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use VisitTrack;

# A listening socket that is never accepted from: the kernel completes the
# connections (up to the backlog), and nobody ever answers on them.
sub silent_server
{
	my $sock = IO::Socket::INET->new(
		LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 64, ReuseAddr => 1);
	die "listen: $!" unless $sock;
	return $sock;
}

my ($TIMEOUT_MS, $RETRY_MS) = (200, 1000);
my $silent = silent_server();
my ($node) = vt_node('silent_redis', redis => 0);
my $s = session($node, 'postgres');
call_ok($s, "SET visittrack.redis_host = '127.0.0.1'; SET visittrack.redis_port = " . $silent->sockport
	  . "; SET visittrack.redis_timeout_ms = $TIMEOUT_MS; SET visittrack.redis_retry_interval_ms = $RETRY_MS"
	  . "; SET visittrack.redis_prefix = 'silent:'");
my $fp = random_fingerprint();
my (@times, $errors);
$errors = 0;
my $t_end = time + 2.5;
my $n = 0;
while (time < $t_end)
{
	$n++;
	my ($out, $err, $ms) = call($s, "SELECT visittrack.track_page_view('$fp', '/s/$n')");
	if (defined $err) { $errors++; diag("call failed: $err"); }
	else { push @times, $ms; }
}
my @slow = grep { $_ > $TIMEOUT_MS / 2 } @times;
my ($worst) = sort { $b <=> $a } @times;
note(sprintf('silent Redis: %d calls in 2.5 s, %d failed, %d waited for the timeout, worst %.1f ms, median %.2f ms',
		scalar @times, $errors, scalar @slow, $worst, percentile(\@times, 50)));
is($errors, 0, 'no call failed against a silent Redis');
# under two timeouts: no call waits for Redis twice (the harness's pipe to
# psql adds stalls of its own on a loaded machine)
cmp_ok($worst, '<', $TIMEOUT_MS * 2 + 50, "no call waited for the $TIMEOUT_MS ms timeout twice ($worst ms)");
ok(@slow >= 1 && @slow <= 4,
	"only about one call per $RETRY_MS ms retry interval paid the timeout (" . scalar(@slow) . ')');
is(call_ok($s, "SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = '$fp'"),
	scalar @times, 'every page view was recorded');
my $pages = call_ok($s, "SELECT visittrack.track_page_view('$fp', '/last')");
is($pages, @times + 1, "and counted ($pages)");
my $last_error = call_ok($s, "SELECT visittrack.status()->'redis'->>'last_error'");
like($last_error, qr/timed out/, "status() says: $last_error");
$s->quit;

# pg_cancel_backend during a long wait on Redis (another silent server, of
# which nothing is known yet, so the call does try it)
my $silent2 = silent_server();
my ($in, $out, $err) = ('', '', '');
my $timer = IPC::Run::timeout(60);
my $h = IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('postgres') ],
	'<', \$in, '>', \$out, '2>', \$err, $timer);
$in .= "SET visittrack.redis_host = '127.0.0.1'; SET visittrack.redis_port = " . $silent2->sockport
  . "; SET visittrack.redis_timeout_ms = 30000; SET visittrack.redis_retry_interval_ms = 0;"
  . " SET visittrack.redis_prefix = 'silent2:';\nSELECT pg_backend_pid();\n";
$h->pump until $out =~ /^(\d+)$/m || $timer->is_expired;
my $pid = $1;
$out = '';
$in .= "SELECT visittrack.track_page_view('" . random_fingerprint() . "', '/wait');\n\\echo call-ended\n";
$h->pump_nb;
usleep(500_000);
my $t_cancel = time;
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$h->pump until $out =~ /call-ended/ || $timer->is_expired;
my $after_cancel = (time - $t_cancel) * 1000.0;
note(sprintf('cancel: the call ended %.0f ms after pg_cancel_backend (timeout 30000 ms)', $after_cancel));
like($err, qr/canceling statement due to user request/, 'the waiting call was canceled');
cmp_ok($after_cancel, '<', 1000, 'promptly');
$out = '';
$in .= "SELECT 1;\n\\echo probe-ended\n";
$h->pump until $out =~ /probe-ended/ || $timer->is_expired;
like($out, qr/^1$/m, 'the session is usable afterwards');
$in .= "\\q\n";
$h->finish;

close $silent;
close $silent2;
$node->stop;
done_testing();
