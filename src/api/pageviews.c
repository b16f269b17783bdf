/*
 * pageviews.c: track_page_view, one page seen by a visitor.
 *
 * Signed-in (user_id or session_id given): the session's page count and a
 * user_page_view row (sessions.c).  Anonymous: the anon_session:{fingerprint}
 * hot entry (30 min sliding TTL; a new session with landing page and
 * referrer when absent) counts the page in one atomic step, then one SQL
 * statement writes the anonymous_page_view row, closes the previous view's
 * time on page and, every anon_persist_every pages, upserts the
 * anonymous_session row -- or, with write-behind (write_queue.h), the same
 * row is queued at commit and the writer writes it in a batch
 * (pageview_batch.c).  The anonymous counter is applied at once and
 * survives a rollback of the caller: the page was served.
 */
#include "postgres.h"

#include <sys/socket.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "async_commit.h"
#include "guc.h"
#include "hotstore.h"
#include "input.h"
#include "pageviews.h"
#include "sessions.h"
#include "spi_util.h"
#include "shared_state.h"
#include "useragent.h"
#include "write_queue.h"
#include "queue_at_commit.h"

PG_FUNCTION_INFO_V1(vt_track_page_view);

static Datum
text_datum(const char *s, char *null_flag)
{
	*null_flag = s ? ' ' : 'n';
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * Writing one anonymous page view: the page view row and -- when there is a
 * previous view -- that view's time on page, in one statement; and every
 * anon_persist_every pages the session row, in a second one (so the other
 * views do not pay for setting it up).  The session upsert only moves pages
 * and last activity forward, so concurrent views may commit in any order.
 *
 * The previous view is updated in its day's partition, named in the
 * statement: through the partitioned parent, PostgreSQL 15's cached generic
 * plan would lock and set up every one of the ~90 day partitions on each
 * call, a third of the page view's CPU (doc/performance.md).  So there is
 * one prepared statement per partition in use (two at most at any time:
 * today's and, around midnight, yesterday's), plus one for first views.
 */
#define INSERT_VIEW_SQL \
	"INSERT INTO visittrack.anonymous_page_view" \
	" (session_id, device_fingerprint, url, url_name, page_type, referrer, is_bot, viewed_at)" \
	" VALUES ($1, $2, $3, $4, $5, $8, $6, $7)"

#define VIEW_ARG_TYPES \
	{UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID, TIMESTAMPTZOID, TEXTOID, \
	 TIMESTAMPTZOID}

static VtQuery first_view_q = {INSERT_VIEW_SQL, 8, VIEW_ARG_TYPES};

static VtQuery session_q = {
	"INSERT INTO visittrack.anonymous_session AS a"
	" (session_id, device_fingerprint, session_start, last_activity, ip_address,"
	"  user_agent, pages_visited, landing_page, referrer, is_bot)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
	" ON CONFLICT (session_id, session_start) DO UPDATE SET"
	"  pages_visited = GREATEST(a.pages_visited, excluded.pages_visited),"
	"  last_activity = GREATEST(a.last_activity, excluded.last_activity),"
	"  ip_address = COALESCE(a.ip_address, excluded.ip_address),"
	"  user_agent = COALESCE(a.user_agent, excluded.user_agent)",
	10, {UUIDOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INETOID, TEXTOID, INT4OID,
	TEXTOID, TEXTOID, BOOLOID}
};

#define PARTITION_QUERIES 4

typedef struct PartitionQuery
{
	char		partition[NAMEDATALEN];
	VtQuery		query;
	uint64		last_used;
} PartitionQuery;

static PartitionQuery partition_queries[PARTITION_QUERIES];
static uint64 use_counter = 0;

/* The table holding page views of the UTC day of ts: its partition or the default. */
void
vt_anon_view_partition(TimestampTz ts, char *name)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) == 0)
	{
		snprintf(name, NAMEDATALEN, "anonymous_page_view_p%04d%02d%02d",
				 tm.tm_year, tm.tm_mon, tm.tm_mday);
		if (OidIsValid(get_relname_relid(name, vt_schema_oid())))
			return;
	}
	strlcpy(name, "anonymous_page_view_default", NAMEDATALEN);
}

