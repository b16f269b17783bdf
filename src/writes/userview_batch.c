/*
 * userview_batch.c: signed-in page views written by the writer, in batches.
 *
 * With write-behind, session_touch and a signed-in track_page_view count
 * the page in user_session at once and queue the user_page_view row.  The
 * writer inserts a batch of them in one statement; a view followed by
 * another of the same session in the batch gets its time on page before it
 * is inserted, and the first view of each session closes the session's
 * latest earlier row, as the synchronous statement does.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "arrays.h"
#include "queued_record.h"
#include "sessions.h"
#include "spi_util.h"
#include "write_queue.h"
#include "queue_at_commit.h"

typedef struct UserView
{
	char	   *session_id;
	char	   *user_id;
	char	   *url;
	char	   *url_name;
	char	   *page_type;
	char	   *referrer;
	bool		is_bot;
	TimestampTz viewed_at;
	int			order;			/* in the queue */
} UserView;

static void
encode(StringInfo buf, const VtSessionPage *page, const char *user_id, bool is_bot,
	   TimestampTz viewed_at)
{
	vt_rec_put_text(buf, page->session_id);
	vt_rec_put_text(buf, user_id);
	vt_rec_put_text(buf, page->url);
	vt_rec_put_text(buf, page->url_name);
	vt_rec_put_text(buf, page->page_type);
	vt_rec_put_text(buf, page->referrer);
	vt_rec_put_bool(buf, is_bot);
	vt_rec_put_int64(buf, viewed_at);
}

static void
decode(StringInfo buf, UserView *v)
{
	buf->cursor = 0;
	v->session_id = vt_rec_get_text(buf);
	v->user_id = vt_rec_get_text(buf);
	v->url = vt_rec_get_text(buf);
	v->url_name = vt_rec_get_text(buf);
	v->page_type = vt_rec_get_text(buf);
	v->referrer = vt_rec_get_text(buf);
	v->is_bot = vt_rec_get_bool(buf);
	v->viewed_at = vt_rec_get_int64(buf);
}

void
vt_user_view_queue(const VtSessionPage *page, const char *user_id, bool is_bot,
				   TimestampTz viewed_at)
{
	StringInfoData buf;

	initStringInfo(&buf);
	encode(&buf, page, user_id, is_bot, viewed_at);
	vt_queue_at_commit(VT_WRITE_USER_VIEW, &buf);
}

/* by session, then time, then queue order */
static int
compare_views(const void *a, const void *b)
{
	const UserView *x = a;
	const UserView *y = b;
	int			c = strcmp(x->session_id, y->session_id);

	if (c != 0)
		return c;
	if (x->viewed_at != y->viewed_at)
		return x->viewed_at < y->viewed_at ? -1 : 1;
	return x->order - y->order;
}

/* The latest earlier row of each session gets its time on page. */
static void
close_earlier_views(UserView *views, int n, bool *first)
{
	Oid			types[2] = {TEXTARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		values[2];
	char	  **ids = palloc(sizeof(char *) * n);
	Datum	   *ats = palloc(sizeof(Datum) * n);
	int			m = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (!first[i])
			continue;
		ids[m] = views[i].session_id;
		ats[m] = TimestampTzGetDatum(views[i].viewed_at);
		m++;
	}
	values[0] = vt_text_array(ids, m);
	values[1] = vt_array(TIMESTAMPTZOID, ats, NULL, m);

	/* each predecessor by the session index and the primary key, not a scan */
	(void) set_config_option("enable_hashjoin", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	(void) set_config_option("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	(void) vt_spi_run_dynamic(
		"UPDATE visittrack.user_page_view p"
		"   SET time_on_page_seconds ="
		"       GREATEST(0, floor(extract(epoch FROM x.at - p.viewed_at)))::integer"
		"  FROM (SELECT u.at,"
		"               (SELECT q.id FROM visittrack.user_page_view q"
		"                 WHERE q.session_id = u.session_id"
		"                 ORDER BY q.viewed_at DESC, q.id DESC LIMIT 1) AS prev_id"
		"          FROM unnest($1, $2) AS u(session_id, at)) x"
		" WHERE p.id = x.prev_id AND p.time_on_page_seconds IS NULL",
		2, types, values, NULL, false);
}

void
vt_user_views_write(StringInfo *payloads, int n)
{
	static VtQuery q = {
		"INSERT INTO visittrack.user_page_view"
		" (session_id, user_id, url, url_name, page_type, referrer, is_bot, viewed_at,"
		"  time_on_page_seconds)"
		" SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		9, {TEXTARRAYOID, UUIDARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, BOOLARRAYOID, TIMESTAMPTZARRAYOID, INT4ARRAYOID}
	};
	UserView   *views = palloc(sizeof(UserView) * n);
	bool	   *first = palloc(sizeof(bool) * n);
	Datum	   *users = palloc(sizeof(Datum) * n);
	Datum	   *bots = palloc(sizeof(Datum) * n);
	Datum	   *ats = palloc(sizeof(Datum) * n);
	Datum	   *tops = palloc(sizeof(Datum) * n);
	bool	   *top_null = palloc(sizeof(bool) * n);
	char	  **cols[5];
	Datum		values[9];
	int			c,
				i;

	for (i = 0; i < n; i++)
	{
		decode(payloads[i], &views[i]);
		views[i].order = i;
	}
	qsort(views, n, sizeof(UserView), compare_views);
	for (c = 0; c < 5; c++)
		cols[c] = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		UserView   *v = &views[i];
		bool		has_next = i + 1 < n && strcmp(views[i + 1].session_id, v->session_id) == 0;

		first[i] = i == 0 || strcmp(views[i - 1].session_id, v->session_id) != 0;
		top_null[i] = !has_next;
		tops[i] = Int32GetDatum(has_next && views[i + 1].viewed_at > v->viewed_at ?
								(int32) ((views[i + 1].viewed_at - v->viewed_at) / USECS_PER_SEC) : 0);
		cols[0][i] = v->session_id;
		users[i] = DirectFunctionCall1(uuid_in, CStringGetDatum(v->user_id));
		cols[1][i] = v->url;
		cols[2][i] = v->url_name;
		cols[3][i] = v->page_type;
		cols[4][i] = v->referrer;
		bots[i] = BoolGetDatum(v->is_bot);
		ats[i] = TimestampTzGetDatum(v->viewed_at);
	}
	values[0] = vt_text_array(cols[0], n);
	values[1] = vt_array(UUIDOID, users, NULL, n);
	values[2] = vt_text_array(cols[1], n);
	values[3] = vt_text_array(cols[2], n);
	values[4] = vt_text_array(cols[3], n);
	values[5] = vt_text_array(cols[4], n);
	values[6] = vt_array(BOOLOID, bots, NULL, n);
	values[7] = vt_array(TIMESTAMPTZOID, ats, NULL, n);
	values[8] = vt_array(INT4OID, tops, top_null, n);

	vt_spi_connect();
	close_earlier_views(views, n, first);	/* before this batch's rows exist */
	vt_spi_run(&q, values, NULL, false, 0);
	vt_spi_finish();
}
