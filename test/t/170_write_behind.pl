# visittrack.write_behind under stress, in the database the writers serve:
# counts stay exact with 8 concurrent clients; a Redis outage in the middle
# of a stream of views and visits fails no call and loses no row; a writer
# stopped with writes queued writes them all before it exits, and while it
# is away calls write synchronously.  The shared-memory cache of anonymous
# sessions keeps Redis exact: after 8 clients, after Redis restarted empty,
# and across a restart of the writers.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use VisitTrack;

my ($CLIENTS, $VIEWS) = (8, 50);
my $WB = 'SET visittrack.write_behind = on';
my ($node, $redis) = vt_node('write_behind', db => 'vt', worker => 'on', conf => <<EOC);
visittrack.worker_interval = 1
visittrack.redis_prefix = 'worker:'
EOC
my $conn = session($node, 'vt');
call_ok($conn, $WB);

sub status_of
{
	my ($field) = @_;
	return call_ok($conn, "SELECT visittrack.status()->'write_behind'->>'$field'");
}

sub redis_session
{
	my ($fp) = @_;
	my $prefix = call_ok($conn, "SELECT visittrack.status()->'redis'->>'key_prefix'");
	return join('|', $redis->cli('HMGET', "${prefix}anon_session:$fp", 'pages_visited', 'session_id'));
}

sub session_of
{
	my ($fp) = @_;
	return call_ok($conn, "SELECT min(session_id::text) FROM visittrack.anonymous_page_view WHERE device_fingerprint = '$fp'");
}

sub count_views
{
	my ($fp) = @_;
	return call_ok($conn, "SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = '$fp'");
}

ok(wait_until(sub { status_of('active') eq 'true' }, 20), 'write-behind is active in the database the writers serve');

# --- exact counts: one visitor, 8 clients -------------------------------------
my $fp = random_fingerprint();
my ($pages, $errors) = run_clients($node, 'vt', $CLIENTS, sub {
		my ($c, $i) = @_;
		return map { call_ok($c, "SELECT visittrack.track_page_view('$fp', '/wb/$i/$_')") } 0 .. $VIEWS - 1;
	}, setup => $WB);
