/*
 * anon_cache.h: live anonymous sessions in shared memory, for write-behind.
 *
 * With write-behind active (write_queue.h), an anonymous page view of a
 * visitor whose session is cached here is counted here, under a lock,
 * without a Redis round trip; the hot-state writer mirrors the session into
 * its anon_session:{fingerprint} hash with its next batch (or, if the
 * queue cannot take the record, the view merges it into Redis itself).
 * The first view of a session asks Redis, as without write-behind, and
 * caches the answer.  While a visitor is cached the cache is its authority
 * and Redis trails it by at most a batch.
 *
 * The cache opens at the first view of a write-behind session and serves
 * that database and Redis from then on, for every session: one that does
 * not use write-behind still counts a cached visitor here (or the two
 * counts would diverge); it just does not cache new ones.
 *
 * Exactness: a visitor being looked up in Redis is "claimed": other views
 * of the same visitor wait for the answer instead of asking Redis too, so
 * two answers about one visitor never overlap.  A claim whose backend has
 * exited is taken over by the next view.
 */
#ifndef VT_ANON_CACHE_H
#define VT_ANON_CACHE_H

#include "hotstore_types.h"

extern void vt_anon_cache_request_shmem(void);
extern void vt_anon_cache_startup_shmem(void);

typedef enum VtCacheResult
{
	VT_CACHE_HIT,				/* counted here: t is filled */
	VT_CACHE_CLAIMED,			/* ask Redis, then _fill or _release */
	VT_CACHE_BYPASS				/* not for the cache: ask Redis, cache nothing */
} VtCacheResult;

/*
 * may_cache: this session uses write-behind (fill after a claim, not
 * release).  On a hit, t is filled and the view's mirror record is queued
 * for the writer (anon_mirror.h) before the lock is released, so that the
 * queue holds a visitor's views in the order the cache counted them and an
 * erasure that waits for the queue (hot_anon_remove) finds every counted
 * view in it.  *mirrored: the queue took the record; if not, the caller
 * merges the session into Redis itself.
 */
extern VtCacheResult vt_anon_cache_touch(HotAnonTouch *t, bool may_cache, bool *mirrored);
extern void vt_anon_cache_fill(const HotAnonTouch *t);	/* Redis counted it */
extern void vt_anon_cache_release(const char *fingerprint);

/* The cached session (current_page not kept); false if not cached. */
extern bool vt_anon_cache_fetch(const char *fingerprint, HotAnon *out);
/* Forget the visitor (erasure); true if it was cached. */
extern bool vt_anon_cache_remove(const char *fingerprint);

/* The hot-state writer: sweep expired sessions; empty all when its Redis changes. */
extern int	vt_anon_cache_sweep(TimestampTz now);
extern void vt_anon_cache_clear(void);

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
