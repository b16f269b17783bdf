# Secrets from files (doc/settings.md, "Secrets"): the fingerprint key and
# the Redis password are read from files only the server's user may read,
# re-read at every reload; a file with group or world access is refused
# with a message naming it; values set per database or role, or in
# postgresql.conf, are refused; and no secret reaches the server log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('secrets');
$node->init;
my $dir = $node->basedir;

# Secrets of this run: none of them may ever appear in the server log.
my $tag = sprintf('%06d', int(rand(1_000_000)));
my $fp_secret = "fp-file-secret-$tag";
my $fp_rotated = "fp-rotated-secret-$tag";
my $conf_secret = "fp-conf-secret-$tag";
my $db_secret = "fp-db-secret-$tag";
my $redis_password = "redis-pw-$tag";
my @secrets = ($fp_secret, $fp_rotated, $conf_secret, $db_secret, $redis_password);

sub write_secret
{
	my ($path, $content, $mode) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $content;
	close($fh);
	chmod($mode, $path) or die "chmod $path: $!";
}

# A Redis of our own that requires a password.
my $redis_port = PostgreSQL::Test::Cluster::get_free_port();
system_or_bail('redis-server', '--port', $redis_port, '--bind', '127.0.0.1',
	'--requirepass', $redis_password, '--save', '', '--appendonly', 'no',
	'--daemonize', 'yes', '--dir', $dir, '--pidfile', "$dir/redis.pid",
	'--logfile', "$dir/redis.log");
my @redis_cli = ('redis-cli', '-p', $redis_port, '-a', $redis_password, '--no-auth-warning');
# stopped however the test ends
END { system(@redis_cli, 'shutdown', 'nosave') if @redis_cli; }
for (1 .. 50)
{
	last if run_log([ @redis_cli, 'ping' ]);
	select(undef, undef, undef, 0.1);
}

sub redis_exists
{
	my ($key) = @_;
	my ($out, $err) = run_command([ @redis_cli, 'EXISTS', $key ]);
	chomp $out;
	return $out;
}

