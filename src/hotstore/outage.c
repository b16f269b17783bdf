/*
 * outage.c: the books of a Redis outage (outage.h): fallback counts, the
 * stale-key list (hot_redis_backlog), the "outage state pending" check and
 * the bookkeeping of reconciliation rounds.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "jsonbuf.h"
#include "outage.h"
#include "redis_client.h"
#include "shared_state.h"
#include "spi_util.h"

void
hot_outage_count_fallback(void)
{
	if (vt_redis_configured())
		vt_count(VT_FALLBACK_CALLS, 1);
}

void
hot_outage_count_fallback_write(void)
{
	if (vt_redis_configured())
	{
		vt_count(VT_FALLBACK_CALLS, 1);
		vt_local_backlog_note_write();
	}
}

/*
 * Not possible in a read-only transaction (where only session_get's refill
 * can get here: nothing is stale then, Redis merely lacks the entry).
 */
void
hot_outage_note_stale(const char *kind, const char *id)
{
	static VtQuery q = {
		"INSERT INTO visittrack.hot_redis_backlog (key_kind, key_id) VALUES ($1, $2) "
		"ON CONFLICT (key_kind, key_id) DO UPDATE SET noted_at = now()",
		2, {TEXTOID, TEXTOID}
	};
	Datum		values[2];

	hot_outage_count_fallback_write();
	if (XactReadOnly)
		return;
	values[0] = CStringGetTextDatum(kind);
	values[1] = CStringGetTextDatum(id);

	vt_spi_connect();
	vt_spi_run(&q, values, NULL, false, 0);
	vt_spi_finish();
}

bool
hot_outage_is_stale(const char *kind, const char *id)
{
	static VtQuery q = {
		"SELECT 1 FROM visittrack.hot_redis_backlog WHERE key_kind = $1 AND key_id = $2",
		2, {TEXTOID, TEXTOID}
	};
	Datum		values[2] = {CStringGetTextDatum(kind), CStringGetTextDatum(id)};
	bool		stale;

	vt_spi_connect();
	stale = vt_spi_run(&q, values, NULL, true, 1) == 1;
	vt_spi_finish();
	return stale;
}

/* Does PostgreSQL hold anything an outage left for Redis? */
static bool
tables_hold_outage_state(void)
{
	static VtQuery q = {
		"SELECT EXISTS (SELECT 1 FROM visittrack.hot_anon_session)"
		"    OR EXISTS (SELECT 1 FROM visittrack.hot_community_visitor)"
		"    OR EXISTS (SELECT 1 FROM visittrack.hot_redis_backlog)",
		0, {0}
	};
	bool		pending;

	vt_spi_connect();
	vt_spi_run(&q, NULL, NULL, true, 1);
	pending = vt_spi_bool(0, 1, false);
	vt_spi_finish();
	return pending;
}

/*
 * Preloaded: the shared write counter says (shared_state.c).  Otherwise
 * each backend only knows its own writes, so it asks the tables, at most
 * once a second.
 */
bool
hot_outage_pending(void)
{
	static TimestampTz checked_at = 0;
	static bool pending = false;
	TimestampTz now;

	if (!vt_redis_configured())
		return false;
	if (vt_state_is_shared())
		return vt_local_backlog_pending();
	now = GetCurrentTimestamp();
	if (now - checked_at >= USECS_PER_SEC)
	{
		pending = tables_hold_outage_state();
		checked_at = now;
	}
	return pending;
}

/*
 * Run inside the reconciling transaction: if copying fails, the caller
 * raises an ERROR and the rows come back with the rollback.
 */
List *
hot_outage_stale_keys_take(void)
{
	static VtQuery q = {
		"DELETE FROM visittrack.hot_redis_backlog RETURNING key_kind, key_id",
		0, {0}
	};
	MemoryContext caller = CurrentMemoryContext;
	List	   *out = NIL;
	uint64		n;
	uint64		i;

	vt_spi_connect();
	n = vt_spi_run(&q, NULL, NULL, false, 0);
	for (i = 0; i < n; i++)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);
		HotStaleKey *k = palloc(sizeof(HotStaleKey));

		k->kind = vt_spi_text(i, 1);
		k->id = vt_spi_text(i, 2);
		out = lappend(out, k);
		MemoryContextSwitchTo(spi);
	}
	vt_spi_finish();
	return out;
}

uint64
hot_outage_round_begin(void)
{
	return vt_local_backlog_writes();
}

void
hot_outage_round_end(uint64 writes_seen, bool found_nothing)
{
	vt_local_backlog_round(writes_seen, found_nothing);
}

void
hot_outage_reconciled(int64 copied)
{
	vt_reconcile_note(GetCurrentTimestamp(), copied);
	if (copied > 0)
		vt_count(VT_RECONCILED, copied);
}

void
hot_outage_describe(StringInfo b)
{
	TimestampTz at;
	int64		copied;

	vt_reconcile_snapshot(&at, &copied);
	vt_json_key(b, "reconciliation");
	appendStringInfoChar(b, '{');
	vt_json_time(b, "last_run", at);
	/* outage state may still be in PostgreSQL (queues says how much) */
	vt_json_bool(b, "pending", vt_redis_configured() && vt_local_backlog_pending());
	vt_json_int(b, "copied", copied);
	appendStringInfoChar(b, '}');
}
