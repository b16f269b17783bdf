/*
 * conversion.c: the life after the page views of an anonymous session --
 * finalisation when it goes idle, and the link to the account it became.
 *
 * Where the final figures come from: the hot entry (while it lives), the
 * anonymous_session row (written every anon_persist_every pages) and the
 * session's page views (always written).  Each step takes the largest page
 * count and the latest activity of the three, so nothing depends on the hot
 * entry still being there.
 */
#include "postgres.h"

#include <sys/socket.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "events.h"
#include "guc.h"
#include "hotstore.h"
#include "input.h"
#include "isotime.h"
#include "jsonbuf.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(vt_finalize_anonymous_sessions);
PG_FUNCTION_INFO_V1(vt_link_conversion);

#define FINALIZE_BATCH 5000

typedef struct Candidate
{
	char	   *session_id;
	TimestampTz session_start;
	char	   *fingerprint;
} Candidate;

/* A uuid Datum from its text form. */
static Datum
uuid_datum(const char *s)
{
	return DirectFunctionCall1(uuid_in, CStringGetDatum(s));
}

/* Is the hot entry the same session, still inside its idle window? */
static bool
still_live(const HotAnon *hot, bool found, const char *session_id, TimestampTz now)
{
	return found && hot->session_id && strcmp(hot->session_id, session_id) == 0 &&
		hot->last_activity > now - (int64) vt_anon_session_ttl * USECS_PER_SEC;
}

/*
 * A session still live in the hot store: its row catches up with the hot
 * state (last activity, pages) instead of being finalised.
 */
static void
refresh_from_hot(const Candidate *c, const HotAnon *hot)
{
	static VtQuery q = {
		"UPDATE visittrack.anonymous_session"
		"   SET last_activity = GREATEST(last_activity, $3),"
		"       pages_visited = GREATEST(pages_visited, $4)"
		" WHERE session_id = $1 AND session_start = $2",
		4, {UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID}
	};
	Datum		values[4] = {uuid_datum(c->session_id), TimestampTzGetDatum(c->session_start),
		TimestampTzGetDatum(hot->last_activity), Int32GetDatum(hot->pages_visited)};

	vt_spi_run(&q, values, NULL, false, 0);
}

/*
 * Close an idle session: is_active off, its final page count, end and
 * duration (from the hot state when it is the same session, and from its
 * page views).
 */
static void
finalize_one(const Candidate *c, const HotAnon *hot, bool same_session)
{
	static VtQuery q = {
		"UPDATE visittrack.anonymous_session a"
		"   SET is_active = false,"
		"       pages_visited = GREATEST(a.pages_visited, $3, v.n),"
		"       session_end = GREATEST(a.last_activity, $4, v.last_view),"
		"       duration_seconds = floor(extract(epoch FROM"
		"           GREATEST(a.last_activity, $4, v.last_view) - a.session_start))::integer"
		"  FROM (SELECT count(*)::integer AS n, max(viewed_at) AS last_view"
		"          FROM visittrack.anonymous_page_view"
		"         WHERE session_id = $1 AND viewed_at >= $2) v"
		" WHERE a.session_id = $1 AND a.session_start = $2",
		4, {UUIDOID, TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID}
	};
	Datum		values[4];
	char		nulls[4] = "    ";

	values[0] = uuid_datum(c->session_id);
	values[1] = TimestampTzGetDatum(c->session_start);
	values[2] = Int32GetDatum(same_session ? hot->pages_visited : 0);
	values[3] = TimestampTzGetDatum(same_session ? hot->last_activity : 0);
	if (!same_session)
		nulls[3] = 'n';
	vt_spi_run(&q, values, nulls, false, 0);
}

/*
 * finalize_anonymous_sessions() returns integer: sessions idle past
 * anon_session_ttl are closed with session_end, duration_seconds and their
 * final page count.  The worker runs it every round.
 */
