/*
 * kind_user_view.h: a signed-in user's page view -- its user_page_view row
 * and the time on page of the session's previous view.
 *
 * The same rows and the same statement serve both write modes
 * (write_mode.h): a call writes its one row now (n = 1), or queues it at
 * commit (vt_user_view_layout) and the rows writer writes a batch.  The
 * session's page count is not part of it: session_touch and a signed-in
 * track_page_view count the page in user_session themselves, at once.
 */
#ifndef VT_KIND_USER_VIEW_H
#define VT_KIND_USER_VIEW_H

#include "datatype/timestamp.h"

#include "queued_record.h"
#include "viewed_page.h"

typedef struct VtUserViewRow
{
	char	   *session_id;		/* NULL: a view outside any live session */
	char	   *user_id;		/* canonical text form of the uuid */
	VtViewedPage page;
	TimestampTz viewed_at;
} VtUserViewRow;

/* its fields, for the queue (queued_record.h) */
extern const VtRecordLayout vt_user_view_layout;

/*
 * Write n views: each view followed by another of its session among the
 * rows gets its time on page from it; the first one of each session closes
 * the session's latest earlier row.
 */
extern void vt_user_views_write(VtUserViewRow *rows, int n);

#endif
