/*
 * pageview_batch.c: anonymous page views written by the writer, in batches.
 *
 * A batch of queued views becomes three statements instead of two per view:
 * one multi-row INSERT of the page-view rows, one UPDATE per day partition
 * closing the time on page of earlier views, one multi-row upsert of the
 * sessions that reached a persist point.  A view whose previous view is in
 * the same batch gets its time on page before it is inserted, so a visitor
 * clicking through pages inside one batch costs no UPDATE at all.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inet.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "arrays.h"
#include "pageviews.h"
#include "queued_record.h"
#include "spi_util.h"

void
vt_anon_view_row_encode(StringInfo buf, const VtAnonViewRow *r)
{
	vt_rec_put_text(buf, r->session_id);
	vt_rec_put_text(buf, r->fingerprint);
	vt_rec_put_text(buf, r->url);
	vt_rec_put_text(buf, r->url_name);
	vt_rec_put_text(buf, r->page_type);
	vt_rec_put_text(buf, r->referrer);
	vt_rec_put_bool(buf, r->is_bot);
	vt_rec_put_int64(buf, r->viewed_at);
	vt_rec_put_int64(buf, r->prev_view_at);
	vt_rec_put_bool(buf, r->persist);
	if (!r->persist)
		return;
	vt_rec_put_int64(buf, r->started_at);
	vt_rec_put_text(buf, r->ip);
	vt_rec_put_text(buf, r->user_agent);
	vt_rec_put_int64(buf, r->pages_visited);
	vt_rec_put_text(buf, r->landing_page);
	vt_rec_put_text(buf, r->first_referrer);
}

void
vt_anon_view_row_decode(StringInfo buf, VtAnonViewRow *r)
{
	memset(r, 0, sizeof(*r));
	r->session_id = vt_rec_get_text(buf);
	r->fingerprint = vt_rec_get_text(buf);
	r->url = vt_rec_get_text(buf);
	r->url_name = vt_rec_get_text(buf);
	r->page_type = vt_rec_get_text(buf);
	r->referrer = vt_rec_get_text(buf);
	r->is_bot = vt_rec_get_bool(buf);
	r->viewed_at = vt_rec_get_int64(buf);
	r->prev_view_at = vt_rec_get_int64(buf);
	r->persist = vt_rec_get_bool(buf);
	if (!r->persist)
		return;
	r->started_at = vt_rec_get_int64(buf);
	r->ip = vt_rec_get_text(buf);
	r->user_agent = vt_rec_get_text(buf);
	r->pages_visited = (int32) vt_rec_get_int64(buf);
	r->landing_page = vt_rec_get_text(buf);
	r->first_referrer = vt_rec_get_text(buf);
}

/* a view, by session and time */
typedef struct ViewKey
{
	char		session_id[UUID_LEN * 2 + 5];	/* canonical text form */
	TimestampTz viewed_at;
} ViewKey;

typedef struct ViewEntry
{
	ViewKey		key;
	int			index;
} ViewEntry;

static HTAB *
new_table(const char *name, Size keysize, Size entrysize, int n)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(name, Max(n, 16), &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void
view_key(ViewKey *key, const char *session_id, TimestampTz at)
{
	memset(key, 0, sizeof(*key));
	strlcpy(key->session_id, session_id, sizeof(key->session_id));
	key->viewed_at = at;
}

static Datum
uuid_datum(const char *s)
{
	return DirectFunctionCall1(uuid_in, CStringGetDatum(s));
}

static int32
seconds_between(TimestampTz from, TimestampTz to)
{
	return to > from ? (int32) ((to - from) / USECS_PER_SEC) : 0;
}

/*
 * Time on page of views inside the batch.  Returns the views whose previous
 * view was written earlier, for the UPDATE.
 */
static int
close_views_in_batch(VtAnonViewRow *rows, int n, int32 *time_on_page,
					 bool *top_null, int *earlier)
{
	HTAB	   *views = new_table("visittrack batch views", sizeof(ViewKey),
								  sizeof(ViewEntry), n);
	int			nearlier = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		ViewKey		key;
		ViewEntry  *e;
		bool		found;

		top_null[i] = true;
		view_key(&key, rows[i].session_id, rows[i].viewed_at);
		e = hash_search(views, &key, HASH_ENTER, &found);
		if (!found)
			e->index = i;
	}
	for (i = 0; i < n; i++)
	{
		ViewKey		key;
		ViewEntry  *prev;

		if (rows[i].prev_view_at == 0)
			continue;
		view_key(&key, rows[i].session_id, rows[i].prev_view_at);
		prev = hash_search(views, &key, HASH_FIND, NULL);
		if (prev == NULL)
			earlier[nearlier++] = i;
		else if (top_null[prev->index])
		{
			time_on_page[prev->index] = seconds_between(rows[prev->index].viewed_at,
														rows[i].viewed_at);
			top_null[prev->index] = false;
		}
	}
	hash_destroy(views);
	return nearlier;
}