Datum
vt_finalize_anonymous_sessions(PG_FUNCTION_ARGS)
{
	static VtQuery candidates_q = {
		"SELECT session_id::text, session_start, device_fingerprint"
		"  FROM visittrack.anonymous_session"
		" WHERE is_active AND last_activity <= now() - $1 * interval '1 second'"
		/* implied (a session starts before its last activity); for the index */
		"   AND session_start <= now() - $1 * interval '1 second'"
		" ORDER BY last_activity LIMIT $2 FOR UPDATE SKIP LOCKED",
		2, {INT4OID, INT4OID}
	};
	Datum		args[2] = {Int32GetDatum(vt_anon_session_ttl), Int32GetDatum(FINALIZE_BATCH)};
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	MemoryContext caller = CurrentMemoryContext;
	List	   *candidates = NIL;
	ListCell   *lc;
	uint64		n;
	uint64		i;
	int32		finalized = 0;

	vt_spi_connect();
	n = vt_spi_run(&candidates_q, args, NULL, false, 0);
	for (i = 0; i < n; i++)
	{
		/* outside SPI's memory, which vt_spi_finish frees */
		MemoryContext spi = MemoryContextSwitchTo(caller);
		Candidate  *c = palloc(sizeof(Candidate));

		c->session_id = vt_spi_text(i, 1);
		c->session_start = vt_spi_int64(i, 2, 0);
		c->fingerprint = vt_spi_text(i, 3);
		candidates = lappend(candidates, c);
		MemoryContextSwitchTo(spi);
	}
	vt_spi_finish();

	foreach(lc, candidates)
	{
		Candidate  *c = lfirst(lc);
		HotAnon		hot;
		bool		found = hot_anon_fetch(c->fingerprint, vt_anon_session_ttl, &hot);
		bool		same = found && hot.session_id && strcmp(hot.session_id, c->session_id) == 0;

		vt_spi_connect();
		if (still_live(&hot, found, c->session_id, now))
			refresh_from_hot(c, &hot);
		else
		{
			finalize_one(c, &hot, same);
			finalized++;
		}
		vt_spi_finish();
	}
	PG_RETURN_INT32(finalized);
}

/* The session link_conversion works on. */
typedef struct Target
{
	char	   *session_id;
	TimestampTz started_at;
	TimestampTz last_activity;
	int32		pages;
	char	   *landing_page;
	char	   *referrer;
} Target;

/*
 * Keep in best the latest session seen, merging what two sources know of
 * the same session.
 */
static void
consider(Target *best, const Target *t)
{
	if (t->session_id == NULL)
		return;
	if (best->session_id == NULL || t->last_activity > best->last_activity)
	{
		*best = *t;
		return;
	}
	if (strcmp(best->session_id, t->session_id) == 0)
	{
		/* the same session seen from another source: keep the largest figures */
		best->pages = Max(best->pages, t->pages);
		if (best->landing_page == NULL)
			best->landing_page = t->landing_page;
		if (best->referrer == NULL)
			best->referrer = t->referrer;
	}
}

/* The latest session of a fingerprint among the stored rows and page views. */
static void
find_stored_sessions(const char *fp, Target *best)
{
	static VtQuery row_q = {
		"SELECT session_id::text, session_start, last_activity, pages_visited,"
		"       landing_page, referrer"
		"  FROM visittrack.anonymous_session WHERE device_fingerprint = $1"
		" ORDER BY session_start DESC LIMIT 1",
		1, {TEXTOID}
	};
	static VtQuery views_q = {
		"SELECT session_id::text, min(viewed_at), max(viewed_at), count(*)::integer,"
		"       (array_agg(url ORDER BY viewed_at))[1],"
		"       (array_agg(referrer ORDER BY viewed_at))[1]"
		"  FROM visittrack.anonymous_page_view"
		" WHERE device_fingerprint = $1"
		"   AND session_id = (SELECT session_id FROM visittrack.anonymous_page_view"
		"                      WHERE device_fingerprint = $1"
		"                      ORDER BY viewed_at DESC LIMIT 1)"
		" GROUP BY session_id",
		1, {TEXTOID}
	};
	VtQuery    *queries[2] = {&row_q, &views_q};
	Datum		values[1] = {CStringGetTextDatum(fp)};
	int			k;

	for (k = 0; k < 2; k++)
	{
		Target		t = {0};

		if (vt_spi_run(queries[k], values, NULL, true, 1) != 1)
			continue;
		t.session_id = vt_spi_text(0, 1);
		t.started_at = vt_spi_int64(0, 2, 0);
		t.last_activity = vt_spi_int64(0, 3, 0);
		t.pages = (int32) vt_spi_int64(0, 4, 0);
		t.landing_page = vt_spi_text(0, 5);
		t.referrer = vt_spi_text(0, 6);
		consider(best, &t);
	}
}

