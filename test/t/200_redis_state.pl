# What visittrack keeps in Redis, looked at directly: the hashes, sets and
# TTLs that the regression suite (sql/) drives through SQL.  pg_regress runs
# no program from SQL, so its Redis-state assertions live here, section by
# section as in sql/sessions.sql, transactions.sql, privileges.sql,
# anonymous.sql, community.sql, conversion.sql and privacy.sql, against a
# node and a Redis of this test's own.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use VisitTrack;

my $P = 'regress:';
my ($node, $redis) = vt_node('redis_state', conf => "visittrack.redis_prefix = '$P'\n");
my $s = session($node, 'postgres');

# a uuid made from a small number, as vt_test.uid() makes it
sub uid { my $h = sprintf('%032x', $_[0]); $h =~ s/^(.{8})(.{4})(.{4})(.{4})(.{12})$/$1-$2-$3-$4-$5/; return $h; }
sub q1 { return call_ok($s, $_[0]); }
sub keys_of { return scalar(my @k = grep { $_ ne '' } $redis->cli('KEYS', $P . $_[0])); }
sub ttl { return $redis->cli('TTL', $P . $_[0]); }

# --- sessions.sql ------------------------------------------------------------
my $sid = q1("SELECT visittrack.session_start('" . uid(1) . "', 'django-session-key-1', '203.0.113.45',
              'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', false, 'john_doe')");
my %want = (session_id => $sid, user_id => uid(1), user_username => 'john_doe',
	ip_address => '203.0.113.45', persistent => 'false', is_active => 'true', pages_visited => '0');
is_deeply({ map { $_ => $redis->hget("${P}session:$sid", $_) } keys %want }, \%want,
	"sessions: the session hash has the design document's fields");
like($redis->hget("${P}session:$sid", 'started_at'), qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/,
	'sessions: started_at is ISO 8601 in UTC');
ok(ttl("session:$sid") >= 14390 && ttl("session:$sid") <= 14400, 'sessions: a 4 hour TTL');
q1("SELECT visittrack.session_touch('$sid')");
q1("SELECT visittrack.session_touch('$sid', '/communities/montreal/')");
q1("SELECT visittrack.session_touch('$sid', '/communities/montreal/events/')");
is($redis->hget("${P}session:$sid", 'pages_visited'), '3', 'sessions: pages counted in Redis');
is($redis->cli('DEL', "${P}session:$sid"), '1', 'sessions: read-through: the key is deleted');
is(q1("SELECT (s->>'pages_visited') || ' ' || (s->>'user_username') FROM visittrack.session_get('$sid') s"),
	'3 john_doe', 'sessions: the database answers session_get');
is($redis->hget("${P}session:$sid", 'pages_visited'), '3', 'sessions: and Redis is refilled');
ok(ttl("session:$sid") >= 14300 && ttl("session:$sid") <= 14400, 'sessions: with the 4 hour TTL');
my $sid3 = q1("SELECT visittrack.session_start('" . uid(3) . "', 'django-session-key-3', remember_me => true)");
ok(ttl("session:$sid3") >= 2591990 && ttl("session:$sid3") <= 2592000, 'sessions: remember me: 30 days');
is($redis->hget("${P}session:$sid3", 'persistent'), 'true', 'sessions: persistent in Redis');
q1("SELECT visittrack.session_end('$sid')");
is(keys_of("session:$sid"), 0, 'sessions: logout deletes the key');
q1("SELECT visittrack.session_touch('$sid')");
q1("SELECT visittrack.session_get('$sid')");
is(keys_of("session:$sid"), 0, 'sessions: an ended session is not put back in Redis');
q1("SET visittrack.session_ttl = '1s'");
my $sid4 = q1("SELECT visittrack.session_start('" . uid(4) . "', 'django-session-key-4')");
my $pttl = $redis->cli('PTTL', "${P}session:$sid4");
ok($pttl >= 1 && $pttl <= 1000, "sessions: session_ttl 1s gives the key a 1 s TTL ($pttl ms)");
q1('RESET visittrack.session_ttl');

