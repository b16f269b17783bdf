/*
 * write_batch.c: write queued records, grouped by kind (write_batch.h).
 *
 * The row kinds (kind_*.h) are decoded with their field tables and written
 * by the same function a call in write mode NOW uses for its one row; the
 * hot-state kinds go to the hot store's batch writers (hotstore.h).
 */
#include "postgres.h"

#include "hotstore_batch.h"
#include "kind_anon_view.h"
#include "kind_event.h"
#include "kind_user_view.h"
#include "write_batch.h"

void
vt_write_records(VtQueuedWrite *records, int n)
{
	StringInfo *by_kind[VT_WRITE_KINDS + 1];
	int			count[VT_WRITE_KINDS + 1] = {0};
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

	k = VT_WRITE_ANON_VIEW;
	if (count[k] > 0)
		vt_anon_views_write(vt_rec_decode_all(&vt_anon_view_layout, by_kind[k], count[k]),
							count[k]);
	k = VT_WRITE_USER_VIEW;
	if (count[k] > 0)
		vt_user_views_write(vt_rec_decode_all(&vt_user_view_layout, by_kind[k], count[k]),
							count[k]);
	k = VT_WRITE_EVENT;
	if (count[k] > 0)
		vt_events_write(vt_rec_decode_all(&vt_event_layout, by_kind[k], count[k]),
						count[k], NULL);
	if (count[VT_WRITE_VISIT] > 0)
		hot_visits_write(by_kind[VT_WRITE_VISIT], count[VT_WRITE_VISIT]);
	if (count[VT_WRITE_ANON_MIRROR] > 0)
		hot_anon_mirrors_write(by_kind[VT_WRITE_ANON_MIRROR], count[VT_WRITE_ANON_MIRROR]);
	if (count[VT_WRITE_SESSION_PAGES] > 0)
		hot_session_pages_write(by_kind[VT_WRITE_SESSION_PAGES],
								count[VT_WRITE_SESSION_PAGES]);
}
