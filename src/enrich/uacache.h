/*
 * uacache.h: backend-local cache of parsed user agents.
 *
 * Two generations of at most visittrack.ua_cache_size / 2 entries each: new
 * entries go to the young generation; when it is full the old generation is
 * dropped whole and the young one becomes old.  A hit in the old generation
 * is copied to the young one, so user agents in use stay cached and memory
 * stays bounded without per-entry bookkeeping.
 */
#ifndef VT_UACACHE_H
#define VT_UACACHE_H

#include "useragent.h"

/* The cached result for ua[0..len), or NULL.  Valid until the next put. */
extern const VtUserAgent *vt_ua_cache_get(const char *ua, size_t len);

/* Caches a copy of *result for ua[0..len). */
extern void vt_ua_cache_put(const char *ua, size_t len, const VtUserAgent *result);

/* Forgets everything (the rules changed). */
extern void vt_ua_cache_reset(void);

/* Entries cached and lookups answered, for ua_details and tests. */
extern void vt_ua_cache_stats(int64 *entries, int64 *hits, int64 *misses);

#endif
