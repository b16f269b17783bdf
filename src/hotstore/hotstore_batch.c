/*
 * hotstore_batch.c: hot-state writes that wait in the write queue
 * (hotstore_batch.h): their records and the writer's batches.
 *
 * With write-behind on (write_queue.h), a community visit and a signed-in
 * session's new page count are queued at commit instead of sent to Redis
 * while the caller waits.  The writer then sends a whole batch in one
 * round trip; what Redis does not take goes where a failed synchronous
 * write would have gone: visits to the PostgreSQL-local store, page counts
 * to the stale-key list that reconciliation repairs (outage.h).
 */
#include "postgres.h"

#include "anon_mirror.h"
#include "hotstore_batch.h"
#include "hotstore_local.h"
#include "hotstore_redis.h"
#include "outage.h"
#include "queued_record.h"
#include "redis_client.h"
#include "write_queue.h"

/*
 * Records per pipeline: a whole batch of the writer's at once.  On two busy
 * cores every round trip waits for Redis and then the writer to be
 * scheduled again, so fewer, larger pipelines keep up where 256-command
 * ones fell behind (doc/performance.md).
 */
#define REDIS_BATCH 10000

/* --- community visits ----------------------------------------------------- */

static void
encode_visit(StringInfo buf, const HotVisit *v)
{
	vt_rec_put_text(buf, v->community_id);
	vt_rec_put_text(buf, v->visitor_key);
	vt_rec_put_bool(buf, v->is_authenticated);
	vt_rec_put_text(buf, v->json_fields);
	vt_rec_put_int64(buf, v->now);
	vt_rec_put_int64(buf, v->window_seconds);
}

static void
decode_visit(StringInfo buf, HotVisit *v)
{
	buf->cursor = 0;
	v->community_id = vt_rec_get_text(buf);
	v->visitor_key = vt_rec_get_text(buf);
	v->is_authenticated = vt_rec_get_bool(buf);
	v->json_fields = vt_rec_get_text(buf);
	v->now = vt_rec_get_int64(buf);
	v->window_seconds = (int) vt_rec_get_int64(buf);
}

/* one visit Redis did not take (or no Redis at all): the local store */
static void
record_visit_locally(const HotVisit *v)
{
	hot_outage_count_fallback_write();
	vt_hotstore_local.visit_record(v);
}

void
hot_visit_encode(StringInfo buf, const HotVisit *v)
{
	encode_visit(buf, v);
}

void
hot_visits_write(StringInfo *payloads, int n)
{
	HotVisit   *visits = palloc(sizeof(HotVisit) * n);
	bool	   *done = palloc0(sizeof(bool) * n);
	int			i;

	for (i = 0; i < n; i++)
		decode_visit(payloads[i], &visits[i]);
	for (i = 0; i < n && vt_redis_usable(); i += REDIS_BATCH)
		(void) hot_redis_visit_record_batch(Min(REDIS_BATCH, n - i), visits + i,
													done + i);
	for (i = 0; i < n; i++)
		if (!done[i])
			record_visit_locally(&visits[i]);
}

/* --- a signed-in session's page count ------------------------------------- */

static void
encode_pages(StringInfo buf, const char *session_id, int32 pages, TimestampTz at)
{
	vt_rec_put_text(buf, session_id);
	vt_rec_put_int64(buf, pages);
	vt_rec_put_int64(buf, at);
}

static void
decode_pages(StringInfo buf, HotSession *s)
{
	memset(s, 0, sizeof(*s));
	buf->cursor = 0;
	s->session_id = vt_rec_get_text(buf);
	s->pages_visited = (int32) vt_rec_get_int64(buf);
	s->last_activity = vt_rec_get_int64(buf);
}

void
hot_session_pages_encode(StringInfo buf, const char *session_id, int32 pages,
						 TimestampTz at)
{
	encode_pages(buf, session_id, pages, at);
}

void
hot_session_pages_write(StringInfo *payloads, int n)
{
	HotSession *sessions = palloc(sizeof(HotSession) * n);
	bool	   *done = palloc0(sizeof(bool) * n);
	int			i;

	for (i = 0; i < n; i++)
		decode_pages(payloads[i], &sessions[i]);
	for (i = 0; i < n && vt_redis_usable(); i += REDIS_BATCH)
		(void) hot_redis_session_set_pages_batch(Min(REDIS_BATCH, n - i),
												 sessions + i, done + i);
	for (i = 0; i < n; i++)
		if (!done[i])
			hot_outage_note_stale("session", sessions[i].session_id);
}

/* --- a cached anonymous session, mirrored to Redis (anon_mirror.h) ------- */

/*
 * Every view's state goes to Redis, in order, by the merge script (the
 * larger count and the later view win), so views that committed out of
 * order leave Redis where the cache is.
 */
void
hot_anon_mirrors_write(StringInfo *payloads, int n)
{
	HotAnon    *sessions = palloc(sizeof(HotAnon) * n);
	int		   *ttls = palloc(sizeof(int) * n);
	bool	   *done = palloc0(sizeof(bool) * n);
	int			i;

	for (i = 0; i < n; i++)
		vt_anon_mirror_decode(payloads[i], &sessions[i], &ttls[i]);

	/*
	 * What Redis does not take (an outage) is not kept for later: each view
	 * carries the whole session, so the visitor's next view repairs the key,
	 * and the cache, not Redis, is the authority meanwhile.
	 */
	for (i = 0; i < n && vt_redis_usable(); i += REDIS_BATCH)
		(void) hot_redis_anon_merge_batch(Min(REDIS_BATCH, n - i), sessions + i,
										  ttls + i, done + i);
}
