/*
 * async_commit.c: asynchronous commit for tracking transactions.
 *
 * Waiting for the WAL flush at commit is most of a page view's cost (more
 * than half of its time in doc/performance.md's profile).  Tracking data can
 * afford to lose the last few hundred milliseconds in a crash (the design
 * document's own pipeline loses more: Redis-only counters, asynchronous
 * tasks), so by default the calling transaction is told not to wait:
 * exactly what SET LOCAL synchronous_commit = off does, once per
 * transaction.  It applies to the whole transaction, so an application that
 * records a visit inside a transaction holding its own critical writes
 * should turn visittrack.async_commit off (or record the visit separately).
 */
#include "postgres.h"

#include "access/xact.h"
#include "storage/proc.h"
#include "utils/guc.h"

#include "async_commit.h"
#include "guc.h"

static LocalTransactionId done_in = InvalidLocalTransactionId;

void
vt_tracking_write(void)
{
	if (!vt_async_commit || done_in == MyProc->lxid)
		return;
	(void) set_config_option("synchronous_commit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	done_in = MyProc->lxid;
}
