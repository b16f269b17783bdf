/*
 * sessions.c: session_start, session_touch, session_end, session_get.
 *
 * user_session is the truth; session:{session_id} in the hot store is a
 * cache of the live part of the row, written at commit and deleted at
 * logout.  Lifetimes are fixed at login (session_ttl, or remember_me_ttl)
 * and are not extended by activity, as with Django's default sessions.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "fingerprint.h"
#include "async_commit.h"
#include "guc.h"
#include "hotstore.h"
#include "input.h"
#include "isotime.h"
#include "jsonbuf.h"
#include "kind_user_view.h"
#include "queue_at_commit.h"
#include "sessions.h"
#include "spi_util.h"
#include "shared_state.h"

PG_FUNCTION_INFO_V1(vt_session_start);
PG_FUNCTION_INFO_V1(vt_session_touch);
PG_FUNCTION_INFO_V1(vt_session_end);
PG_FUNCTION_INFO_V1(vt_session_get);

#define SESSION_COLUMNS \
	"session_id, user_id::text, username, host(ip_address), device_fingerprint," \
	" fast_fingerprint, persistent, is_active, started_at, expires_at," \
	" last_activity, pages_visited, ended_at"

/* Fill a HotSession from SESSION_COLUMNS at row 0; returns ended_at. */
static TimestampTz
session_from_row(HotSession *s)
{
	s->session_id = vt_spi_text(0, 1);
	s->user_id = vt_spi_text(0, 2);
	s->username = vt_spi_text(0, 3);
	s->ip_address = vt_spi_text(0, 4);
	s->device_fingerprint = vt_spi_text(0, 5);
	s->fast_fingerprint = vt_spi_text(0, 6);
	s->persistent = vt_spi_bool(0, 7, false);
	s->is_active = vt_spi_bool(0, 8, false);
	s->started_at = vt_spi_int64(0, 9, 0);
	s->expires_at = vt_spi_int64(0, 10, 0);
	s->last_activity = vt_spi_int64(0, 11, 0);
	s->pages_visited = (int32) vt_spi_int64(0, 12, 0);
	return vt_spi_int64(0, 13, 0);
}

static int
remaining_seconds(const HotSession *s, TimestampTz now)
{
	int64		left = (s->expires_at - now) / USECS_PER_SEC;

	return (int) Max(1, Min(left, (int64) INT_MAX));
}

/* End active sessions with this id whose lifetime is over. */
static bool
end_if_expired(const char *session_id)
{
	static VtQuery q = {
		"UPDATE visittrack.user_session SET is_active = false, ended_at = expires_at"
		" WHERE session_id = $1 AND is_active AND expires_at <= now()",
		1, {TEXTOID}
	};
	Datum		values[1] = {CStringGetTextDatum(session_id)};
	bool		ended;

	vt_spi_connect();
	ended = vt_spi_run(&q, values, NULL, false, 0) > 0;
	vt_spi_finish();
	if (ended)
		hot_session_remove(session_id);
	return ended;
}

/*
 * session_start(user_id uuid, session_key text, ip inet, user_agent text,
 *               remember_me boolean, username text, device_fingerprint text)
 */
Datum
vt_session_start(PG_FUNCTION_ARGS)
{
	static VtQuery q = {
		"INSERT INTO visittrack.user_session AS s"
		" (user_id, session_id, username, ip_address, user_agent, device_fingerprint,"
		"  fast_fingerprint, persistent, started_at, last_activity, expires_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), now(),"
		"         now() + $9 * interval '1 second')"
		" ON CONFLICT (session_id) WHERE is_active"
		" DO UPDATE SET last_activity = s.last_activity WHERE s.user_id = excluded.user_id"
		" RETURNING " SESSION_COLUMNS,
		9, {UUIDOID, TEXTOID, TEXTOID, INETOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID, INT4OID}
	};
	text	   *key;
	char	   *session_id;
	inet	   *ip = PG_ARGISNULL(2) ? NULL : PG_GETARG_INET_PP(2);
	inet	   *ip_stored;
	char	   *ua_raw = vt_text_arg(fcinfo, 3);
	bool		remember_me = PG_ARGISNULL(4) ? false : PG_GETARG_BOOL(4);
	char	   *device_fp = vt_text_arg(fcinfo, 6);
	char	   *fast_fp = NULL;
	int			ttl = remember_me ? vt_remember_me_ttl : vt_session_ttl;
	Datum		values[9];
	char		nulls[9] = "         ";
	HotSession	s;
	uint64		n;

	vt_require_arg(fcinfo, 0, "user_id");
	vt_require_arg(fcinfo, 1, "session_key");
	key = PG_GETARG_TEXT_PP(1);
	if (VARSIZE_ANY_EXHDR(key) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("session_key must not be empty")));
	session_id = vt_session_id_for_key(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
	if (device_fp)
		device_fp = vt_normalise_fingerprint(device_fp, "device_fingerprint");
	if (ip || ua_raw)
		fast_fp = vt_fingerprint(ip, ua_raw, NULL, NULL);
	ip_stored = vt_ip_for_storage(ip);

	vt_tracking_write();
	end_if_expired(session_id);

	values[0] = PG_GETARG_DATUM(0);
	values[1] = CStringGetTextDatum(session_id);
	if (PG_ARGISNULL(5))
		nulls[2] = 'n';
	else
		values[2] = CStringGetTextDatum(vt_normalise_text(vt_text_arg(fcinfo, 5),
														  VT_MAX_NAME_LENGTH));
	if (ip_stored)
		values[3] = InetPGetDatum(ip_stored);
	else
		nulls[3] = 'n';
	if (ua_raw)
		values[4] = CStringGetTextDatum(vt_normalise_text(ua_raw, vt_max_user_agent_length));
	else
		nulls[4] = 'n';
	if (device_fp)
		values[5] = CStringGetTextDatum(device_fp);
	else
		nulls[5] = 'n';
	if (fast_fp)
		values[6] = CStringGetTextDatum(fast_fp);
	else
		nulls[6] = 'n';
	values[7] = BoolGetDatum(remember_me);
	values[8] = Int32GetDatum(ttl);

	vt_spi_connect();
	n = vt_spi_run(&q, values, nulls, false, 0);
	if (n == 1)
		session_from_row(&s);
	vt_spi_finish();
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("session key is already in use by another user's live session"),
				 errhint("Rotate the session key at login (Django does this with cycle_key()).")));

	hot_session_store(&s, remaining_seconds(&s, GetCurrentTransactionStartTimestamp()));
	vt_count(VT_SESSIONS_STARTED, 1);
	PG_RETURN_TEXT_P(cstring_to_text(session_id));
}

