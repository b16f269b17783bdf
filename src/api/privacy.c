/*
 * privacy.c: erasure -- forget_user and forget_fingerprint.
 *
 * Each removes every row visittrack holds about one person and the hot
 * state that goes with it, and returns what it removed per table and store
 * as JSON.  Rows go with the caller's transaction.  For a user, "the
 * person's devices" are the fingerprints of the user's sessions and of the
 * anonymous sessions converted to the user: their hot anonymous sessions
 * and anonymous community presence are removed too (anonymous rows of such
 * a device that were never linked to the user are not: they may be someone
 * else's on a shared device; forget_fingerprint erases them).  Hot state:
 *   - session:{id} entries of the user's sessions are deleted at commit
 *     (hot_session_remove), like a logout;
 *   - anonymous hot sessions and community presence are removed at once:
 *     they are ephemeral, and removing them early if the caller rolls back
 *     loses nothing that matters.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "guc.h"
#include "hotstore.h"
#include "input.h"
#include "spi_util.h"
#include "write_queue.h"

PG_FUNCTION_INFO_V1(vt_forget_user);
PG_FUNCTION_INFO_V1(vt_forget_fingerprint);

static void
add_count(StringInfo b, const char *name, int64 n)
{
	appendStringInfo(b, "%s\"%s\": " INT64_FORMAT, b->len > 1 ? ", " : "", name, n);
}

static Datum
json_result(StringInfo b)
{
	appendStringInfoChar(b, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(b->data));
}

/* Remove the hot anonymous session of a fingerprint; 1 if there was one. */
static int64
forget_hot_anon(const char *fingerprint)
{
	HotAnon		hot;
	bool		found = hot_anon_fetch(fingerprint, vt_anon_session_ttl, &hot);

	hot_anon_remove(fingerprint);
	return found ? 1 : 0;
}

static List *
add_fingerprint(List *fps, const char *fp)
{
	ListCell   *lc;

	if (fp == NULL)
		return fps;
	foreach(lc, fps)
	{
		if (strcmp(lfirst(lc), fp) == 0)
			return fps;
	}
	return lappend(fps, pstrdup(fp));
}

