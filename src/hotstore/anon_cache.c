/*
 * anon_cache.c: the shared-memory table of live anonymous sessions
 * (anon_cache.h).
 *
 * A fixed-size hash table of visittrack.anon_cache_size entries under one
 * LWLock, keyed by database and fingerprint.  An entry is either pending
 * (one backend is asking Redis; the others wait for it) or a session: its
 * id, start, last activity, page count, TTL, and landing page and referrer
 * packed in a small text area (a session whose two URLs do not fit is not
 * cached).  The current page is not kept: the writer mirrors it from each
 * view's own record.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "anon_cache.h"
#include "anon_mirror.h"
#include "guc.h"
#include "write_queue.h"

#define FINGERPRINT_MAX 128
#define SESSION_ID_MAX 40
#define TEXT_AREA 640			/* landing page + referrer */

/*
 * Longest a view waits for another backend's answer from Redis about the
 * same visitor.  The owner's Redis calls are bounded by their timeouts; if
 * it is stuck beyond this (a lock wait in the local store), the view goes
 * to Redis itself, accepting that the two answers may then overlap.
 */
#define WAIT_AT_MOST_MS 30000

typedef struct CacheKey
{
	Oid			database;
	char		fingerprint[FINGERPRINT_MAX + 1];
} CacheKey;

typedef struct CacheEntry
{
	CacheKey	key;
	bool		pending;
	int			owner_pid;
	TimestampTz claimed_at;
	char		session_id[SESSION_ID_MAX];
	TimestampTz started_at;
	TimestampTz last_activity;
	int32		pages;
	int32		ttl_seconds;
	int16		landing_len;
	int16		referrer_len;	/* -1: no referrer */
	char		text[TEXT_AREA];
} CacheEntry;

typedef struct CacheShared
{
	LWLock	   *lock;
	ConditionVariable answered; /* a pending entry was filled or released */
	bool		open;			/* since the first write-behind view */
	Oid			database;		/* whose views it holds, */
	uint32		target;			/* and for which Redis (vt_wq_target_id) */
	int64		entries;
	uint64		hits;
	uint64		misses;
} CacheShared;

static CacheShared *cache = NULL;
static HTAB *table = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

void
vt_anon_cache_request_shmem(void)
{
	if (vt_anon_cache_size <= 0 || vt_write_queue_size <= 0)
		return;
	RequestAddinShmemSpace(MAXALIGN(sizeof(CacheShared)) +
						   hash_estimate_size(vt_anon_cache_size, sizeof(CacheEntry)));
	RequestNamedLWLockTranche("visittrack anon cache", 1);
}

