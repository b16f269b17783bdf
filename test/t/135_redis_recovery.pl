# Recovery cases, each with real Redis processes:
# - a backend whose kept connection died while idle (Redis restarted)
#   reconnects on its next call: no outage declared, no fallback;
# - Redis restarted empty: an anonymous visitor's session continues from its
#   page views (same session id, next page number), not a new session;
# - a replica (READONLY after a failover) is treated as unavailable, with the
#   reason in status(), instead of failing every call on the old connection;
# - erasure while Redis does not answer is carried out when it is back;
# - a logout during an outage: session_get does not trust the stale key.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use VisitTrack;

my $P = 'recovery:';
my ($node, $redis) = vt_node('redis_recovery', conf => <<EOC);
visittrack.redis_timeout_ms = 200
visittrack.redis_retry_interval_ms = 300
visittrack.redis_prefix = '$P'
EOC
my $s = session($node, 'postgres');

sub counters
{
	return call_ok($s, q{SELECT c->>'redis_failures', c->>'fallback_calls'
	                       FROM (SELECT visittrack.status()->'counters' c) x});
}

# 1. a connection that died while idle
my $fp = random_fingerprint();
call_ok($s, "SELECT visittrack.track_page_view('$fp', '/a')");
my $before = counters();
$redis->stop;
$redis->start;
usleep(100_000);
my $pages = call_ok($s, "SELECT visittrack.track_page_view('$fp', '/b')");
my $after = counters();
is($after, $before,
	"a connection that died while idle is replaced without declaring an outage (failures|fallbacks $before -> $after)");

# 2. Redis restarted empty: the session continues from its page views
my $sid = call_ok($s, "SELECT session_id FROM visittrack.anonymous_page_view
                        WHERE device_fingerprint = '$fp' ORDER BY viewed_at LIMIT 1");
ok($pages eq '2' && $redis->hget("${P}anon_session:$fp", 'session_id') eq $sid,
	"after Redis came back empty, the visitor's session went on: page $pages of session "
	  . substr($sid, 0, 8));
$pages = call_ok($s, "SELECT visittrack.track_page_view('$fp', '/c')");
ok($pages eq '3'
	  && call_ok($s, "SELECT count(DISTINCT session_id) FROM visittrack.anonymous_page_view
	                   WHERE device_fingerprint = '$fp'") eq '1',
	'one session, pages 1..3');

# 3. a read-only replica
my $replica = start_redis($node->basedir,
	extra => [ '--replicaof', '127.0.0.1', $redis->{port} ]);
usleep(500_000);
my $rs = session($node, 'postgres');
call_ok($rs, "SET visittrack.redis_port = $replica->{port}");
my $fp2 = random_fingerprint();
my $n = call_ok($rs, "SELECT visittrack.track_page_view('$fp2', '/replica')");
my ($up, $last_error) = split(/\|/,
	call_ok($rs, "SELECT s->'redis'->>'up', s->'redis'->>'last_error' FROM visittrack.status() s"), 2);
$last_error //= '';
ok($n eq '1' && $up eq 'false' && $last_error =~ /READONLY/,
	"a read-only replica is treated as unavailable: $last_error");
is(call_ok($rs, "SELECT visittrack.track_page_view('$fp2', '/replica2')"), '2',
	'and the page views go on, counted in PostgreSQL');
$rs->quit;
$replica->stop;

# 4. erasure while Redis does not answer (frozen), carried out when it is back
my $fp3 = random_fingerprint();
call_ok($s, "SELECT visittrack.track_page_view('$fp3', '/e')");
is($redis->exists("${P}anon_session:$fp3"), '1', 'the visitor is in Redis');
usleep(400_000);	# retry interval of the replica episode
$redis->freeze;
my (undef, $err) = call($s, "SELECT visittrack.forget_fingerprint('$fp3')");
$redis->resume;
die $err if $err;
is(call_ok($s, "SELECT count(*) FROM visittrack.hot_redis_backlog
                 WHERE key_kind = 'anon_session' AND key_id = '$fp3'"), '1',
	'the erasure Redis missed is noted');
usleep(400_000);
call_ok($s, 'SELECT visittrack.reconcile_hot_state()');
is($redis->exists("${P}anon_session:$fp3"), '0', 'and carried out when Redis is back');

# 5. a logout during an outage: the key in Redis is stale until reconciled
my $sid4 = call_ok($s, "SELECT visittrack.session_start(gen_random_uuid(), 'recovery-logout')");
my $key = "${P}session:$sid4";
is($redis->hget($key, 'is_active'), 'true', 'a live session in Redis');
my @saved = $redis->cli('HGETALL', $key);
$redis->freeze;
(undef, $err) = call($s, "SELECT visittrack.session_end('$sid4')");
$redis->resume;
die $err if $err;
usleep(400_000);
# a resumed Redis runs the DEL it had received; a lost one leaves this:
$redis->cli('HSET', $key, @saved);
is($redis->hget($key, 'is_active'), 'true', 'Redis holds the logged-out session (write lost)');
my $active = call_ok($s, "SELECT (visittrack.session_get('$sid4'))->>'is_active'");
is($active, 'false', "session_get does not trust it: is_active $active");
call_ok($s, 'SELECT visittrack.reconcile_hot_state()');
ok($redis->exists($key) eq '0' || $redis->hget($key, 'is_active') ne 'true',
	'reconciliation repaired the key');

$s->quit;
$node->stop;
done_testing();
