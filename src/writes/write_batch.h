/*
 * write_batch.h: the one way each kind of queued record is written.
 *
 * The writers (writer.c) call it for a batch taken from their ring; a
 * committing transaction whose records found no room in the ring calls it
 * for those records (queue_at_commit.c).  Either way a kind's records are
 * written together: one statement or one Redis pipeline per kind.
 */
#ifndef VT_WRITE_BATCH_H
#define VT_WRITE_BATCH_H

#include "write_queue.h"

extern void vt_write_records(VtQueuedWrite *records, int n);

#endif
