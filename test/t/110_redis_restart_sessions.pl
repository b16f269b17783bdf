# Signed-in sessions survive Redis being killed and restarted empty: no
# call fails, calls stay fast while Redis is down, and the database's
# counts are what session_get reports (and what Redis holds) afterwards.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use VisitTrack;

my $TIMEOUT_MS = 200;
my ($node, $redis) = vt_node('redis_restart_sessions', conf => <<EOC);
visittrack.redis_timeout_ms = $TIMEOUT_MS
visittrack.redis_retry_interval_ms = 500
visittrack.redis_prefix = 'fault-sessions:'
EOC
my $s = session($node, 'postgres');

my @sids = map {
	call_ok($s, sprintf("SELECT visittrack.session_start('00000000-0000-0000-0000-%012d', 'fault-key-%d')", $_, $_))
} 0 .. 19;
for my $sid (@sids)
{
	call_ok($s, "SELECT visittrack.session_touch('$sid')") for 1 .. 3;
}
is(scalar(grep { $redis->hget("fault-sessions:session:$_", 'pages_visited') eq '3' } @sids), 20,
	'Redis holds 3 pages for each of 20 sessions');

$redis->stop;
my ($errors, @times) = (0);
for my $sid (@sids)
{
	for (1 .. 2)
	{
		my ($out, $err, $ms) = call($s, "SELECT visittrack.session_touch('$sid')");
		if (defined $err) { $errors++; diag("call failed: $err"); }
		else { push @times, $ms; }
	}
}
my ($worst) = sort { $b <=> $a } @times;
is($errors, 0, sprintf('no call failed while Redis was down (%d calls)', scalar @times));
cmp_ok($worst, '<', $TIMEOUT_MS * 3, sprintf('worst call %.1f ms is within the timeout', $worst));
cmp_ok(percentile(\@times, 50), '<', 20,
	sprintf('median call %.2f ms: no waiting once Redis is known down', percentile(\@times, 50)));
is(call_ok($s, "SELECT (visittrack.status())->'redis'->>'up'"), 'false', 'status() reports Redis down');

$redis->start;
usleep(600_000);	# the retry interval
my @pages = map { call_ok($s, "SELECT (visittrack.session_get('$_'))->>'pages_visited'") } @sids;
is(scalar(grep { $_ eq '5' } @pages), 20, 'after restart, session_get reports 5 pages for every session');
is(scalar(grep { $redis->hget("fault-sessions:session:$_", 'pages_visited') eq '5' } @sids), 20,
	'and Redis has been refilled with 5');
is(call_ok($s, "SELECT (visittrack.status())->'redis'->>'up'"), 'true', 'status() reports Redis up again');

$s->quit;
$node->stop;
done_testing();
