/*
 * hotstore_local.c: the hot state kept in PostgreSQL (unlogged tables).
 *
 * Serves every hot-state operation when no Redis is configured, and stands
 * in for Redis while it is unreachable.  Answers are the same as Redis
 * gives: the same windows, the same JSON for visitors, exact counts under
 * concurrency (row locks of INSERT ... ON CONFLICT play the part of Lua
 * atomicity).  Signed-in sessions need no copy here: user_session is the
 * truth, so the session operations only note which Redis keys went stale.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "hotstore.h"
#include "isotime.h"
#include "redis_client.h"
#include "spi_util.h"

static Datum
uuid_datum(const char *s)
{
	return DirectFunctionCall1(uuid_in, CStringGetDatum(s));
}

static char *
uuid_text(uint64 row, int col)
{
	bool		isnull;
	Datum		d = vt_spi_datum(row, col, &isnull);
	char	   *s;
	char	   *out;

	if (isnull)
		return NULL;
	s = DatumGetCString(DirectFunctionCall1(uuid_out, d));
	out = SPI_palloc(strlen(s) + 1);
	strcpy(out, s);
	return out;
}

static Datum
text_or_null(const char *s, char *null_flag)
{
	*null_flag = s ? ' ' : 'n';
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * Remember a Redis key that this write could not reach.  Not possible in a
 * read-only transaction (where only session_get's refill can get here:
 * nothing is stale then, Redis merely lacks the entry).
 */
static void
note_backlog(const char *kind, const char *id)
{
	static VtQuery q = {
		"INSERT INTO visittrack.hot_redis_backlog (key_kind, key_id) VALUES ($1, $2) "
		"ON CONFLICT (key_kind, key_id) DO UPDATE SET noted_at = now()",
		2, {TEXTOID, TEXTOID}
	};
	Datum		values[2];

	if (XactReadOnly)
		return;
	values[0] = CStringGetTextDatum(kind);
	values[1] = CStringGetTextDatum(id);

	vt_spi_connect();
	vt_spi_run(&q, values, NULL, false, 0);
	vt_spi_finish();
}

static bool
local_session_store(const HotSession *s, int ttl_seconds)
{
	note_backlog("session", s->session_id);
	return true;
}

static bool
local_session_fetch(const char *session_id, HotSession *out, bool *found)
{
	*found = false;
	return true;
}

static bool
local_session_set_pages(const char *session_id, int32 pages, TimestampTz at)
{
	note_backlog("session", session_id);
	return true;
}

static bool
local_session_remove(const char *session_id)
{
	note_backlog("session", session_id);
	return true;
}

/*
 * The fingerprint's latest session as its page views show it, if its last
 * view is inside the idle window: id, start, last view, views, landing page
 * and referrer (of the first view).
 */
static VtQuery views_session_q = {
	"SELECT session_id, min(viewed_at), max(viewed_at), count(*)::integer,"
	"       (array_agg(url ORDER BY viewed_at))[1], (array_agg(referrer ORDER BY viewed_at))[1]"
	"  FROM visittrack.anonymous_page_view"
	" WHERE device_fingerprint = $1"
	"   AND session_id = (SELECT session_id FROM visittrack.anonymous_page_view"
	"                      WHERE device_fingerprint = $1"
	"                        AND viewed_at > $2 - $3 * interval '1 second'"
	"                      ORDER BY viewed_at DESC LIMIT 1)"
	" GROUP BY session_id",
	3, {TEXTOID, TIMESTAMPTZOID, INT4OID}
};

static bool
local_anon_from_views(const char *fingerprint, int ttl_seconds, HotAnon *out)
{
	Datum		values[3] = {CStringGetTextDatum(fingerprint),
		TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), Int32GetDatum(ttl_seconds)};
	bool		found;

	memset(out, 0, sizeof(*out));
	vt_spi_connect();
	found = vt_spi_run(&views_session_q, values, NULL, true, 1) == 1;
	if (found)
	{
		out->fingerprint = SPI_palloc(strlen(fingerprint) + 1);
		strcpy(out->fingerprint, fingerprint);
		out->session_id = uuid_text(0, 1);
		out->started_at = vt_spi_int64(0, 2, 0);
		out->last_activity = vt_spi_int64(0, 3, 0);
		out->last_view_at = out->last_activity;
		out->pages_visited = (int32) vt_spi_int64(0, 4, 0);
		out->landing_page = vt_spi_text(0, 5);
		out->current_page = out->landing_page;
		out->referrer = vt_spi_text(0, 6);
	}
	vt_spi_finish();
	return found;
}