static void
insert_views(VtAnonViewRow *rows, int n, int32 *time_on_page, bool *top_null)
{
	static VtQuery q = {
		"INSERT INTO visittrack.anonymous_page_view"
		" (session_id, device_fingerprint, url, url_name, page_type, referrer, is_bot,"
		"  viewed_at, time_on_page_seconds)"
		" SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		9, {UUIDARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, BOOLARRAYOID, TIMESTAMPTZARRAYOID, INT4ARRAYOID}
	};
	Datum		values[9];
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Datum	   *bots = palloc(sizeof(Datum) * n);
	Datum	   *ats = palloc(sizeof(Datum) * n);
	Datum	   *tops = palloc(sizeof(Datum) * n);
	char	  **cols[5];
	int			c,
				i;

	for (c = 0; c < 5; c++)
		cols[c] = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		ids[i] = uuid_datum(rows[i].session_id);
		cols[0][i] = rows[i].fingerprint;
		cols[1][i] = rows[i].url;
		cols[2][i] = rows[i].url_name;
		cols[3][i] = rows[i].page_type;
		cols[4][i] = rows[i].referrer;
		bots[i] = BoolGetDatum(rows[i].is_bot);
		ats[i] = TimestampTzGetDatum(rows[i].viewed_at);
		tops[i] = Int32GetDatum(top_null[i] ? 0 : time_on_page[i]);
	}
	values[0] = vt_array(UUIDOID, ids, NULL, n);
	for (c = 0; c < 5; c++)
		values[1 + c] = vt_text_array(cols[c], n);
	values[6] = vt_array(BOOLOID, bots, NULL, n);
	values[7] = vt_array(TIMESTAMPTZOID, ats, NULL, n);
	values[8] = vt_array(INT4OID, tops, top_null, n);
	vt_spi_run(&q, values, NULL, false, 0);
}

static void close_views_by_partition(VtAnonViewRow *rows, int *earlier, int nearlier);

/*
 * The previous views written by earlier batches (or by requests), one
 * UPDATE per day partition: through the partitioned parent the join would
 * probe every partition's index for every view.
 */
