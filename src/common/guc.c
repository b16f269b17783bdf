/*
 * guc.c: definitions of every visittrack.* setting.
 *
 * Defaults are the design document's values.  Windows and TTLs are integer
 * settings in seconds (units accepted: '30min', '4h', '90d'), so tests can
 * shorten them instead of sleeping.  Connection settings and secrets are
 * PGC_SUSET: only a superuser (or the configuration file) may change them.
 * The secrets and the files they are read from are defined in secrets.c.
 */
#include "postgres.h"

#include <limits.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "guc.h"
#include "keyspace.h"
#include "setting_tables.h"

char	   *vt_redis_host = NULL;
int			vt_maintenance_lock_timeout = 100;
int			vt_redis_port = 6379;
int			vt_redis_db = 0;
int			vt_redis_timeout_ms = 250;
char	   *vt_redis_prefix = NULL;
int			vt_redis_retry_interval_ms = 2000;

int			vt_ip_anonymize = VT_IP_NONE;

int			vt_session_ttl = 4 * 3600;
int			vt_remember_me_ttl = 30 * 86400;
int			vt_anon_session_ttl = 30 * 60;
int			vt_community_window = 5 * 60;
int			vt_anon_persist_every = 5;
int			vt_anon_retention = 90 * 86400;

bool		vt_async_commit = true;
bool		vt_write_behind = false;
int			vt_write_queue_size = 8192;
int			vt_write_behind_delay = 100;
int			vt_anon_cache_size = 16384;

int			vt_max_url_length = 2048;
int			vt_max_user_agent_length = 512;

char	   *vt_worker_database = NULL;
int			vt_worker_interval = 60;
bool		vt_worker_enabled = true;

static const struct config_enum_entry ip_anonymize_options[] = {
	{"none", VT_IP_NONE, false},
	{"truncate", VT_IP_TRUNCATE, false},
	{"drop", VT_IP_DROP, false},
	{NULL, 0, false}
};

/* The prefix grammar that keeps namespaces apart (keyspace.h). */
static bool
check_redis_prefix(char **newval, void **extra, GucSource source)
{
	const char *why = NULL;

	if (*newval == NULL || vt_key_prefix_is_valid(*newval, &why))
		return true;
	GUC_check_errdetail("%s", why);
	return false;
}

/* Windows and TTLs: seconds, at least min (units accepted: '30min', '4h'). */
#define SECONDS(min)	min, INT_MAX, PGC_SUSET, GUC_UNIT_S

static const VtStringSetting string_settings[] = {
	{"visittrack.redis_host",
		gettext_noop("Redis host name, IP address or Unix socket path; empty keeps hot state in PostgreSQL."),
	NULL, &vt_redis_host, "", PGC_SUSET, 0, NULL, NULL},
	{"visittrack.redis_prefix",
		gettext_noop("Prefix put before every Redis key visittrack writes (\"name:\"); empty uses one of the database's own."),
	NULL, &vt_redis_prefix, "", PGC_SUSET, 0, check_redis_prefix, NULL},
};

static const VtIntSetting int_settings[] = {
	{"visittrack.redis_port", gettext_noop("Redis TCP port."),
	NULL, &vt_redis_port, 6379, 1, 65535, PGC_SUSET, 0},
	{"visittrack.redis_db", gettext_noop("Redis logical database selected after connecting."),
	NULL, &vt_redis_db, 0, 0, 1023, PGC_SUSET, 0},
	{"visittrack.redis_timeout_ms",
		gettext_noop("Longest a call waits on Redis (connect or command) before falling back to PostgreSQL."),
	NULL, &vt_redis_timeout_ms, 250, 1, 60000, PGC_SUSET, GUC_UNIT_MS},
	{"visittrack.redis_retry_interval_ms",
		gettext_noop("After a Redis failure, how long calls skip Redis before trying it again."),
	NULL, &vt_redis_retry_interval_ms, 2000, 0, 3600000, PGC_SUSET, GUC_UNIT_MS},
	{"visittrack.session_ttl", gettext_noop("Lifetime of a signed-in session."),
	NULL, &vt_session_ttl, 4 * 3600, SECONDS(1)},
	{"visittrack.remember_me_ttl",
		gettext_noop("Lifetime of a signed-in session started with remember_me."),
	NULL, &vt_remember_me_ttl, 30 * 86400, SECONDS(1)},
	{"visittrack.anon_session_ttl", gettext_noop("Idle time after which an anonymous session ends."),
	NULL, &vt_anon_session_ttl, 30 * 60, SECONDS(1)},
	{"visittrack.community_window",
		gettext_noop("How long a visitor counts as viewing a community after its last visit."),
	NULL, &vt_community_window, 5 * 60, SECONDS(1)},
	{"visittrack.anon_persist_every",
		gettext_noop("An anonymous session is written to anonymous_session every this many pages."),
	NULL, &vt_anon_persist_every, 5, 1, 1000000, PGC_SUSET, 0},
	{"visittrack.anon_retention",
		gettext_noop("How long anonymous sessions and page views are kept."),
	NULL, &vt_anon_retention, 90 * 86400, SECONDS(60)},
	{"visittrack.maintenance_lock_timeout",
		gettext_noop("Longest partition maintenance waits for a table lock before leaving its work to its next run."),
		gettext_noop("While ensure_partitions() or cleanup_anonymous_data() waits for a lock, page views queue behind it.  0 waits without limit."),
	&vt_maintenance_lock_timeout, 100, 0, INT_MAX, PGC_SUSET, GUC_UNIT_MS},
	{"visittrack.max_url_length",
		gettext_noop("URLs, referrers and page names longer than this many bytes are cut."),
	NULL, &vt_max_url_length, 2048, 64, 65536, PGC_SUSET, 0},
	{"visittrack.max_user_agent_length",
		gettext_noop("User agents longer than this many bytes are cut."),
	NULL, &vt_max_user_agent_length, 512, 64, 65536, PGC_SUSET, 0},
};