/* Fill the out-fields of t from a RETURNING row of hot_anon_session. */
static void
touch_result(HotAnonTouch *t)
{
	t->session_id = uuid_text(0, 1);
	t->started_at = vt_spi_int64(0, 2, t->now);
	t->pages_visited = (int32) vt_spi_int64(0, 3, 1);
	t->landing_page = vt_spi_text(0, 4);
	t->first_referrer = vt_spi_text(0, 5);
	t->prev_view_at = vt_spi_int64(0, 6, 0);
	t->is_new = strcmp(t->session_id, t->new_session_id) == 0;
}

/*
 * One page view.  The common case is one UPDATE of a live row.  Without
 * one, when Redis is configured, the visitor may be in the middle of a
 * session that Redis held when it became unreachable: its page views tell,
 * so the session continues from them when its latest view is inside the
 * idle window.  Otherwise (and always without Redis, where this table is
 * the only hot store) a new session starts.  The upsert counts on top of a
 * row that a concurrent call created meanwhile.
 */
static bool
local_anon_touch(HotAnonTouch *t)
{
	static VtQuery touch_q = {
		"UPDATE visittrack.hot_anon_session"
		"   SET pages_visited = pages_visited + 1, last_activity = $2, current_page = $3,"
		"       prev_view_at = last_view_at, last_view_at = $2"
		" WHERE device_fingerprint = $1 AND last_activity > $2 - $4 * interval '1 second'"
		" RETURNING session_id, started_at, pages_visited, landing_page, referrer, prev_view_at",
		4, {TEXTOID, TIMESTAMPTZOID, TEXTOID, INT4OID}
	};
	static VtQuery upsert_q = {
		"INSERT INTO visittrack.hot_anon_session AS h"
		" (device_fingerprint, session_id, started_at, last_activity, pages_visited,"
		"  current_page, landing_page, referrer, last_view_at, prev_view_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $4, $9)"
		" ON CONFLICT (device_fingerprint) DO UPDATE SET"
		"  session_id = CASE WHEN h.last_activity > $4 - $10 * interval '1 second'"
		"                    THEN h.session_id ELSE excluded.session_id END,"
		"  started_at = CASE WHEN h.last_activity > $4 - $10 * interval '1 second'"
		"                    THEN h.started_at ELSE excluded.started_at END,"
		"  landing_page = CASE WHEN h.last_activity > $4 - $10 * interval '1 second'"
		"                    THEN h.landing_page ELSE excluded.landing_page END,"
		"  referrer = CASE WHEN h.last_activity > $4 - $10 * interval '1 second'"
		"                    THEN h.referrer ELSE excluded.referrer END,"
		"  pages_visited = CASE WHEN h.last_activity > $4 - $10 * interval '1 second'"
		"                    THEN h.pages_visited + 1 ELSE excluded.pages_visited END,"
		"  prev_view_at = CASE WHEN h.last_activity > $4 - $10 * interval '1 second'"
		"                    THEN h.last_view_at ELSE excluded.prev_view_at END,"
		"  last_activity = excluded.last_activity,"
		"  current_page = excluded.current_page,"
		"  last_view_at = excluded.last_view_at"
		" RETURNING session_id, started_at, pages_visited, landing_page, referrer, prev_view_at",
		10, {TEXTOID, UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, TEXTOID, TEXTOID,
		TEXTOID, TIMESTAMPTZOID, INT4OID}
	};
	Datum		values[10];
	char		nulls[10];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(t->fingerprint);
	values[1] = TimestampTzGetDatum(t->now);
	values[2] = CStringGetTextDatum(t->url);
	values[3] = Int32GetDatum(t->ttl_seconds);

	vt_spi_connect();
	if (vt_spi_run(&touch_q, values, NULL, false, 0) == 1)
	{
		touch_result(t);
		vt_spi_finish();
		return true;
	}

	/* no live row: continue from the page views, or start a session */
	values[2] = Int32GetDatum(t->ttl_seconds);
	if (vt_redis_configured() && vt_spi_run(&views_session_q, values, NULL, true, 1) == 1)
	{
		bool		isnull;

		values[1] = vt_spi_datum(0, 1, &isnull);	/* session_id */
		values[2] = vt_spi_datum(0, 2, &isnull);	/* started_at */
		values[8] = vt_spi_datum(0, 3, &isnull);	/* previous view */
		values[4] = Int32GetDatum((int32) vt_spi_int64(0, 4, 0) + 1);
		values[6] = vt_spi_datum(0, 5, &isnull);	/* landing page */
		nulls[6] = isnull ? 'n' : ' ';
		values[7] = vt_spi_datum(0, 6, &isnull);	/* referrer */
		nulls[7] = isnull ? 'n' : ' ';
		/* datums point into SPI's tuple, which lives until vt_spi_finish */
	}
	else
	{
		values[1] = uuid_datum(t->new_session_id);
		values[2] = TimestampTzGetDatum(t->now);
		values[4] = Int32GetDatum(1);
		values[6] = CStringGetTextDatum(t->url);
		values[7] = text_or_null(t->referrer, &nulls[7]);
		values[8] = (Datum) 0;
		nulls[8] = 'n';
	}
	values[0] = CStringGetTextDatum(t->fingerprint);
	values[3] = TimestampTzGetDatum(t->now);
	values[5] = CStringGetTextDatum(t->url);
	values[9] = Int32GetDatum(t->ttl_seconds);
	vt_spi_run(&upsert_q, values, nulls, false, 0);
	touch_result(t);
	vt_spi_finish();
	return true;
}