my $N = $CLIENTS * $VIEWS;
is(scalar @$errors, 0, "$CLIENTS clients x $VIEWS views without error " . ($errors->[0] // ''));
is_deeply([ sort { $a <=> $b } @$pages ], [ 1 .. $N ], "page counts returned are exactly 1..$N");
is(call_ok($conn, 'SELECT visittrack.flush_writes(30000)'), 't', 'flush_writes: the writer caught up');
is(count_views($fp), $N, "$N page view rows");
is(call_ok($conn, "SELECT count(DISTINCT session_id) FROM visittrack.anonymous_page_view WHERE device_fingerprint = '$fp'"),
	'1', 'all in one session');
my $rows = call_ok($conn, "SELECT array_agg(pages_visited) FROM visittrack.anonymous_session WHERE device_fingerprint = '$fp'");
is($rows, "{$N}", "one session row with pages_visited $N (got $rows)");
my $plain = session($node, 'vt');
call_ok($plain, 'SET visittrack.write_behind = off');
is(call_ok($plain, "SELECT visittrack.track_page_view('$fp', '/wb/plain')"), $N + 1,
	'a session without write-behind counts the cached visitor where the cache left off: ' . ($N + 1));
$plain->quit;
is(call_ok($conn, "SELECT visittrack.track_page_view('$fp', '/wb/again')"), $N + 2,
	'and the next write-behind view goes on from there: ' . ($N + 2));
call_ok($conn, 'SELECT visittrack.flush_writes(30000)');
is(redis_session($fp), ($N + 2) . '|' . session_of($fp),
	"Redis's anon_session hash (mirrored from the shared-memory cache) has " . ($N + 2) . ' pages, same session');

# --- exact presence: 200 visitors, overlapping clients --------------------------
my $community = random_uuid();
my @users = map { random_uuid() } 1 .. 100;
my @anons = map { random_fingerprint() } 1 .. 100;
(undef, $errors) = run_clients($node, 'vt', $CLIENTS, sub {
		my ($c, $i) = @_;
		for my $k (0 .. 99)
		{
			my $j = ($i * 25 + $k) % 100;
			call_ok($c, "SELECT visittrack.community_visit('$community', '$users[$j]')");
			call_ok($c, "SELECT visittrack.community_visit('$community', device_fingerprint => '$anons[$j]')");
		}
		return ();
	}, setup => $WB);
is(scalar @$errors, 0, 'concurrent community visits without error ' . ($errors->[0] // ''));
call_ok($conn, 'SELECT visittrack.flush_writes(30000)');
my $stats = call_ok($conn, "SELECT total_visitors, authenticated_visitors, anonymous_visitors
                              FROM visittrack.visitor_stats('$community')");
is($stats, '200|100|100', "visitor_stats counts 200 = 100 signed in + 100 anonymous (got $stats)");
my $total = call_ok($conn, "SELECT sum((v->>'pages_viewed')::int) FROM visittrack.current_visitors('$community') v");
is($total, $CLIENTS * 200, 'pages_viewed add up to all ' . $CLIENTS * 200 . " visits (got $total)");
my $events = call_ok($conn, "SELECT count(*) FROM visittrack.user_event WHERE event_type = 'community_visit'
                               AND metadata->>'community_id' = '$community'");
is($events, $CLIENTS * 100, 'one community_visit event per signed-in visit: ' . $CLIENTS * 100 . " (got $events)");

# --- Redis goes away in the middle of the stream -------------------------------
my $outage_community = random_uuid();
my @visitors = map { random_fingerprint() } 1 .. 40;
my $stop_file = PostgreSQL::Test::Utils::tempdir() . '/stop';
my $stream = start_clients($node, 'vt', 4, sub {
		my ($c, $i) = @_;
		my @lines;
		for (my $k = 0; !-e $stop_file; $k++)
		{
			my $v = $visitors[ ($i * 10 + $k) % @visitors ];
			my (undef, $err) = call($c, "SELECT visittrack.track_page_view('$v', '/outage/$k')");
			(undef, $err) = call($c, "SELECT visittrack.community_visit('$outage_community', device_fingerprint => '$v')")
			  unless defined $err;
			push @lines, defined $err ? "failed $err" : "call $v";
		}
		return @lines;
	}, setup => $WB);
usleep(1_000_000);
$redis->stop;
usleep(1_500_000);
$redis->start;
usleep(1_000_000);
open(my $fh, '>', $stop_file) or die;
close $fh;
my ($lines, $died) = wait_clients($stream);
die "a stream client died: $died->[0]" if @$died;
my @calls = map { /^call (\S+)$/ ? $1 : () } @$lines;
my @failures_seen = map { /^failed (.*)$/ ? $1 : () } @$lines;
my %per_visitor;
$per_visitor{$_}++ for @calls;
is(scalar @failures_seen, 0, 'Redis killed and restarted under 4 clients: ' . scalar(@calls) . ' calls, none failed '
	  . ($failures_seen[0] // ''));
is(call_ok($conn, 'SELECT visittrack.flush_writes(30000)'), 't', 'the writer caught up after the outage');
my $array = "ARRAY['" . join("','", @visitors) . "']";
$rows = call_ok($conn, "SELECT count(*) FROM visittrack.anonymous_page_view
                         WHERE device_fingerprint = ANY($array) AND url LIKE '/outage/%'");
is($rows, scalar @calls, "every view of the stream has its row: $rows of " . scalar @calls);
my $split = call_ok($conn, "SELECT count(*) FROM (SELECT device_fingerprint FROM visittrack.anonymous_page_view
                              WHERE device_fingerprint = ANY($array) GROUP BY 1 HAVING count(DISTINCT session_id) > 1) s");
is($split, '0', "no visitor's session split by the outage ($split split)");
my @stale = grep { redis_session($_) ne $per_visitor{$_} . '|' . session_of($_) } sort keys %per_visitor;
is(scalar @stale, 0, 'Redis (restarted empty) has every visitor\'s exact page count again: '
	  . scalar(@stale) . ' of ' . scalar(keys %per_visitor) . ' wrong');
# visits that reached neither Redis nor the writer's pipeline were kept in
# PostgreSQL; the worker copies them back to Redis within a few rounds
my $distinct = scalar keys %per_visitor;
ok(wait_until(sub {
			call_ok($conn, "SELECT total_visitors FROM visittrack.visitor_stats('$outage_community')") eq $distinct
		}, 15),
	"every visitor of the stream is counted once after reconciliation ($distinct)");

# --- the writer stops with writes queued, then is away -------------------------
my $fp2 = random_fingerprint();
call_ok($conn, "SELECT count(visittrack.track_page_view('$fp2', '/burst/' || g)) FROM generate_series(1, 2000) g");
my $writers = call_ok($conn, "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE backend_type = 'visittrack writer'");
is(scalar(my @w = split(/,/, $writers)), 2, "two writers run: rows and hot state ($writers)");
call_ok($conn, "SELECT count(pg_terminate_backend(pid)) FROM unnest('{$writers}'::int[]) AS pid");
ok(wait_until(sub { call_ok($conn, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY('{$writers}'::int[])") eq '0' }, 10),
	'the writers exit on SIGTERM');
is(count_views($fp2), '2000', 'they wrote all 2,000 queued views before exiting');
is((split /\|/, redis_session($fp2))[0], '2000', 'and mirrored the cached session to Redis');
my $expected_next = 2001;
if (status_of('writer_attached') eq 'false')
{
	$expected_next = 2002;
	is(call_ok($conn, "SELECT visittrack.track_page_view('$fp2', '/burst/next')"), '2001',
		'with the writers away, the count goes on: 2001');
	is((split /\|/, redis_session($fp2))[0], '2001',
		'and with nobody to queue it for, the view merged the session into Redis itself');
	my $fp3 = random_fingerprint();
	call_ok($conn, "SELECT visittrack.track_page_view('$fp3', '/away/$_')") for 0 .. 9;
	is(count_views($fp3), '10', 'with no writers, calls write their rows themselves (visible at once)');
}
else
{
	note('the writers were back before the next call: the checks of their absence are skipped');
}
ok(wait_until(sub { status_of('active') eq 'true' }, 15), 'the writers are back and write-behind active again');
is(call_ok($conn, "SELECT visittrack.track_page_view('$fp2', '/burst/after')"), $expected_next,
	"the count goes on without a gap or a repeat once they are back: $expected_next");
is(status_of('dropped'), '0', 'no queued write was dropped');

$conn->quit;
$node->stop;
done_testing();
