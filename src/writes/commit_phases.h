/*
 * commit_phases.h: work that must happen only if the calling transaction commits.
 *
 * Redis is not transactional, so Redis writes that describe database rows
 * (a session's cache entry, a signed-in visitor's presence) and records for
 * the write-behind queue are collected here and applied just before the
 * commit.  A rollback -- of the transaction or of the savepoint that queued
 * them -- discards them.
 *
 * Actions run in three phases, so that everything that can fail runs
 * before anything that cannot be undone:
 *
 *   GATHER   collects (no I/O, cannot fail): records meant for the queue;
 *   WRITE    may write SQL and talk to Redis; an ERROR here aborts the
 *            transaction, so a write the API acknowledged is never dropped
 *            in silence (a cancel and statement_timeout are served);
 *   PUBLISH  hands reserved records to the queue (cannot fail).
 *
 * Within a phase, actions run in the order they were queued.
 */
#ifndef VT_COMMIT_PHASES_H
#define VT_COMMIT_PHASES_H

typedef void (*VtDeferredFn) (void *arg);

typedef enum VtCommitPhase
{
	VT_COMMIT_GATHER = 0,
	VT_COMMIT_WRITE,
	VT_COMMIT_PUBLISH
} VtCommitPhase;

#define VT_COMMIT_PHASES 3

/* Memory for arguments: lives until the end of the transaction. */
extern void *vt_deferred_alloc(Size size);
extern char *vt_deferred_strdup(const char *s);

/*
 * Queue fn(arg) for the given phase of the current transaction's commit.
 * It runs as the role that queued it (the owner of the SECURITY DEFINER
 * function), with a snapshot active; it may use SPI (through spi_util.h).
 */
extern void vt_defer_until_commit(VtCommitPhase phase, VtDeferredFn fn, void *arg);

/*
 * The same, once per transaction: nothing is queued if fn is queued
 * already.  It is kept even if the savepoint that queued it rolls back, so
 * fn must cope with having nothing to do.
 */
extern void vt_defer_once(VtCommitPhase phase, VtDeferredFn fn);

/* Whether the commit-time actions of this backend are running right now. */
extern bool vt_deferred_running(void);

extern void vt_deferred_register_callbacks(void);

#endif
