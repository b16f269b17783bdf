/*
 * anon_cache.h: live anonymous sessions in shared memory, for write-behind.
 *
 * With write-behind active (write_queue.h), an anonymous page view of a
 * visitor whose session is cached here is counted here, under a lock,
 * without a Redis round trip; the writer mirrors the session into its
 * anon_session:{fingerprint} hash with its next batch.  The first view of a
 * session, and any view of a visitor not cached, goes to Redis as without
 * write-behind (hot_anon_touch) and then caches what Redis answered.  While
 * a visitor is cached the cache is its authority and Redis trails it by at
 * most a batch; before the cache lets go of a visitor (the writer stopping,
 * or the session expiring) the trailing writes have reached Redis.
 *
 * Exactness: a visitor being looked up in Redis is "claimed": other views
 * of the same visitor wait for the answer instead of asking Redis too, so
 * the cache and Redis never both count the same visitor.
 */
#ifndef VT_ANON_CACHE_H
#define VT_ANON_CACHE_H

#include "hotstore.h"

extern void vt_anon_cache_request_shmem(void);
extern void vt_anon_cache_startup_shmem(void);

typedef enum VtCacheResult
{
	VT_CACHE_HIT,				/* counted here: t is filled */
	VT_CACHE_CLAIMED,			/* ask Redis, then _fill or _release */
	VT_CACHE_BYPASS				/* not for the cache: ask Redis, cache nothing */
} VtCacheResult;

/*
 * On a hit, t is filled and on_hit(t) runs before the lock is released (it
 * queues the view for Redis; it must be quick); *on_hit_result is what it
 * returned.
 */
typedef bool (*VtCacheHitFn) (const HotAnonTouch *t);
extern VtCacheResult vt_anon_cache_touch(HotAnonTouch *t, VtCacheHitFn on_hit,
										 bool *on_hit_result);
extern void vt_anon_cache_fill(const HotAnonTouch *t);	/* Redis counted it */
extern void vt_anon_cache_release(const char *fingerprint);

/* The cached session (current_page not kept); false if not cached. */
extern bool vt_anon_cache_fetch(const char *fingerprint, HotAnon *out);
extern void vt_anon_cache_remove(const char *fingerprint);

/* The writer: open when attached; close (views of cached visitors wait),
 * then clear once the queue is drained; sweep expired sessions. */
extern void vt_anon_cache_open(void);
extern void vt_anon_cache_close(void);
extern void vt_anon_cache_clear(void);
extern int	vt_anon_cache_sweep(TimestampTz now);

typedef struct VtAnonCacheStats
{
	bool		exists;
	bool		open;
	int64		capacity;
	int64		entries;
	uint64		hits;
	uint64		misses;
} VtAnonCacheStats;

extern void vt_anon_cache_stats(VtAnonCacheStats *out);

#endif
