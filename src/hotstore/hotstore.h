/*
 * hotstore.h: short-lived state ("hot state") behind one interface.
 *
 * The entry points of the hot store for the SQL API (src/api).  Two
 * backends implement it (hotstore_types.h): Redis (hotstore_redis.c, the
 * design document's key layout) and PostgreSQL itself (hotstore_local.c,
 * unlogged tables), used when no Redis is configured or Redis cannot be
 * reached.  Callers never know which one served them; hotstore.c chooses,
 * falls back (outage.h keeps the books), and applies writes that describe
 * database rows at commit (commit_phases.h) or queues them for the writer
 * (hotstore_batch.h).
 *
 * Rollback rules (doc/operations.md):
 *  - session and signed-in presence writes happen only if the transaction
 *    commits;
 *  - the anonymous page counter (hot_anon_touch) is applied at once and
 *    survives a rollback, as a page view that was served is still a view.
 */
#ifndef VT_HOTSTORE_H
#define VT_HOTSTORE_H

#include "lib/stringinfo.h"

#include "hotstore_types.h"
#include "write_mode.h"

/* --- signed-in sessions (Redis only; the table is the local truth) --- */
extern void hot_session_store(const HotSession *s, int ttl_seconds); /* at commit */
extern bool hot_session_fetch(const char *session_id, HotSession *out);
/* at commit; queued for the writer in mode VT_WRITE_BEHIND */
extern void hot_session_set_pages(const char *session_id, int32 pages,
								  TimestampTz at, VtWriteMode mode);
/* at commit; returns the entries it removes: 1, or 0 when no Redis keeps sessions */
extern int	hot_session_remove(const char *session_id);

/* --- anonymous sessions --- */
/* at once; in mode VT_WRITE_BEHIND, counted in the shared-memory cache */
extern void hot_anon_touch(HotAnonTouch *t, VtWriteMode mode);
extern bool hot_anon_fetch(const char *fingerprint, int ttl_seconds, HotAnon *out);
extern void hot_anon_remove(const char *fingerprint);

/* --- community presence --- */
/* at commit; queued for the writer in mode VT_WRITE_BEHIND */
extern void hot_visit_record(const HotVisit *v, VtWriteMode mode);
extern void hot_visit_counts(const char *community_id, TimestampTz now, int window_seconds,
							 int *authenticated, int *anonymous);
extern List *hot_visitors(const char *community_id, TimestampTz now, int window_seconds);	/* of char * JSON */
extern int64 hot_visitor_forget(const char *visitor_key);

/*
 * Does the hot state live in PostgreSQL tables, so that its writes are part
 * of the caller's transaction (no Redis configured)?  A caller that writes
 * no row itself then still commits as a tracking write.
 */
extern bool hot_store_writes_tables(void);

/*
 * status(): the hot store describes itself as JSON members: "redis" (the
 * server and its health), "hot_store" (which store serves now) and
 * "reconciliation" (the outage state copied back).
 */
extern void hot_store_describe(StringInfo b);

#endif
