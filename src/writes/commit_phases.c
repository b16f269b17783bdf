/*
 * commit_phases.c: a per-transaction list of actions applied at commit.
 *
 * Entries live in TopTransactionContext, tagged with the subtransaction
 * nesting level that queued them.  They run at XACT_EVENT_PRE_COMMIT,
 * phase by phase (commit_phases.h): after deferred triggers and the closing of
 * portals, before the commit record.  An ERROR there aborts the
 * transaction and the client's COMMIT reports it.
 *
 * PostgreSQL switches statement_timeout off before it commits; commit-time
 * work that writes SQL (a write-behind queue that had no room) can take a
 * while, so the timeout is armed again for it.  Query cancel is served as
 * anywhere else.  What remains between this point and the commit record (a
 * serialization failure detected at commit, a crash) is documented in
 * doc/operations.md.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

#include "commit_phases.h"

typedef struct DeferredAction
{
	VtCommitPhase phase;
	VtDeferredFn fn;
	void	   *arg;
	int			nest_level;
	Oid			user_id;		/* who queued it: the SECURITY DEFINER owner */
} DeferredAction;

static List *pending = NIL;		/* in TopTransactionContext */
static List *once = NIL;		/* the actions of vt_defer_once, also in pending */
static bool running = false;

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

static void
add_action(VtCommitPhase phase, VtDeferredFn fn, void *arg, int nest_level)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	DeferredAction *a = palloc(sizeof(DeferredAction));

	Assert(!running);
	a->phase = phase;
	a->fn = fn;
	a->arg = arg;
	a->nest_level = nest_level;
	a->user_id = GetUserId();
	pending = lappend(pending, a);
	MemoryContextSwitchTo(old);
}

void
vt_defer_until_commit(VtCommitPhase phase, VtDeferredFn fn, void *arg)
{
	add_action(phase, fn, arg, GetCurrentTransactionNestLevel());
}

void
vt_defer_once(VtCommitPhase phase, VtDeferredFn fn)
{
	ListCell   *lc;
	MemoryContext old;

	/* a short list, not pending: a transaction may queue thousands of actions */
	foreach(lc, once)
	{
		DeferredAction *a = lfirst(lc);

		if (a->fn == fn && a->phase == phase)
			return;
	}
	add_action(phase, fn, NULL, 1);
	old = MemoryContextSwitchTo(TopTransactionContext);
	once = lappend(once, llast(pending));
	MemoryContextSwitchTo(old);
}

bool
vt_deferred_running(void)
{
	return running;
}

static void
commit_error_context(void *arg)
{
	errcontext("visittrack: writing what this transaction queued for its commit");
}

static void
run_phase(List *todo, VtCommitPhase phase)
{
	ListCell   *lc;

	foreach(lc, todo)
	{
		DeferredAction *a = lfirst(lc);
		Oid			saved_user;
		int			saved_context;

		if (a->phase != phase)
			continue;

		/*
		 * Run as the role that queued the action (the owner of the SECURITY
		 * DEFINER function), not as whoever is current at commit.  An ERROR
		 * restores the user id with the transaction's abort.
		 */
		GetUserIdAndSecContext(&saved_user, &saved_context);
		SetUserIdAndSecContext(a->user_id, saved_context | SECURITY_LOCAL_USERID_CHANGE);
		a->fn(a->arg);
		SetUserIdAndSecContext(saved_user, saved_context);
	}
}

static void
run_pending(void)
{
	bool		pushed = false;
	bool		armed = false;
	List	   *todo = pending;
	ErrorContextCallback errcallback;
	int			phase;

	pending = NIL;
	once = NIL;
	running = true;
	errcallback.callback = commit_error_context;
	errcallback.arg = NULL;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	if (StatementTimeout > 0 && !get_timeout_active(STATEMENT_TIMEOUT))
	{
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
		armed = true;
	}
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	for (phase = 0; phase < VT_COMMIT_PHASES; phase++)
		run_phase(todo, (VtCommitPhase) phase);
	if (pushed)
		PopActiveSnapshot();
	if (armed)
		disable_timeout(STATEMENT_TIMEOUT, false);
	error_context_stack = errcallback.previous;
	running = false;
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
			once = NIL;
			running = false;
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
vt_deferred_register_callbacks(void)
{
	RegisterXactCallback(on_xact_event, NULL);
	RegisterSubXactCallback(on_subxact_event, NULL);
}
