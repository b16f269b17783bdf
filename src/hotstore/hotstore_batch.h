/*
 * hotstore_batch.h: hot-state writes that wait in the write queue.
 *
 * With write-behind (write_queue.h), the dispatcher (hotstore.c) queues a
 * community visit or a signed-in session's page count at commit instead
 * of sending it while the caller waits, and the writer (write_batch.c)
 * applies each kind in batches: pipelined to Redis; what Redis does not
 * take goes where a failed synchronous write would have gone.  The anonymous
 * cache queues its mirror records itself (anon_mirror.h); the writer applies
 * them here too.
 */
#ifndef VT_HOTSTORE_BATCH_H
#define VT_HOTSTORE_BATCH_H

#include "lib/stringinfo.h"

#include "hotstore_types.h"

/*
 * The dispatcher: the records it queues at commit (queue_at_commit.h), so
 * that this module, which the writers call, never calls the queue itself.
 */
extern void hot_visit_encode(StringInfo buf, const HotVisit *v);
extern void hot_session_pages_encode(StringInfo buf, const char *session_id, int32 pages,
									 TimestampTz at);

/* the writer: apply n queued records of one kind */
extern void hot_visits_write(StringInfo *payloads, int n);
extern void hot_session_pages_write(StringInfo *payloads, int n);
extern void hot_anon_mirrors_write(StringInfo *payloads, int n);

#endif
