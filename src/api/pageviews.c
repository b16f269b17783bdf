/*
 * pageviews.c: track_page_view, one page seen by a visitor.
 *
 * Signed-in (user_id or session_id given): the session's page count and a
 * user_page_view row (sessions.c, kind_user_view.h).  Anonymous: the
 * anon_session:{fingerprint} hot entry (30 min sliding TTL; a new session
 * with landing page and referrer when absent) counts the page in one atomic
 * step; then the anonymous_page_view row, the previous view's time on page
 * and, every anon_persist_every pages, the anonymous_session row
 * (kind_anon_view.h) are written now or, with write-behind
 * (write_mode.h), queued at commit for the writer, which writes them in a
 * batch.  The anonymous counter is applied at once and survives a rollback
 * of the caller: the page was served.
 */
#include "postgres.h"

#include <sys/socket.h>

#include "access/xact.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "async_commit.h"
#include "guc.h"
#include "hotstore.h"
#include "input.h"
#include "kind_anon_view.h"
#include "kind_user_view.h"
#include "pageviews.h"
#include "queue_at_commit.h"
#include "sessions.h"
#include "shared_state.h"
#include "useragent.h"

PG_FUNCTION_INFO_V1(vt_track_page_view);

int32
vt_anonymous_page_view(const VtAnonView *v, VtWriteMode mode)
{
	HotAnonTouch t = {0};
	VtAnonViewRow r = {0};
	inet	   *ip;

	t.fingerprint = v->fingerprint;
	t.new_session_id = vt_random_uuid();
	t.now = v->now;
	t.url = v->page.url;
	t.referrer = v->page.referrer;
	t.ttl_seconds = vt_anon_session_ttl;
	hot_anon_touch(&t, mode);

	r.session_id = t.session_id;
	r.fingerprint = (char *) v->fingerprint;
	r.page = v->page;
	r.viewed_at = v->now;
	r.prev_view_at = t.prev_view_at;
	r.persist = t.pages_visited % vt_anon_persist_every == 0;
	if (r.persist)
	{
		r.started_at = t.started_at;
		ip = vt_ip_for_storage(v->ip);
		r.ip = ip ? DatumGetCString(DirectFunctionCall1(inet_out, InetPGetDatum(ip))) : NULL;
		r.user_agent = (char *) v->user_agent;
		r.pages_visited = t.pages_visited;
		r.landing_page = t.landing_page;
		r.first_referrer = t.first_referrer;
	}

	if (mode == VT_WRITE_BEHIND)
		vt_queue_at_commit(VT_WRITE_ANON_VIEW, vt_rec_encode(&vt_anon_view_layout, &r));
	else
		vt_anon_views_write(&r, 1);
	vt_count(VT_PAGE_VIEWS, 1);
	return t.pages_visited;
}

/*
 * A signed-in user's view outside any live session: kept, not counted.
 * Written now in either mode, as it always was.
 */
static void
record_sessionless_view(const char *user_id, const VtAnonView *v)
{
	VtUserViewRow r = {0};

	r.user_id = (char *) user_id;
	r.page = v->page;
	r.viewed_at = v->now;
	vt_user_views_write(&r, 1);
	vt_count(VT_PAGE_VIEWS, 1);
}

/*
 * track_page_view(fingerprint text, url text, referrer text, user_agent text,
 *                 ip inet, user_id uuid, session_id text, url_name text,
 *                 page_type text) returns integer
 */
Datum
vt_track_page_view(PG_FUNCTION_ARGS)
{
	VtAnonView	v = {0};
	VtWriteMode mode = vt_write_mode_for_call();
	char	   *fp = vt_text_arg(fcinfo, 0);
	char	   *session_id = vt_text_arg(fcinfo, 6);
	bool		has_user = !PG_ARGISNULL(5);
	char	   *ua_raw = vt_text_arg(fcinfo, 3);

	vt_require_arg(fcinfo, 1, "url");
	v.page.url = vt_normalise_url(vt_text_arg(fcinfo, 1));
	v.page.referrer = vt_normalise_url(vt_text_arg(fcinfo, 2));
	v.user_agent = vt_normalise_text(ua_raw, vt_max_user_agent_length);
	v.ip = PG_ARGISNULL(4) ? NULL : PG_GETARG_INET_PP(4);
	v.page.url_name = vt_normalise_text(vt_text_arg(fcinfo, 7), VT_MAX_NAME_LENGTH);
	v.page.page_type = vt_normalise_text(vt_text_arg(fcinfo, 8), VT_MAX_NAME_LENGTH);
	v.page.is_bot = ua_raw != NULL && vt_ua_is_bot_on_request(ua_raw);
	v.now = GetCurrentTransactionStartTimestamp();

	/*
	 * An anonymous view with write-behind and Redis writes no row itself:
	 * no need to make its commit asynchronous (a GUC change per call).
	 */
	if (has_user || session_id || hot_store_writes_tables() || mode == VT_WRITE_NOW)
		vt_tracking_write();
	if (session_id)
		vt_check_key_id(session_id, "session_id");
	if (fp)
		v.fingerprint = vt_normalise_fingerprint(fp, "fingerprint");

	if (has_user || session_id)
	{
		VtSessionPage page = {0};
		char	   *user_id = has_user ?
			DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(5))) : NULL;
		int32		pages;

		page.session_id = session_id ? session_id : vt_session_latest_for_user(user_id);
		page.user_id = user_id;
		page.page = v.page;
		if (page.session_id && (pages = vt_session_page(&page, mode)) >= 0)
			PG_RETURN_INT32(pages);
		if (has_user)
		{
			/* the session id may be another user's: not kept */
			record_sessionless_view(user_id, &v);
			PG_RETURN_NULL();
		}
		/* an unknown or ended session without a user: an anonymous view */
	}

	if (v.fingerprint == NULL)
	{
		if (session_id)
			PG_RETURN_NULL();	/* nothing to attribute the view to */
		vt_require_arg(fcinfo, 0, "fingerprint");
	}
	PG_RETURN_INT32(vt_anonymous_page_view(&v, mode));
}
