/*
 * queue_at_commit.c: hand a transaction's records to the write queue, or
 * write them, at its commit (queue_at_commit.h).
 *
 * The three commit phases of commit_phases.h do the work: GATHER collects the
 * records that survived savepoint rollbacks, per ring; WRITE reserves room
 * for each ring's records, or writes them synchronously when there is
 * none (this can fail, and then the transaction aborts); PUBLISH copies
 * the reserved records into the rings (this cannot fail).  A transaction
 * that aborts between WRITE and PUBLISH gives its reservations back.
 */
#include "postgres.h"

#include "access/xact.h"
#include "storage/proc.h"
#include "utils/memutils.h"

#include "commit_phases.h"
#include "queue_at_commit.h"
#include "write_batch.h"

typedef struct Gathered
{
	List	   *records;		/* VtQueuedWrite *, in TopTransactionContext */
	Size		bytes;			/* their size in the ring */
	bool		reserved;		/* room held in the ring for them */
} Gathered;

/* per ring, plus one for "no ring: write synchronously" */
#define NO_RING VT_WQ_RINGS
static Gathered gathered[VT_WQ_RINGS + 1];
static LocalTransactionId gathered_in = InvalidLocalTransactionId;
static bool callback_registered = false;

static void
forget_gathered(void)
{
	int			r;

	for (r = 0; r <= NO_RING; r++)
	{
		if (r < NO_RING && gathered[r].reserved)
			vt_wq_release(r, gathered[r].bytes);
		gathered[r].records = NIL;
		gathered[r].bytes = 0;
		gathered[r].reserved = false;
	}
	gathered_in = InvalidLocalTransactionId;
}

/* an abort after WRITE: give the reserved room back */
static void
on_xact_end(XactEvent event, void *arg)
{
	if (gathered_in != InvalidLocalTransactionId &&
		(event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT ||
		 event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE))
		forget_gathered();
}

static void
gather(void *arg)
{
	VtQueuedWrite *w = arg;
	int			ring = vt_wq_ring_for(w->kind);
	Gathered   *g = &gathered[ring < 0 ? NO_RING : ring];
	MemoryContext old;

	if (gathered_in != MyProc->lxid)
	{
		forget_gathered();
		gathered_in = MyProc->lxid;
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	g->records = lappend(g->records, w);
	MemoryContextSwitchTo(old);
	g->bytes += vt_wq_record_size(&w->payload);
}

/* The records of one ring as an array for vt_write_records. */
static VtQueuedWrite *
as_array(List *records)
{
	VtQueuedWrite *out = palloc(sizeof(VtQueuedWrite) * list_length(records));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, records)
		out[i++] = *(VtQueuedWrite *) lfirst(lc);
	return out;
}

static void
reserve_or_write(void *arg)
{
	int			r;

	if (gathered_in != MyProc->lxid)
		return;					/* every record was rolled back */
	for (r = 0; r <= NO_RING; r++)
	{
		Gathered   *g = &gathered[r];
		int			n = list_length(g->records);

		if (n == 0)
			continue;
		if (r < NO_RING && vt_wq_reserve(r, g->bytes))
		{
			g->reserved = true;
			continue;
		}
		if (r < NO_RING)
			vt_wq_count_overflow(r, n);
		vt_write_records(as_array(g->records), n);
		g->records = NIL;
	}
}

static void
publish(void *arg)
{
	int			r;

	if (gathered_in != MyProc->lxid)
		return;
	for (r = 0; r < NO_RING; r++)
	{
		Gathered   *g = &gathered[r];

		if (!g->reserved)
			continue;
		vt_wq_push_reserved(r, as_array(g->records), list_length(g->records), g->bytes);
		g->reserved = false;	/* the room is used now, not to be released */
		g->records = NIL;
	}
}

void
vt_queue_at_commit(VtWriteKind kind, StringInfo payload)
{
	VtQueuedWrite *w = vt_deferred_alloc(sizeof(VtQueuedWrite));

	if (!callback_registered)
	{
		RegisterXactCallback(on_xact_end, NULL);
		callback_registered = true;
	}
	w->kind = kind;
	w->payload.data = vt_deferred_alloc(payload->len + 1);
	memcpy(w->payload.data, payload->data, payload->len);
	w->payload.len = payload->len;
	w->payload.maxlen = payload->len + 1;
	w->payload.cursor = 0;
	vt_defer_until_commit(VT_COMMIT_GATHER, gather, w);
	vt_defer_once(VT_COMMIT_WRITE, reserve_or_write);
	vt_defer_once(VT_COMMIT_PUBLISH, publish);
}