/* Make sure the session has a row holding the best figures known. */
static void
persist_target(const char *fp, const Target *t)
{
	static VtQuery q = {
		"INSERT INTO visittrack.anonymous_session AS a"
		" (session_id, device_fingerprint, session_start, last_activity, pages_visited,"
		"  landing_page, referrer)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7)"
		" ON CONFLICT (session_id, session_start) DO UPDATE SET"
		"  pages_visited = GREATEST(a.pages_visited, excluded.pages_visited),"
		"  last_activity = GREATEST(a.last_activity, excluded.last_activity),"
		"  landing_page = COALESCE(a.landing_page, excluded.landing_page),"
		"  referrer = COALESCE(a.referrer, excluded.referrer)",
		7, {UUIDOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, TEXTOID, TEXTOID}
	};
	Datum		values[7];
	char		nulls[7] = "       ";

	values[0] = uuid_datum(t->session_id);
	values[1] = CStringGetTextDatum(fp);
	values[2] = TimestampTzGetDatum(t->started_at);
	values[3] = TimestampTzGetDatum(t->last_activity);
	values[4] = Int32GetDatum(t->pages);
	values[5] = t->landing_page ? CStringGetTextDatum(t->landing_page) : (Datum) 0;
	nulls[5] = t->landing_page ? ' ' : 'n';
	values[6] = t->referrer ? CStringGetTextDatum(t->referrer) : (Datum) 0;
	nulls[6] = t->referrer ? ' ' : 'n';
	vt_spi_run(&q, values, nulls, false, 0);
}

/*
 * link_conversion(user_id uuid, fingerprint text) returns uuid: the
 * visitor's latest anonymous session becomes converted_to_user, with one
 * account_created event carrying what the visitor did before signing up.
 * Idempotent; a session converted to another user is never re-linked.
 */
Datum
vt_link_conversion(PG_FUNCTION_ARGS)
{
	static VtQuery convert_q = {
		"UPDATE visittrack.anonymous_session"
		"   SET converted_to_user = $3, converted_at = now()"
		" WHERE session_id = $1 AND session_start = $2 AND converted_to_user IS NULL"
		" RETURNING pages_visited, landing_page, referrer, session_start,"
		"   floor(extract(epoch FROM COALESCE(session_end, last_activity) - session_start))::integer",
		3, {UUIDOID, TIMESTAMPTZOID, UUIDOID}
	};
	static VtQuery owner_q = {
		"SELECT converted_to_user = $3 FROM visittrack.anonymous_session"
		" WHERE session_id = $1 AND session_start = $2",
		3, {UUIDOID, TIMESTAMPTZOID, UUIDOID}
	};
	char	   *fp;
	HotAnon		hot;
	Target		best = {0};
	Datum		values[3];
	bool		converted;
	bool		ours = false;
	int32		pages = 0;
	int32		duration = 0;
	char	   *landing = NULL;
	char	   *referrer = NULL;
	TimestampTz started = 0;

	vt_require_arg(fcinfo, 0, "user_id");
	vt_require_arg(fcinfo, 1, "fingerprint");
	fp = vt_normalise_fingerprint(vt_text_arg(fcinfo, 1), "fingerprint");

	if (hot_anon_fetch(fp, vt_anon_session_ttl, &hot))
	{
		Target		t = {hot.session_id, hot.started_at, hot.last_activity,
		hot.pages_visited, hot.landing_page, hot.referrer};

		consider(&best, &t);
	}
	vt_spi_connect();
	find_stored_sessions(fp, &best);
	if (best.session_id == NULL)
	{
		vt_spi_finish();
		PG_RETURN_NULL();
	}
	persist_target(fp, &best);

	values[0] = uuid_datum(best.session_id);
	values[1] = TimestampTzGetDatum(best.started_at);
	values[2] = PG_GETARG_DATUM(0);
	converted = vt_spi_run(&convert_q, values, NULL, false, 0) == 1;
	if (converted)
	{
		pages = (int32) vt_spi_int64(0, 1, 0);
		landing = vt_spi_text(0, 2);
		referrer = vt_spi_text(0, 3);
		started = vt_spi_int64(0, 4, 0);
		duration = (int32) vt_spi_int64(0, 5, 0);
	}
	/* read-write: a fresh snapshot sees a concurrent call's conversion */
	else if (vt_spi_run(&owner_q, values, NULL, false, 1) == 1)
		ours = vt_spi_bool(0, 1, false);
	vt_spi_finish();

	if (converted)
	{
		StringInfoData meta;

		initStringInfo(&meta);
		appendStringInfoChar(&meta, '{');
		vt_json_text(&meta, "from_anonymous_session", best.session_id);
		vt_json_int(&meta, "pages_visited", pages);
		vt_json_int(&meta, "duration_seconds", duration);
		vt_json_text(&meta, "landing_page", landing);
		vt_json_text(&meta, "referrer", referrer);
		vt_json_time(&meta, "session_start", started);
		vt_json_text(&meta, "device_fingerprint", fp);
		appendStringInfoChar(&meta, '}');
		vt_event_insert(PG_GETARG_DATUM(0), "account_created",
						"Account created after anonymous browsing",
						vt_json_to_jsonb(&meta), NULL, NULL);
	}
	else if (!ours)
		PG_RETURN_NULL();		/* converted to someone else: never re-linked */

	PG_RETURN_DATUM(uuid_datum(best.session_id));
}
