/*
 * uacache.c: the two-generation cache of parsed user agents.
 *
 * Each generation is a dynahash table in its own memory context, keyed by a
 * 64-bit hash of the user agent; the entry keeps the user agent itself, so
 * a hash collision is a miss, never a wrong answer.  Dropping a generation
 * is one MemoryContextDelete.  All of it is backend-local.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "enrich_guc.h"
#include "uacache.h"

typedef struct CacheEntry
{
	uint64		key;			/* hash of the user agent */
	char	   *ua;
	size_t		len;
	VtUserAgent result;
} CacheEntry;

typedef struct Generation
{
	MemoryContext cxt;
	HTAB	   *table;
	long		count;
} Generation;

static Generation young = {NULL, NULL, 0};
static Generation old = {NULL, NULL, 0};
static int64 hits = 0;
static int64 misses = 0;

/* Free a generation and everything in it. */
static void
drop(Generation *g)
{
	if (g->cxt)
		MemoryContextDelete(g->cxt);
	g->cxt = NULL;
	g->table = NULL;
	g->count = 0;
}

/* An empty generation, in a memory context of its own. */
static void
make(Generation *g)
{
	HASHCTL		ctl;

	g->cxt = AllocSetContextCreate(TopMemoryContext, "visittrack user-agent cache",
								   ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(CacheEntry);
	ctl.hcxt = g->cxt;
	g->table = hash_create("visittrack user agents", 256, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	g->count = 0;
}

static uint64
ua_hash(const char *ua, size_t len)
{
	return hash_bytes_extended((const unsigned char *) ua, (int) len, 0);
}

/*
 * The entry for the user agent (ua, len; hashed to key) in a generation,
 * or NULL.
 */
static CacheEntry *
lookup(Generation *g, uint64 key, const char *ua, size_t len)
{
	CacheEntry *e;

	if (g->table == NULL)
		return NULL;
	e = hash_search(g->table, &key, HASH_FIND, NULL);
	if (e == NULL || e->len != len || memcmp(e->ua, ua, len) != 0)
		return NULL;
	return e;
}

static char *
copy_str(MemoryContext cxt, const char *s)
{
	return s ? MemoryContextStrdup(cxt, s) : NULL;
}

/*
 * Cache a parse result in the young generation.  A full young generation
 * becomes the old one and the old one is dropped: memory stays within two
 * generations of vt_ua_cache_size / 2 entries.
 */
static CacheEntry *
insert(uint64 key, const char *ua, size_t len, const VtUserAgent *r)
{
	long		capacity = Max(1, vt_ua_cache_size / 2);
	CacheEntry *e;
	bool		found;
	MemoryContext cxt;
	char	   *ua_copy;
	VtUserAgent result;

	if (young.table != NULL && young.count >= capacity)
	{
		drop(&old);
		old = young;
		young.cxt = NULL;
		young.table = NULL;
		young.count = 0;
	}
	if (young.table == NULL)
		make(&young);
	cxt = young.cxt;

	/*
	 * Everything is copied before the entry exists: an ERROR (out of
	 * memory) half-way must not leave an entry with unset fields behind.
	 */
	ua_copy = MemoryContextAlloc(cxt, len + 1);
	memcpy(ua_copy, ua, len);
	ua_copy[len] = '\0';
	result = *r;
	result.browser = copy_str(cxt, r->browser);
	result.browser_version = copy_str(cxt, r->browser_version);
	result.os = copy_str(cxt, r->os);
	result.os_version = copy_str(cxt, r->os_version);
	result.device_family = copy_str(cxt, r->device_family);
	result.device_brand = copy_str(cxt, r->device_brand);
	result.device_model = copy_str(cxt, r->device_model);

	e = hash_search(young.table, &key, HASH_ENTER, &found);
	if (!found)
		young.count++;
	/* a collision overwrites: the older user agent is simply parsed again */
	e->ua = ua_copy;
	e->len = len;
	e->result = result;
	return e;
}

const VtUserAgent *
vt_ua_cache_get(const char *ua, size_t len)
{
	uint64		key;
	CacheEntry *e;

	if (vt_ua_cache_size <= 0)
	{
		if (young.table || old.table)
			vt_ua_cache_reset();
		misses++;
		return NULL;
	}
	key = ua_hash(ua, len);
	e = lookup(&young, key, ua, len);
	if (e == NULL)
	{
		e = lookup(&old, key, ua, len);
		if (e != NULL)
		{
			/* still in use: keep it young (copied first: inserting may drop old) */
			VtUserAgent r = e->result;

			r.browser = copy_str(CurrentMemoryContext, r.browser);
			r.browser_version = copy_str(CurrentMemoryContext, r.browser_version);
			r.os = copy_str(CurrentMemoryContext, r.os);
			r.os_version = copy_str(CurrentMemoryContext, r.os_version);
			r.device_family = copy_str(CurrentMemoryContext, r.device_family);
			r.device_brand = copy_str(CurrentMemoryContext, r.device_brand);
			r.device_model = copy_str(CurrentMemoryContext, r.device_model);
			e = insert(key, ua, len, &r);
		}
	}
	if (e == NULL)
	{
		misses++;
		return NULL;
	}
	hits++;
	return &e->result;
}

void
vt_ua_cache_put(const char *ua, size_t len, const VtUserAgent *result)
{
	if (vt_ua_cache_size <= 0)
		return;
	insert(ua_hash(ua, len), ua, len, result);
}

void
vt_ua_cache_reset(void)
{
	drop(&young);
	drop(&old);
}

void
vt_ua_cache_stats(int64 *entries, int64 *h, int64 *m)
{
	*entries = young.count + old.count;
	*h = hits;
	*m = misses;
}
