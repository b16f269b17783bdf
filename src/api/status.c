/*
 * status.c: status(), what visittrack knows about its own health.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/builtins.h"

#include "anon_cache.h"
#include "guc.h"
#include "hotstore.h"
#include "isotime.h"
#include "jsonbuf.h"
#include "spi_util.h"
#include "shared_state.h"
#include "write_mode.h"
#include "write_queue.h"

PG_FUNCTION_INFO_V1(vt_status);

/*
 * Sizes of the queues kept in tables.  The hot-store tables are unlogged,
 * and a hot standby cannot open them: there they are reported as null.
 */
static void
add_queues(StringInfo b)
{
	static VtQuery q = {
		"SELECT (SELECT count(*) FROM visittrack.hot_redis_backlog),"
		"       (SELECT count(*) FROM visittrack.hot_anon_session),"
		"       (SELECT count(*) FROM visittrack.hot_community_visitor),"
		"       (SELECT count(*) FROM visittrack.user_session WHERE enriched_at IS NULL)",
		0, {0}
	};

	static VtQuery on_standby = {
		"SELECT (SELECT count(*) FROM visittrack.user_session WHERE enriched_at IS NULL)",
		0, {0}
	};

	if (RecoveryInProgress())
	{
		vt_json_text(b, "redis_backlog", NULL);
		vt_json_text(b, "local_anonymous_sessions", NULL);
		vt_json_text(b, "local_community_visitors", NULL);
		vt_spi_connect();
		vt_spi_run(&on_standby, NULL, NULL, true, 1);
		vt_json_int(b, "sessions_awaiting_enrichment", vt_spi_int64(0, 1, 0));
		vt_spi_finish();
		return;
	}
	vt_spi_connect();
	vt_spi_run(&q, NULL, NULL, true, 1);
	vt_json_int(b, "redis_backlog", vt_spi_int64(0, 1, 0));
	vt_json_int(b, "local_anonymous_sessions", vt_spi_int64(0, 2, 0));
	vt_json_int(b, "local_community_visitors", vt_spi_int64(0, 3, 0));
	vt_json_int(b, "sessions_awaiting_enrichment", vt_spi_int64(0, 4, 0));
	vt_spi_finish();
}

static const char *
nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

/* status() returns jsonb */
Datum
vt_status(PG_FUNCTION_ARGS)
{
	StringInfoData b;
	int			i;
	char		worker_error[256];
	VtWqStats	wq;
	VtAnonCacheStats cache;

	initStringInfo(&b);
	appendStringInfoChar(&b, '{');

	/* "redis", "hot_store" and "reconciliation" */
	hot_store_describe(&b);
	vt_json_bool(&b, "shared_state", vt_state_is_shared());

	vt_json_key(&b, "counters");
	appendStringInfoChar(&b, '{');
	for (i = 0; i < VT_COUNTER_COUNT; i++)
		vt_json_int(&b, vt_counter_name(i), (int64) vt_counter_value(i));
	appendStringInfoChar(&b, '}');

	vt_json_key(&b, "queues");
	appendStringInfoChar(&b, '{');
	add_queues(&b);
	appendStringInfoChar(&b, '}');

	vt_json_key(&b, "worker");
	appendStringInfoChar(&b, '{');
	vt_json_key(&b, "pid");
	if (vt_worker_pid() > 0)
		appendStringInfo(&b, "%d", vt_worker_pid());
	else
		appendStringInfoString(&b, "null");
	vt_json_text(&b, "database", nonempty(vt_worker_database));
	vt_json_time(&b, "last_run", vt_worker_last_run());
	vt_worker_last_error(worker_error, sizeof(worker_error));
	vt_json_text(&b, "last_error", nonempty(worker_error));
	vt_json_time(&b, "last_error_at", vt_worker_last_error_at());
	appendStringInfoChar(&b, '}');

	vt_wq_stats(&wq);
	vt_json_key(&b, "write_behind");
	appendStringInfoChar(&b, '{');
	vt_json_bool(&b, "enabled", vt_write_behind);
	/* would this session's writes be queued now? */
	vt_json_bool(&b, "active", vt_write_mode_for_call() == VT_WRITE_BEHIND);
	vt_json_bool(&b, "writer_attached", wq.writer_attached);
	vt_json_int(&b, "queue_bytes", (int64) wq.capacity);
	vt_json_int(&b, "pending_bytes", (int64) wq.pending_bytes);
	vt_json_int(&b, "queued", (int64) wq.queued);
	vt_json_int(&b, "written", (int64) wq.written);
	vt_json_int(&b, "dropped", (int64) wq.dropped);
	vt_json_int(&b, "written_synchronously", (int64) wq.overflowed);
	vt_json_int(&b, "batches", (int64) wq.batches);
	vt_anon_cache_stats(&cache);
	vt_json_key(&b, "anonymous_cache");
	appendStringInfoChar(&b, '{');
	vt_json_bool(&b, "open", cache.open);
	vt_json_int(&b, "capacity", cache.capacity);
	vt_json_int(&b, "sessions", cache.entries);
	vt_json_int(&b, "hits", (int64) cache.hits);
	vt_json_int(&b, "misses", (int64) cache.misses);
	appendStringInfoChar(&b, '}');
	appendStringInfoChar(&b, '}');

	appendStringInfoChar(&b, '}');
	PG_RETURN_JSONB_P(vt_json_to_jsonb(&b));
}
