/*
 * write_queue.h: writes that can wait, handed to the visittrack writer.
 *
 * With visittrack.write_behind on, a request records what it must return
 * (a page count, a session check) at once and leaves the rest -- page-view
 * rows, community presence, a session's cached page count -- in a ring
 * buffer in shared memory.  The writer (writer.c) drains it every
 * visittrack.write_behind_delay in batches: multi-row statements, pipelined
 * Redis commands, one commit per batch.  Records are pushed when the
 * calling transaction commits, so a rollback leaves nothing behind.
 *
 * The queue is used only when it can be drained: the library preloaded,
 * the writer running in the caller's database, room in the ring.  Otherwise
 * callers write synchronously, as with write_behind off, so turning it on
 * never loses a write for lack of a writer.
 */
#ifndef VT_WRITE_QUEUE_H
#define VT_WRITE_QUEUE_H

#include "lib/stringinfo.h"
#include "storage/latch.h"

typedef enum VtWriteKind
{
	VT_WRITE_ANON_VIEW = 1,		/* kind_anon_view.c */
	VT_WRITE_VISIT,				/* hotstore_batch.c */
	VT_WRITE_SESSION_PAGES,		/* hotstore_batch.c */
	VT_WRITE_EVENT,				/* kind_event.c */
	VT_WRITE_ANON_MIRROR,		/* hotstore_batch.c: a cached session, to Redis */
	VT_WRITE_USER_VIEW			/* kind_user_view.c */
} VtWriteKind;

#define VT_WRITE_KINDS 6

/*
 * Two rings, each with its own writer process, so that writing rows and
 * talking to Redis proceed side by side: page-view rows and events in one,
 * hot state (presence, page counts, cached sessions) in the other.
 */
#define VT_WQ_ROWS 0
#define VT_WQ_HOT 1
#define VT_WQ_RINGS 2

/* --- shared memory, while preloading (visittrack.c) --- */
extern void vt_wq_request_shmem(void);	/* from the shmem_request_hook */
extern void vt_wq_startup_shmem(void);	/* from _PG_init */

/* --- callers --- */

/* This session's Redis settings (host, port, db, prefix), as one number. */
extern uint32 vt_wq_target_id(void);

/*
 * Could this call queue its writes?  write_behind on, the writers attached
 * in this database, with the same Redis settings (host, port, db, prefix).
 * Asked only by vt_write_mode_for_call (write_mode.h), once per SQL call.
 */
extern bool vt_write_behind_active(void);

/*
 * Queue one record now, whatever becomes of the calling transaction (hot
 * state applied at once, like the anonymous page counter).  False when the
 * queue cannot take it: the caller writes it itself.
 */
extern bool vt_wq_try_push(VtWriteKind kind, StringInfo payload);

/* Wait (a little) until no more than share (0..1) of kind's ring is in use. */
extern void vt_wq_wait_below(VtWriteKind kind, double share);

/*
 * Wait until every record queued before the call is written (or dropped
 * after failing).  Returns false on timeout.  Immediate when nothing waits.
 */
extern bool vt_wq_wait_written(int timeout_ms);

/*
 * For erasure: ERROR unless everything queued before the call is written
 * within VT_WQ_ERASURE_WAIT_MS, or a queued row would bring back what the
 * erasure removes.
 */
#define VT_WQ_ERASURE_WAIT_MS 30000
extern void vt_wq_require_written(const char *what);

/*
 * For records pushed at commit (queue_at_commit.h): the ring a kind goes
 * to (-1: no queue), the bytes a record takes there, and room reserved
 * before the commit point and filled after it, so that the push itself
 * cannot fail.  A reservation is granted only while the ring's writer is
 * attached in this database.
 */
extern int	vt_wq_ring_for(VtWriteKind kind);
extern Size vt_wq_record_size(const StringInfo payload);
extern bool vt_wq_reserve(int ring, Size bytes);
extern void vt_wq_release(int ring, Size bytes);
struct VtQueuedWrite;
extern void vt_wq_push_reserved(int ring, const struct VtQueuedWrite *records, int n,
								Size bytes);
/* records written synchronously because the ring had no room */
extern void vt_wq_count_overflow(int ring, int n);

/* --- the writers, each for its ring (VT_WQ_ROWS, VT_WQ_HOT) --- */

/* attach, or after a configuration reload: publish database and settings */
extern void vt_wq_writer_attach(int ring, Latch *latch);
extern void vt_wq_writer_detach(int ring);
/* idle: wake me for the next record (set just before a long sleep) */
extern void vt_wq_writer_idle(int ring, bool idle);
extern bool vt_wq_is_empty(int ring);

/* one record, as the writer reads it */
typedef struct VtQueuedWrite
{
	VtWriteKind kind;
	StringInfoData payload;		/* data, len; read with queued_record.h */
	uint64		end;			/* ring position just after it: vt_wq_consume */
} VtQueuedWrite;

/*
 * Copy the oldest records, up to max_records and about max_bytes, into
 * memory of the current context.  *end is what to pass to vt_wq_consume
 * once they are written; *end - *start is their size in the queue.  A
 * writer that stops before writing them leaves them there for the next one.
 */
extern int	vt_wq_peek(int ring, VtQueuedWrite **records, int max_records,
					   Size max_bytes, uint64 *end, uint64 *start);
/*
 * Remove the records before end from the ring (written or dropped).  Never
 * errors nor waits, so that it can run in a commit callback.
 */
extern void vt_wq_consume(int ring, uint64 end, int written, int dropped);

/* --- status() --- */
typedef struct VtWqStats
{
	bool		shared;			/* a queue exists (preloaded, size > 0) */
	bool		writer_attached;	/* both writers */
	Size		capacity;		/* bytes, both rings */
	Size		pending_bytes;
	uint64		queued;			/* records pushed */
	uint64		written;
	uint64		dropped;		/* failed even alone: logged */
	uint64		overflowed;		/* written synchronously: no room */
	uint64		batches;
} VtWqStats;

extern void vt_wq_stats(VtWqStats *out);

#endif
