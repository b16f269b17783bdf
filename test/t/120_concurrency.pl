# Counts stay exact under concurrency, with Redis and without it:
# 8 connections sending 50 page views each for one fingerprint give pages
# 1..400 exactly once, one session row and 400 page views; 8 connections
# recording overlapping community visits count each distinct visitor once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use VisitTrack;

my ($CLIENTS, $VIEWS) = (8, 50);
my ($node) = vt_node('concurrency');

for my $mode ('redis', 'no-Redis')
{
	my $setup = $mode eq 'redis' ? undef : "SET visittrack.redis_host = ''";
	my $fp = random_fingerprint();
	my ($pages, $errors) = run_clients($node, 'postgres', $CLIENTS, sub {
			my ($s, $i) = @_;
			return map { call_ok($s, "SELECT visittrack.track_page_view('$fp', '/page/$i/$_')") }
			  0 .. $VIEWS - 1;
		}, setup => $setup);
	is(scalar @$errors, 0, "$mode: $CLIENTS clients x $VIEWS views without error " . ($errors->[0] // ''));
	my @sorted = sort { $a <=> $b } @$pages;
	is_deeply(\@sorted, [ 1 .. $CLIENTS * $VIEWS ],
		"$mode: page counts returned are exactly 1.." . $CLIENTS * $VIEWS . ' (max ' . ($sorted[-1] // 0) . ')');
	my $s = session($node, 'postgres');
	call_ok($s, $setup) if $setup;
	is(call_ok($s, "SELECT count(*) FROM visittrack.anonymous_page_view WHERE device_fingerprint = '$fp'"),
		$CLIENTS * $VIEWS, "$mode: " . $CLIENTS * $VIEWS . ' page view rows');
	is(call_ok($s, "SELECT count(DISTINCT session_id) FROM visittrack.anonymous_page_view WHERE device_fingerprint = '$fp'"),
		'1', "$mode: all in one session");
	my $rows = call_ok($s, "SELECT array_agg(pages_visited) FROM visittrack.anonymous_session WHERE device_fingerprint = '$fp'");
	is($rows, '{' . $CLIENTS * $VIEWS . '}',
		"$mode: one session row with pages_visited " . $CLIENTS * $VIEWS . " (got $rows)");

	# community presence: 8 clients, 200 distinct visitors (100 signed in),
	# each client visiting an overlapping half of them
	my $community = random_uuid();
	my @users = map { random_uuid() } 1 .. 100;
	my @anons = map { random_fingerprint() } 1 .. 100;
	(undef, $errors) = run_clients($node, 'postgres', $CLIENTS, sub {
			my ($c, $i) = @_;
			for my $k (0 .. 99)
			{
				my $j = ($i * 25 + $k) % 100;
				call_ok($c, "SELECT visittrack.community_visit('$community', '$users[$j]')");
				call_ok($c, "SELECT visittrack.community_visit('$community', device_fingerprint => '$anons[$j]')");
			}
			return ();
		}, setup => $setup);
	is(scalar @$errors, 0, "$mode: concurrent community visits without error " . ($errors->[0] // ''));
	my $stats = call_ok($s, "SELECT total_visitors, authenticated_visitors, anonymous_visitors
	                           FROM visittrack.visitor_stats('$community')");
	is($stats, '200|100|100', "$mode: visitor_stats counts 200 = 100 signed in + 100 anonymous (got $stats)");
	my $total = call_ok($s, "SELECT sum((v->>'pages_viewed')::int) FROM visittrack.current_visitors('$community') v");
	is($total, $CLIENTS * 200, "$mode: pages_viewed add up to all " . $CLIENTS * 200 . " visits (got $total)");
	$s->quit;
}

$node->stop;
done_testing();
