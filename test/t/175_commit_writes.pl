# Commit-time writes: what a transaction queued for the write-behind
# writers is written with its commit, as the caller's role could never
# redirect, or the commit fails with a clear error; an error never poisons
# the backend; a commit never waits for a writer that waits for it.
# (Issue "Trust", findings 1, 3, 4 and 12; doc/security.md.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use VisitTrack;

my $BIG = 'x' x 2000;	# a 2 kB URL and referrer, as in the report
my $VIEWS = 4000;		# 4000 x 4 kB: more than an 8 MB ring holds
my $FP = 'f' x 32;		# the device's fingerprint (signed-in views keep it)

my ($node) = vt_node('commit_writes', db => 'vt');
my $admin = session($node, 'vt');
call_ok($admin, 'SET visittrack.write_behind = on');
ok(wait_until(sub { call_ok($admin, "SELECT visittrack.status()->'write_behind'->>'active'") eq 'true' }, 30),
	'(the writers are attached)');
call_ok($admin, 'RESET visittrack.write_behind');

# A psql of its own, with messages in full (SQLSTATE, context) on stderr;
# run() sends SQL and returns (stdout, stderr) of it once psql is through.
sub psql_client
{
	my (%opts) = @_;
	my %p = (in => '', out => '', err => '', n => 0, timer => IPC::Run::timeout(300));
	$p{h} = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'VERBOSITY=verbose', '-d', $node->connstr('vt') . ($opts{user} ? " user=$opts{user}" : '') ],
		'<', \$p{in}, '>', \$p{out}, '2>', \$p{err}, $p{timer});
	return \%p;
}

sub run
{
	my ($p, $sql) = @_;
	my $mark = 'run-done-' . ++$p->{n};
	($p->{out}, $p->{err}) = ('', '');
	$p->{in} .= "$sql\n\\echo $mark\n";
	$p->{h}->pump until $p->{out} =~ /^\Q$mark\E$/m || $p->{timer}->is_expired;
	die "psql timed out on: " . substr($sql, 0, 200) if $p->{timer}->is_expired;
	(my $out = $p->{out}) =~ s/^\Q$mark\E\n//m;
	return ($out, $p->{err});
}

sub quit
{
	my ($p) = @_;
	$p->{in} .= "\\q\n";
	$p->{h}->finish;
}

# a session holding a lock on $table until released
sub lock_table
{
	my ($table, $mode) = @_;
	my $l = psql_client();
	my (undef, $err) = run($l, "BEGIN; LOCK $table IN $mode MODE;");
	die $err if $err =~ /ERROR/;
	return $l;
}

sub release
{
	my ($l) = @_;
	run($l, 'ROLLBACK;');
	quit($l);
}

