/*
 * sessions.h: signed-in sessions (user_session + session:{session_id}).
 */
#ifndef VT_SESSIONS_H
#define VT_SESSIONS_H

#include "postgres.h"

#include "viewed_page.h"
#include "write_mode.h"

/* One page of a signed-in session; page.url NULL = count only, no page view row. */
typedef struct VtSessionPage
{
	const char *session_id;
	const char *user_id;		/* optional: must match the session's user */
	VtViewedPage page;
} VtSessionPage;

/*
 * Count a page in a live session, at once, and record the page view when a
 * url is given (kind_user_view.h: written now, or queued at commit for the
 * writer, as mode says).  Returns the new page count, or -1 when the
 * session is unknown, ended or expired (an expired session is ended on the
 * way).
 */
extern int32 vt_session_page(const VtSessionPage *page, VtWriteMode mode);

/* The session id of the user's most recent live session, or NULL. */
extern char *vt_session_latest_for_user(const char *user_id);

/* End every active session past its expiry; returns how many. */
extern int64 vt_sessions_end_expired(void);

#endif
