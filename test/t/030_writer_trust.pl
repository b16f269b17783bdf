# The write-behind writers run as the bootstrap superuser in a database that
# somebody else owns.  That owner's settings (ALTER DATABASE ... SET
# search_path) must never decide what the writers' SQL resolves to, and a
# long run of failed batches must not leave a writer unable to write.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('writer_trust');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'visittrack'
visittrack.database = 'appdb'
visittrack.redis_host = ''
visittrack.write_behind = on
visittrack.write_behind_delay = 10
# every batch a writer runs while the table is locked fails at once
lock_timeout = '100ms'
log_min_messages = log
});
$node->start;

$node->safe_psql('postgres', q{
CREATE ROLE dbowner LOGIN;
CREATE DATABASE appdb OWNER dbowner;
});
$node->safe_psql('appdb', 'CREATE EXTENSION visittrack');

# The database owner plants floor(numeric), which visittrack's time-on-page
# statements call, in a schema of its own and puts it first in the
# database's search_path.  If a superuser runs it, dbowner becomes one.
$node->safe_psql('appdb', q{
SET ROLE dbowner;
CREATE SCHEMA evil;
CREATE TABLE evil.ran (who text);
GRANT USAGE ON SCHEMA evil TO PUBLIC;
GRANT INSERT ON evil.ran TO PUBLIC;
CREATE FUNCTION evil.floor(numeric) RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evil.ran VALUES (current_user);
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE dbowner SUPERUSER';
    END IF;
    RETURN pg_catalog.floor($1);
END $$;
ALTER DATABASE appdb SET search_path = evil, pg_catalog;
});
# the writers take the database's settings when they connect
$node->restart;
$node->poll_query_until('appdb',
	"SELECT (visittrack.status()->'write_behind'->>'active')::boolean")
  or die 'the writers did not attach';

# Views queued across several batches, so that each batch closes the time
# on page of rows written by an earlier one.
my $user = '00000000-0000-0000-0000-0000000000aa';
my $fp = 'ab' x 16;
my $sid = $node->safe_psql('appdb',
	"SELECT visittrack.session_start('$user', 'django-key')");
for my $i (1 .. 6)
{
	$node->safe_psql('appdb', qq{
SELECT visittrack.track_page_view('$fp', '/anon/$i');
SELECT visittrack.track_page_view('$fp', '/signed-in/$i', NULL, NULL, NULL, '$user', '$sid');
});
	usleep(150_000);
}
is($node->safe_psql('appdb', 'SELECT visittrack.flush_writes(20000)'), 't',
	'the writers wrote every queued view');
is($node->safe_psql('appdb',
	"SELECT count(*) FROM visittrack.user_page_view WHERE time_on_page_seconds IS NOT NULL"),
	'5', 'time on page closed across batches (the statements that call floor ran)');
is($node->safe_psql('appdb', 'SELECT count(*) FROM evil.ran'), '0',
	"the database owner's evil.floor(numeric) never ran");
is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'dbowner'"),
	'f', 'the database owner is not a superuser');
is($node->safe_psql('appdb',
	"SELECT setting FROM pg_settings WHERE name = 'search_path'"),
	'evil, pg_catalog', "(sessions still get the database's search_path)");

# Thirty failed batches in a row, then the lock goes away: the writer
# writes everything.
my ($in, $out, $err) = ('', '', '');
my $locker = IPC::Run::start(
	[ 'psql', '-X', '-At', '-d', $node->connstr('appdb') ],
	'<', \$in, '>', \$out, '2>', \$err);
$in .= "SET lock_timeout = 0; BEGIN; LOCK visittrack.user_page_view IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n";
$locker->pump until $out =~ /locked/;

my $log_offset = -s $node->logfile;
$node->safe_psql('appdb', qq{
SELECT visittrack.track_page_view('$fp', '/locked/' || g, NULL, NULL, NULL, '$user', '$sid')
  FROM generate_series(1, 100) g;
});
my $failed = 0;
for (my $waited = 0; $waited < 120 && $failed < 30; $waited++)
{
	sleep 1;
	my $log = slurp_file($node->logfile, $log_offset);
	$failed = () = $log =~ /visittrack writer: a batch of \d+ writes failed/g;
}
cmp_ok($failed, '>=', 30, "the rows writer failed $failed batches in a row on the locked table");

$in .= "COMMIT;\n\\q\n";
$locker->finish;
is($node->safe_psql('appdb', 'SELECT visittrack.flush_writes(30000)'), 't',
	'after the lock is released, the writer catches up');
is($node->safe_psql('appdb',
	"SELECT count(*) FROM visittrack.user_page_view WHERE url LIKE '/locked/%'"),
	'100', 'all 100 views queued while the table was locked are written, once');
unlike(slurp_file($node->logfile, $log_offset), qr/nested too deeply|dropped a queued write/,
	'no write was dropped and no SPI state leaked');

$node->stop;
done_testing();