# --- set-up: the application role and its planted function -------------------
call_ok($admin, "CREATE ROLE vt_app LOGIN; SELECT visittrack.grant_application_role('vt_app');
                 CREATE SCHEMA vt_app AUTHORIZATION vt_app");
my $app = psql_client(user => 'vt_app');
# pg_catalog.floor(numeric) is what visittrack's time-on-page statements
# call.  Whoever runs this one is recorded, and a superuser running it makes
# vt_app a superuser.
my (undef, $err) = run($app, q{
CREATE TABLE vt_app.ran (who text);
CREATE FUNCTION vt_app.floor(numeric) RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO vt_app.ran VALUES (current_user);
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE vt_app SUPERUSER';
    END IF;
    RETURN pg_catalog.floor($1);
END $$;
GRANT INSERT ON vt_app.ran TO PUBLIC;
GRANT USAGE ON SCHEMA vt_app TO PUBLIC;});
die $err if $err =~ /ERROR/;

sub new_session
{
	my $user = random_uuid();
	my ($sid) = run($app, "SELECT visittrack.session_start('$user', 'django-$user');");
	chomp $sid;
	return ($user, $sid);
}

# $n signed-in views in one transaction; returns (commit seconds, its
# SQLSTATE or undef, its messages).  $before_commit runs just before COMMIT.
sub big_transaction
{
	my ($user, $sid, $n, $before_commit) = @_;
	run($app, "BEGIN; SET LOCAL search_path = vt_app, pg_catalog; SET LOCAL visittrack.write_behind = on;");
	my $views = join("\n", map {
		"SELECT visittrack.track_page_view('$FP', '/big/$_/$BIG', 'https://ref.example/$BIG', NULL, NULL, '$user', '$sid');"
	} 0 .. $n - 1);
	(undef, $err) = run($app, $views);
	die "a view failed: $err" if $err =~ /ERROR/;
	$before_commit->() if $before_commit;
	my $t0 = time;
	(undef, $err) = run($app, 'COMMIT;');
	my $seconds = time - $t0;
	my ($code) = $err =~ /ERROR:\s+([0-9A-Z]{5}):/;
	return ($seconds, $code, $err);
}

sub rows_and_pages
{
	my ($sid) = @_;
	call_ok($admin, 'SELECT visittrack.flush_writes(30000)');
	return call_ok($admin, "SELECT (SELECT count(*) FROM visittrack.user_page_view WHERE session_id = '$sid') || '|' ||
	                               (SELECT pages_visited FROM visittrack.user_session WHERE session_id = '$sid')");
}

# --- finding 3: 16 failed calls left "SPI connections nested too deeply" -----
{
	my $user = random_uuid();
	my $conn = session($node, 'vt');
	call_ok($conn, '\set VERBOSITY sqlstate');
	my $locker = lock_table('visittrack.user_event', 'ACCESS EXCLUSIVE');
	call_ok($conn, "SET lock_timeout = '20ms'");
	my %codes;
	for (1 .. 30)
	{
		my (undef, $e) = call($conn, "SELECT visittrack.log_event('$user', 'poison.test')");
		my ($code) = defined $e ? $e =~ /ERROR:\s+(\w{5})/ : ('ok');
		$codes{ $code // $e }++;
	}
	release($locker);
	is_deeply(\%codes, { '55P03' => 30 },
		'30 log_event calls in a row fail with lock timeouts (' . join(',', sort keys %codes) . ')');
	my ($event, $e1) = call($conn, "SELECT visittrack.log_event('$user', 'poison.test')");
	my ($psid, $e2) = call($conn, "SELECT visittrack.session_start('$user', 'k-poison')");
	my ($pages, $e3) = call($conn, "SELECT visittrack.track_page_view('$FP', '/after', NULL, NULL, NULL, '$user', '$psid')");
	ok(!defined($e1 // $e2 // $e3) && $event ne '' && $pages eq '1',
		'then log_event, session_start and track_page_view work in the same backend ('
		  . ($e1 // $e2 // $e3 // "event $event, page $pages") . ')');
	$conn->quit;
}

# --- finding 1: the synchronous fallback ran the caller's search_path as the owner
{
	call_ok($admin, 'SELECT visittrack.flush_writes(30000)');
	my $overflowed = call_ok($admin, "SELECT visittrack.status()->'write_behind'->>'written_synchronously'");
	my ($user, $sid) = new_session();
	# some ordinary traffic first, so that the writer has rows of this session
	run($app, join("\n", map {
		"SELECT visittrack.track_page_view('$FP', '/warm/$_', NULL, NULL, NULL, '$user', '$sid');" } 0 .. 19));
	my ($seconds, $code, $msg) = big_transaction($user, $sid, $VIEWS);
	ok(!defined $code && $msg !~ /ERROR/,
		"a transaction of $VIEWS signed-in views with 4 kB of text each commits " . ($code // ''));
	cmp_ok($seconds, '<', 30, sprintf('its COMMIT returns in %.1f s, never waiting for the writer (finding 12)', $seconds));
	my $now = call_ok($admin, "SELECT visittrack.status()->'write_behind'->>'written_synchronously'");
	cmp_ok($now, '>', $overflowed, 'the queue had no room: ' . ($now - $overflowed) . ' records written by the commit itself');
	is(call_ok($admin, 'SELECT count(*) FROM vt_app.ran'), '0', "the application role's vt_app.floor(numeric) never ran");
	is(call_ok($admin, "SELECT rolsuper FROM pg_roles WHERE rolname = 'vt_app'"), 'f',
		'the application role is not a superuser');
	my $n = $VIEWS + 20;
	is(rows_and_pages($sid), "$n|$n", "every view has its row: $n rows, $n pages");
}

# --- finding 4: a failed fallback became a WARNING and the rows were lost -----
{
	my ($user, $sid) = new_session();
	my $locker = lock_table('visittrack.user_page_view', 'SHARE');
	run($app, "SET lock_timeout = '50ms';");
	my ($seconds, $code, $msg) = big_transaction($user, $sid, 2500);
	run($app, 'RESET lock_timeout;');
	release($locker);
	is($code // 'a successful commit', '55P03',
		"with the table locked and lock_timeout 50ms, COMMIT fails with SQLSTATE 55P03");
	like(($msg =~ /CONTEXT:\s+(.*)/s)[0] // '', qr/visittrack/,
		"the error's context names visittrack's commit-time writes");
	is(rows_and_pages($sid), '0|0', 'nothing of the failed transaction remains');
}

# --- finding 12: a commit waiting at commit time answered neither -------------
for my $how ('statement_timeout', 'pg_cancel_backend')
{
	my ($user, $sid) = new_session();
	my $locker = lock_table('visittrack.user_page_view', 'SHARE');
	my ($pid) = run($app, 'SELECT pg_backend_pid();');
	chomp $pid;
	my $canceller;
	run($app, "SET statement_timeout = '1s';") if $how eq 'statement_timeout';
	my ($seconds, $code) = big_transaction($user, $sid, 2500, $how eq 'statement_timeout' ? undef : sub {
			# cancels the COMMIT one second after it starts
			$canceller = IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('vt'),
					'-c', "SELECT pg_sleep(1.0), pg_cancel_backend($pid)" ], '>', \my $o, '2>', \my $e);
		});
	$canceller->finish if $canceller;
	run($app, 'RESET statement_timeout;');
	release($locker);
	ok(defined $code && $code eq '57014' && $seconds < 5,
		sprintf('a COMMIT blocked on a lock at commit time answers %s: %s after %.1f s',
			$how, $code // 'committed', $seconds));
	is(rows_and_pages($sid), '0|0', 'and leaves nothing behind');
}

quit($app);
$admin->quit;
$node->stop;
done_testing();