int32
vt_session_page(const VtSessionPage *page, VtWriteMode mode)
{
	/* the count, at once in either mode; the view's row is written below */
	static VtQuery q = {
		"UPDATE visittrack.user_session"
		"   SET pages_visited = pages_visited + 1, last_activity = now()"
		" WHERE session_id = $1 AND is_active AND expires_at > now()"
		"   AND ($2::uuid IS NULL OR user_id = $2::uuid)"
		" RETURNING pages_visited, now(), user_id::text, is_bot OR $3",
		3, {TEXTOID, UUIDOID, BOOLOID}
	};
	Datum		values[3];
	char		nulls[3] = "   ";
	int32		pages = -1;
	VtUserViewRow view = {0};

	values[0] = CStringGetTextDatum(page->session_id);
	values[1] = page->user_id ? DirectFunctionCall1(uuid_in, CStringGetDatum(page->user_id)) : (Datum) 0;
	nulls[1] = page->user_id ? ' ' : 'n';
	values[2] = BoolGetDatum(page->page.is_bot);

	view.session_id = (char *) page->session_id;
	view.page = page->page;
	vt_spi_connect();
	if (vt_spi_run(&q, values, nulls, false, 0) == 1)
	{
		pages = (int32) vt_spi_int64(0, 1, 0);
		view.viewed_at = vt_spi_int64(0, 2, 0);
		view.user_id = vt_spi_text(0, 3);
		view.page.is_bot = vt_spi_bool(0, 4, false);	/* the session's or the request's */
	}
	vt_spi_finish();

	if (pages < 0)
	{
		end_if_expired(page->session_id);
		return -1;
	}
	if (view.page.url)
	{
		if (mode == VT_WRITE_BEHIND)
			vt_queue_at_commit(VT_WRITE_USER_VIEW, vt_rec_encode(&vt_user_view_layout, &view));
		else
			vt_user_views_write(&view, 1);
	}
	hot_session_set_pages(page->session_id, pages, view.viewed_at, mode);
	return pages;
}

