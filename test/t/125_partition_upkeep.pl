# Partition upkeep while traffic flows: ensure_partitions() (the worker's
# hourly task) attaches the coming days' partitions while page views are
# inserted for today, and no insert fails.  Attaching the partition of the
# day being written would race with the inserts (they may be routed to the
# default partition just before the attach and fail its partition check
# just after); the default range starts tomorrow for that reason.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use VisitTrack;

my ($node) = vt_node('partition_upkeep');
my $stop_file = PostgreSQL::Test::Utils::tempdir() . '/stop';
my $traffic = start_clients($node, 'postgres', 4, sub {
		my ($c) = @_;
		my $fp = random_fingerprint();
		my @lines;
		for (my $k = 0; !-e $stop_file; $k++)
		{
			my (undef, $err) = call($c, "SELECT visittrack.track_page_view('$fp', '/u/$k')");
			push @lines, defined $err ? "failed $err" : 'view';
		}
		return @lines;
	});
my $admin = session($node, 'postgres');
# the upkeep as the worker runs it, then the same for days further ahead
my $attached = call_ok($admin, 'SELECT visittrack.ensure_partitions()');
for my $k (1 .. 7)
{
	$attached += call_ok($admin, 'SELECT visittrack.ensure_partitions(d + ' . 10 * $k . ', d + ' . (10 * $k + 6)
		  . ") FROM (SELECT (now() AT TIME ZONE 'UTC')::date AS d) t");
	usleep(100_000);
}
open(my $fh, '>', $stop_file) or die;
close $fh;
my ($lines, $died) = wait_clients($traffic);
my @errors = ((map { /^failed (.*)/ ? $1 : () } @$lines), @$died);
note("$attached partitions attached while " . scalar(grep { $_ eq 'view' } @$lines) . ' page views were inserted');
cmp_ok($attached, '>=', 7 * 14, "ensure_partitions attached partitions for the coming days ($attached)");
is(scalar @errors, 0, 'no insert failed (' . scalar(@errors) . ' errors' . (@errors ? ": $errors[0]" : '') . ')');

$admin->quit;
$node->stop;
done_testing();
