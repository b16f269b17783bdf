/*
 * kind_user_view.c: the signed-in page view record kind (kind_user_view.h):
 * its fields, and writing a batch of views -- one view written by the
 * request, or thousands by the rows writer -- with one statement.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "arrays.h"
#include "kind_user_view.h"
#include "spi_util.h"

static const VtRecordField user_view_fields[] = {
	VT_FIELD(VtUserViewRow, session_id, VT_FIELD_TEXT),
	VT_FIELD(VtUserViewRow, user_id, VT_FIELD_TEXT),
	VT_VIEWED_PAGE_FIELDS(VtUserViewRow, page),
	VT_FIELD(VtUserViewRow, viewed_at, VT_FIELD_TIMESTAMPTZ),
};

const VtRecordLayout vt_user_view_layout = VT_LAYOUT(VtUserViewRow, user_view_fields);

#define COLUMN(rows, pick, n, member) \
	vt_rec_column(&vt_user_view_layout, rows, pick, n, offsetof(VtUserViewRow, member))

static bool
same_session(const VtUserViewRow *a, const VtUserViewRow *b)
{
	return a->session_id && b->session_id && strcmp(a->session_id, b->session_id) == 0;
}

/* Row indexes by session (views without one first), then time, then given order. */
static int
compare_views(const void *a, const void *b, void *arg)
{
	const VtUserViewRow *rows = arg;
	int			i = *(const int *) a;
	int			j = *(const int *) b;
	const VtUserViewRow *x = &rows[i];
	const VtUserViewRow *y = &rows[j];
	int			c;

	if (x->session_id == NULL || y->session_id == NULL)
		c = (x->session_id != NULL) - (y->session_id != NULL);
	else
		c = strcmp(x->session_id, y->session_id);
	if (c != 0)
		return c;
	if (x->viewed_at != y->viewed_at)
		return x->viewed_at < y->viewed_at ? -1 : 1;
	return i - j;
}

void
vt_user_views_write(VtUserViewRow *rows, int n)
{
	/*
	 * The one statement that computes the time on page of signed-in views
	 * written earlier: the latest row of each session in $10 (by the session
	 * index and the primary key), from the snapshot before the statement, so
	 * never one of the rows it inserts ($1-$9).
	 */
	static VtQuery q = {
		"WITH closed AS ("
		"  UPDATE visittrack.user_page_view p"
		"     SET time_on_page_seconds ="
		"         GREATEST(0, floor(extract(epoch FROM latest.at - p.viewed_at)))::integer"
		"    FROM (SELECT c.at,"
		"                 (SELECT q.id FROM visittrack.user_page_view q"
		"                   WHERE q.session_id = c.session_id"
		"                   ORDER BY q.viewed_at DESC, q.id DESC LIMIT 1) AS id"
		"            FROM unnest($10, $11) AS c(session_id, at)) latest"
		"   WHERE p.id = latest.id AND p.time_on_page_seconds IS NULL"
		"  RETURNING 1)"
		" INSERT INTO visittrack.user_page_view"
		" (session_id, user_id, url, url_name, page_type, referrer, is_bot, viewed_at,"
		"  time_on_page_seconds)"
		" SELECT s, u::uuid, l, n, t, r, b, v, p"
		"   FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9) AS x(s, u, l, n, t, r, b, v, p)",
		11, {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
			TEXTARRAYOID, BOOLARRAYOID, TIMESTAMPTZARRAYOID, INT4ARRAYOID,
		TEXTARRAYOID, TIMESTAMPTZARRAYOID},
		.cursor_options = CURSOR_OPT_GENERIC_PLAN	/* as kind_anon_view.c says */
	};
	int		   *order;
	int		   *firsts;
	Datum	   *tops;
	bool	   *top_null;
	Datum		values[11];
	int			nfirsts = 0;
	int			k;

	if (n == 0)
		return;
	order = palloc(sizeof(int) * n);
	firsts = palloc(sizeof(int) * n);
	tops = palloc(sizeof(Datum) * n);
	top_null = palloc(sizeof(bool) * n);
	for (k = 0; k < n; k++)
		order[k] = k;
	if (n > 1)
		qsort_arg(order, n, sizeof(int), compare_views, rows);

	for (k = 0; k < n; k++)
	{
		VtUserViewRow *v = &rows[order[k]];
		VtUserViewRow *next = k + 1 < n ? &rows[order[k + 1]] : NULL;
		bool		has_next = next && same_session(v, next);

		/* as the UPDATE computes it: whole seconds, never negative */
		top_null[k] = !has_next;
		tops[k] = Int32GetDatum(has_next && next->viewed_at > v->viewed_at ?
								(int32) ((next->viewed_at - v->viewed_at) / USECS_PER_SEC) : 0);
		if (v->session_id && (k == 0 || !same_session(&rows[order[k - 1]], v)))
			firsts[nfirsts++] = order[k];
	}
	/* inserted in that order: a session's rows get ascending ids */
	values[0] = COLUMN(rows, order, n, session_id);
	values[1] = COLUMN(rows, order, n, user_id);
	vt_viewed_page_columns(&vt_user_view_layout, rows, order, n,
						   offsetof(VtUserViewRow, page), &values[2]);
	values[7] = COLUMN(rows, order, n, viewed_at);
	values[8] = vt_array(INT4OID, tops, top_null, n);
	values[9] = COLUMN(rows, firsts, nfirsts, session_id);
	values[10] = COLUMN(rows, firsts, nfirsts, viewed_at);

	vt_spi_connect();
	if (nfirsts > 1)
	{
		/* each predecessor by the session index and the primary key, not a scan */
		(void) set_config_option("enable_hashjoin", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
		(void) set_config_option("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	}
	vt_spi_run(&q, values, NULL, false, 0);
	vt_spi_finish();
}
