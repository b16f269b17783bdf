/*
 * reconcile.c: bringing Redis back in step after an outage.
 *
 * While Redis is configured but out of reach, hot-state writes go to the
 * PostgreSQL store (hotstore.c).  When Redis answers again, this copies them
 * back: live anonymous sessions and community visitors are merged into the
 * Redis keys (scripts in hotstore_redis.c); session keys that could not be
 * updated or deleted during the outage are deleted so that session_get
 * refills them from user_session; and erasures that could not reach Redis
 * (forget_user, forget_fingerprint) are carried out.  The worker runs it every round, and at
 * once when a backend sees Redis come back (shared_state.c wakes it).
 *
 * The local rows are taken (deleted) in the calling transaction; if Redis
 * fails half-way, the ERROR rolls the deletions back and the next round
 * starts over.  Re-merging a session is harmless (the larger count wins);
 * re-merging a visitor may count its outage visits twice in pages_viewed,
 * never twice as a visitor.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "hotstore.h"
#include "redis_client.h"
#include "shared_state.h"

PG_FUNCTION_INFO_V1(vt_reconcile_hot_state);

static void
lost_redis(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("Redis became unreachable while copying %s back", what),
			 errhint("Nothing was lost: the next round tries again.")));
}

int64
hot_reconcile(void)
{
	const HotStoreOps *redis = &vt_hotstore_redis;
	const HotStoreOps *local = &vt_hotstore_local;
	ListCell   *lc;
	List	   *stale;
	List	   *sessions;
	List	   *visitors;
	uint64		writes_seen;
	int64		copied = 0;

	if (!vt_redis_usable())
		return 0;

	/*
	 * Page views keep merging the local store into Redis themselves
	 * (hotstore.c) until two rounds in a row find it empty and no write was
	 * made in between (a write may be in a transaction that has not
	 * committed yet when a round looks).  Taken in the order page views lock
	 * these tables (sessions, then visitors, then stale keys at commit).
	 */
	writes_seen = vt_local_backlog_writes();
	sessions = local->anon_take(vt_anon_session_ttl);
	visitors = local->visitors_take(vt_community_window);
	stale = local->stale_keys_take();
	vt_local_backlog_round(writes_seen, !stale && !sessions && !visitors);

	foreach(lc, sessions)
	{
		if (!redis->anon_merge(lfirst(lc), vt_anon_session_ttl))
			lost_redis("anonymous sessions");
		copied++;
	}
	foreach(lc, visitors)
	{
		if (!redis->visit_merge(lfirst(lc)))
			lost_redis("community visitors");
		copied++;
	}
	foreach(lc, stale)
	{
		HotStaleKey *k = lfirst(lc);
		int64		ignored;
		bool		ok;

		if (strcmp(k->kind, "session") == 0)
			ok = redis->session_remove(k->id);
		else if (strcmp(k->kind, "anon_session") == 0)
			ok = redis->anon_remove(k->id);
		else
			ok = redis->visitor_forget(k->id, &ignored);
		if (!ok)
			lost_redis("stale keys");
		copied++;
	}
	return copied;
}

/* reconcile_hot_state() returns bigint: entries copied to Redis */
Datum
vt_reconcile_hot_state(PG_FUNCTION_ARGS)
{
	int64		copied = 0;

	if (vt_redis_configured())
	{
		copied = hot_reconcile();
		vt_reconcile_note(GetCurrentTimestamp(), copied);
		if (copied > 0)
			vt_count(VT_RECONCILED, copied);
	}
	PG_RETURN_INT64(copied);
}
