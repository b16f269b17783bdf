/*
 * status.c: status(), what visittrack knows about its own health.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/builtins.h"

#include "guc.h"
#include "isotime.h"
#include "redis_client.h"
#include "spi_util.h"
#include "state.h"

PG_FUNCTION_INFO_V1(vt_status);

static void
add_key(StringInfo b, const char *key, bool *first)
{
	if (!*first)
		appendStringInfoChar(b, ',');
	*first = false;
	escape_json(b, key);
	appendStringInfoChar(b, ':');
}

static void
add_time(StringInfo b, const char *key, TimestampTz ts, bool *first)
{
	char		iso[VT_ISO_BUFLEN];

	add_key(b, key, first);
	if (ts == 0)
		appendStringInfoString(b, "null");
	else
	{
		vt_iso_format(ts, iso);
		escape_json(b, iso);
	}
}

static void
add_text(StringInfo b, const char *key, const char *value, bool *first)
{
	add_key(b, key, first);
	if (value && value[0])
		escape_json(b, value);
	else
		appendStringInfoString(b, "null");
}

static void
add_int(StringInfo b, const char *key, int64 value, bool *first)
{
	add_key(b, key, first);
	appendStringInfo(b, INT64_FORMAT, value);
}

static void
add_bool(StringInfo b, const char *key, bool value, bool *first)
{
	add_key(b, key, first);
	appendStringInfoString(b, value ? "true" : "false");
}

/* sizes of the queues kept in tables */
static void
add_queues(StringInfo b, bool *first)
{
	static VtQuery q = {
		"SELECT (SELECT count(*) FROM visittrack.hot_redis_backlog),"
		"       (SELECT count(*) FROM visittrack.hot_anon_session),"
		"       (SELECT count(*) FROM visittrack.hot_community_visitor),"
		"       (SELECT count(*) FROM visittrack.user_session WHERE enriched_at IS NULL)",
		0, {0}
	};

	vt_spi_connect();
	vt_spi_run(&q, NULL, NULL, true, 1);
	add_int(b, "redis_backlog", vt_spi_int64(0, 1, 0), first);
	add_int(b, "local_anonymous_sessions", vt_spi_int64(0, 2, 0), first);
	add_int(b, "local_community_visitors", vt_spi_int64(0, 3, 0), first);
	add_int(b, "sessions_awaiting_enrichment", vt_spi_int64(0, 4, 0), first);
	vt_spi_finish();
}

/* status() returns jsonb */
Datum
vt_status(PG_FUNCTION_ARGS)
{
	StringInfoData b;
	VtRedisHealth h;
	bool		first = true;
	bool		inner;
	int			i;
	char		worker_error[256];
	TimestampTz rec_at;
	int64		rec_copied;

	vt_redis_health_snapshot(&h);
	initStringInfo(&b);
	appendStringInfoChar(&b, '{');

	add_key(&b, "redis", &first);
	inner = true;
	appendStringInfoChar(&b, '{');
	add_bool(&b, "configured", vt_redis_configured(), &inner);
	add_text(&b, "host", vt_redis_host, &inner);
	add_int(&b, "port", vt_redis_port, &inner);
	add_bool(&b, "up", vt_redis_configured() && h.up, &inner);
	add_bool(&b, "connected", vt_redis_connected(), &inner);
	add_time(&b, "since", h.since, &inner);
	add_text(&b, "last_error", h.last_error, &inner);
	add_time(&b, "last_error_at", h.last_error_at, &inner);
	add_time(&b, "retry_at", h.up ? 0 : h.retry_at, &inner);
	appendStringInfoChar(&b, '}');

	add_key(&b, "hot_store", &first);
	escape_json(&b, !vt_redis_configured() ? "postgresql" :
				(h.up ? "redis" : "postgresql (fallback)"));
	add_bool(&b, "shared_state", vt_state_is_shared(), &first);

	add_key(&b, "counters", &first);
	inner = true;
	appendStringInfoChar(&b, '{');
	for (i = 0; i < VT_COUNTER_COUNT; i++)
		add_int(&b, vt_counter_name(i), (int64) vt_counter_value(i), &inner);
	appendStringInfoChar(&b, '}');

	add_key(&b, "queues", &first);
	inner = true;
	appendStringInfoChar(&b, '{');
	add_queues(&b, &inner);
	appendStringInfoChar(&b, '}');

	add_key(&b, "worker", &first);
	inner = true;
	appendStringInfoChar(&b, '{');
	add_key(&b, "pid", &inner);
	if (vt_worker_pid() > 0)
		appendStringInfo(&b, "%d", vt_worker_pid());
	else
		appendStringInfoString(&b, "null");
	add_text(&b, "database", vt_worker_database, &inner);
	add_time(&b, "last_run", vt_worker_last_run(), &inner);
	vt_worker_last_error(worker_error, sizeof(worker_error));
	add_text(&b, "last_error", worker_error, &inner);
	add_time(&b, "last_error_at", vt_worker_last_error_at(), &inner);
	appendStringInfoChar(&b, '}');

	vt_reconcile_snapshot(&rec_at, &rec_copied);
	add_key(&b, "reconciliation", &first);
	inner = true;
	appendStringInfoChar(&b, '{');
	add_time(&b, "last_run", rec_at, &inner);
	/* outage state may still be in PostgreSQL (queues says how much) */
	add_bool(&b, "pending", vt_redis_configured() && vt_local_backlog_pending(), &inner);
	add_int(&b, "copied", rec_copied, &inner);
	appendStringInfoChar(&b, '}');

	appendStringInfoChar(&b, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(b.data)));
}
