# VisitTrack: what the TAP scenarios (test/t/*.pl) share.  A node with
# visittrack preloaded and a Redis of its own on a free port, control of
# that Redis (stop, restart empty, freeze, redis-cli), sessions that time
# their calls and report errors instead of dying, clients racing in
# separate processes, and small waiting and statistics helpers.
package VisitTrack;

use strict;
use warnings;
use Exporter 'import';
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(vt_node start_redis session call call_ok wait_until percentile
  run_clients start_clients wait_clients random_fingerprint random_uuid);

my @redis_servers;	# every Redis started here, stopped however the test ends

END
{
	local $?;	# keep the test's exit status
	$_->shutdown for @redis_servers;
}

=pod

=item start_redis($dir, %opts)

Starts redis-server on a free loopback port, data and log under $dir,
without persistence (a restart comes back empty).  %opts: extra => [...]
more redis-server arguments.  Returns a VisitTrack::Redis.

=cut

sub start_redis
{
	my ($dir, %opts) = @_;
	my $self = bless {
		port => PostgreSQL::Test::Cluster::get_free_port(),
		dir => $dir,
		extra => $opts{extra} || [],
	}, 'VisitTrack::Redis';
	$self->start;
	push @redis_servers, $self;
	return $self;
}

=pod

=item vt_node($name, %opts)

A started node with visittrack preloaded, pointed at a Redis of its own
(started here; redis => 0 for none), and database $opts{db} (default
'postgres') with the extension.  %opts: conf => more postgresql.conf
lines, worker => 'on' to keep the maintenance worker (off by default).
Returns ($node, $redis).

=cut

