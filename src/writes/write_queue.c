/*
 * write_queue.c: the shared-memory rings of writes waiting for the writers.
 *
 * Two rings (write_queue.h: rows, hot state) of visittrack.write_queue_size
 * bytes each, each drained by its own writer.  Positions are byte counts
 * since start-up (head: pushed, tail: written), so head - tail is what
 * waits and a record may wrap around the end of the buffer.  Each record
 * is a RecordHeader followed by its payload.  Callers push under the lock;
 * only the writer moves the tail, and it reads records outside the lock
 * (nobody else touches the bytes between tail and head).
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "keyspace.h"
#include "write_queue.h"

typedef struct RecordHeader
{
	uint32		kind;
	uint32		len;			/* payload bytes */
} RecordHeader;

typedef struct Ring
{
	LWLock	   *lock;
	ConditionVariable written_cv;	/* broadcast when the tail moves */
	Oid			writer_database;	/* InvalidOid: no writer attached */
	uint32		writer_target;	/* the writer's hot store (vt_wq_target_id()) */
	Latch	   *writer_latch;
	bool		writer_idle;	/* waiting for the first record */
	uint64		head;
	uint64		tail;
	Size		reserved;		/* promised to commits in progress (vt_wq_reserve) */
	uint64		queued;
	uint64		written;
	uint64		dropped;
	uint64		overflowed;
	uint64		batches;
	Size		size;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} Ring;

/* NULL when the library is not preloaded or write_queue_size is 0 */
static Ring *rings[VT_WQ_RINGS];

/* longest a request waits for room in a full queue (vt_wq_wait_below) */
#define ROOM_WAIT_MS 1000
static bool am_writer = false;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
ring_bytes(void)
{
	return (Size) vt_write_queue_size * 1024;
}

void
vt_wq_request_shmem(void)
{
	if (ring_bytes() == 0)
		return;
	RequestAddinShmemSpace(VT_WQ_RINGS * MAXALIGN(offsetof(Ring, data) + ring_bytes()));
	RequestNamedLWLockTranche("visittrack write queue", VT_WQ_RINGS);
}

