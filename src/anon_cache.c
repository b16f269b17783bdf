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
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "anon_cache.h"
#include "guc.h"

#define FINGERPRINT_MAX 128
#define SESSION_ID_MAX 40
#define TEXT_AREA 640			/* landing page + referrer */

/* a pending entry older than this lost its owner: the next view takes over */
#define STEAL_AFTER_MS (4 * vt_redis_timeout_ms + 1000)
/* longest a view waits for a pending entry or for the cache to close */
#define WAIT_AT_MOST_MS (STEAL_AFTER_MS + 10000)

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

typedef enum CacheState
{
	CACHE_CLOSED,				/* empty; views go to Redis */
	CACHE_OPEN,
	CACHE_CLOSING				/* the writer is leaving: cached visitors wait */
} CacheState;

typedef struct CacheShared
{
	LWLock	   *lock;
	CacheState	state;
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
		cache->state = CACHE_CLOSED;
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

VtCacheResult
vt_anon_cache_touch(HotAnonTouch *t, VtCacheHitFn on_hit, bool *on_hit_result)
{
	CacheKey	key;
	TimestampTz give_up = 0;

	if (cache == NULL || !make_key(&key, t->fingerprint))
		return VT_CACHE_BYPASS;

	for (;;)
	{
		CacheEntry *e;
		bool		found;
		TimestampTz now = GetCurrentTimestamp();

		LWLockAcquire(cache->lock, LW_EXCLUSIVE);
		e = hash_search(table, &key, HASH_FIND, NULL);
		if (cache->state == CACHE_CLOSED || (e == NULL && cache->state != CACHE_OPEN))
		{
			LWLockRelease(cache->lock);
			return VT_CACHE_BYPASS;
		}
		if (e == NULL)
		{
			if (cache->entries >= vt_anon_cache_size)
			{
				LWLockRelease(cache->lock);
				return VT_CACHE_BYPASS; /* full: Redis serves this visitor */
			}
			e = hash_search(table, &key, HASH_ENTER_NULL, &found);
			if (e == NULL)
			{
				LWLockRelease(cache->lock);
				return VT_CACHE_BYPASS;
			}
			cache->entries++;
			claim(e);
			LWLockRelease(cache->lock);
			return VT_CACHE_CLAIMED;
		}
		if (cache->state == CACHE_OPEN && !e->pending)
		{
			if (expired(e, t->now))
			{
				/* its Redis key has expired too: Redis starts the next session */
				claim(e);
				LWLockRelease(cache->lock);
				return VT_CACHE_CLAIMED;
			}
			count_hit(e, t);

			/*
			 * Queued before the lock is released: a writer closing the
			 * cache takes the lock first, so it then finds this record in
			 * the queue and writes it before Redis takes over.
			 */
			*on_hit_result = on_hit(t);
			LWLockRelease(cache->lock);
			return VT_CACHE_HIT;
		}
		if (cache->state == CACHE_OPEN && e->pending &&
			TimestampDifferenceExceeds(e->claimed_at, now, STEAL_AFTER_MS))
		{
			claim(e);			/* its owner is gone: ask Redis ourselves */
			LWLockRelease(cache->lock);
			return VT_CACHE_CLAIMED;
		}
		LWLockRelease(cache->lock);

		/* another view of this visitor is asking Redis, or the cache closes */
		if (give_up == 0)
			give_up = TimestampTzPlusMilliseconds(now, WAIT_AT_MOST_MS);
		else if (now >= give_up)
			return VT_CACHE_BYPASS;
		pg_usleep(100);
		CHECK_FOR_INTERRUPTS();
	}
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
}

/* Remove the visitor's entry: any, or only a claim of this backend's. */
static void
remove_fingerprint(const char *fingerprint, bool only_my_claim)
{
	CacheKey	key;
	CacheEntry *e;

	if (cache == NULL || !make_key(&key, fingerprint))
		return;
	LWLockAcquire(cache->lock, LW_EXCLUSIVE);
	e = hash_search(table, &key, HASH_FIND, NULL);
	if (e != NULL && (!only_my_claim || (e->pending && e->owner_pid == MyProcPid)))
		remove_entry(e);
	LWLockRelease(cache->lock);
}

void
vt_anon_cache_release(const char *fingerprint)
{
	remove_fingerprint(fingerprint, true);
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
	if (e != NULL && !e->pending && cache->state == CACHE_OPEN &&
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

void
vt_anon_cache_remove(const char *fingerprint)
{
	remove_fingerprint(fingerprint, false);
}

static void
set_state(CacheState state)
{
	if (cache == NULL)
		return;
	LWLockAcquire(cache->lock, LW_EXCLUSIVE);
	cache->state = state;
	LWLockRelease(cache->lock);
}

void
vt_anon_cache_open(void)
{
	set_state(CACHE_OPEN);
}

void
vt_anon_cache_close(void)
{
	set_state(CACHE_CLOSING);
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
	cache->state = CACHE_CLOSED;
	LWLockRelease(cache->lock);
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
		/* expired sessions, and claims whose owner never came back */
		if (e->pending ? TimestampDifferenceExceeds(e->claimed_at, now, WAIT_AT_MOST_MS)
			: expired(e, now))
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
	out->open = cache->state == CACHE_OPEN;
	out->capacity = vt_anon_cache_size;
	out->entries = cache->entries;
	out->hits = cache->hits;
	out->misses = cache->misses;
	LWLockRelease(cache->lock);
}
