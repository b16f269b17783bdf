# Reports from a hot standby: a streaming replica of a primary running
# visittrack (same configuration, the same Redis) answers every report
# function, visitor_stats and current_visitors as the primary does once it
# has caught up, and keeps answering while the primary takes page views.
# doc/scaling.md, "Reports from a hot standby".
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $redis_port = $ENV{VT_REDIS_PORT}
  or plan skip_all => 'VT_REDIS_PORT not set (scripts/test scenarios starts Redis)';

my $primary = PostgreSQL::Test::Cluster->new('standby_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'visittrack'
timezone = 'UTC'
visittrack.redis_host = '127.0.0.1'
visittrack.redis_port = $redis_port
visittrack.redis_prefix = 'standby$$:'
visittrack.database = 'appdb'
visittrack.anon_session_ttl = 1
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE DATABASE appdb');
$primary->safe_psql('appdb', q{
CREATE EXTENSION visittrack;
CREATE ROLE reporter LOGIN;
SELECT visittrack.grant_reporting_role('reporter');
CREATE ROLE dashboard LOGIN;  -- current_visitors names visitors: an application function
SELECT visittrack.grant_application_role('dashboard');
});

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby_replica');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# Traffic: anonymous devices (some converting), signed-in sessions (some
# ended), community presence; then the day aggregated and the anonymous
# sessions finalised.
$primary->safe_psql('appdb', q{
SELECT count(visittrack.track_page_view(md5('dev' || d), '/p/' || (d * v % 7) || '/',
                                        CASE WHEN d % 3 = 0 THEN 'https://www.google.com/' END,
                                        'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0',
                                        ('203.0.113.' || d)::inet, NULL, NULL, NULL, 'page'))
  FROM generate_series(1, 40) d, generate_series(1, 1 + d % 6) v;
SELECT count(visittrack.session_start(md5('user' || u)::uuid, 'key' || u)) FROM generate_series(1, 10) u;
SELECT count(visittrack.session_touch(visittrack.session_start(md5('user' || u)::uuid, 'key' || u),
                                      '/signed/' || u))
  FROM generate_series(1, 10) u, generate_series(1, 3);
SELECT count(visittrack.link_conversion(md5('user' || u)::uuid, md5('dev' || u))) FROM generate_series(1, 5) u;
SELECT count(visittrack.session_end(visittrack.session_start(md5('user' || u)::uuid, 'key' || u)))
  FROM generate_series(1, 6) u;
SELECT count(visittrack.community_visit(md5('c' || c)::uuid,
                                        CASE WHEN v % 2 = 0 THEN md5('user' || v)::uuid END,
                                        CASE WHEN v % 2 = 1 THEN md5('dev' || v) END))
  FROM generate_series(1, 2) c, generate_series(1, 9) v;
});
sleep 2;
$primary->safe_psql('appdb', q{
SELECT visittrack.finalize_anonymous_sessions();
SELECT visittrack.aggregate_page_analytics((now() AT TIME ZONE 'UTC')::date);
});

my %reports = (
	top_pages => 'SELECT * FROM visittrack.top_pages(7, 100)',
	conversion_funnel => 'SELECT * FROM visittrack.conversion_funnel(30)',
	conversion_landing_pages => 'SELECT * FROM visittrack.conversion_landing_pages(30, 100)',
	conversion_referrers => 'SELECT * FROM visittrack.conversion_referrers(30, 100)',
	session_duration_comparison => 'SELECT * FROM visittrack.session_duration_comparison(7)',
	visitor_stats => q{SELECT c, s.* FROM generate_series(1, 2) c,
	                   visittrack.visitor_stats(md5('c' || c)::uuid) s},
	current_visitors => q{SELECT count(*), count(*) FILTER (WHERE (v->>'is_authenticated')::boolean)
	                        FROM generate_series(1, 2) c,
	                             visittrack.current_visitors(md5('c' || c)::uuid) v},
	windows => 'SELECT * FROM visittrack.windows()',
	page_analytics => q{SELECT url_path, total_views, unique_visitors FROM visittrack.page_analytics
	                    ORDER BY url_path},
);

# Each report runs on the standby as the role that may call it.
sub role_of { return $_[0] eq 'current_visitors' ? 'dashboard' : 'reporter'; }

# Every report on the standby against the primary.
sub compare_all
{
	my ($when) = @_;
	for my $name (sort keys %reports)
	{
		# The primary's worker finalises sessions meanwhile: compare the
		# standby with the primary's answer as of a replayed point, and look
		# again (a few times) when the primary moved on in between.
		my ($rc, $got, $err, $expected);
		for my $try (1 .. 5)
		{
			$expected = $primary->safe_psql('appdb', $reports{$name});
			$primary->wait_for_catchup($standby);
			($rc, $got, $err) = $standby->psql('appdb', $reports{$name},
				extra_params => [ '-U', role_of($name) ]);
			last if $rc != 0 || $got eq $expected;
		}
		is($rc, 0, "$when: $name runs on the standby") or diag($err);
		is($got, $expected, "$when: $name equals the primary's answer");
		isnt($expected, '', "$when: $name has rows") unless $name eq 'windows';
	}
}

is($standby->safe_psql('appdb', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
compare_all('after traffic');

# enrichment_status() answers on the standby (its figures are the
# standby's own).  status() counts rows of the PostgreSQL hot store, which
# is unlogged and so cannot be opened during recovery: recorded, not fixed
# here (doc/scaling.md, "Reports from a hot standby").
my ($rc, $res, $e) = $standby->psql('appdb', 'SELECT visittrack.enrichment_status() IS NOT NULL',
	extra_params => [ '-U', 'reporter' ]);
is($rc, 0, 'enrichment_status() runs on the standby') or diag($e);
is($res, 't', 'enrichment_status() returns an object on the standby');
($rc, $res, $e) = $standby->psql('appdb',
	q{SELECT visittrack.status()->'queues'->>'redis_backlog' IS NULL
	         AND visittrack.status() ? 'redis'},
	extra_params => [ '-U', 'reporter' ]);
is($rc, 0, 'status() runs on the standby') or diag($e);
is($res, 't', 'status() on the standby: the unlogged hot-store counts are null, the rest is there');

# The primary takes page views and visits; the standby answers every report
# meanwhile, without one failure.
my ($in, $out, $err) = ('', '', '');
my $writer = IPC::Run::start(
	[ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $primary->connstr('appdb') ],
	'<', \$in, '>', \$out, '2>', \$err);
$in .= q{
SELECT count(visittrack.track_page_view(md5('live' || (g % 50)), '/live/' || (g % 9) || '/'))
     + count(visittrack.community_visit(md5('c1')::uuid, NULL, md5('live' || (g % 50))))
  FROM generate_series(1, 4000) g;
\q
};
my ($rounds, $failed) = (0, 0);
while ($writer->pumpable && $rounds < 500)
{
	for my $name (sort keys %reports)
	{
		my ($rc, undef, $e) = $standby->psql('appdb', $reports{$name},
			extra_params => [ '-U', role_of($name) ]);
		if ($rc != 0) { $failed++; diag("$name: $e"); }
	}
	$rounds++;
	$writer->pump_nb;
}
ok($writer->finish, 'the primary writer ended without an error') or diag($err);
is($out =~ s/\s+//gr, '8000', 'the primary took 8000 page views and visits meanwhile');
cmp_ok($rounds, '>', 0, "$rounds rounds of every report ran on the standby meanwhile");
is($failed, 0, 'no report failed on the standby while the primary wrote');

$primary->safe_psql('appdb',
	q{SELECT visittrack.aggregate_page_analytics((now() AT TIME ZONE 'UTC')::date)});
compare_all('after writes');

# Without Redis the hot state lives in unlogged tables of the primary,
# which a standby cannot read: visitor_stats and current_visitors say so.
($rc, undef, $e) = $standby->psql('appdb',
	q{SET visittrack.redis_host = ''; SELECT * FROM visittrack.visitor_stats(md5('c1')::uuid)},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($rc, 0, 'visitor_stats on a standby without Redis fails ...');
like($e, qr/55000.*visitor_stats on a hot standby needs Redis/s, '... with 55000 and a message naming Redis');

$standby->stop;
$primary->stop;
done_testing();
