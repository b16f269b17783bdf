/*
 * sessions.h: signed-in sessions (user_session + session:{session_id}).
 */
#ifndef VT_SESSIONS_H
#define VT_SESSIONS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

/* One page of a signed-in session; url NULL = count only, no page view row. */
typedef struct VtSessionPage
{
	const char *session_id;
	const char *user_id;		/* optional: must match the session's user */
	const char *url;			/* normalised, or NULL */
	const char *url_name;
	const char *page_type;
	const char *referrer;
	bool		is_bot;			/* the request's user agent is a bot's */
} VtSessionPage;

/*
 * Count a page in a live session (and record the page view when a url is
 * given).  Returns the new page count, or -1 when the session is unknown,
 * ended or expired (an expired session is ended on the way).
 */
extern int32 vt_session_page(const VtSessionPage *page);

/*
 * Write-behind (userview_batch.c): the page view row of a counted page,
 * queued at commit for the writer; and the writer inserting a batch of
 * them, closing each previous view's time on page.
 */
extern void vt_user_view_queue(const VtSessionPage *page, const char *user_id, bool is_bot,
							   TimestampTz viewed_at);
extern void vt_user_views_write(StringInfo *payloads, int n);

/* The session id of the user's most recent live session, or NULL. */
extern char *vt_session_latest_for_user(const char *user_id);

/* End every active session past its expiry; returns how many. */
extern int64 vt_sessions_end_expired(void);

#endif