/* forget_user(user_id uuid) returns jsonb */
Datum
vt_forget_user(PG_FUNCTION_ARGS)
{
	static VtQuery sessions_q = {
		"WITH s AS (DELETE FROM visittrack.user_session WHERE user_id = $1"
		"           RETURNING session_id, device_fingerprint, fast_fingerprint),"
		" b AS (DELETE FROM visittrack.hot_redis_backlog"
		"        WHERE key_kind = 'session' AND key_id IN (SELECT session_id FROM s))"
		" SELECT session_id, device_fingerprint, fast_fingerprint FROM s",
		1, {UUIDOID}
	};
	static VtQuery rows_q = {
		"WITH e AS (DELETE FROM visittrack.user_event WHERE user_id = $1 RETURNING 1),"
		" v AS (DELETE FROM visittrack.user_page_view WHERE user_id = $1 RETURNING 1)"
		" SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM v)",
		1, {UUIDOID}
	};
	/* the anonymous sessions that became this user, with their page views */
	static VtQuery anon_q = {
		"WITH s AS (DELETE FROM visittrack.anonymous_session WHERE converted_to_user = $1"
		"           RETURNING session_id, session_start, device_fingerprint),"
		" v AS (DELETE FROM visittrack.anonymous_page_view p USING s"
		"        WHERE p.session_id = s.session_id AND p.viewed_at >= s.session_start RETURNING 1)"
		" SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM v), fp"
		"   FROM (SELECT DISTINCT device_fingerprint AS fp FROM s) f"
		"  RIGHT JOIN (SELECT 1) one ON true",
		1, {UUIDOID}
	};
	Datum		user_id;
	char	   *user_text;
	Datum		values[1];
	MemoryContext caller = CurrentMemoryContext;
	List	   *session_ids = NIL;
	List	   *fingerprints = NIL;
	ListCell   *lc;
	int64		n_sessions;
	int64		n_events;
	int64		n_views;
	int64		n_anon_sessions = 0;
	int64		n_anon_views = 0;
	int64		n_hot_sessions = 0;
	int64		n_hot_anon = 0;
	int64		n_presence;
	uint64		n;
	uint64		i;
	StringInfoData b;

	vt_require_arg(fcinfo, 0, "user_id");
	user_id = PG_GETARG_DATUM(0);
	vt_wq_require_written("forget_user");
	user_text = DatumGetCString(DirectFunctionCall1(uuid_out, user_id));
	values[0] = user_id;

	vt_spi_connect();
	n = vt_spi_run(&sessions_q, values, NULL, false, 0);
	n_sessions = (int64) n;
	for (i = 0; i < n; i++)
	{
		char	   *device_fp = vt_spi_text(i, 2);
		char	   *fast_fp = vt_spi_text(i, 3);
		MemoryContext spi = MemoryContextSwitchTo(caller);

		session_ids = lappend(session_ids, vt_spi_text(i, 1));
		fingerprints = add_fingerprint(fingerprints, device_fp);
		fingerprints = add_fingerprint(fingerprints, fast_fp);
		MemoryContextSwitchTo(spi);
	}
	vt_spi_run(&rows_q, values, NULL, false, 0);
	n_events = vt_spi_int64(0, 1, 0);
	n_views = vt_spi_int64(0, 2, 0);
	n = vt_spi_run(&anon_q, values, NULL, false, 0);
	for (i = 0; i < n; i++)
	{
		char	   *fp = vt_spi_text(i, 3);

		n_anon_sessions = vt_spi_int64(i, 1, 0);
		n_anon_views = vt_spi_int64(i, 2, 0);
		if (fp)
		{
			MemoryContext spi = MemoryContextSwitchTo(caller);

			fingerprints = add_fingerprint(fingerprints, fp);
			MemoryContextSwitchTo(spi);
		}
	}
	vt_spi_finish();

	/* hot state: session entries at commit, the rest now */
	foreach(lc, session_ids)
		n_hot_sessions += hot_session_remove(lfirst(lc));
	n_presence = hot_visitor_forget(user_text);
	foreach(lc, fingerprints)
	{
		n_hot_anon += forget_hot_anon(lfirst(lc));
		n_presence += hot_visitor_forget(psprintf("anon_%s", (char *) lfirst(lc)));
	}

	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	add_count(&b, "user_session", n_sessions);
	add_count(&b, "user_event", n_events);
	add_count(&b, "user_page_view", n_views);
	add_count(&b, "anonymous_session", n_anon_sessions);
	add_count(&b, "anonymous_page_view", n_anon_views);
	add_count(&b, "hot_sessions", n_hot_sessions);
	add_count(&b, "hot_anonymous_sessions", n_hot_anon);
	add_count(&b, "community_presence", n_presence);
	PG_RETURN_DATUM(json_result(&b));
}

/* forget_fingerprint(fingerprint text) returns jsonb */
Datum
vt_forget_fingerprint(PG_FUNCTION_ARGS)
{
	static VtQuery q = {
		"WITH s AS (DELETE FROM visittrack.anonymous_session WHERE device_fingerprint = $1 RETURNING 1),"
		" v AS (DELETE FROM visittrack.anonymous_page_view WHERE device_fingerprint = $1 RETURNING 1)"
		" SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM v)",
		1, {TEXTOID}
	};
	char	   *fp;
	Datum		values[1];
	int64		n_sessions;
	int64		n_views;
	int64		n_hot;
	int64		n_presence;
	StringInfoData b;

	vt_require_arg(fcinfo, 0, "fingerprint");
	vt_wq_require_written("forget_fingerprint");
	fp = vt_normalise_fingerprint(vt_text_arg(fcinfo, 0), "fingerprint");
	values[0] = CStringGetTextDatum(fp);

	vt_spi_connect();
	vt_spi_run(&q, values, NULL, false, 0);
	n_sessions = vt_spi_int64(0, 1, 0);
	n_views = vt_spi_int64(0, 2, 0);
	vt_spi_finish();

	n_hot = forget_hot_anon(fp);
	n_presence = hot_visitor_forget(psprintf("anon_%s", fp));

	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	add_count(&b, "anonymous_session", n_sessions);
	add_count(&b, "anonymous_page_view", n_views);
	add_count(&b, "hot_anonymous_sessions", n_hot);
	add_count(&b, "community_presence", n_presence);
	PG_RETURN_DATUM(json_result(&b));
}