static void
close_earlier_views(VtAnonViewRow *rows, int *earlier, int nearlier)
{
	/*
	 * Each view is found through the (session_id, viewed_at) index.  With a
	 * batch's thousands of rows the planner would rather hash-join against
	 * a scan of the whole day; for this transaction, it may not.
	 */
	(void) set_config_option("enable_hashjoin", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	(void) set_config_option("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	close_views_by_partition(rows, earlier, nearlier);
}

static void
close_views_by_partition(VtAnonViewRow *rows, int *earlier, int nearlier)
{
	bool	   *done = palloc0(sizeof(bool) * nearlier);
	Datum	   *ids = palloc(sizeof(Datum) * nearlier);
	Datum	   *prevs = palloc(sizeof(Datum) * nearlier);
	Datum	   *ats = palloc(sizeof(Datum) * nearlier);
	int			i,
				j;

	for (i = 0; i < nearlier; i++)
	{
		char		partition[NAMEDATALEN];
		Oid			types[3] = {UUIDARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID};
		Datum		values[3];
		int			n = 0;

		if (done[i])
			continue;
		vt_anon_view_partition(rows[earlier[i]].prev_view_at, partition);
		for (j = i; j < nearlier; j++)
		{
			char		other[NAMEDATALEN];
			VtAnonViewRow *r = &rows[earlier[j]];

			if (done[j])
				continue;
			vt_anon_view_partition(r->prev_view_at, other);
			if (strcmp(other, partition) != 0)
				continue;
			ids[n] = uuid_datum(r->session_id);
			prevs[n] = TimestampTzGetDatum(r->prev_view_at);
			ats[n] = TimestampTzGetDatum(r->viewed_at);
			n++;
			done[j] = true;
		}
		values[0] = vt_array(UUIDOID, ids, NULL, n);
		values[1] = vt_array(TIMESTAMPTZOID, prevs, NULL, n);
		values[2] = vt_array(TIMESTAMPTZOID, ats, NULL, n);
		(void) vt_spi_run_dynamic(psprintf(
			"UPDATE visittrack.%s p"
			"   SET time_on_page_seconds ="
			"       GREATEST(0, floor(extract(epoch FROM u.at - p.viewed_at)))::integer"
			"  FROM unnest($1, $2, $3) AS u(session_id, prev_at, at)"
			" WHERE p.session_id = u.session_id AND p.viewed_at = u.prev_at"
			"   AND p.time_on_page_seconds IS NULL", quote_identifier(partition)),
								  3, types, values, NULL, false);
	}
}

typedef struct SessionEntry
{
	char		session_id[UUID_LEN * 2 + 5];
	int			index;
} SessionEntry;

/* sessions at a persist point, one row per session (its latest state) */
static void
upsert_sessions(VtAnonViewRow *rows, int n)
{
	static VtQuery q = {
		"INSERT INTO visittrack.anonymous_session AS a"
		" (session_id, device_fingerprint, session_start, last_activity, ip_address,"
		"  user_agent, pages_visited, landing_page, referrer, is_bot)"
		" SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
		" ON CONFLICT (session_id, session_start) DO UPDATE SET"
		"  pages_visited = GREATEST(a.pages_visited, excluded.pages_visited),"
		"  last_activity = GREATEST(a.last_activity, excluded.last_activity),"
		"  ip_address = COALESCE(a.ip_address, excluded.ip_address),"
		"  user_agent = COALESCE(a.user_agent, excluded.user_agent)",
		10, {UUIDARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID,
		INETARRAYOID, TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, BOOLARRAYOID}
	};
	HTAB	   *sessions = new_table("visittrack batch sessions", sizeof(((SessionEntry *) 0)->session_id),
									 sizeof(SessionEntry), n);
	int		   *pick = palloc(sizeof(int) * n);
	int			m = 0;
	int			i;
	Datum		values[10];
	Datum	   *ids,
			   *starts,
			   *lasts,
			   *ips,
			   *pages,
			   *bots;
	bool	   *ip_nulls;
	char	  **cols[4];
	HASH_SEQ_STATUS seq;
	SessionEntry *e;

	for (i = 0; i < n; i++)
	{
		char		key[UUID_LEN * 2 + 5] = {0};
		bool		found;

		if (!rows[i].persist)
			continue;
		strlcpy(key, rows[i].session_id, sizeof(key));
		e = hash_search(sessions, key, HASH_ENTER, &found);
		if (!found || rows[i].pages_visited > rows[e->index].pages_visited)
			e->index = i;
	}
	hash_seq_init(&seq, sessions);
	while ((e = hash_seq_search(&seq)) != NULL)
		pick[m++] = e->index;
	hash_destroy(sessions);
	if (m == 0)
		return;

	ids = palloc(sizeof(Datum) * m);
	starts = palloc(sizeof(Datum) * m);
	lasts = palloc(sizeof(Datum) * m);
	ips = palloc(sizeof(Datum) * m);
	ip_nulls = palloc(sizeof(bool) * m);
	pages = palloc(sizeof(Datum) * m);
	bots = palloc(sizeof(Datum) * m);
	for (i = 0; i < 4; i++)
		cols[i] = palloc(sizeof(char *) * m);
	for (i = 0; i < m; i++)
	{
		VtAnonViewRow *r = &rows[pick[i]];

		ids[i] = uuid_datum(r->session_id);
		cols[0][i] = r->fingerprint;
		starts[i] = TimestampTzGetDatum(r->started_at);
		lasts[i] = TimestampTzGetDatum(r->viewed_at);
		ip_nulls[i] = r->ip == NULL;
		ips[i] = r->ip ? DirectFunctionCall1(inet_in, CStringGetDatum(r->ip)) : (Datum) 0;
		cols[1][i] = r->user_agent;
		pages[i] = Int32GetDatum(r->pages_visited);
		cols[2][i] = r->landing_page;
		cols[3][i] = r->first_referrer;
		bots[i] = BoolGetDatum(r->is_bot);
	}
	values[0] = vt_array(UUIDOID, ids, NULL, m);
	values[1] = vt_text_array(cols[0], m);
	values[2] = vt_array(TIMESTAMPTZOID, starts, NULL, m);
	values[3] = vt_array(TIMESTAMPTZOID, lasts, NULL, m);
	values[4] = vt_array(INETOID, ips, ip_nulls, m);
	values[5] = vt_text_array(cols[1], m);
	values[6] = vt_array(INT4OID, pages, NULL, m);
	values[7] = vt_text_array(cols[2], m);
	values[8] = vt_text_array(cols[3], m);
	values[9] = vt_array(BOOLOID, bots, NULL, m);
	vt_spi_run(&q, values, NULL, false, 0);
}

void
vt_anon_view_rows_write(VtAnonViewRow *rows, int n)
{
	int32	   *time_on_page = palloc0(sizeof(int32) * n);
	bool	   *top_null = palloc(sizeof(bool) * n);
	int		   *earlier = palloc(sizeof(int) * n);
	int			nearlier;

	if (n == 0)
		return;
	nearlier = close_views_in_batch(rows, n, time_on_page, top_null, earlier);
	vt_spi_connect();
	insert_views(rows, n, time_on_page, top_null);
	if (nearlier > 0)
		close_earlier_views(rows, earlier, nearlier);
	upsert_sessions(rows, n);
	vt_spi_finish();
}