/* Boolean settings (only this file has them). */
typedef struct VtBoolSetting
{
	const char *name;
	const char *short_desc;
	const char *long_desc;
	bool	   *var;
	bool		boot;
	GucContext	context;
} VtBoolSetting;

static const VtBoolSetting bool_settings[] = {
	{"visittrack.async_commit",
		gettext_noop("Transactions that record tracking data commit without waiting for their WAL to reach disk."),
		gettext_noop("Like SET LOCAL synchronous_commit = off, for the whole calling transaction."),
	&vt_async_commit, true, PGC_USERSET},
	{"visittrack.write_behind",
		gettext_noop("Page-view rows, community presence and cached page counts are written by the visittrack writer in batches."),
		gettext_noop("Calls return before these writes reach the tables and Redis; see doc/settings.md for what a crash can lose."),
	&vt_write_behind, false, PGC_USERSET},
};

/*
 * What sizes shared memory or configures the processes the postmaster
 * starts (worker, writers) exists only when preloaded: PostgreSQL refuses
 * to define a PGC_POSTMASTER setting after start (FATAL), and without
 * preloading there is no shared memory or process to configure.
 */
static const VtIntSetting preloaded_int_settings[] = {
	{"visittrack.write_queue_size",
		gettext_noop("Shared memory for writes waiting for the visittrack writer."),
		gettext_noop("0 disables write-behind.  Calls write synchronously while the queue is full."),
	&vt_write_queue_size, 8192, 0, 1024 * 1024, PGC_POSTMASTER, GUC_UNIT_KB},
	{"visittrack.anon_cache_size",
		gettext_noop("Live anonymous sessions kept in shared memory while write-behind is on."),
		gettext_noop("0 sends every anonymous page view to Redis."),
	&vt_anon_cache_size, 16384, 0, 1024 * 1024, PGC_POSTMASTER, 0},
	{"visittrack.write_behind_delay",
		gettext_noop("How long the visittrack writer lets queued writes gather before writing them."),
	NULL, &vt_write_behind_delay, 100, 1, 10000, PGC_SIGHUP, GUC_UNIT_MS},
	{"visittrack.worker_interval", gettext_noop("Seconds between two rounds of the background worker."),
	NULL, &vt_worker_interval, 60, 1, 86400, PGC_SIGHUP, GUC_UNIT_S},
};

static const VtStringSetting preloaded_string_settings[] = {
	{"visittrack.database", gettext_noop("Database the background worker connects to."),
	NULL, &vt_worker_database, "postgres", PGC_POSTMASTER, 0, NULL, NULL},
};

static const VtBoolSetting preloaded_bool_settings[] = {
	{"visittrack.worker", gettext_noop("Starts the background worker when visittrack is preloaded."),
	NULL, &vt_worker_enabled, true, PGC_POSTMASTER},
};

/* Define a table of boolean settings, in order. */
static void
define_bool_settings(const VtBoolSetting *settings, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		DefineCustomBoolVariable(settings[i].name, settings[i].short_desc, settings[i].long_desc,
								 settings[i].var, settings[i].boot,
								 settings[i].context, 0, NULL, NULL, NULL);
}

/* Define the core visittrack.* settings (from _PG_init). */
void
vt_define_settings(void)
{
	vt_define_string_settings(string_settings, lengthof(string_settings));
	vt_define_int_settings(int_settings, lengthof(int_settings));
	define_bool_settings(bool_settings, lengthof(bool_settings));
	DefineCustomEnumVariable("visittrack.ip_anonymize",
							 gettext_noop("What is kept of IP addresses: none (as given), truncate (/24 and /48) or drop."),
							 NULL, &vt_ip_anonymize, VT_IP_NONE, ip_anonymize_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	if (process_shared_preload_libraries_in_progress)
	{
		vt_define_int_settings(preloaded_int_settings, lengthof(preloaded_int_settings));
		vt_define_string_settings(preloaded_string_settings, lengthof(preloaded_string_settings));
		define_bool_settings(preloaded_bool_settings, lengthof(preloaded_bool_settings));
	}
}

PG_FUNCTION_INFO_V1(vt_windows);

/* windows(): the windows and thresholds, in seconds (pages for anon_persist_every) */
Datum
vt_windows(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int32GetDatum(vt_session_ttl);
	values[1] = Int32GetDatum(vt_remember_me_ttl);
	values[2] = Int32GetDatum(vt_anon_session_ttl);
	values[3] = Int32GetDatum(vt_community_window);
	values[4] = Int32GetDatum(vt_anon_persist_every);
	values[5] = Int32GetDatum(vt_anon_retention);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