/* session_touch(session_id text, url text) */
Datum
vt_session_touch(PG_FUNCTION_ARGS)
{
	VtSessionPage page = {0};
	int32		pages;

	vt_require_arg(fcinfo, 0, "session_id");
	page.session_id = vt_text_arg(fcinfo, 0);
	vt_check_key_id(page.session_id, "session_id");
	page.page.url = vt_normalise_url(vt_text_arg(fcinfo, 1));

	vt_tracking_write();
	pages = vt_session_page(&page, vt_write_mode_for_call());
	if (pages < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(pages);
}

/* session_end(session_id text) */
Datum
vt_session_end(PG_FUNCTION_ARGS)
{
	static VtQuery q = {
		"WITH ended AS ("
		"  UPDATE visittrack.user_session"
		"     SET is_active = false, ended_at = LEAST(now(), expires_at)"
		"   WHERE session_id = $1 AND is_active RETURNING 1)"
		" SELECT EXISTS (SELECT 1 FROM ended)"
		"     OR EXISTS (SELECT 1 FROM visittrack.user_session WHERE session_id = $1)",
		1, {TEXTOID}
	};
	char	   *session_id;
	Datum		values[1];
	bool		known;

	vt_require_arg(fcinfo, 0, "session_id");
	session_id = vt_text_arg(fcinfo, 0);
	vt_check_key_id(session_id, "session_id");
	values[0] = CStringGetTextDatum(session_id);

	vt_tracking_write();
	vt_spi_connect();
	vt_spi_run(&q, values, NULL, false, 0);
	known = vt_spi_bool(0, 1, false);
	vt_spi_finish();

	if (known)
		hot_session_remove(session_id);
	PG_RETURN_BOOL(known);
}

/* The session as JSON: the Redis hash's fields, same answer from either store. */
static Jsonb *
session_jsonb(const HotSession *s, TimestampTz ended_at)
{
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	vt_json_text(&b, "session_id", s->session_id);
	vt_json_text(&b, "user_id", s->user_id);
	vt_json_text(&b, "user_username", s->username);
	vt_json_text(&b, "ip_address", s->ip_address);
	vt_json_text(&b, "device_fingerprint", s->device_fingerprint);
	vt_json_text(&b, "fast_fingerprint", s->fast_fingerprint);
	vt_json_bool(&b, "persistent", s->persistent);
	vt_json_bool(&b, "is_active", s->is_active);
	vt_json_time(&b, "started_at", s->started_at);
	vt_json_time(&b, "expires_at", s->expires_at);
	vt_json_time(&b, "last_activity", s->last_activity);
	vt_json_time(&b, "ended_at", ended_at);
	vt_json_int(&b, "pages_visited", s->pages_visited);
	appendStringInfoChar(&b, '}');
	return vt_json_to_jsonb(&b);
}

/* session_get(session_id text): Redis first, then the table (refilling Redis) */
Datum
vt_session_get(PG_FUNCTION_ARGS)
{
	static VtQuery q = {
		"SELECT " SESSION_COLUMNS " FROM visittrack.user_session"
		" WHERE session_id = $1 ORDER BY is_active DESC, started_at DESC LIMIT 1",
		1, {TEXTOID}
	};
	char	   *session_id;
	HotSession	s;
	TimestampTz ended_at = 0;
	Datum		values[1];
	bool		found;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	vt_require_arg(fcinfo, 0, "session_id");
	session_id = vt_text_arg(fcinfo, 0);
	vt_check_key_id(session_id, "session_id");

	if (hot_session_fetch(session_id, &s) && s.is_active && s.expires_at > now)
		PG_RETURN_JSONB_P(session_jsonb(&s, 0));

	/* on a standby or in a read-only transaction, an expired session is shown ended */
	if (!XactReadOnly)
		end_if_expired(session_id);

	values[0] = CStringGetTextDatum(session_id);
	vt_spi_connect();
	found = vt_spi_run(&q, values, NULL, false, 1) == 1;
	if (found)
		ended_at = session_from_row(&s);
	vt_spi_finish();
	if (!found)
		PG_RETURN_NULL();

	if (s.is_active && s.expires_at <= now)
	{
		s.is_active = false;	/* expired, not yet ended (read-only) */
		ended_at = s.expires_at;
	}
	if (s.is_active)
		hot_session_store(&s, remaining_seconds(&s, now));
	PG_RETURN_JSONB_P(session_jsonb(&s, ended_at));
}

char *
vt_session_latest_for_user(const char *user_id)
{
	static VtQuery q = {
		"SELECT session_id FROM visittrack.user_session"
		" WHERE user_id = $1 AND is_active AND expires_at > now()"
		" ORDER BY started_at DESC LIMIT 1",
		1, {UUIDOID}
	};
	Datum		values[1] = {DirectFunctionCall1(uuid_in, CStringGetDatum(user_id))};
	char	   *session_id = NULL;

	vt_spi_connect();
	if (vt_spi_run(&q, values, NULL, true, 1) == 1)
		session_id = vt_spi_text(0, 1);
	vt_spi_finish();
	return session_id;
}

int64
vt_sessions_end_expired(void)
{
	static VtQuery q = {
		"UPDATE visittrack.user_session SET is_active = false, ended_at = expires_at"
		" WHERE is_active AND expires_at <= now() RETURNING session_id",
		0, {0}
	};
	uint64		n;
	uint64		i;
	List	   *ids = NIL;
	ListCell   *lc;
	MemoryContext caller = CurrentMemoryContext;

	vt_spi_connect();
	n = vt_spi_run(&q, NULL, NULL, false, 0);
	for (i = 0; i < n; i++)
	{
		/* the list outlives SPI's memory */
		MemoryContext spi = MemoryContextSwitchTo(caller);

		ids = lappend(ids, vt_spi_text(i, 1));
		MemoryContextSwitchTo(spi);
	}
	vt_spi_finish();
	foreach(lc, ids)
		hot_session_remove(lfirst(lc));
	return (int64) n;
}

PG_FUNCTION_INFO_V1(vt_end_expired_sessions);

/* end_expired_sessions() returns bigint */
Datum
vt_end_expired_sessions(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(vt_sessions_end_expired());
}