/* The statement that also closes the previous view, prepared once per partition. */
static VtQuery *
query_with_previous_view(TimestampTz prev_view_at)
{
	static const Oid types[] = VIEW_ARG_TYPES;
	char		name[NAMEDATALEN];
	PartitionQuery *slot = NULL;
	int			i;

	vt_anon_view_partition(prev_view_at, name);
	for (i = 0; i < PARTITION_QUERIES; i++)
	{
		if (strcmp(partition_queries[i].partition, name) == 0)
		{
			slot = &partition_queries[i];
			break;
		}
		if (slot == NULL || partition_queries[i].last_used < slot->last_used)
			slot = &partition_queries[i];	/* least recently used so far */
	}
	if (strcmp(slot->partition, name) != 0)
	{
		/* a new partition: replace the least recently used statement */
		vt_spi_forget(&slot->query);
		if (slot->query.sql)
			pfree((char *) slot->query.sql);
		memset(&slot->query, 0, sizeof(slot->query));
		strlcpy(slot->partition, name, NAMEDATALEN);
		slot->query.sql = MemoryContextStrdup(TopMemoryContext, psprintf(
			"WITH prev AS ("
			"  UPDATE visittrack.%s"
			"     SET time_on_page_seconds ="
			"         GREATEST(0, floor(extract(epoch FROM $7 - viewed_at)))::integer"
			"   WHERE session_id = $1 AND viewed_at = $9 AND time_on_page_seconds IS NULL"
			"  RETURNING 1) " INSERT_VIEW_SQL, quote_identifier(name)));
		slot->query.nargs = lengthof(types);
		memcpy(slot->query.argtypes, types, sizeof(types));
	}
	slot->last_used = ++use_counter;
	return &slot->query;
}

void
vt_anon_view_row_write(const VtAnonViewRow *r)
{
	Datum		values[10];
	char		nulls[10];
	Datum		session_id = DirectFunctionCall1(uuid_in, CStringGetDatum(r->session_id));

	memset(nulls, ' ', sizeof(nulls));
	values[0] = session_id;
	values[1] = CStringGetTextDatum(r->fingerprint);
	values[2] = CStringGetTextDatum(r->url);
	values[3] = text_datum(r->url_name, &nulls[3]);
	values[4] = text_datum(r->page_type, &nulls[4]);
	values[5] = BoolGetDatum(r->is_bot);
	values[6] = TimestampTzGetDatum(r->viewed_at);
	values[7] = text_datum(r->referrer, &nulls[7]);
	values[8] = TimestampTzGetDatum(r->prev_view_at);

	vt_spi_connect();
	if (r->prev_view_at)
		vt_spi_run(query_with_previous_view(r->prev_view_at), values, nulls, false, 0);
	else
		vt_spi_run(&first_view_q, values, nulls, false, 0);

	if (r->persist)
	{
		memset(nulls, ' ', sizeof(nulls));
		values[0] = session_id;
		values[1] = CStringGetTextDatum(r->fingerprint);
		values[2] = TimestampTzGetDatum(r->started_at);
		values[3] = TimestampTzGetDatum(r->viewed_at);
		values[4] = r->ip ? DirectFunctionCall1(inet_in, CStringGetDatum(r->ip)) : (Datum) 0;
		nulls[4] = r->ip ? ' ' : 'n';
		values[5] = text_datum(r->user_agent, &nulls[5]);
		values[6] = Int32GetDatum(r->pages_visited);
		values[7] = text_datum(r->landing_page, &nulls[7]);
		values[8] = text_datum(r->first_referrer, &nulls[8]);
		values[9] = BoolGetDatum(r->is_bot);
		vt_spi_run(&session_q, values, nulls, false, 0);
	}
	vt_spi_finish();
}

int32
vt_anonymous_page_view(const VtAnonView *v)
{
	HotAnonTouch t = {0};
	VtAnonViewRow r = {0};
	inet	   *ip;

	t.fingerprint = v->fingerprint;
	t.new_session_id = vt_random_uuid();
	t.now = v->now;
	t.url = v->url;
	t.referrer = v->referrer;
	t.ttl_seconds = vt_anon_session_ttl;
	hot_anon_touch(&t);

	r.session_id = t.session_id;
	r.fingerprint = (char *) v->fingerprint;
	r.url = (char *) v->url;
	r.url_name = (char *) v->url_name;
	r.page_type = (char *) v->page_type;
	r.referrer = (char *) v->referrer;
	r.is_bot = v->is_bot;
	r.viewed_at = v->now;
	r.prev_view_at = t.prev_view_at;
	r.persist = t.pages_visited % vt_anon_persist_every == 0;
	if (r.persist)
	{
		r.started_at = t.started_at;
		ip = vt_ip_for_storage(v->ip);
		r.ip = ip ? DatumGetCString(DirectFunctionCall1(inet_out, InetPGetDatum(ip))) : NULL;
		r.user_agent = (char *) v->user_agent;
		r.pages_visited = t.pages_visited;
		r.landing_page = t.landing_page;
		r.first_referrer = t.first_referrer;
	}

	if (vt_write_behind_active())
	{
		StringInfoData buf;

		initStringInfo(&buf);
		vt_anon_view_row_encode(&buf, &r);
		vt_queue_at_commit(VT_WRITE_ANON_VIEW, &buf);
	}
	else
		vt_anon_view_row_write(&r);
	vt_count(VT_PAGE_VIEWS, 1);
	return t.pages_visited;
}

