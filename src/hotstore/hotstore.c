/*
 * hotstore.c: the dispatcher of the hot store (hotstore.h): chooses the
 * backend for each operation.
 *
 * Redis is used when configured and believed up; any failure falls back to
 * the PostgreSQL-local store for that operation (outage.h counts it as a
 * fallback call in status(), and lists the Redis keys a write left stale).
 * Writes that describe database rows are applied at commit, or queued for
 * the writer with write-behind (hotstore_batch.h).  Reads that may meet
 * state written during an outage (anonymous sessions) look in both stores,
 * and while an outage's state may still wait in PostgreSQL, page views and
 * session reads consult it (reconcile.c copies it back).  Above this file
 * nothing knows which backend served a call.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "utils/timestamp.h"

#include "anon_cache.h"
#include "anon_mirror.h"
#include "commit_phases.h"
#include "guc.h"
#include "hotstore.h"
#include "hotstore_batch.h"
#include "hotstore_local.h"
#include "hotstore_redis.h"
#include "jsonbuf.h"
#include "outage.h"
#include "queue_at_commit.h"
#include "redis_client.h"
#include "shared_state.h"
#include "write_queue.h"

/*
 * The store to try first: Redis, when it is configured and believed up.
 * NULL: PostgreSQL (vt_hotstore_local) serves the call alone.
 */
static inline const HotStoreOps *
redis_if_usable(void)
{
	return vt_redis_usable() ? &vt_hotstore_redis : NULL;
}

/*
 * At commit, a Redis round trip runs with interrupts held: a cancel arriving
 * mid-exchange must not abort a transaction whose state Redis may already
 * hold (the exchange is bounded by visittrack.redis_timeout_ms).  The SQL
 * fallback that follows a failed exchange runs with interrupts served, and
 * an ERROR there aborts the transaction: the caller's COMMIT reports it
 * rather than losing the write in silence.
 */

/* --- signed-in sessions ------------------------------------------------ */

typedef struct SessionWrite
{
	enum
	{
		SESSION_STORE, SESSION_PAGES, SESSION_REMOVE
	}			kind;
	HotSession	s;
	int			ttl_seconds;
} SessionWrite;

static void
apply_session_write(void *arg)
{
	SessionWrite *w = arg;
	bool		done = false;

	vt_count(VT_DEFERRED_WRITES, 1);
	HOLD_INTERRUPTS();
	if (vt_redis_usable())
	{
		switch (w->kind)
		{
			case SESSION_STORE:
				done = hot_redis_session_store(&w->s, w->ttl_seconds);
				break;
			case SESSION_PAGES:
				done = hot_redis_session_set_pages(w->s.session_id, w->s.pages_visited,
												   w->s.last_activity);
				break;
			case SESSION_REMOVE:
				done = hot_redis_session_remove(w->s.session_id);
				break;
		}
	}
	RESUME_INTERRUPTS();
	if (!done)
		hot_outage_note_stale("session", w->s.session_id);	/* repaired by reconciliation */
}

static SessionWrite *
new_session_write(int kind, const char *session_id)
{
	SessionWrite *w = vt_deferred_alloc(sizeof(SessionWrite));

	w->kind = kind;
	w->s.session_id = vt_deferred_strdup(session_id);
	return w;
}

void
hot_session_store(const HotSession *s, int ttl_seconds)
{
	SessionWrite *w;

	if (!vt_redis_configured())
		return;					/* user_session itself is the local truth */
	w = new_session_write(SESSION_STORE, s->session_id);
	w->s = *s;
	w->s.session_id = vt_deferred_strdup(s->session_id);
	w->s.user_id = vt_deferred_strdup(s->user_id);
	w->s.username = vt_deferred_strdup(s->username);
	w->s.ip_address = vt_deferred_strdup(s->ip_address);
	w->s.device_fingerprint = vt_deferred_strdup(s->device_fingerprint);
	w->s.fast_fingerprint = vt_deferred_strdup(s->fast_fingerprint);
	w->ttl_seconds = ttl_seconds;
	vt_defer_until_commit(VT_COMMIT_WRITE, apply_session_write, w);
}

bool
hot_session_fetch(const char *session_id, HotSession *out)
{
	bool		found = false;

	if (!vt_redis_usable() || !hot_redis_session_fetch(session_id, out, &found) || !found)
		return false;
	/* an entry that an outage left stale (a logout, say) is not trusted */
	if (hot_outage_pending() && hot_outage_is_stale("session", session_id))
		return false;
	return true;
}

