# Replies that hiredis allocated (with malloc) are freed when a call is
# interrupted half-way, and the half-read connection is dropped.
#
# A fake Redis answers the first command of each connection with a 1 MB
# reply and then nothing more, so a call holds that reply while it waits for
# the next one; pg_cancel_backend interrupts it.  After many such calls the
# backend's memory has not grown by their replies, every interrupted
# connection was closed, and the next call, through to the real Redis, is
# served by Redis.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use IO::Select;
use IO::Socket::INET;
use IPC::Run;
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use VisitTrack;

my $REPLY_BYTES = 1 << 20;
my $CALLS = 40;

my ($node, $redis) = vt_node('redis_reply_leak');
my $dir = PostgreSQL::Test::Utils::tempdir();
my $proxy_flag = "$dir/proxy";	# exists: connections go through to the real Redis

# The fake Redis, in a process of its own with one select loop.  It counts
# in files: stalled (connections answered once), closed (those the backend
# hung up), proxied, and replied (its big replies sent).
my $listener = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1)
  or die "listen: $!";
my $fake_port = $listener->sockport;
my $fake_pid = fork;
die "fork: $!" unless defined $fake_pid;
if ($fake_pid == 0)
{
	$SIG{PIPE} = 'IGNORE';	# a backend that hung up is counted, not fatal
	my %count = (stalled => 0, closed => 0, proxied => 0, replied => 0);
	my $note = sub {
		my ($what) = @_;
		$count{$what}++;
		open(my $fh, '>', "$dir/$what.tmp") or return;
		print $fh $count{$what};
		close $fh;
		rename("$dir/$what.tmp", "$dir/$what");
	};
	my $big = '$' . $REPLY_BYTES . "\r\n" . ('x' x $REPLY_BYTES) . "\r\n";
	my $sel = IO::Select->new($listener);
	my (%peer, %stalled, %answered);
	while (1)
	{
		for my $s ($sel->can_read(1))
		{
			if ($s == $listener)
			{
				my $c = $listener->accept or next;
				if (-e $proxy_flag)
				{
					my $up = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $redis->{port}) or next;
					$peer{$c} = $up;
					$peer{$up} = $c;
					$sel->add($c, $up);
					$note->('proxied');
				}
				else
				{
					$stalled{$c} = 1;
					$sel->add($c);
					$note->('stalled');
				}
				next;
			}
			my $n = sysread($s, my $buf, 65536);
			if (!$n)
			{
				$sel->remove($s);
				delete $answered{$s};
				if (delete $stalled{$s}) { $note->('closed'); }
				elsif (my $p = delete $peer{$s}) { delete $peer{$p}; $sel->remove($p); close $p; }
				close $s;
				next;
			}
			if ($peer{$s})
			{
				my $p = $peer{$s};
				syswrite($p, $buf);
			}
			elsif ($stalled{$s} && !$answered{$s}++)
			{
				# answers the connection set-up's first command only
				my $off = 0;
				while ($off < length $big)
				{
					my $w = syswrite($s, $big, length($big) - $off, $off);
					last unless defined $w;
					$off += $w;
				}
				$note->('replied');
			}
		}
	}
}
close $listener;
END { kill 'KILL', $fake_pid if $fake_pid; }
sub count_of { my $f = "$dir/$_[0]"; return -e $f ? slurp_file($f) + 0 : 0; }

# the backend under test: a psql fed without waiting, so that a call can be
# cancelled from another session
my %p = (in => '', out => '', err => '', timer => IPC::Run::timeout(60));
$p{h} = IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('postgres') ],
	'<', \$p{in}, '>', \$p{out}, '2>', \$p{err}, $p{timer});
$p{in} .= "SET visittrack.redis_port = $fake_port; SET visittrack.redis_timeout_ms = 30000;"
  . " SET visittrack.redis_retry_interval_ms = 0; SET visittrack.redis_prefix = 'replyleak:';\n"
  . "SELECT pg_backend_pid();\n\\echo ready\n";
$p{h}->pump until $p{out} =~ /ready/ || $p{timer}->is_expired;
my ($pid) = $p{out} =~ /^(\d+)$/m;
my $other = session($node, 'postgres');
my $n_call = 0;

sub memory_kb
{
	my %f = slurp_file("/proc/$pid/status") =~ /^(VmRSS|VmData):\s+(\d+)/mg;
	return \%f;
}

sub interrupted_call
{
	my $replied = count_of('replied');
	my $mark = 'call-ended-' . ++$n_call;
	($p{out}, $p{err}) = ('', '');
	$p{in} .= "SELECT visittrack.track_page_view('" . random_fingerprint() . "', '/leak');\n\\echo $mark\n";
	$p{h}->pump_nb;
	my $deadline = time + 10;
	$p{h}->pump_nb, usleep(10_000) while count_of('replied') == $replied && time < $deadline;
	return 'the fake Redis got no request' if count_of('replied') == $replied;
	usleep(150_000);	# the backend reads the whole reply, then waits
	call_ok($other, "SELECT pg_cancel_backend($pid)");
	$p{h}->pump until $p{out} =~ /\Q$mark\E/ || $p{timer}->is_expired;
	return $p{err} =~ /canceling statement due to user request/ ? 'canceled'
	  : $p{err} =~ /ERROR:\s*(.*)/ ? "error: $1" : 'returned';
}

# a few first, so that the allocator has settled before measuring
interrupted_call() for 1 .. 3;
my $before = memory_kb();
my @results = map { interrupted_call() } 1 .. $CALLS;
my $after = memory_kb();
usleep(300_000);
my %grown = map { $_ => $after->{$_} - $before->{$_} } keys %$before;
note(sprintf('%d interrupted calls holding a %d kB reply each: VmRSS %+d kB, VmData %+d kB; %d/%d connections closed',
		$CALLS, $REPLY_BYTES / 1024, $grown{VmRSS}, $grown{VmData}, count_of('closed'), count_of('stalled')));
my %outcomes = map { $_ => 1 } @results;
is_deeply([ keys %outcomes ], ['canceled'], 'every call was canceled (' . join(', ', sort keys %outcomes) . ')');
my $budget_kb = $CALLS * $REPLY_BYTES / 1024 / 4;
ok($grown{VmRSS} < $budget_kb && $grown{VmData} < $budget_kb,
	"the backend did not keep the replies (grew less than $budget_kb kB)");
is(count_of('closed'), count_of('stalled'),
	'each interrupted connection was dropped (' . count_of('closed') . ' of ' . count_of('stalled') . ')');

# the next call reconnects, and Redis serves it
open(my $fh, '>', $proxy_flag) or die;
close $fh;
my $fp = random_fingerprint();
($p{out}, $p{err}) = ('', '');
$p{in} .= "SELECT visittrack.track_page_view('$fp', '/after');\n\\echo after-done\n";
$p{h}->pump until $p{out} =~ /after-done/ || $p{timer}->is_expired;
like($p{out}, qr/^1\n/, 'the next call works');
cmp_ok(count_of('proxied'), '>=', 1, 'on a new connection');
my @keys = grep { $_ ne '' } $redis->cli('KEYS', "*$fp*");
ok(@keys > 0, 'and was served by Redis (' . join(', ', @keys) . ')');

$p{in} .= "\\q\n";
$p{h}->finish;
$other->quit;
$node->stop;
done_testing();