static bool
local_anon_fetch(const char *fingerprint, int ttl_seconds, HotAnon *out, bool *found)
{
	static VtQuery q = {
		"SELECT session_id, started_at, last_activity, pages_visited, current_page,"
		" landing_page, referrer, last_view_at FROM visittrack.hot_anon_session"
		" WHERE device_fingerprint = $1 AND last_activity > now() - $2 * interval '1 second'",
		2, {TEXTOID, INT4OID}
	};
	Datum		values[2] = {CStringGetTextDatum(fingerprint), Int32GetDatum(ttl_seconds)};

	memset(out, 0, sizeof(*out));
	vt_spi_connect();
	*found = vt_spi_run(&q, values, NULL, true, 1) == 1;
	if (*found)
	{
		out->session_id = uuid_text(0, 1);
		out->started_at = vt_spi_int64(0, 2, 0);
		out->last_activity = vt_spi_int64(0, 3, 0);
		out->pages_visited = (int32) vt_spi_int64(0, 4, 0);
		out->current_page = vt_spi_text(0, 5);
		out->landing_page = vt_spi_text(0, 6);
		out->referrer = vt_spi_text(0, 7);
		out->last_view_at = vt_spi_int64(0, 8, 0);
		out->fingerprint = SPI_palloc(strlen(fingerprint) + 1);
		strcpy(out->fingerprint, fingerprint);
	}
	vt_spi_finish();
	return true;
}

static bool
local_anon_remove(const char *fingerprint)
{
	static VtQuery q = {
		"DELETE FROM visittrack.hot_anon_session WHERE device_fingerprint = $1",
		1, {TEXTOID}
	};
	Datum		values[1] = {CStringGetTextDatum(fingerprint)};

	vt_spi_connect();
	vt_spi_run(&q, values, NULL, false, 0);
	vt_spi_finish();
	return true;
}