# log_statement = all (the test default) would log every SET with its value:
# that is documented; here the log must show what visittrack itself prints.
$node->append_conf('postgresql.conf', qq{
log_statement = none
shared_preload_libraries = 'visittrack'
visittrack.worker = off
visittrack.redis_host = '127.0.0.1'
visittrack.redis_port = $redis_port
visittrack.redis_retry_interval_ms = 0
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION visittrack');

my $fp_sql = q{SELECT visittrack.fingerprint('192.0.2.1', 'secret test UA')};
my $install_fp = $node->safe_psql('postgres', $fp_sql);
my $direct_fp = $node->safe_psql('postgres',
	"SET visittrack.fingerprint_secret = '$fp_secret'; $fp_sql");
my $rotated_fp = $node->safe_psql('postgres',
	"SET visittrack.fingerprint_secret = '$fp_rotated'; $fp_sql");
isnt($direct_fp, $install_fp, 'a session secret replaces the per-install key');

# Without the password Redis refuses visittrack: the hot state falls back.
$node->safe_psql('postgres', "SELECT visittrack.track_page_view('$install_fp', '/a')");
is( $node->safe_psql('postgres', q{SELECT (visittrack.status())->>'hot_store'}),
	'postgresql (fallback)', 'without the password file Redis is not used');

# Both files, 0600, one trailing newline each; then a reload.
write_secret("$dir/fingerprint.secret", "$fp_secret\n", 0600);
write_secret("$dir/redis.password", "$redis_password\n", 0600);
$node->append_conf('postgresql.conf', qq{
visittrack.fingerprint_secret_file = '$dir/fingerprint.secret'
visittrack.redis_password_file = '$dir/redis.password'
});
$node->reload;
$node->poll_query_until('postgres', "$fp_sql = '$direct_fp'")
  or die 'the secret file was not read';
is($node->safe_psql('postgres', $fp_sql), $direct_fp,
	'the fingerprint under the file secret equals the one under the same direct secret');

my $fp = $node->safe_psql('postgres', $fp_sql);
$node->poll_query_until('postgres',
	qq{SELECT visittrack.track_page_view('$fp', '/b') > 0 AND (visittrack.status())->>'hot_store' = 'redis'})
  or die 'Redis was not used with the password file';
my $prefix = $node->safe_psql('postgres', q{SELECT visittrack.status()->'redis'->>'key_prefix'});
is(redis_exists("${prefix}anon_session:$fp"), '1', 'Redis AUTH with the password from the file: the session is in Redis');

# Changing the file and reloading changes the secret; nothing secret is logged.
my $offset = -s $node->logfile;
write_secret("$dir/fingerprint.secret", $fp_rotated, 0600);
$node->reload;
$node->poll_query_until('postgres', "$fp_sql = '$rotated_fp'")
  or die 'the changed secret file was not re-read';
pass('a reload re-reads the secret file');

# A secret value in postgresql.conf is refused at reload, without echoing it.
$node->append_conf('postgresql.conf', "visittrack.fingerprint_secret = '$conf_secret'\n");
$node->reload;
$node->wait_for_log(qr/visittrack.fingerprint_secret cannot be set in the configuration file/, $offset);
is($node->safe_psql('postgres', $fp_sql), $rotated_fp, 'a secret in postgresql.conf is not used');
$node->adjust_conf('postgresql.conf', 'visittrack.fingerprint_secret', undef);

# A file with group or world access is refused, naming the file; the
# previous secret stays in use.
chmod(0644, "$dir/fingerprint.secret");
$node->reload;
$node->wait_for_log(qr/visittrack.fingerprint_secret_file: file "\Q$dir\E\/fingerprint.secret" has group or world access/,
	$offset);
pass('a reload refuses a group- or world-readable secret file, naming it');
is($node->safe_psql('postgres', $fp_sql), $rotated_fp, 'the previous secret stays in use');

# At server start an unsafe file leaves no secret: fingerprints fail
# (SQLSTATE 55000) rather than silently use the per-install key.
$node->restart;
my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$fp_sql");
like($err, qr/55000: visittrack.fingerprint_secret is configured but could not be used/,
	'after a start with an unsafe file, fingerprint() fails with 55000');
like($err, qr/has group or world access/, 'the error says why');
chmod(0600, "$dir/fingerprint.secret");
$node->reload;
$node->poll_query_until('postgres', "$fp_sql = '$rotated_fp'")
  or die 'the repaired secret file was not read';
pass('once the mode is fixed, a reload brings the secret back');

# Per database and per role: refused with 55P02 and a hint, nothing stored.
my $sqlstate_of = q{
CREATE FUNCTION pg_temp.refusal(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE q;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ' ' || hint;
END $$;
};
$out = $node->safe_psql('postgres', $sqlstate_of . qq{
CREATE ROLE app LOGIN;
SELECT pg_temp.refusal(q) FROM unnest(ARRAY[
    \$\$ALTER DATABASE postgres SET visittrack.fingerprint_secret = '$db_secret'\$\$,
    \$\$ALTER ROLE app SET visittrack.redis_password = '$db_secret'\$\$,
    \$\$ALTER ROLE app IN DATABASE postgres SET visittrack.fingerprint_secret = '$db_secret'\$\$,
    \$\$ALTER ROLE ALL SET visittrack.redis_password = '$db_secret'\$\$,
    \$\$CREATE FUNCTION f() RETURNS int LANGUAGE sql SET visittrack.fingerprint_secret = '$db_secret' AS 'SELECT 1'\$\$
]) AS q;
});
my @refusals = split /\n/, $out;
is(scalar(@refusals), 5, 'five attempts');
like($_, qr/^55P02 Put the secret in a file readable only by the server's user and name that file in visittrack\.(fingerprint_secret|redis_password)_file/,
	"refused with 55P02 and a hint") for @refusals;
is( $node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_db_role_setting, unnest(setconfig) c WHERE c LIKE 'visittrack.%'}),
	'0', 'nothing lands in pg_db_role_setting');

# The same statements run outside a function: their errors are logged
# without the statement, which holds the value.
($rc, $out, $err) = $node->psql('postgres',
	"ALTER DATABASE postgres SET visittrack.fingerprint_secret = '$db_secret'");
like($err, qr/cannot be set per database, per role or for a function/, 'ALTER DATABASE refused');
($rc, $out, $err) = $node->psql('postgres',
	"ALTER SYSTEM SET visittrack.redis_password = '$db_secret'");
like($err, qr/cannot be set in the configuration file/, 'ALTER SYSTEM refused');
unlike(slurp_file($node->data_dir . '/postgresql.auto.conf'), qr/visittrack/,
	'ALTER SYSTEM wrote nothing');

# A value stored before this check existed is refused at connection.
$node->safe_psql('postgres',
	qq{INSERT INTO pg_db_role_setting VALUES ((SELECT oid FROM pg_database WHERE datname = 'postgres'), 0,
	   ARRAY['visittrack.fingerprint_secret=$db_secret'])});
($rc, $out, $err) = $node->psql('postgres', $fp_sql);
like($err, qr/WARNING:  visittrack.fingerprint_secret cannot be set per database or role/,
	'a stored per-database secret is refused at connection');
is($out, $rotated_fp, 'the file secret is used meanwhile');
$node->safe_psql('postgres', 'ALTER DATABASE postgres RESET visittrack.fingerprint_secret');

my $log = slurp_file($node->logfile);
like($log, qr/cannot be set per database/, 'the refusals are in the log');
for my $s (@secrets)
{
	unlike($log, qr/\Q$s\E/, "no secret in the server log ($s)");
}

$node->stop;
done_testing();