void
hot_session_set_pages(const char *session_id, int32 pages, TimestampTz at,
					  VtWriteMode mode)
{
	SessionWrite *w;

	if (!vt_redis_configured())
		return;
	if (mode == VT_WRITE_BEHIND)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		hot_session_pages_encode(&buf, session_id, pages, at);
		vt_queue_at_commit(VT_WRITE_SESSION_PAGES, &buf);
		return;
	}
	w = new_session_write(SESSION_PAGES, session_id);
	w->s.pages_visited = pages;
	w->s.last_activity = at;
	vt_defer_until_commit(VT_COMMIT_WRITE, apply_session_write, w);
}

int
hot_session_remove(const char *session_id)
{
	if (!vt_redis_configured())
		return 0;
	vt_defer_until_commit(VT_COMMIT_WRITE, apply_session_write,
						  new_session_write(SESSION_REMOVE, session_id));
	return 1;
}

/* --- anonymous sessions ------------------------------------------------ */

/*
 * A page view.  While hot state written to PostgreSQL during an outage may
 * not have reached Redis yet, it first looks for the visitor's session in
 * the local store; found, that session is merged into Redis by the same
 * script that counts the view, so the visit is neither split in two nor
 * counted from the wrong start, whatever reconciliation does meanwhile.
 * And when Redis lost its data lately (restarted empty), a session it
 * starts is checked against the visitor's page views and replaced by the
 * session they show, if its last view is inside the window.  Returns true
 * when Redis counted the view.
 */
static bool
anon_touch_uncached(HotAnonTouch *t)
{
	const HotStoreOps *redis = redis_if_usable();

	if (redis)
	{
		HotAnon		local;
		bool		found = false;
		bool		ok;
		TimestampTz reset_at;

		if (hot_outage_pending())
			vt_hotstore_local.anon_fetch(t->fingerprint, t->ttl_seconds, &local, &found);
		ok = found ? hot_redis_anon_touch_merged(t, &local) : redis->anon_touch(t);
		if (ok && found)
			vt_hotstore_local.anon_remove(t->fingerprint);
		reset_at = vt_redis_reset_at(vt_redis_namespace());
		if (ok && t->is_new && reset_at != 0 &&
			t->now - reset_at < (int64) t->ttl_seconds * USECS_PER_SEC &&
			hot_local_anon_from_views(t->fingerprint, t->ttl_seconds, &local))
			ok = hot_redis_anon_touch_restart(t, &local);
		if (ok)
			return true;
	}
	hot_outage_count_fallback_write();
	t->continue_from_views = vt_redis_configured();	/* standing in for Redis */
	vt_hotstore_local.anon_touch(t);
	return false;
}

/*
 * The anonymous cache counted a view but the queue had no room for its
 * mirror: merge the session into Redis now.  If Redis cannot take it
 * either, its copy trails the cache until the visitor's next view.
 */
static void
anon_mirror_now(const HotAnonTouch *t)
{
	HotAnon		s;
	int			ttl_seconds;

	vt_anon_mirror_session(t, &s, &ttl_seconds);
	if (vt_redis_usable())
		(void) hot_redis_anon_merge(&s, ttl_seconds);
}

/*
 * With write-behind, a visitor cached in shared memory is counted there and
 * mirrored to Redis by the writer (anon_cache.h); the first view asks Redis
 * and caches its answer.  Only what Redis counted is cached: a session the
 * local store holds during an outage stays there.
 */
