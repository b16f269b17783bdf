/*
 * deferred.h: work that must happen only if the calling transaction commits.
 *
 * Redis is not transactional, so Redis writes that describe database rows
 * (a session's cache entry, a signed-in visitor's presence) are queued here
 * and applied just before the commit, when nothing that can fail in user
 * code is left to run.  A rollback -- of the transaction or of the
 * savepoint that queued them -- discards them.
 */
#ifndef VT_DEFERRED_H
#define VT_DEFERRED_H

typedef void (*VtDeferredFn) (void *arg);

/* Memory for arguments: lives until the end of the transaction. */
extern void *vt_deferred_alloc(Size size);
extern char *vt_deferred_strdup(const char *s);

/*
 * Queue fn(arg) for the commit of the current transaction.  fn runs with
 * interrupts held and must not raise an ERROR for a Redis problem; it may
 * use SPI (a snapshot is active).
 */
extern void vt_defer_until_commit(VtDeferredFn fn, void *arg);

/*
 * For a queued action's SQL fallback: run fn(arg) in a subtransaction, with
 * interrupts allowed; an ERROR becomes a WARNING and rolls back only what
 * fn did.
 */
extern void vt_deferred_try(VtDeferredFn fn, void *arg);

extern void vt_deferred_register_callbacks(void);

#endif