static bool
local_visit_record(const HotVisit *v)
{
	static VtQuery q = {
		"INSERT INTO visittrack.hot_community_visitor AS h"
		" (community_id, visitor_key, is_authenticated, fields, pages_viewed, first_seen, last_seen)"
		" VALUES ($1, $2, $3, $4, 1, $5, $5)"
		" ON CONFLICT (community_id, visitor_key) DO UPDATE SET"
		"  pages_viewed = CASE WHEN h.last_seen <= $5 - $6 * interval '1 second'"
		"                      THEN 1 ELSE h.pages_viewed + 1 END,"
		"  first_seen = CASE WHEN h.last_seen <= $5 - $6 * interval '1 second'"
		"                    THEN excluded.first_seen ELSE h.first_seen END,"
		"  is_authenticated = excluded.is_authenticated,"
		"  fields = excluded.fields,"
		"  last_seen = excluded.last_seen",
		6, {UUIDOID, TEXTOID, BOOLOID, TEXTOID, TIMESTAMPTZOID, INT4OID}
	};
	Datum		values[6];

	values[0] = uuid_datum(v->community_id);
	values[1] = CStringGetTextDatum(v->visitor_key);
	values[2] = BoolGetDatum(v->is_authenticated);
	values[3] = CStringGetTextDatum(v->json_fields);
	values[4] = TimestampTzGetDatum(v->now);
	values[5] = Int32GetDatum(v->window_seconds);

	vt_spi_connect();
	vt_spi_run(&q, values, NULL, false, 0);
	vt_spi_finish();
	return true;
}

static bool
local_visit_counts(const char *community_id, TimestampTz now, int window_seconds,
				   int *authenticated, int *anonymous)
{
	static VtQuery q = {
		"SELECT count(*) FILTER (WHERE is_authenticated),"
		"       count(*) FILTER (WHERE NOT is_authenticated)"
		"  FROM visittrack.hot_community_visitor"
		" WHERE community_id = $1 AND last_seen > $2 - $3 * interval '1 second'",
		3, {UUIDOID, TIMESTAMPTZOID, INT4OID}
	};
	Datum		values[3] = {uuid_datum(community_id), TimestampTzGetDatum(now),
	Int32GetDatum(window_seconds)};

	vt_spi_connect();
	vt_spi_run(&q, values, NULL, true, 1);
	*authenticated = (int) vt_spi_int64(0, 1, 0);
	*anonymous = (int) vt_spi_int64(0, 2, 0);
	vt_spi_finish();
	return true;
}

static bool
local_visitors(const char *community_id, TimestampTz now, int window_seconds, List **out)
{
	static VtQuery q = {
		"SELECT pages_viewed, first_seen, fields FROM visittrack.hot_community_visitor"
		" WHERE community_id = $1 AND last_seen > $2 - $3 * interval '1 second'",
		3, {UUIDOID, TIMESTAMPTZOID, INT4OID}
	};
	Datum		values[3] = {uuid_datum(community_id), TimestampTzGetDatum(now),
	Int32GetDatum(window_seconds)};
	uint64		n;
	uint64		i;
	MemoryContext caller = CurrentMemoryContext;

	*out = NIL;
	vt_spi_connect();
	n = vt_spi_run(&q, values, NULL, true, 0);
	for (i = 0; i < n; i++)
	{
		char		first[VT_ISO_BUFLEN];
		char	   *fields = vt_spi_text(i, 3);
		MemoryContext old;

		vt_iso_format(vt_spi_int64(i, 2, 0), first);
		old = MemoryContextSwitchTo(caller);
		/* the same text as the Redis visitor script writes */
		*out = lappend(*out, psprintf("{\"pages_viewed\":%d,\"first_seen\":\"%s\",%s}",
									  (int) vt_spi_int64(i, 1, 1), first, fields));
		MemoryContextSwitchTo(old);
	}
	vt_spi_finish();
	return true;
}

static bool
local_visitor_forget(const char *visitor_key, int64 *removed)
{
	static VtQuery q = {
		"DELETE FROM visittrack.hot_community_visitor WHERE visitor_key = $1",
		1, {TEXTOID}
	};
	Datum		values[1] = {CStringGetTextDatum(visitor_key)};

	vt_spi_connect();
	*removed = (int64) vt_spi_run(&q, values, NULL, false, 0);
	vt_spi_finish();
	return true;
}

/*
 * Reconciliation: take (delete and return) what waits to be copied to
 * Redis.  Run inside the reconciling transaction: if copying fails, the
 * caller raises an ERROR and the rows come back with the rollback.
 */
