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

#include "guc.h"
#include "hotstore_local.h"
#include "hotstore_redis.h"
#include "outage.h"
#include "redis_client.h"

PG_FUNCTION_INFO_V1(vt_reconcile_hot_state);

static void
lost_redis(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("Redis became unreachable while copying %s back", what),
			 errhint("Nothing was lost: the next round tries again.")));
}

/* Copy what waits in PostgreSQL to Redis; returns the entries copied. */
static int64
reconcile(void)
{
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
	writes_seen = hot_outage_round_begin();
	sessions = hot_local_anon_take(vt_anon_session_ttl);
	visitors = hot_local_visitors_take(vt_community_window);
	stale = hot_outage_stale_keys_take();
	hot_outage_round_end(writes_seen, !stale && !sessions && !visitors);

	foreach(lc, sessions)
	{
		if (!hot_redis_anon_merge(lfirst(lc), vt_anon_session_ttl))
			lost_redis("anonymous sessions");
		copied++;
	}
	foreach(lc, visitors)
	{
		if (!hot_redis_visit_merge(lfirst(lc)))
			lost_redis("community visitors");
		copied++;
	}
	foreach(lc, stale)
	{
		HotStaleKey *k = lfirst(lc);
		int64		ignored;
		bool		ok;

		if (strcmp(k->kind, "session") == 0)
			ok = hot_redis_session_remove(k->id);
		else if (strcmp(k->kind, "anon_session") == 0)
			ok = vt_hotstore_redis.anon_remove(k->id);
		else
			ok = vt_hotstore_redis.visitor_forget(k->id, &ignored);
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

	/* without Redis there is never anything to copy, nor a round to note */
	if (vt_redis_configured())
	{
		copied = reconcile();
		hot_outage_reconciled(copied);
	}
	PG_RETURN_INT64(copied);
}