static void
startup_shmem(void)
{
	bool		found;
	int			i;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	if (ring_bytes() == 0)
		return;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	for (i = 0; i < VT_WQ_RINGS; i++)
	{
		char		name[64];
		Ring	   *r;

		snprintf(name, sizeof(name), "visittrack write queue %d", i);
		r = rings[i] = ShmemInitStruct(name, offsetof(Ring, data) + ring_bytes(), &found);
		if (!found)
		{
			memset(r, 0, offsetof(Ring, data));
			r->lock = &(GetNamedLWLockTranche("visittrack write queue"))[i].lock;
			ConditionVariableInit(&r->written_cv);
			r->writer_database = InvalidOid;
			r->size = ring_bytes();
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

void
vt_wq_startup_shmem(void)
{
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = startup_shmem;
}

/* Rows go to one writer, hot state (Redis) to the other: they run side by side. */
static Ring *
ring_of(VtWriteKind kind)
{
	if (rings[0] == NULL)
		return NULL;
	return rings[kind == VT_WRITE_ANON_VIEW || kind == VT_WRITE_EVENT ||
				 kind == VT_WRITE_USER_VIEW ? VT_WQ_ROWS : VT_WQ_HOT];
}

/*
 * Which hot store this session's settings point at.  The writer applies
 * queued hot-state writes with its own settings, so a session whose
 * visittrack.redis_* differ (a role pointed elsewhere, or without Redis)
 * writes synchronously instead.  Hashed again only when a setting changed
 * since the last call: it is asked on every tracking call.
 */
uint32
vt_wq_target_id(void)
{
	static char *host_seen = NULL;
	static char *prefix_seen = NULL;
	static int	port_seen;
	static int	db_seen;
	static uint32 id;
	const char *host = vt_redis_host ? vt_redis_host : "";
	const char *prefix = vt_key_prefix();
	StringInfoData b;

	if (host_seen && port_seen == vt_redis_port && db_seen == vt_redis_db &&
		strcmp(host_seen, host) == 0 && strcmp(prefix_seen, prefix) == 0)
		return id;

	initStringInfo(&b);
	appendStringInfo(&b, "%s|%d|%d|%s", host, vt_redis_port, vt_redis_db, prefix);
	id = hash_bytes((const unsigned char *) b.data, b.len);
	pfree(b.data);
	if (host_seen)
	{
		pfree(host_seen);
		pfree(prefix_seen);
	}
	host_seen = MemoryContextStrdup(TopMemoryContext, host);
	prefix_seen = MemoryContextStrdup(TopMemoryContext, prefix);
	port_seen = vt_redis_port;
	db_seen = vt_redis_db;
	return id;
}

bool
vt_write_behind_active(void)
{
	uint32		target;
	int			i;

	if (!vt_write_behind || rings[0] == NULL || am_writer)
		return false;
	/* unlocked reads: a writer leaving meanwhile is caught at push time */
	target = vt_wq_target_id();
	for (i = 0; i < VT_WQ_RINGS; i++)
		if (rings[i]->writer_database != MyDatabaseId || rings[i]->writer_target != target)
			return false;
	return true;
}

/* copy n bytes into / out of the ring at byte position pos, wrapping */
static void
ring_put(Ring *r, uint64 pos, const void *src, Size n)
{
	Size		at = pos % r->size;
	Size		first = Min(n, r->size - at);

	memcpy(r->data + at, src, first);
	memcpy(r->data, (const char *) src + first, n - first);
}

static void
ring_get(Ring *r, uint64 pos, void *dst, Size n)
{
	Size		at = pos % r->size;
	Size		first = Min(n, r->size - at);

	memcpy(dst, r->data + at, first);
	memcpy((char *) dst + first, r->data, n - first);
}

/* Bytes a record takes in the ring. */
static Size
record_size(const StringInfo payload)
{
	return sizeof(RecordHeader) + payload->len;
}

/*
 * Append one record; the caller holds the lock and has checked the room.
 * Returns the writer's latch if it should be woken: for the first record
 * after a quiet spell (it then lets more gather for write_behind_delay), and
 * when the queue becomes a quarter full (it then writes at once).
 */
static Latch *
append_locked(Ring *wq, VtWriteKind kind, const StringInfo payload)
{
	RecordHeader h = {kind, payload->len};
	Size		need = record_size(payload);
	Size		waiting = wq->head - wq->tail;

	ring_put(wq, wq->head, &h, sizeof(h));
	ring_put(wq, wq->head + sizeof(h), payload->data, payload->len);
	wq->head += need;
	wq->queued++;
	if ((waiting == 0 && wq->writer_idle) ||
		(waiting < wq->size / 4 && waiting + need >= wq->size / 4))
		return wq->writer_latch;
	return NULL;
}

/* Free bytes, less what commits in progress have reserved. */
static Size
room_locked(Ring *wq)
{
	return wq->size - (wq->head - wq->tail) - wq->reserved;
}

/* Append one record if the writer is there and it fits. */
static bool
try_push(VtWriteKind kind, const StringInfo payload)
{
	Ring	   *wq = ring_of(kind);
	Latch	   *wake = NULL;
	bool		pushed = false;

	LWLockAcquire(wq->lock, LW_EXCLUSIVE);
	if (wq->writer_database == MyDatabaseId && room_locked(wq) >= record_size(payload))
	{
		wake = append_locked(wq, kind, payload);
		pushed = true;
	}
	LWLockRelease(wq->lock);
	if (wake)
		SetLatch(wake);
	return pushed;
}

/* n records written synchronously because the ring had no room */
static void
count_overflow(Ring *wq, int n)
{
	LWLockAcquire(wq->lock, LW_EXCLUSIVE);
	wq->overflowed += n;
	LWLockRelease(wq->lock);
}

/*
 * Wait, up to ROOM_WAIT_MS, until the writer is attached here and the
 * queue has room for need bytes -- more than that if fill_limit < 1: until
 * no more than that share of it is in use.  A full queue means the writer
 * is behind; waiting gives it the CPU that writing synchronously would
 * take from it.
 */
static bool
wait_for_room(Ring *wq, Size need, double fill_limit)
{
	TimestampTz deadline = 0;
	bool		room;

	for (;;)
	{
		Latch	   *writer;

		LWLockAcquire(wq->lock, LW_SHARED);
		room = wq->writer_database == MyDatabaseId &&
			room_locked(wq) >= need &&
			(double) (wq->head - wq->tail) <= fill_limit * wq->size;
		writer = wq->writer_database == MyDatabaseId ? wq->writer_latch : NULL;
		LWLockRelease(wq->lock);
		if (room || writer == NULL)
			break;
		if (deadline == 0)
		{
			deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ROOM_WAIT_MS);
			SetLatch(writer);
			ConditionVariablePrepareToSleep(&wq->written_cv);
		}
		else if (GetCurrentTimestamp() >= deadline)
			break;
		(void) ConditionVariableTimedSleep(&wq->written_cv, 10, PG_WAIT_EXTENSION);
	}
	if (deadline != 0)
		ConditionVariableCancelSleep();
	return room;
}

/* --- records pushed at commit (queue_at_commit.c) ----------------------- */

int
vt_wq_ring_for(VtWriteKind kind)
{
	Ring	   *wq = ring_of(kind);

	if (wq == NULL)
		return -1;
	return wq == rings[VT_WQ_ROWS] ? VT_WQ_ROWS : VT_WQ_HOT;
}

Size
vt_wq_record_size(const StringInfo payload)
{
	return record_size(payload);
}

bool
vt_wq_reserve(int ring, Size bytes)
{
	Ring	   *wq = rings[ring];
	bool		ok;

	LWLockAcquire(wq->lock, LW_EXCLUSIVE);
	ok = wq->writer_database == MyDatabaseId && room_locked(wq) >= bytes;
	if (ok)
		wq->reserved += bytes;
	LWLockRelease(wq->lock);
	return ok;
}

void
vt_wq_release(int ring, Size bytes)
{
	Ring	   *wq = rings[ring];

	LWLockAcquire(wq->lock, LW_EXCLUSIVE);
	Assert(wq->reserved >= bytes);
	wq->reserved -= Min(bytes, wq->reserved);
	LWLockRelease(wq->lock);
}

void
vt_wq_push_reserved(int ring, const VtQueuedWrite *records, int n, Size bytes)
{
	Ring	   *wq = rings[ring];
	Latch	   *wake = NULL;
	int			i;

	LWLockAcquire(wq->lock, LW_EXCLUSIVE);
	Assert(wq->reserved >= bytes);
	wq->reserved -= Min(bytes, wq->reserved);
	for (i = 0; i < n; i++)
	{
		Latch	   *w = append_locked(wq, records[i].kind, (StringInfo) &records[i].payload);

		wake = wake ? wake : w;
	}
	LWLockRelease(wq->lock);
	if (wake)
		SetLatch(wake);
}

void
vt_wq_count_overflow(int ring, int n)
{
	count_overflow(rings[ring], n);
}

bool
vt_wq_try_push(VtWriteKind kind, StringInfo payload)
{
	if (ring_of(kind) == NULL)
		return false;
	if (try_push(kind, payload))
		return true;
	count_overflow(ring_of(kind), 1);
	return false;
}

void
vt_wq_wait_below(VtWriteKind kind, double share)
{
	if (ring_of(kind) != NULL)
		(void) wait_for_room(ring_of(kind), 0, share);
}

/* Wait until the ring's tail reaches target, or deadline; true if it did. */
static bool
wait_for_tail(Ring *wq, uint64 target, TimestampTz deadline)
{
	bool		done;

	ConditionVariablePrepareToSleep(&wq->written_cv);
	for (;;)
	{
		long		left;

		LWLockAcquire(wq->lock, LW_SHARED);
		done = wq->tail >= target;
		LWLockRelease(wq->lock);
		if (done)
			break;
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
		if (left <= 0)
			break;
		(void) ConditionVariableTimedSleep(&wq->written_cv, left, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	return done;
}

bool
vt_wq_wait_written(int timeout_ms)
{
	uint64		target[VT_WQ_RINGS];
	TimestampTz deadline;
	int			i;

	if (rings[0] == NULL)
		return true;
	for (i = 0; i < VT_WQ_RINGS; i++)
	{
		Ring	   *wq = rings[i];
		Latch	   *writer;

		LWLockAcquire(wq->lock, LW_SHARED);
		target[i] = wq->head;
		writer = wq->tail < wq->head ? wq->writer_latch : NULL;
		LWLockRelease(wq->lock);
		if (writer)
			SetLatch(writer);	/* no need to wait for its next round */
	}
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	for (i = 0; i < VT_WQ_RINGS; i++)
		if (!wait_for_tail(rings[i], target[i], deadline))
			return false;
	return true;
}

static bool
anything_queued(void)
{
	bool		queued = false;
	int			i;

	for (i = 0; rings[0] != NULL && i < VT_WQ_RINGS; i++)
	{
		LWLockAcquire(rings[i]->lock, LW_SHARED);
		queued |= rings[i]->tail < rings[i]->head;
		LWLockRelease(rings[i]->lock);
	}
	return queued;
}

void
vt_wq_require_written(const char *what)
{
	/*
	 * A transaction snapshot taken before the wait would not see the rows
	 * written during it, and they would survive the erasure.
	 */
	if (IsolationUsesXactSnapshot() && anything_queued())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s must run at READ COMMITTED while writes wait for the visittrack writers",
						what),
				 errhint("Run it in its own READ COMMITTED transaction, or call visittrack.flush_writes() first.")));
	if (!vt_wq_wait_written(VT_WQ_ERASURE_WAIT_MS))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s cannot run while queued writes wait for the visittrack writer", what),
				 errdetail("Rows written after the erasure would bring back what it removed."),
				 errhint("Check visittrack.status()->'write_behind' (is the writer attached?) and retry.")));
}