void
hot_anon_touch(HotAnonTouch *t, VtWriteMode mode)
{
	VtCacheResult cached = VT_CACHE_BYPASS;
	bool		by_redis = false;
	bool		mirrored = false;
	bool		may_cache = false;

	if (vt_redis_configured())
	{
		may_cache = mode == VT_WRITE_BEHIND;
		/* the mirror is queued under the cache's lock, where we cannot wait */
		if (may_cache)
			vt_wq_wait_below(VT_WRITE_ANON_MIRROR, 0.9);
		cached = vt_anon_cache_touch(t, may_cache, &mirrored);
	}
	if (cached == VT_CACHE_HIT)
	{
		if (!mirrored)
			anon_mirror_now(t);
		return;
	}
	if (cached == VT_CACHE_BYPASS)
	{
		(void) anon_touch_uncached(t);
		return;
	}
	PG_TRY();
	{
		by_redis = anon_touch_uncached(t);
	}
	PG_CATCH();
	{
		vt_anon_cache_release(t->fingerprint);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (by_redis && may_cache)
		vt_anon_cache_fill(t);
	else
		vt_anon_cache_release(t->fingerprint);
}

bool
hot_anon_fetch(const char *fingerprint, int ttl_seconds, HotAnon *out)
{
	const HotStoreOps *redis = redis_if_usable();
	HotAnon		local;
	bool		in_redis = false;
	bool		in_local = false;

	if (vt_anon_cache_fetch(fingerprint, out))
		return true;			/* ahead of Redis while cached */
	if (redis && !redis->anon_fetch(fingerprint, ttl_seconds, out, &in_redis))
		in_redis = false;
	/* a session may have started in PostgreSQL during a Redis outage */
	vt_hotstore_local.anon_fetch(fingerprint, ttl_seconds, &local, &in_local);
	if (in_local && (!in_redis || local.last_activity > out->last_activity))
	{
		*out = local;
		return true;
	}
	return in_redis;
}

void
hot_anon_remove(const char *fingerprint)
{
	const HotStoreOps *redis = redis_if_usable();

	/*
	 * A cached session: first let the writer apply the views already queued
	 * for it, or one of them would bring the key back after the delete.
	 */
	if (vt_anon_cache_remove(fingerprint))
		(void) vt_wq_wait_written(VT_WQ_ERASURE_WAIT_MS);
	if (vt_redis_configured() && !(redis && redis->anon_remove(fingerprint)))
		hot_outage_note_stale("anon_session", fingerprint);	/* erased when Redis is back */
	vt_hotstore_local.anon_remove(fingerprint);
}

/* --- community presence ------------------------------------------------ */

static void
apply_visit(void *arg)
{
	const HotVisit *v = arg;
	const HotStoreOps *redis = redis_if_usable();
	bool		done;

	vt_count(VT_DEFERRED_WRITES, 1);
	HOLD_INTERRUPTS();
	done = redis && redis->visit_record(v);
	RESUME_INTERRUPTS();
	if (done)
		return;
	hot_outage_count_fallback_write();
	vt_hotstore_local.visit_record(v);
}

void
hot_visit_record(const HotVisit *v, VtWriteMode mode)
{
	HotVisit   *copy;

	if (mode == VT_WRITE_BEHIND)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		hot_visit_encode(&buf, v);
		vt_queue_at_commit(VT_WRITE_VISIT, &buf);
		return;
	}
	if (!vt_redis_configured())
	{
		/* a table write is transactional already */
		vt_hotstore_local.visit_record(v);
		return;
	}
	copy = vt_deferred_alloc(sizeof(HotVisit));
	*copy = *v;
	copy->community_id = vt_deferred_strdup(v->community_id);
	copy->visitor_key = vt_deferred_strdup(v->visitor_key);
	copy->json_fields = vt_deferred_strdup(v->json_fields);
	vt_defer_until_commit(VT_COMMIT_WRITE, apply_visit, copy);
}

/*
 * The PostgreSQL store is a set of unlogged tables, which a hot standby
 * cannot open: there, presence is read from Redis or not at all.
 */
static void
require_local_store_readable(const char *what)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s on a hot standby needs Redis", what),
				 errdetail("Without Redis, live presence is kept in unlogged tables of the primary, which a standby cannot read."),
				 errhint("Point visittrack.redis_host at the primary's Redis on the standby, or ask the primary.")));
}

void
hot_visit_counts(const char *community_id, TimestampTz now, int window_seconds,
				 int *authenticated, int *anonymous)
{
	const HotStoreOps *redis = redis_if_usable();

	if (redis && redis->visit_counts(community_id, now, window_seconds,
									 authenticated, anonymous))
		return;
	require_local_store_readable("visitor_stats");
	hot_outage_count_fallback();
	vt_hotstore_local.visit_counts(community_id, now, window_seconds,
								   authenticated, anonymous);
}

List *
hot_visitors(const char *community_id, TimestampTz now, int window_seconds)
{
	const HotStoreOps *redis = redis_if_usable();
	List	   *out = NIL;

	if (redis && redis->visitors(community_id, now, window_seconds, &out))
		return out;
	require_local_store_readable("current_visitors");
	hot_outage_count_fallback();
	vt_hotstore_local.visitors(community_id, now, window_seconds, &out);
	return out;
}

int64
hot_visitor_forget(const char *visitor_key)
{
	const HotStoreOps *redis = redis_if_usable();
	int64		in_redis = 0;
	int64		in_local = 0;

	if (vt_redis_configured() && !(redis && redis->visitor_forget(visitor_key, &in_redis)))
		hot_outage_note_stale("visitor", visitor_key);	/* erased when Redis is back */
	vt_hotstore_local.visitor_forget(visitor_key, &in_local);
	return in_redis + in_local;
}

/* --- what callers may ask of the hot store ------------------------------ */

bool
hot_store_writes_tables(void)
{
	return !vt_redis_configured();
}

void
hot_store_describe(StringInfo b)
{
	bool		redis_up = hot_redis_describe(b);

	vt_json_text(b, "hot_store", !vt_redis_configured() ? "postgresql" :
				 (redis_up ? "redis" : "postgresql (fallback)"));
	hot_outage_describe(b);
}