/* A signed-in user's view outside any live session: kept, not counted. */
static void
record_sessionless_view(Datum user_id, const char *session_id, const VtAnonView *v)
{
	static VtQuery q = {
		"INSERT INTO visittrack.user_page_view"
		" (session_id, user_id, url, url_name, page_type, referrer, is_bot)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7)",
		7, {TEXTOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BOOLOID}
	};
	Datum		values[7];
	char		nulls[7];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = text_datum(session_id, &nulls[0]);
	values[1] = user_id;
	values[2] = CStringGetTextDatum(v->url);
	values[3] = text_datum(v->url_name, &nulls[3]);
	values[4] = text_datum(v->page_type, &nulls[4]);
	values[5] = text_datum(v->referrer, &nulls[5]);
	values[6] = BoolGetDatum(v->is_bot);
	vt_spi_connect();
	vt_spi_run(&q, values, nulls, false, 0);
	vt_spi_finish();
	vt_count(VT_PAGE_VIEWS, 1);
}

/*
 * track_page_view(fingerprint text, url text, referrer text, user_agent text,
 *                 ip inet, user_id uuid, session_id text, url_name text,
 *                 page_type text) returns integer
 */
Datum
vt_track_page_view(PG_FUNCTION_ARGS)
{
	VtAnonView	v = {0};
	char	   *fp = vt_text_arg(fcinfo, 0);
	char	   *session_id = vt_text_arg(fcinfo, 6);
	bool		has_user = !PG_ARGISNULL(5);
	char	   *ua_raw = vt_text_arg(fcinfo, 3);

	vt_require_arg(fcinfo, 1, "url");
	v.url = vt_normalise_url(vt_text_arg(fcinfo, 1));
	v.referrer = vt_normalise_url(vt_text_arg(fcinfo, 2));
	v.user_agent = vt_normalise_text(ua_raw, vt_max_user_agent_length);
	v.ip = PG_ARGISNULL(4) ? NULL : PG_GETARG_INET_PP(4);
	v.url_name = vt_normalise_text(vt_text_arg(fcinfo, 7), VT_MAX_NAME_LENGTH);
	v.page_type = vt_normalise_text(vt_text_arg(fcinfo, 8), VT_MAX_NAME_LENGTH);
	v.is_bot = ua_raw != NULL && vt_ua_is_bot_on_request(ua_raw);
	v.now = GetCurrentTransactionStartTimestamp();

	/*
	 * An anonymous view with write-behind and Redis writes no row itself:
	 * no need to make its commit asynchronous (a GUC change per call).
	 */
	if (has_user || session_id || hot_store_writes_tables() || !vt_write_behind_active())
		vt_tracking_write();
	if (session_id)
		vt_check_key_id(session_id, "session_id");
	if (fp)
		v.fingerprint = vt_normalise_fingerprint(fp, "fingerprint");

	if (has_user || session_id)
	{
		VtSessionPage page = {0};
		char	   *user_id = has_user ?
			DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(5))) : NULL;
		int32		pages;

		page.session_id = session_id ? session_id : vt_session_latest_for_user(user_id);
		page.user_id = user_id;
		page.url = v.url;
		page.url_name = v.url_name;
		page.page_type = v.page_type;
		page.referrer = v.referrer;
		page.is_bot = v.is_bot;
		if (page.session_id && (pages = vt_session_page(&page)) >= 0)
			PG_RETURN_INT32(pages);
		if (has_user)
		{
			/* the session id may be another user's: not kept */
			record_sessionless_view(PG_GETARG_DATUM(5), NULL, &v);
			PG_RETURN_NULL();
		}
		/* an unknown or ended session without a user: an anonymous view */
	}

	if (v.fingerprint == NULL)
	{
		if (session_id)
			PG_RETURN_NULL();	/* nothing to attribute the view to */
		vt_require_arg(fcinfo, 0, "fingerprint");
	}
	PG_RETURN_INT32(vt_anonymous_page_view(&v));
}