/*
 * flush_writes(timeout_ms integer) returns boolean: waits until the writes
 * queued by transactions that committed before the call are written.
 */
PG_FUNCTION_INFO_V1(vt_flush_writes);

Datum
vt_flush_writes(PG_FUNCTION_ARGS)
{
	int32		timeout_ms = PG_GETARG_INT32(0);

	if (timeout_ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout_ms must not be negative")));
	PG_RETURN_BOOL(vt_wq_wait_written(timeout_ms));
}

/* --- the writer ----------------------------------------------------------- */

void
vt_wq_writer_attach(int ring, Latch *latch)
{
	Ring	   *wq = rings[ring];

	am_writer = true;
	if (wq == NULL)
		return;
	LWLockAcquire(wq->lock, LW_EXCLUSIVE);
	wq->writer_database = MyDatabaseId;
	wq->writer_target = vt_wq_target_id();
	wq->writer_latch = latch;
	LWLockRelease(wq->lock);
}

void
vt_wq_writer_idle(int ring, bool idle)
{
	Ring	   *wq = rings[ring];

	if (wq == NULL)
		return;
	LWLockAcquire(wq->lock, LW_EXCLUSIVE);
	wq->writer_idle = idle;
	LWLockRelease(wq->lock);
}

bool
vt_wq_is_empty(int ring)
{
	Ring	   *wq = rings[ring];
	bool		empty;

	if (wq == NULL)
		return true;
	LWLockAcquire(wq->lock, LW_SHARED);
	empty = wq->head == wq->tail;
	LWLockRelease(wq->lock);
	return empty;
}

void
vt_wq_writer_detach(int ring)
{
	Ring	   *wq = rings[ring];

	if (wq == NULL)
		return;
	LWLockAcquire(wq->lock, LW_EXCLUSIVE);
	wq->writer_database = InvalidOid;
	wq->writer_latch = NULL;
	LWLockRelease(wq->lock);
}

int
vt_wq_peek(int ring, VtQueuedWrite **records, int max_records, Size max_bytes,
		   uint64 *end, uint64 *start)
{
	Ring	   *wq = rings[ring];
	uint64		pos;
	uint64		head;
	int			n = 0;
	Size		bytes = 0;
	VtQueuedWrite *out;

	*records = NULL;
	*start = *end = 0;
	if (wq == NULL)
		return 0;
	LWLockAcquire(wq->lock, LW_SHARED);
	pos = wq->tail;
	head = wq->head;
	LWLockRelease(wq->lock);
	*start = *end = pos;
	if (pos == head)
		return 0;

	out = palloc(sizeof(VtQueuedWrite) * max_records);
	while (pos < head && n < max_records && bytes < max_bytes)
	{
		RecordHeader h;
		VtQueuedWrite *r = &out[n++];

		ring_get(wq, pos, &h, sizeof(h));
		r->kind = (VtWriteKind) h.kind;
		r->payload.data = palloc(h.len + 1);
		r->payload.maxlen = h.len + 1;
		r->payload.len = h.len;
		r->payload.cursor = 0;
		ring_get(wq, pos + sizeof(h), r->payload.data, h.len);
		r->payload.data[h.len] = '\0';
		pos += sizeof(h) + h.len;
		bytes += sizeof(h) + h.len;
		r->end = pos;
	}
	*records = out;
	*end = pos;
	return n;
}

void
vt_wq_consume(int ring, uint64 end, int written, int dropped)
{
	Ring	   *wq = rings[ring];

	if (wq == NULL)
		return;
	LWLockAcquire(wq->lock, LW_EXCLUSIVE);
	Assert(end >= wq->tail && end <= wq->head);
	wq->tail = end;
	wq->written += written;
	wq->dropped += dropped;
	wq->batches++;
	LWLockRelease(wq->lock);
	ConditionVariableBroadcast(&wq->written_cv);
}

void
vt_wq_stats(VtWqStats *out)
{
	int			i;

	memset(out, 0, sizeof(*out));
	if (rings[0] == NULL)
		return;
	out->shared = true;
	out->writer_attached = true;
	for (i = 0; i < VT_WQ_RINGS; i++)
	{
		Ring	   *wq = rings[i];

		LWLockAcquire(wq->lock, LW_SHARED);
		out->writer_attached &= OidIsValid(wq->writer_database);
		out->capacity += wq->size;
		out->pending_bytes += wq->head - wq->tail;
		out->queued += wq->queued;
		out->written += wq->written;
		out->dropped += wq->dropped;
		out->overflowed += wq->overflowed;
		out->batches += wq->batches;
		LWLockRelease(wq->lock);
	}
}
