/*
 * anon_mirror.h: the record that mirrors an anonymous session counted in
 * the shared-memory cache (anon_cache.h) to Redis.
 *
 * Each view the cache counts carries its whole session, so the writer can
 * merge it into anon_session:{fingerprint} (hotstore_batch.c) whatever
 * order views arrive in, and a lost record is repaired by the next view.
 */
#ifndef VT_ANON_MIRROR_H
#define VT_ANON_MIRROR_H

#include "lib/stringinfo.h"

#include "hotstore_types.h"

/*
 * Queue the mirror of a counted view for the writer, at once (not at
 * commit: the count survives a rollback of the caller); false when the
 * queue has no room.  Never waits: the cache calls it under its lock.
 */
extern bool vt_anon_mirror_try_queue(const HotAnonTouch *t);

/* The session a counted view leaves, as the merge takes it, and its TTL. */
extern void vt_anon_mirror_session(const HotAnonTouch *t, HotAnon *s, int *ttl_seconds);

/* A queued record back into the session and its TTL. */
extern void vt_anon_mirror_decode(StringInfo buf, HotAnon *s, int *ttl_seconds);

#endif
