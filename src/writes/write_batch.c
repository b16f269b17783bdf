/*
 * write_batch.c: write queued records, grouped by kind (write_batch.h).
 */
#include "postgres.h"

#include "events.h"
#include "hotstore_batch.h"
#include "pageviews.h"
#include "sessions.h"
#include "write_batch.h"

void
vt_write_records(VtQueuedWrite *records, int n)
{
	StringInfo *by_kind[VT_WRITE_KINDS + 1];
	int			count[VT_WRITE_KINDS + 1] = {0};
	VtAnonViewRow *views;
	int			k,
				i;

	for (k = 1; k <= VT_WRITE_KINDS; k++)
		by_kind[k] = palloc(sizeof(StringInfo) * n);
	for (i = 0; i < n; i++)
	{
		k = records[i].kind;
		if (k < 1 || k > VT_WRITE_KINDS)
			elog(ERROR, "visittrack: unknown queued record kind %d", k);
		records[i].payload.cursor = 0;
		by_kind[k][count[k]++] = &records[i].payload;
	}

	views = palloc(sizeof(VtAnonViewRow) * Max(count[VT_WRITE_ANON_VIEW], 1));
	for (i = 0; i < count[VT_WRITE_ANON_VIEW]; i++)
		vt_anon_view_row_decode(by_kind[VT_WRITE_ANON_VIEW][i], &views[i]);
	if (count[VT_WRITE_ANON_VIEW] > 0)
		vt_anon_view_rows_write(views, count[VT_WRITE_ANON_VIEW]);
	if (count[VT_WRITE_USER_VIEW] > 0)
		vt_user_views_write(by_kind[VT_WRITE_USER_VIEW], count[VT_WRITE_USER_VIEW]);
	if (count[VT_WRITE_EVENT] > 0)
		vt_events_write(by_kind[VT_WRITE_EVENT], count[VT_WRITE_EVENT]);
	if (count[VT_WRITE_VISIT] > 0)
		hot_visits_write(by_kind[VT_WRITE_VISIT], count[VT_WRITE_VISIT]);
	if (count[VT_WRITE_ANON_MIRROR] > 0)
		hot_anon_mirrors_write(by_kind[VT_WRITE_ANON_MIRROR], count[VT_WRITE_ANON_MIRROR]);
	if (count[VT_WRITE_SESSION_PAGES] > 0)
		hot_session_pages_write(by_kind[VT_WRITE_SESSION_PAGES],
								count[VT_WRITE_SESSION_PAGES]);
}