sub vt_node
{
	my ($name, %opts) = @_;
	my $db = $opts{db} // 'postgres';
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	my $redis;
	$redis = start_redis($node->basedir) unless defined $opts{redis} && !$opts{redis};
	my $conf = "shared_preload_libraries = 'visittrack'\n"
	  . "log_statement = none\n"
	  . "max_connections = 40\n"
	  . "visittrack.database = '$db'\n"
	  . 'visittrack.worker = ' . ($opts{worker} // 'off') . "\n"
	  . ($redis
		? "visittrack.redis_host = '127.0.0.1'\nvisittrack.redis_port = $redis->{port}\n"
		: "visittrack.redis_host = ''\n")
	  . ($opts{conf} // '');
	$node->append_conf('postgresql.conf', $conf);
	$node->start;
	$node->safe_psql('postgres', "CREATE DATABASE $db") if $db ne 'postgres';
	$node->safe_psql($db, 'CREATE EXTENSION visittrack');
	return ($node, $redis);
}

=pod

=item session($node, $db)

A psql session kept open on $db, driven line by line through pipes (for
many small timed calls; PostgreSQL::Test::BackgroundPsql pumps through
IPC::Run and costs several milliseconds per call).  Use with call(),
call_ok() and $session->quit.

=item call($session, $sql)

Runs $sql in the session.  Returns ($output, $error, $ms): $output the
rows psql printed (unaligned, tuples only), $error the ERROR or FATAL
message (undef when none; warnings and notices are not errors) and $ms
the milliseconds the call took, seen by the client.

=cut

sub session
{
	my ($node, $db) = @_;
	return VisitTrack::Session->new($node->connstr($db));
}

sub call
{
	my ($session, $sql) = @_;
	return $session->query($sql);
}

# call(), dying on an error: for set-up and checks.
sub call_ok
{
	my ($session, $sql) = @_;
	my ($out, $err) = call($session, $sql);
	die "query failed: $sql\n$err" if defined $err;
	return $out;
}

=pod

=item wait_until($sub, $seconds)

Polls $sub every 100 ms until it returns true or $seconds pass; returns
its last value.

=cut

sub wait_until
{
	my ($sub, $seconds) = @_;
	my $deadline = time + $seconds;
	while (time < $deadline)
	{
		my $v = $sub->();
		return $v if $v;
		usleep(100_000);
	}
	return $sub->();
}

# The p-th percentile of a list of numbers (nearest rank, as the old
# Python scripts computed it); 0 for an empty list.
sub percentile
{
	my ($values, $p) = @_;
	my @v = sort { $a <=> $b } @$values;
	return 0 unless @v;
	my $k = int($p / 100.0 * $#v + 0.5);
	$k = $#v if $k > $#v;
	return $v[$k];
}

=pod

=item run_clients($node, $db, $n, $work, %opts)

Races $n clients: each in a process of its own with its own session on
$db, which first runs $opts{setup} (SQL, e.g. SET commands), then
$work->($session, $i), which returns a list of result lines.  Returns
(\@results, \@errors): every client's lines, and the error of each client
that died.  start_clients() takes the same arguments and returns at once;
wait_clients() on what it returned waits and gives the same two lists.

=cut

sub run_clients
{
	return wait_clients(start_clients(@_));
}

sub start_clients
{
	my ($node, $db, $n, $work, %opts) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir();
	my @pids;
	for my $i (0 .. $n - 1)
	{
		my $pid = fork;
		die "fork: $!" unless defined $pid;
		if ($pid == 0)
		{
			# the child: report through files, and leave without running
			# END blocks (they would stop the node and the Redis); a seed of
			# its own, or every client would draw the same "random" visitors
			srand($$ ^ int(Time::HiRes::time() * 1000));
			my @lines;
			my $ok = eval {
				my $s = session($node, $db);
				call_ok($s, $opts{setup}) if $opts{setup};
				@lines = $work->($s, $i);
				$s->quit;
				1;
			};
			open(my $fh, '>', "$dir/client.$i") or POSIX::_exit(2);
			print $fh "$_\n" for @lines;
			close $fh;
			if (!$ok)
			{
				open(my $eh, '>', "$dir/error.$i");
				print $eh $@;
				close $eh;
			}
			POSIX::_exit(0);
		}
		push @pids, $pid;
	}
	return { dir => $dir, pids => \@pids };
}

sub wait_clients
{
	my ($clients) = @_;
	my $dir = $clients->{dir};
	waitpid($_, 0) for @{ $clients->{pids} };
	my (@results, @errors);
	for my $i (0 .. $#{ $clients->{pids} })
	{
		push @results, split(/\n/, slurp_file("$dir/client.$i")) if -e "$dir/client.$i";
		push @errors, slurp_file("$dir/error.$i") if -e "$dir/error.$i";
		push @errors, "client $i left no report" unless -e "$dir/client.$i";
	}
	return (\@results, \@errors);
}

# From the kernel, not rand(): forked clients seeded alike (pid XOR time
# collides for neighbouring pids) drew the same "random" visitors.
sub random_fingerprint
{
	open(my $fh, '<:raw', '/dev/urandom') or die "/dev/urandom: $!";
	read($fh, my $bytes, 16) == 16 or die "short read from /dev/urandom";
	close $fh;
	return unpack('H*', $bytes);
}

sub random_uuid
{
	my $h = random_fingerprint();
	$h =~ s/^(.{8})(.{4})(.{4})(.{4})(.{12})$/$1-$2-$3-$4-$5/;
	return $h;
}

package VisitTrack::Session;

use strict;
use warnings;
use IPC::Open3;
use Time::HiRes qw(time);

my $END_MARK = '__visittrack_call_done__';

sub new
{
	my ($class, $connstr) = @_;
	my ($in, $out);
	# stderr (undef) goes to the same pipe as stdout: a call's messages
	# arrive before the end mark that follows it
	my $pid = open3($in, $out, undef, 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=0', '-f', '-', '-d', $connstr);
	$in->autoflush(1);
	my $self = bless { in => $in, out => $out, pid => $pid }, $class;
	# one line per message, so that a message is told from output by its prefix
	my ($o, $err) = $self->query('\\set VERBOSITY terse');
	die "psql did not start: $err" if defined $err;
	return $self;
}

sub query
{
	my ($self, $sql) = @_;
	my $t0 = time;
	my $in = $self->{in};
	my $out = $self->{out};
	print $in "$sql\n;\n\\echo $END_MARK\n";
	my (@rows, $err);
	while (1)
	{
		my $line = <$out>;
		if (!defined $line)
		{
			$err //= 'psql exited';
			last;
		}
		chomp $line;
		last if $line eq $END_MARK;
		if ($line =~ /^psql:.*?: (ERROR|FATAL|PANIC|WARNING|NOTICE|INFO|LOG|DEBUG\d?):/)
		{
			$err //= $line if $1 eq 'ERROR' || $1 eq 'FATAL' || $1 eq 'PANIC';
			next;
		}
		push @rows, $line;
	}
	return (join("\n", @rows), $err, (time - $t0) * 1000.0);
}

sub quit
{
	my ($self) = @_;
	my $in = $self->{in};
	print $in "\\q\n";
	close $in;
	waitpid($self->{pid}, 0);
}

package VisitTrack::Redis;

use strict;
use warnings;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVTIMEO);
use PostgreSQL::Test::Utils;
use Time::HiRes qw(usleep);

# Starts (or starts again, empty) the server on its port.
sub start
{
	my ($self) = @_;
	my $dir = $self->{dir};
	system_or_bail('redis-server', '--port', $self->{port}, '--bind', '127.0.0.1',
		'--save', '', '--appendonly', 'no', '--daemonize', 'yes',
		'--dir', $dir, '--pidfile', "$dir/redis-$self->{port}.pid",
		'--logfile', "$dir/redis-$self->{port}.log", @{ $self->{extra} });
	for (1 .. 100)
	{
		if ($self->ping)
		{
			$self->{pid} = $self->cli('INFO', 'server') =~ /process_id:(\d+)/ ? $1 : undef;
			$self->{running} = 1;
			return;
		}
		usleep(50_000);
	}
	die "redis-server on port $self->{port} did not start";
}

# Whether the server answers PING on a new connection.
sub ping
{
	my ($self) = @_;
	delete $self->{sock};
	my $pong = eval { $self->_command('PING') };
	delete $self->{sock};
	return defined $pong && $pong eq 'PONG';
}

# SHUTDOWN NOSAVE: the data is lost; returns once the port is closed.
sub stop
{
	my ($self) = @_;
	$self->resume if $self->{frozen};
	eval { $self->_command('SHUTDOWN', 'NOSAVE') };
	delete $self->{sock};
	for (1 .. 100)
	{
		last unless $self->ping;
		usleep(50_000);
	}
	$self->{running} = 0;
}

# SIGSTOP: the server keeps its connections and data but stops answering.
sub freeze
{
	my ($self) = @_;
	kill 'STOP', $self->{pid};
	$self->{frozen} = 1;
}

sub resume
{
	my ($self) = @_;
	kill 'CONT', $self->{pid};
	$self->{frozen} = 0;
}

sub shutdown
{
	my ($self) = @_;
	$self->stop if $self->{running};
}

=pod

=item $redis->cli(@args)

Runs one command on a connection kept open (opened again after a
restart), speaking RESP.  In list context the reply as a list (an array's
elements, nil as ''), in scalar context a single reply as a string (an
array's elements joined by newlines), like redis-cli prints it.  An error
reply is returned as "ERR ..." text.

=cut

sub cli
{
	my ($self, @args) = @_;
	my $reply = eval { $self->_command(@args) };
	if (!defined $reply && $@)
	{
		# the kept connection died (Redis restarted): one more try
		delete $self->{sock};
		$reply = eval { $self->_command(@args) };
		die "redis $args[0]: $@" if $@;
	}
	my @lines = ref $reply eq 'ARRAY' ? map { $_ // '' } @$reply : ($reply // '');
	return wantarray ? @lines : join("\n", @lines);
}

sub _command
{
	my ($self, @args) = @_;
	$self->{sock} //= IO::Socket::INET->new(
		PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Timeout => 5)
	  or die "connect: $!";
	my $sock = $self->{sock};
	# a frozen server must not hang the test: reads give up after 5 s
	setsockopt($sock, SOL_SOCKET, SO_RCVTIMEO, pack('l!l!', 5, 0));
	my $req = '*' . scalar(@args) . "\r\n";
	$req .= '$' . length($_) . "\r\n$_\r\n" for @args;
	print $sock $req or die "write: $!";
	return _reply($sock);
}

# One RESP reply from $sock: a string, an integer, undef (nil) or an array ref.
sub _reply
{
	my ($sock) = @_;
	my $line = <$sock>;
	die "connection closed" unless defined $line;
	$line =~ s/\r\n$//;
	my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));
	return $rest if $type eq '+' || $type eq ':';
	return $rest if $type eq '-';
	if ($type eq '$')
	{
		return undef if $rest < 0;
		my $buf = '';
		while (length($buf) < $rest + 2)
		{
			my $n = read($sock, $buf, $rest + 2 - length($buf), length($buf));
			die "connection closed" unless $n;
		}
		return substr($buf, 0, $rest);
	}
	if ($type eq '*')
	{
		return undef if $rest < 0;
		return [ map { _reply($sock) } 1 .. $rest ];
	}
	die "unexpected reply: $line";
}

sub hget
{
	my ($self, $key, $field) = @_;
	return scalar $self->cli('HGET', $key, $field);
}

sub exists
{
	my ($self, $key) = @_;
	return scalar $self->cli('EXISTS', $key);
}

1;
