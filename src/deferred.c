/*
 * deferred.c: a per-transaction queue of actions applied at commit.
 *
 * Entries live in TopTransactionContext, tagged with the subtransaction
 * nesting level that queued them.  They run in queue order at
 * XACT_EVENT_PRE_COMMIT: after deferred triggers and the closing of portals,
 * so no user code can still fail the transaction, yet before the commit
 * record, so a failed Redis write can still fall back to an SQL write in the
 * same transaction.  The remaining window (a serialization failure or crash
 * between this point and the commit record) is documented in
 * doc/operations.md.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "deferred.h"

typedef struct DeferredAction
{
	VtDeferredFn fn;
	void	   *arg;
	int			nest_level;
	Oid			user_id;		/* who queued it: the SECURITY DEFINER owner */
} DeferredAction;

static List *pending = NIL;		/* in TopTransactionContext */

void *
vt_deferred_alloc(Size size)
{
	return MemoryContextAllocZero(TopTransactionContext, size);
}

char *
vt_deferred_strdup(const char *s)
{
	return s ? MemoryContextStrdup(TopTransactionContext, s) : NULL;
}

void
vt_defer_until_commit(VtDeferredFn fn, void *arg)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	DeferredAction *a = palloc(sizeof(DeferredAction));

	a->fn = fn;
	a->arg = arg;
	a->nest_level = GetCurrentTransactionNestLevel();
	a->user_id = GetUserId();
	pending = lappend(pending, a);
	MemoryContextSwitchTo(old);
}

static void
run_pending(void)
{
	bool		pushed = false;
	ListCell   *lc;
	List	   *todo = pending;

	pending = NIL;
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	HOLD_INTERRUPTS();
	foreach(lc, todo)
	{
		DeferredAction *a = lfirst(lc);
		Oid			saved_user;
		int			saved_context;

		/*
		 * Run as the role that queued the action (the owner of the SECURITY
		 * DEFINER function), not as whoever is current at commit.
		 */
		GetUserIdAndSecContext(&saved_user, &saved_context);
		SetUserIdAndSecContext(a->user_id, saved_context | SECURITY_LOCAL_USERID_CHANGE);
		a->fn(a->arg);
		SetUserIdAndSecContext(saved_user, saved_context);
	}
	RESUME_INTERRUPTS();
	if (pushed)
		PopActiveSnapshot();
}

static void
on_xact_event(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (pending != NIL)
				run_pending();
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (pending != NIL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot prepare a transaction that has written visittrack hot state"),
						 errhint("Call visittrack functions outside of two-phase transactions.")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			pending = NIL;		/* memory goes with TopTransactionContext */
			break;
		default:
			break;
	}
}

static void
on_subxact_event(SubXactEvent event, SubTransactionId sub, SubTransactionId parent,
				 void *arg)
{
	int			level;
	ListCell   *lc;

	if (pending == NIL)
		return;
	level = GetCurrentTransactionNestLevel();

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		foreach(lc, pending)
		{
			DeferredAction *a = lfirst(lc);

			if (a->nest_level >= level)
				pending = foreach_delete_current(pending, lc);
		}
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		foreach(lc, pending)
		{
			DeferredAction *a = lfirst(lc);

			if (a->nest_level >= level)
				a->nest_level = level - 1;
		}
	}
}

void
vt_deferred_try(VtDeferredFn fn, void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	/* run_pending holds interrupts for the Redis part; not for SQL waits */
	RESUME_INTERRUPTS();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		ereport(WARNING,
				(errmsg("visittrack: hot state could not be kept in PostgreSQL either: %s",
						edata->message)));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	HOLD_INTERRUPTS();
}

void
vt_deferred_register_callbacks(void)
{
	RegisterXactCallback(on_xact_event, NULL);
	RegisterSubXactCallback(on_subxact_event, NULL);
}