static void
startup_shmem(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	if (vt_anon_cache_size <= 0 || vt_write_queue_size <= 0)
		return;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	cache = ShmemInitStruct("visittrack anon cache", sizeof(CacheShared), &found);
	if (!found)
	{
		memset(cache, 0, sizeof(*cache));
		cache->lock = &(GetNamedLWLockTranche("visittrack anon cache"))->lock;
		ConditionVariableInit(&cache->answered);
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(CacheKey);
	info.entrysize = sizeof(CacheEntry);
	table = ShmemInitHash("visittrack anon cache table", vt_anon_cache_size,
						  vt_anon_cache_size, &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

void
vt_anon_cache_startup_shmem(void)
{
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = startup_shmem;
}

static bool
make_key(CacheKey *key, const char *fingerprint)
{
	if (strlen(fingerprint) > FINGERPRINT_MAX)
		return false;
	memset(key, 0, sizeof(*key));
	key->database = MyDatabaseId;
	strcpy(key->fingerprint, fingerprint);
	return true;
}

static void
remove_entry(CacheEntry *e)
{
	hash_search(table, &e->key, HASH_REMOVE, NULL);
	cache->entries--;
}

static bool
expired(const CacheEntry *e, TimestampTz now)
{
	return e->last_activity + (int64) e->ttl_seconds * USECS_PER_SEC <= now;
}

static void
claim(CacheEntry *e)
{
	e->pending = true;
	e->owner_pid = MyProcPid;
	e->claimed_at = GetCurrentTimestamp();
	cache->misses++;
}

/* A view of a cached, live session: count it (the steps of the Redis script). */
static void
count_hit(CacheEntry *e, HotAnonTouch *t)
{
	t->pages_visited = ++e->pages;
	t->is_new = false;
	t->started_at = e->started_at;
	if (t->now > e->last_activity)
	{
		t->prev_view_at = e->last_activity;
		e->last_activity = t->now;
	}
	else
		t->prev_view_at = 0;	/* arrived after a later view */
	e->ttl_seconds = t->ttl_seconds;
	t->session_id = pstrdup(e->session_id);
	t->landing_page = pnstrdup(e->text, e->landing_len);
	t->first_referrer = e->referrer_len < 0 ? NULL :
		pnstrdup(e->text + e->landing_len, e->referrer_len);
	cache->hits++;
}

/* Does the cache hold this session's views (open, same database and Redis)? */
static bool
serves(uint32 target)
{
	return cache->open && cache->database == MyDatabaseId && cache->target == target;
}

VtCacheResult
vt_anon_cache_touch(HotAnonTouch *t, bool may_cache, bool *mirrored)
{
	CacheKey	key;
	TimestampTz give_up = 0;
	uint32		target;
	bool		waiting = false;
	VtCacheResult result;

	if (cache == NULL || !make_key(&key, t->fingerprint))
		return VT_CACHE_BYPASS;
	target = vt_wq_target_id();

	for (;;)
	{
		CacheEntry *e;
		bool		found;
		int			owner = 0;

		LWLockAcquire(cache->lock, LW_EXCLUSIVE);
		if (!cache->open && may_cache)
		{
			/* the first write-behind view: from now on every view goes through here */
			cache->open = true;
			cache->database = MyDatabaseId;
			cache->target = target;
		}
		if (!serves(target))
		{
			LWLockRelease(cache->lock);
			result = VT_CACHE_BYPASS;
			break;
		}
		e = hash_search(table, &key, HASH_FIND, NULL);
		if (e == NULL)
		{
			/*
			 * Not cached: whoever asks Redis claims the visitor first, even a
			 * session that will not cache the answer, so that no two answers
			 * about one visitor ever overlap.
			 */
			if (cache->entries >= vt_anon_cache_size ||
				(e = hash_search(table, &key, HASH_ENTER_NULL, &found)) == NULL)
			{
				LWLockRelease(cache->lock);
				result = VT_CACHE_BYPASS;	/* full: Redis serves this visitor */
				break;
			}
			cache->entries++;
			claim(e);
			LWLockRelease(cache->lock);
			result = VT_CACHE_CLAIMED;
			break;
		}
		if (!e->pending)
		{
			if (expired(e, t->now))
			{
				/* its Redis key has expired too: Redis starts the next session */
				claim(e);
				LWLockRelease(cache->lock);
				result = VT_CACHE_CLAIMED;
				break;
			}
			count_hit(e, t);

			/*
			 * Queued before the lock is released, so that the writer finds
			 * the views of a visitor in the order the cache counted them.
			 */
			*mirrored = vt_anon_mirror_try_queue(t);
			LWLockRelease(cache->lock);
			result = VT_CACHE_HIT;
			break;
		}
		owner = e->owner_pid;
		if (owner != MyProcPid && BackendPidGetProc(owner) == NULL)
		{
			claim(e);			/* its owner is gone: ask Redis ourselves */
			LWLockRelease(cache->lock);
			result = VT_CACHE_CLAIMED;
			break;
		}
		LWLockRelease(cache->lock);

		/* another backend is asking Redis about this visitor: wait for it */
		if (!waiting)
		{
			ConditionVariablePrepareToSleep(&cache->answered);
			waiting = true;
			give_up = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), WAIT_AT_MOST_MS);
			continue;			/* look again, now that a broadcast cannot be missed */
		}
		if (GetCurrentTimestamp() >= give_up)
		{
			result = VT_CACHE_BYPASS;
			break;
		}
		(void) ConditionVariableTimedSleep(&cache->answered, 10, PG_WAIT_EXTENSION);
	}
	if (waiting)
		ConditionVariableCancelSleep();
	return result;
}

void
vt_anon_cache_fill(const HotAnonTouch *t)
{
	CacheKey	key;
	CacheEntry *e;
	size_t		landing_len = t->landing_page ? strlen(t->landing_page) : 0;
	size_t		referrer_len = t->first_referrer ? strlen(t->first_referrer) : 0;
	bool		fits = landing_len + referrer_len <= TEXT_AREA &&
		t->session_id && strlen(t->session_id) < SESSION_ID_MAX;

	if (cache == NULL || !make_key(&key, t->fingerprint))
		return;
	LWLockAcquire(cache->lock, LW_EXCLUSIVE);
	e = hash_search(table, &key, HASH_FIND, NULL);
	if (e != NULL && e->pending && e->owner_pid == MyProcPid)
	{
		if (!fits)
			remove_entry(e);	/* Redis stays this visitor's authority */
		else
		{
			e->pending = false;
			strlcpy(e->session_id, t->session_id, SESSION_ID_MAX);
			e->started_at = t->started_at;
			e->last_activity = t->now;
			e->pages = t->pages_visited;
			e->ttl_seconds = t->ttl_seconds;
			e->landing_len = (int16) landing_len;
			e->referrer_len = t->first_referrer ? (int16) referrer_len : -1;
			memcpy(e->text, t->landing_page, landing_len);
			memcpy(e->text + landing_len, t->first_referrer, referrer_len);
		}
	}
	LWLockRelease(cache->lock);
	ConditionVariableBroadcast(&cache->answered);
}

/* Remove the visitor's entry: any, or only a claim of this backend's. */
static bool
remove_fingerprint(const char *fingerprint, bool only_my_claim)
{
	CacheKey	key;
	CacheEntry *e;
	bool		found;

	if (cache == NULL || !make_key(&key, fingerprint))
		return false;
	LWLockAcquire(cache->lock, LW_EXCLUSIVE);
	e = hash_search(table, &key, HASH_FIND, NULL);
	found = e != NULL && (!only_my_claim || (e->pending && e->owner_pid == MyProcPid));
	if (found)
		remove_entry(e);
	LWLockRelease(cache->lock);
	ConditionVariableBroadcast(&cache->answered);
	return found;
}

void
vt_anon_cache_release(const char *fingerprint)
{
	(void) remove_fingerprint(fingerprint, true);
}

bool
vt_anon_cache_fetch(const char *fingerprint, HotAnon *out)
{
	CacheKey	key;
	CacheEntry *e;
	CacheEntry	copy;
	bool		found = false;

	if (cache == NULL || !make_key(&key, fingerprint))
		return false;
	LWLockAcquire(cache->lock, LW_SHARED);
	e = hash_search(table, &key, HASH_FIND, NULL);
	if (e != NULL && !e->pending && serves(vt_wq_target_id()) &&
		!expired(e, GetCurrentTimestamp()))
	{
		copy = *e;
		found = true;
	}
	LWLockRelease(cache->lock);
	if (!found)
		return false;

	memset(out, 0, sizeof(*out));
	out->fingerprint = pstrdup(fingerprint);
	out->session_id = pstrdup(copy.session_id);
	out->started_at = copy.started_at;
	out->last_activity = copy.last_activity;
	out->last_view_at = copy.last_activity;
	out->pages_visited = copy.pages;
	out->landing_page = pnstrdup(copy.text, copy.landing_len);
	out->referrer = copy.referrer_len < 0 ? NULL :
		pnstrdup(copy.text + copy.landing_len, copy.referrer_len);
	return true;
}

bool
vt_anon_cache_remove(const char *fingerprint)
{
	return remove_fingerprint(fingerprint, false);
}

void
vt_anon_cache_clear(void)
{
	HASH_SEQ_STATUS seq;
	CacheEntry *e;

	if (cache == NULL)
		return;
	LWLockAcquire(cache->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, table);
	while ((e = hash_seq_search(&seq)) != NULL)
		remove_entry(e);
	cache->open = false;
	LWLockRelease(cache->lock);
	ConditionVariableBroadcast(&cache->answered);
}

int
vt_anon_cache_sweep(TimestampTz now)
{
	HASH_SEQ_STATUS seq;
	CacheEntry *e;
	int			removed = 0;

	if (cache == NULL)
		return 0;
	LWLockAcquire(cache->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, table);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		/* expired sessions, and claims whose owner has gone */
		if (e->pending ? BackendPidGetProc(e->owner_pid) == NULL : expired(e, now))
		{
			remove_entry(e);
			removed++;
		}
	}
	LWLockRelease(cache->lock);
	return removed;
}

void
vt_anon_cache_stats(VtAnonCacheStats *out)
{
	memset(out, 0, sizeof(*out));
	if (cache == NULL)
		return;
	LWLockAcquire(cache->lock, LW_SHARED);
	out->exists = true;
	out->open = cache->open;
	out->capacity = vt_anon_cache_size;
	out->entries = cache->entries;
	out->hits = cache->hits;
	out->misses = cache->misses;
	LWLockRelease(cache->lock);
}