static List *
local_anon_take(int ttl_seconds)
{
	static VtQuery q = {
		"DELETE FROM visittrack.hot_anon_session"
		" RETURNING device_fingerprint, session_id, started_at, last_activity, pages_visited,"
		"  current_page, landing_page, referrer, last_view_at,"
		"  last_activity > now() - $1 * interval '1 second'",
		1, {INT4OID}
	};
	Datum		values[1] = {Int32GetDatum(ttl_seconds)};
	MemoryContext caller = CurrentMemoryContext;
	List	   *out = NIL;
	uint64		n;
	uint64		i;

	vt_spi_connect();
	n = vt_spi_run(&q, values, NULL, false, 0);
	for (i = 0; i < n; i++)
	{
		MemoryContext spi;
		HotAnon    *a;

		if (!vt_spi_bool(i, 10, false))
			continue;			/* expired: nothing to copy */
		spi = MemoryContextSwitchTo(caller);
		a = palloc0(sizeof(HotAnon));
		a->fingerprint = vt_spi_text(i, 1);
		a->session_id = uuid_text(i, 2);
		a->started_at = vt_spi_int64(i, 3, 0);
		a->last_activity = vt_spi_int64(i, 4, 0);
		a->pages_visited = (int32) vt_spi_int64(i, 5, 0);
		a->current_page = vt_spi_text(i, 6);
		a->landing_page = vt_spi_text(i, 7);
		a->referrer = vt_spi_text(i, 8);
		a->last_view_at = vt_spi_int64(i, 9, 0);
		out = lappend(out, a);
		MemoryContextSwitchTo(spi);
	}
	vt_spi_finish();
	return out;
}

static List *
local_visitors_take(int window_seconds)
{
	static VtQuery q = {
		"DELETE FROM visittrack.hot_community_visitor"
		" RETURNING community_id::text, visitor_key, is_authenticated, fields, pages_viewed,"
		"  first_seen, last_seen, last_seen > now() - $1 * interval '1 second'",
		1, {INT4OID}
	};
	Datum		values[1] = {Int32GetDatum(window_seconds)};
	MemoryContext caller = CurrentMemoryContext;
	List	   *out = NIL;
	uint64		n;
	uint64		i;

	vt_spi_connect();
	n = vt_spi_run(&q, values, NULL, false, 0);
	for (i = 0; i < n; i++)
	{
		MemoryContext spi;
		HotVisitor *v;

		if (!vt_spi_bool(i, 8, false))
			continue;			/* out of the window: gone anyway */
		spi = MemoryContextSwitchTo(caller);
		v = palloc0(sizeof(HotVisitor));
		v->visit.community_id = vt_spi_text(i, 1);
		v->visit.visitor_key = vt_spi_text(i, 2);
		v->visit.is_authenticated = vt_spi_bool(i, 3, false);
		v->visit.json_fields = vt_spi_text(i, 4);
		v->pages_viewed = (int32) vt_spi_int64(i, 5, 1);
		v->first_seen = vt_spi_int64(i, 6, 0);
		v->visit.now = vt_spi_int64(i, 7, 0);
		v->visit.window_seconds = window_seconds;
		out = lappend(out, v);
		MemoryContextSwitchTo(spi);
	}
	vt_spi_finish();
	return out;
}

static List *
local_stale_keys_take(void)
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

static void
local_note_stale(const char *kind, const char *id)
{
	note_backlog(kind, id);
}

static bool
local_is_stale(const char *kind, const char *id)
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

/* Does the local store hold anything an outage left for Redis? */
static bool
local_has_outage_state(void)
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

const HotStoreOps vt_hotstore_local = {
	.session_store = local_session_store,
	.session_fetch = local_session_fetch,
	.session_set_pages = local_session_set_pages,
	.session_remove = local_session_remove,
	.anon_touch = local_anon_touch,
	.anon_fetch = local_anon_fetch,
	.anon_remove = local_anon_remove,
	.visit_record = local_visit_record,
	.visit_counts = local_visit_counts,
	.visitors = local_visitors,
	.visitor_forget = local_visitor_forget,
	.anon_take = local_anon_take,
	.visitors_take = local_visitors_take,
	.stale_keys_take = local_stale_keys_take,
	.note_stale = local_note_stale,
	.is_stale = local_is_stale,
	.has_outage_state = local_has_outage_state,
	.anon_from_views = local_anon_from_views,
};
