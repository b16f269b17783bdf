/*
 * kind_anon_view.h: what one anonymous page view writes to the tables --
 * its anonymous_page_view row, the previous view's time on page and, every
 * visittrack.anon_persist_every pages, the anonymous_session row.
 *
 * The same rows and the same statements serve both write modes
 * (write_mode.h): a call writes its one row now (n = 1), or queues it at
 * commit (vt_anon_view_layout) and the rows writer writes a batch.
 */
#ifndef VT_KIND_ANON_VIEW_H
#define VT_KIND_ANON_VIEW_H

#include "datatype/timestamp.h"

#include "queued_record.h"
#include "viewed_page.h"

typedef struct VtAnonViewRow
{
	char	   *session_id;
	char	   *fingerprint;
	VtViewedPage page;
	TimestampTz viewed_at;
	TimestampTz prev_view_at;	/* 0: first view of the session */
	bool		persist;
	/* the session row, when persist */
	TimestampTz started_at;
	char	   *ip;				/* as stored (visittrack.ip_anonymize applied) */
	char	   *user_agent;
	int32		pages_visited;
	char	   *landing_page;
	char	   *first_referrer;
} VtAnonViewRow;

/* its fields, for the queue (queued_record.h) */
extern const VtRecordLayout vt_anon_view_layout;

/*
 * Write n views, in the order they were made: the page-view rows, the time
 * on page of each one's previous view (computed here when that view is
 * among the rows, else by one UPDATE per day partition), and the latest
 * state of each session at a persist point.
 */
extern void vt_anon_views_write(VtAnonViewRow *rows, int n);

#endif