# --- transactions.sql --------------------------------------------------------
q1('BEGIN');
my $rolled = q1("SELECT visittrack.session_start('" . uid(10) . "', 'rolled-back-key')");
is(keys_of("session:$rolled"), 0, 'transactions: not in Redis before commit');
q1('ROLLBACK');
is(keys_of("session:$rolled"), 0, 'transactions: nor after a rollback');
q1('BEGIN');
my $sid11 = q1("SELECT visittrack.session_start('" . uid(11) . "', 'committed-key')");
q1('COMMIT');
is(keys_of("session:$sid11"), 1, 'transactions: committed: present');
q1("BEGIN; SAVEPOINT s1; SELECT visittrack.session_end('$sid11'); ROLLBACK TO SAVEPOINT s1;
    SELECT visittrack.session_touch('$sid11'); COMMIT;");
is(keys_of("session:$sid11"), 1, 'transactions: a logout inside a rolled-back savepoint keeps the key');
is($redis->hget("${P}session:$sid11", 'pages_visited'), '1', 'transactions: with the page counted after it');
q1("BEGIN; SAVEPOINT s2; SELECT visittrack.session_end('$sid11'); RELEASE SAVEPOINT s2;");
is(keys_of("session:$sid11"), 1, "transactions: a released savepoint's logout waits for the outer commit");
q1('COMMIT');
is(keys_of("session:$sid11"), 0, 'transactions: and happens with it');
q1('BEGIN');
my $sid12 = q1("SELECT visittrack.session_start('" . uid(12) . "', 'read-in-rollback')");
q1("SELECT visittrack.session_get('$sid12')");
q1('ROLLBACK');
is(keys_of("session:$sid12"), 0, 'transactions: session_get inside a rolled-back transaction caches nothing');
my $before = keys_of('session:*');
my (undef, $err) = call($s, "DO \$do\$ BEGIN PERFORM visittrack.session_start('" . uid(13)
	  . "', 'failing-transaction'); RAISE EXCEPTION 'application failed'; END \$do\$");
like($err, qr/application failed/, 'transactions: (the transaction failed)');
is(keys_of('session:*'), $before, 'transactions: an error after the call leaves no key');

# --- privileges.sql: commit-time writes run as the extension owner -------------
q1("CREATE ROLE vt_app LOGIN; SELECT visittrack.grant_application_role('vt_app')");
q1('SET ROLE vt_app');
my $app_sid = q1("SELECT visittrack.session_start('00000000-0000-0000-0000-0000000000a2', 'app-key-2')");
q1("SELECT visittrack.session_touch('$app_sid')");
q1('RESET ROLE');
is($redis->hget("${P}session:$app_sid", 'pages_visited'), '1', "privileges: the application role's page is in Redis");
q1("SET ROLE vt_app; SELECT visittrack.session_end('$app_sid'); RESET ROLE");
is(keys_of("session:$app_sid"), 0, "privileges: and its logout deleted the key");

# --- anonymous.sql -----------------------------------------------------------
my $fp = q1("SELECT visittrack.fingerprint('198.51.100.20', 'Mozilla/5.0 (X11; Linux) Firefox/120.0')");
q1("SELECT visittrack.track_page_view('$fp', '/search?q=events', 'https://www.google.com/',
       'Mozilla/5.0 (X11; Linux) Firefox/120.0', '198.51.100.20', url_name => 'search', page_type => 'search')");
%want = (device_fingerprint => $fp, pages_visited => '1', current_page => '/search?q=events',
	landing_page => '/search?q=events', referrer => 'https://www.google.com/', is_active => 'true');
is_deeply({ map { $_ => $redis->hget("${P}anon_session:$fp", $_) } keys %want }, \%want,
	"anonymous: the hot entry has the design document's fields");
like($redis->hget("${P}anon_session:$fp", 'session_id'), qr/^[0-9a-f-]{36}$/, 'anonymous: and a session id');
ok(ttl("anon_session:$fp") >= 1790 && ttl("anon_session:$fp") <= 1800, 'anonymous: a 30 minute TTL');
q1("SELECT visittrack.track_page_view('$fp', '/p/' || g) FROM generate_series(2, 5) g");
is(q1("SELECT session_id FROM visittrack.anonymous_session WHERE device_fingerprint = '$fp'"),
	$redis->hget("${P}anon_session:$fp", 'session_id'), 'anonymous: the row persisted at page 5 has the same session id');
q1("SELECT visittrack.track_page_view('$fp', '/help/')");
q1("BEGIN; SELECT visittrack.track_page_view('$fp', '/rolled-back/'); ROLLBACK;");
is($redis->hget("${P}anon_session:$fp", 'pages_visited'), '7', 'anonymous: a rolled-back view is still counted in Redis');
my $fp2 = q1("SELECT visittrack.fingerprint('198.51.100.21', 'UA')");
q1("SELECT visittrack.track_page_view('$fp2', E'/path\\r\\nSET x y/' || repeat('a', 3000), E'ref\\ttab')");
like($redis->hget("${P}anon_session:$fp2", 'landing_page'), qr{^/path%0D%0ASET x y/},
	'anonymous: CR and LF in the landing page are encoded in Redis');

# --- community.sql -------------------------------------------------------------
my $c = 'c0000000-0000-0000-0000-000000000001';
my ($fp_c1, $fp_c2) = map { q1("SELECT visittrack.fingerprint('198.51.100.3$_', 'UA $_')") } 0, 1;
q1("SELECT visittrack.community_visit('$c', device_fingerprint => '$fp_c1')") for 1 .. 2;
q1("SELECT visittrack.community_visit('$c', device_fingerprint => '$fp_c2')");
q1("SELECT visittrack.community_visit('$c', '" . uid($_) . "', community_slug => 'montreal')") for 1 .. 3;
is(join(' ', $redis->cli('SCARD', "${P}community:$c:visitors:authenticated"),
		$redis->cli('SCARD', "${P}community:$c:visitors:anonymous"),
		$redis->cli('HLEN', "${P}community:$c:visitors")),
	'3 2 5', 'community: 3 signed-in and 2 anonymous visitors in the sets, 5 in the hash');
ok(ttl("community:$c:visitors") >= 295 && ttl("community:$c:visitors") <= 300, 'community: a 5 minute TTL');

# --- conversion.sql ------------------------------------------------------------
my $cfp = q1("SELECT visittrack.fingerprint('198.51.100.40', 'Converting UA')");
q1("SELECT visittrack.track_page_view('$cfp', '/blog/how-to/', 'https://news.example.com/') FROM generate_series(1, 3)");
is(q1("SELECT visittrack.link_conversion('" . uid(50) . "', '$cfp')"),
	$redis->hget("${P}anon_session:$cfp", 'session_id'), 'conversion: link_conversion links the live session');
my $gfp = q1("SELECT visittrack.fingerprint('198.51.100.41', 'Gone UA')");
q1("SELECT visittrack.track_page_view('$gfp', '/landing/', 'https://ref.example/')");
q1("SELECT visittrack.track_page_view('$gfp', '/second/')");
is($redis->cli('DEL', "${P}anon_session:$gfp"), '1', 'conversion: the Redis entry is deleted');
is(q1("SELECT visittrack.link_conversion('" . uid(53) . "', '$gfp') IS NOT NULL"), 't',
	'conversion: a session only in page views is found');
is(q1("SELECT pages_visited || ' ' || landing_page || ' ' || referrer FROM visittrack.anonymous_session
        WHERE device_fingerprint = '$gfp'"), '2 /landing/ https://ref.example/',
	'conversion: and persisted from its page views');

# --- privacy.sql ---------------------------------------------------------------
for ([ 'none', 801, '203.0.113.45' ], [ 'truncate', 802, '203.0.113.0' ], [ 'drop', 803, '' ])
{
	my ($mode, $n, $ip) = @$_;
	my $psid = q1("SET visittrack.ip_anonymize = '$mode';
	               SELECT visittrack.session_start('" . uid($n) . "', 'ip-key-$mode', '203.0.113.45', 'IP test UA')");
	q1('RESET visittrack.ip_anonymize');
	is($redis->hget("${P}session:$psid", 'ip_address'), $ip, "privacy: ip_anonymize = $mode in the session hash");
}
my $ffp = q1("SELECT visittrack.fingerprint('198.51.100.60', 'Forget me UA')");
my ($u700, $u701, $c902) = (uid(700), uid(701), uid(902));
q1("SELECT visittrack.track_page_view('$ffp', '/before-signup/' || g, ip => '198.51.100.60') FROM generate_series(1, 6) g");
q1("SELECT visittrack.community_visit('$c902', device_fingerprint => '$ffp')");
q1("SELECT visittrack.link_conversion('$u700', '$ffp')");
my $sid1 = q1("SELECT visittrack.session_start('$u700', 'forget-key-1', '198.51.100.60', 'Forget me UA')");
q1("SELECT visittrack.session_touch('$sid1', '/home'); SELECT visittrack.session_end('$sid1')");
my $sid2 = q1("SELECT visittrack.session_start('$u700', 'forget-key-2', '198.51.100.60', 'Forget me UA')");
q1("SELECT visittrack.track_page_view('$ffp', '/after-signup/', user_id => '$u700')");
q1("SELECT visittrack.community_visit('$c902', '$u700')");
my $keep_sid = q1("SELECT visittrack.session_start('$u701', 'keep-key', '198.51.100.61', 'Keep me UA')");
q1("SELECT visittrack.community_visit('$c902', '$u701')");
is(keys_of("session:$sid2") . ' ' . keys_of("anon_session:$ffp"), '1 1', 'privacy: before forget_user: the live session and the anonymous one');
q1("SELECT visittrack.forget_user('$u700')");
is(keys_of("session:$sid2") . ' ' . keys_of("anon_session:$ffp"), '0 0', 'privacy: forget_user deletes both keys');
is(join(' ', $redis->cli('HEXISTS', "${P}community:$c902:visitors", $u700),
		$redis->cli('HEXISTS', "${P}community:$c902:visitors", "anon_$ffp")),
	'0 0', 'privacy: and the presence of the user and of the device');
is(keys_of("session:$keep_sid"), 1, "privacy: another user's session key stays");
my $afp = q1("SELECT visittrack.fingerprint('198.51.100.62', 'Anonymous forget UA')");
q1("SELECT visittrack.track_page_view('$afp', '/a/' || g) FROM generate_series(1, 5) g");
is($redis->cli('DEL', "${P}anon_session:$afp"), '1', 'privacy: the first session leaves Redis');
q1("SELECT visittrack.track_page_view('$afp', '/b/' || g) FROM generate_series(1, 2) g");
q1("SELECT visittrack.community_visit('" . uid(903) . "', device_fingerprint => '$afp')");
q1("SELECT visittrack.forget_fingerprint(upper('$afp'))");
is(keys_of("anon_session:$afp"), 0, "privacy: forget_fingerprint deletes the live session's key");
is($redis->cli('HEXISTS', "${P}community:" . uid(903) . ':visitors', "anon_$afp"), '0',
	'privacy: and its presence');

$s->quit;
$node->stop;
done_testing();
