/*
 * hotstore_local.c: the hot state kept in PostgreSQL (unlogged tables).
 *
 * Serves every hot-state operation when no Redis is configured, and stands
 * in for Redis while it is unreachable.  Answers are the same as Redis
 * gives: the same windows, the same JSON for visitors, exact counts under
 * concurrency (row locks of INSERT ... ON CONFLICT play the part of Lua
 * atomicity).  Signed-in sessions need no copy here: user_session is the
 * truth (which Redis keys went stale during an outage is outage.c's list).
 * Reconciliation takes the outage's sessions and visitors back out of here
 * (hotstore_local.h).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "hotstore_local.h"
#include "isotime.h"
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

bool
hot_local_anon_from_views(const char *fingerprint, int ttl_seconds, HotAnon *out)
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
 * one, when this store stands in for Redis (t->continue_from_views), the
 * visitor may be in the middle of a session that Redis held when it became
 * unreachable: its page views tell, so the session continues from them when
 * its latest view is inside the idle window.  Otherwise (and always without
 * Redis, where this table is the only hot store) a new session starts.  The upsert counts on top of a
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
	if (t->continue_from_views && vt_spi_run(&views_session_q, values, NULL, true, 1) == 1)
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
 * caller raises an ERROR and the rows come back with the rollback.  The
 * query's last column says whether a row is still live; read makes the
 * record of a live row (in the caller's memory context).
 */
static List *
take_live_rows(VtQuery *q, int seconds, int live_col, void *(*read) (uint64 row, int seconds))
{
	Datum		values[1] = {Int32GetDatum(seconds)};
	MemoryContext caller = CurrentMemoryContext;
	List	   *out = NIL;
	uint64		n;
	uint64		i;

	vt_spi_connect();
	n = vt_spi_run(q, values, NULL, false, 0);
	for (i = 0; i < n; i++)
	{
		MemoryContext spi;

		if (!vt_spi_bool(i, live_col, false))
			continue;			/* expired or out of the window: nothing to copy */
		spi = MemoryContextSwitchTo(caller);
		out = lappend(out, read(i, seconds));
		MemoryContextSwitchTo(spi);
	}
	vt_spi_finish();
	return out;
}

static void *
read_anon(uint64 i, int ttl_seconds)
{
	HotAnon    *a = palloc0(sizeof(HotAnon));

	a->fingerprint = vt_spi_text(i, 1);
	a->session_id = uuid_text(i, 2);
	a->started_at = vt_spi_int64(i, 3, 0);
	a->last_activity = vt_spi_int64(i, 4, 0);
	a->pages_visited = (int32) vt_spi_int64(i, 5, 0);
	a->current_page = vt_spi_text(i, 6);
	a->landing_page = vt_spi_text(i, 7);
	a->referrer = vt_spi_text(i, 8);
	a->last_view_at = vt_spi_int64(i, 9, 0);
	return a;
}

List *
hot_local_anon_take(int ttl_seconds)
{
	static VtQuery q = {
		"DELETE FROM visittrack.hot_anon_session"
		" RETURNING device_fingerprint, session_id, started_at, last_activity, pages_visited,"
		"  current_page, landing_page, referrer, last_view_at,"
		"  last_activity > now() - $1 * interval '1 second'",
		1, {INT4OID}
	};

	return take_live_rows(&q, ttl_seconds, 10, read_anon);
}

static void *
read_visitor(uint64 i, int window_seconds)
{
	HotVisitor *v = palloc0(sizeof(HotVisitor));

	v->visit.community_id = vt_spi_text(i, 1);
	v->visit.visitor_key = vt_spi_text(i, 2);
	v->visit.is_authenticated = vt_spi_bool(i, 3, false);
	v->visit.json_fields = vt_spi_text(i, 4);
	v->pages_viewed = (int32) vt_spi_int64(i, 5, 1);
	v->first_seen = vt_spi_int64(i, 6, 0);
	v->visit.now = vt_spi_int64(i, 7, 0);
	v->visit.window_seconds = window_seconds;
	return v;
}

List *
hot_local_visitors_take(int window_seconds)
{
	static VtQuery q = {
		"DELETE FROM visittrack.hot_community_visitor"
		" RETURNING community_id::text, visitor_key, is_authenticated, fields, pages_viewed,"
		"  first_seen, last_seen, last_seen > now() - $1 * interval '1 second'",
		1, {INT4OID}
	};

	return take_live_rows(&q, window_seconds, 8, read_visitor);
}

const HotStoreOps vt_hotstore_local = {
	.anon_touch = local_anon_touch,
	.anon_fetch = local_anon_fetch,
	.anon_remove = local_anon_remove,
	.visit_record = local_visit_record,
	.visit_counts = local_visit_counts,
	.visitors = local_visitors,
	.visitor_forget = local_visitor_forget,
};
