/*
 * pageviews.h: page views of anonymous visitors.
 */
#ifndef VT_PAGEVIEWS_H
#define VT_PAGEVIEWS_H

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/inet.h"

/* one anonymous page view, arguments already normalised */
typedef struct VtAnonView
{
	const char *fingerprint;
	const char *url;
	const char *referrer;
	const char *user_agent;
	inet	   *ip;
	const char *url_name;
	const char *page_type;
	bool		is_bot;
	TimestampTz now;
} VtAnonView;

/* Count and record the view; returns the session's page count. */
extern int32 vt_anonymous_page_view(const VtAnonView *v);

/*
 * What one anonymous view writes to the tables: its anonymous_page_view
 * row, the previous view's time on page and, when persist is set, the
 * anonymous_session row.  Written by the request, or queued for the writer
 * (write_queue.h) and written in batches (pageview_batch.c).
 */
typedef struct VtAnonViewRow
{
	char	   *session_id;
	char	   *fingerprint;
	char	   *url;
	char	   *url_name;
	char	   *page_type;
	char	   *referrer;
	bool		is_bot;
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

/* pageviews.c */
extern void vt_anon_view_row_write(const VtAnonViewRow *r);
/* the table holding views of ts's UTC day: its partition, or the default */
extern void vt_anon_view_partition(TimestampTz ts, char *name);

/* pageview_batch.c */
extern void vt_anon_view_row_encode(StringInfo buf, const VtAnonViewRow *r);
extern void vt_anon_view_row_decode(StringInfo buf, VtAnonViewRow *r);
extern void vt_anon_view_rows_write(VtAnonViewRow *rows, int n);

#endif
