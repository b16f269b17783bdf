/*
 * queue_at_commit.h: records for the write-behind writers, handed over
 * when the calling transaction commits.
 *
 * At commit, all of a transaction's records for one ring either go into it
 * together (room reserved before the commit point, filled after it) or,
 * when the ring has no room or no writer, are written by the committing
 * transaction itself through the writers' own batch path (write_batch.h).
 * Nothing waits for the writers at commit: a writer may be waiting on this
 * very transaction's locks.  An ERROR while writing aborts the transaction,
 * so a record is never dropped in silence.  A rollback queues nothing.
 */
#ifndef VT_QUEUE_AT_COMMIT_H
#define VT_QUEUE_AT_COMMIT_H

#include "lib/stringinfo.h"

#include "write_queue.h"

extern void vt_queue_at_commit(VtWriteKind kind, StringInfo payload);

#endif
