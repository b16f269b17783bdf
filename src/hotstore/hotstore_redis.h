/*
 * hotstore_redis.h: the hot state in Redis (hotstore_redis.c).
 *
 * The backend of hotstore_types.h for Redis, and what only Redis does,
 * as named calls.  Every call returns false when Redis could not be used
 * (out of reach, or it refused the command); none raises an ERROR for a
 * Redis problem.
 */
#ifndef VT_HOTSTORE_REDIS_H
#define VT_HOTSTORE_REDIS_H

#include "lib/stringinfo.h"

#include "hotstore_types.h"

extern const HotStoreOps vt_hotstore_redis;

/*
 * Signed-in sessions, session:{session_id}: only Redis caches them (the
 * user_session table is their truth).  *found: a valid entry exists.
 */
extern bool hot_redis_session_store(const HotSession *s, int ttl_seconds);
extern bool hot_redis_session_fetch(const char *session_id, HotSession *out, bool *found);
extern bool hot_redis_session_set_pages(const char *session_id, int32 pages, TimestampTz at);
extern bool hot_redis_session_remove(const char *session_id);

/*
 * Several writes in one round trip (the writer's batches); done[i]: write i
 * was applied.  Sessions: session_id, pages_visited and last_activity are
 * used.
 */
extern bool hot_redis_session_set_pages_batch(int n, const HotSession *sessions, bool *done);
extern bool hot_redis_visit_record_batch(int n, const HotVisit *visits, bool *done);
/* ttl_seconds[i] per session; see hot_redis_anon_merge */
extern bool hot_redis_anon_merge_batch(int n, const HotAnon *sessions, const int *ttl_seconds,
									   bool *done);

/*
 * A page view that first merges the visitor's session from PostgreSQL
 * (state an outage left there), in the same script.
 */
extern bool hot_redis_anon_touch_merged(HotAnonTouch *t, const HotAnon *local);
/* replace the session Redis just started by local (after Redis lost its data), and count the view */
extern bool hot_redis_anon_touch_restart(HotAnonTouch *t, const HotAnon *local);

/*
 * Merge a session or a visitor kept elsewhere into Redis: the larger count
 * and the later view win (reconciliation, the anonymous cache's mirror).
 */
extern bool hot_redis_anon_merge(const HotAnon *local, int ttl_seconds);
extern bool hot_redis_visit_merge(const HotVisitor *v);

/*
 * status(): the "redis" member (server and health).  Returns whether Redis
 * is configured and believed up in the health it described.
 */
extern bool hot_redis_describe(StringInfo b);

#endif
