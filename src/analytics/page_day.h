/*
 * page_day.h: the state of collect_page_day(...), the one-pass aggregate
 * behind aggregate_page_analytics(), shared by its phases:
 *
 *   page_day_collect.c  the transition function: view by view into the state
 *   page_day_pairs.c    the (path, visitor) pairs grouped and made distinct
 *   page_day_parts.c    parallel plans: a process's state as bytes (a "part"),
 *                       and the parts kept by the combine function
 *   page_day_merge.c    parallel plans: the parts merged in the leader
 *   page_day_final.c    the final function: one page_day_stats per path
 *
 * collect_page_day consumes the page views of one day (anonymous and
 * signed-in, bots already filtered out by the caller) and returns one
 * page_day_stats element per URL path.  Everything a path needs is gathered
 * in a single scan:
 *
 *   - views (total, anonymous, signed-in) and the time-on-page sum and count;
 *   - unique visitors: the distinct (path, visitor) pairs;
 *   - the most common page_type (counts per path; ties go to the smallest);
 *   - entries, exits and bounces: per session, the first and the last view
 *     of the day, ordered by (viewed_at, id); a session with one view is a
 *     bounce on its path.  Signed-in views without a session have none.
 *
 * Written in C because the SQL equivalent needs a sort of the whole day by
 * session (window functions) plus a hash aggregate by (path, visitor):
 * three to six times the cost of a bare GROUP BY over the same rows.  Here a
 * view costs one probe of the session table (made in batches, the buckets
 * prefetched, so cache misses overlap) and one append to the pair buffer,
 * made distinct at the end visitor by visitor.  Paths and page types are
 * interned strings (a path's last page type is tried first); visitors and
 * sessions are 16-byte keys held inline (uuids, and 32-digit hex ids
 * decoded; other ids are interned).  Memory, all in the aggregate's
 * context: about 24 bytes per view for the pair buffer (compacted when it
 * grows large, so it follows the distinct pairs), 8 more while it is made
 * distinct, 64 bytes per session, plus the distinct strings.
 *
 * The aggregate is parallel safe: in a parallel plan each process builds a
 * partial state over the views it reads, serialises it, and the leader
 * merges the parts into exactly the serial result (see "parallel
 * aggregation" below).
 */
#ifndef VT_PAGE_DAY_H
#define VT_PAGE_DAY_H

#include "common/hashfn.h"
#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* ---- interned strings ------------------------------------------------ */

typedef struct VtStr
{
	const char *s;
	uint32		len;
} VtStr;

typedef struct StrEntry
{
	VtStr		key;
	uint32		hash;
	int32		no;				/* 0, 1, 2, ... in order of first sight */
	char		status;
} StrEntry;

#define SH_PREFIX strtab
#define SH_ELEMENT_TYPE StrEntry
#define SH_KEY_TYPE VtStr
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k).s, (int) (k).len)
#define SH_EQUAL(tb, a, b) ((a).len == (b).len && memcmp((a).s, (b).s, (a).len) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* ---- 16-byte identities ---------------------------------------------- */

/*
 * Visitors and sessions are keyed by 16 bytes held inline: a uuid as is, a
 * 32-digit hex string (fingerprints, signed-in session ids) decoded, and any
 * other string by its interned number.  "kind" keeps the three apart, and
 * anonymous apart from signed-in.
 */
typedef struct Key16
{
	uint8		b[16];
	uint8		kind;
} Key16;

#define KIND_UUID		1
#define KIND_HEX32		2
#define KIND_INTERNED	3
#define KIND_SIGNED_IN	8		/* or-ed in for signed-in visitors and sessions */

static inline uint64
mix64(uint64 k)
{
	/* the splitmix64 finaliser */
	k ^= k >> 30;
	k *= UINT64CONST(0xbf58476d1ce4e5b9);
	k ^= k >> 27;
	k *= UINT64CONST(0x94d049bb133111eb);
	k ^= k >> 31;
	return k;
}

/* The hash of an identity in this process's numbering of interned ids. */
static inline uint32
key16_hash(const Key16 *k, uint64 salt)
{
	uint64		a;
	uint64		b;

	memcpy(&a, k->b, 8);
	memcpy(&b, k->b + 8, 8);
	/* one full mix: distinct keys differ in a ^ b * odd constant but rarely */
	return (uint32) mix64(a ^ (b * UINT64CONST(0x9e3779b97f4a7c15)) ^ salt ^
						  ((uint64) k->kind << 56));
}

static inline bool
key16_equal(const Key16 *x, const Key16 *y)
{
	return x->kind == y->kind && memcmp(x->b, y->b, 16) == 0;
}

/*
 * A hash of an identity that every process computes alike: interned ids by
 * their string (others: the interned strings by number), since each process
 * numbers them in its own order.  Without others, the local key16_hash.
 */
static inline uint32
portable_hash(const Key16 *k, const VtStr *others, uint64 salt)
{
	if (others && (k->kind & ~KIND_SIGNED_IN) == KIND_INTERNED)
	{
		int32		no;

		memcpy(&no, k->b, sizeof(no));
		return (uint32) mix64((uint64) hash_bytes((const unsigned char *) others[no].s,
												  (int) others[no].len) ^
							  mix64(salt ^ k->kind));
	}
	return key16_hash(k, salt);
}

/*
 * Find key (hash h) in an open-addressing table of positions into keys
 * (0: empty; mask: the table's size - 1).  Returns its slot: holding the
 * key's position plus one, or 0 where it is to go.
 */
static inline uint32 *
key16_probe(uint32 *table, uint32 mask, const Key16 *keys, const Key16 *key, uint32 h)
{
	uint32		slot = h & mask;

	for (;;)
	{
		uint32		t = table[slot];

		if (t == 0 || key16_equal(&keys[t - 1], key))
			return &table[slot];
		slot = (slot + 1) & mask;
	}
}

/* ---- (path, visitor) pairs ------------------------------------------- */

/*
 * Unique visitors need the distinct (path, visitor) pairs of the day: far
 * too many for a hash set to stay in cache, and probing one at random costs
 * a cache and TLB miss per view.  So pairs are appended to a buffer and
 * made distinct in bulk, by visitor: the visitors (far fewer than pairs)
 * are numbered with one table, the path numbers sorted by visitor with a
 * counting sort, and each visitor's paths made distinct with a stamp per
 * path (group_pairs, distinct_pairs).  A buffer that grows past
 * PAIR_COMPACT_AT entries is compacted the same way, so memory follows the
 * number of distinct pairs, not the number of views.
 */
typedef struct PairKey
{
	Key16		visitor;
	int32		path_no;
} PairKey;

#define PAIR_COMPACT_AT		(4 * 1024 * 1024)
#define PAIR_SALT			UINT64CONST(0x632be59bd9b4e019)

/* ---- sessions -------------------------------------------------------- */

typedef struct SessionEntry
{
	Key16		key;
	char		status;
	int32		first_path;
	int32		last_path;
	int32		views;
	int64		first_id;
	int64		last_id;
	TimestampTz first_at;
	TimestampTz last_at;
} SessionEntry;

#define SESSION_SALT UINT64CONST(0x9e3779b97f4a7c15)

#define SH_PREFIX sesstab
#define SH_ELEMENT_TYPE SessionEntry
#define SH_KEY_TYPE Key16
#define SH_KEY key
#define SH_HASH_KEY(tb, k) key16_hash(&(k), SESSION_SALT)
#define SH_EQUAL(tb, a, b) key16_equal(&(a), &(b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* ---- per path -------------------------------------------------------- */

typedef struct TypeCount
{
	int32		type_no;
	int64		views;
} TypeCount;

typedef struct PathStats
{
	const char *path;			/* interned */
	uint32		path_len;
	int64		total;
	int64		anonymous;
	int64		authenticated;
	int64		unique_visitors;
	int64		top_sum;
	int64		top_count;
	int64		entries;
	int64		exits;
	int64		bounces;
	TypeCount  *types;			/* non-NULL page types seen, with counts */
	int			ntypes;
	int			maxtypes;
	int			last_type;		/* index in types of the last one counted */
} PathStats;

/* ---- the state ------------------------------------------------------- */

/*
 * Views wait in a small batch before their sessions are looked up: the
 * buckets of a whole batch are prefetched first, so the cache misses of the
 * session table overlap instead of adding up.
 */
#define BATCH 32

typedef struct PendingView
{
	PairKey		pair;
	Key16		session;
	bool		has_visitor;
	bool		has_session;
	uint32		session_hash;
	int64		id;
	TimestampTz viewed_at;
} PendingView;

typedef struct PageDayState
{
	MemoryContext cxt;
	strtab_hash *paths;
	strtab_hash *types;
	strtab_hash *other_ids;		/* visitor and session ids that are not 16 bytes */
	PairKey    *pairs;			/* appended, made distinct in bulk */
	int64		npairs;
	int64		maxpairs;
	sesstab_hash *sessions;
	PathStats  *stats;			/* indexed by path number */
	int			nstats;
	int			maxstats;
	const char **type_names;	/* indexed by type number */
	uint32	   *type_lens;		/* the same, their lengths */
	int			maxtype_names;
	PendingView pending[BATCH];
	int			npending;
	struct PageDayPart *parts;	/* with page_day_combinefn: the parts, as bytes */
	int			nparts;
	int			maxparts;
} PageDayState;

/* ---- parallel aggregation -------------------------------------------- */

/*
 * In a parallel plan each process (the leader too) aggregates the rows it
 * reads into a state of its own; page_day_serialfn turns that state into
 * bytes, a "part", for the leader.  There page_day_combinefn only keeps the
 * parts, and page_day_finalfn merges them.  A part holds, for any subset of
 * the day's views, everything the final step needs, in a form whose merge
 * is exactly the state of the union:
 *
 *   - per path: its name, the view and time-on-page counters and the page
 *     types with their counts (merged by adding);
 *   - the (path, visitor) pairs, made distinct within the part and grouped
 *     by visitor (merged by union, made distinct again);
 *   - per session: its number of views (added: a bounce is a session with
 *     one view in all the parts), its first and its last view as
 *     (viewed_at, id, path) (merged by taking the earliest and the latest);
 *   - the strings behind interned ids.
 *
 * Paths, page types and interned ids are numbered by each process in the
 * order it met them; the leader renumbers them.  Visitors' groups of pairs
 * and sessions are written in PART_SLICES slices by a hash that every
 * process computes alike (portable_hash), so a visitor or a session found
 * in several parts is in the same slice of each: the leader merges slice
 * by slice, each with a small table that stays in cache, instead of
 * building one table of all the day's sessions and visitors.  Unique
 * visitors, entries, exits and bounces are counted there, as the slices
 * are merged.  The work that can be done apart (counting, making pairs
 * distinct, slicing) is done in the processes that read the views, in
 * parallel; the leader only merges.
 *
 * Layout, in the server's own byte order and struct layout (the bytes only
 * travel between processes of one server, never to disk or to a client):
 *
 *   uint32 magic; int32 ntypes, nother, npaths; int64 pair_bytes, nsessions;
 *   ntypes page types and nother interned ids: uint32 length, bytes;
 *   npaths paths: uint32 length, bytes, int64 total, anonymous,
 *     authenticated, top_sum, top_count, int32 ntypes,
 *     ntypes x (int32 type number, int64 views);
 *   int64 pair_starts[PART_SLICES + 1] (byte offsets); the pairs grouped by
 *     visitor, slice by slice (write_pair_groups);
 *   0 to 7 bytes of padding (to 4 modulo 8 from the start: 8-byte aligned
 *     where the writer has the bytes, after the 4-byte varlena header);
 *   int64 session_starts[PART_SLICES + 1]; nsessions SessionEntry, slice by
 *     slice.
 */
#define PART_MAGIC	0x76745033	/* "vtP3" */
#define PART_BITS	6
#define PART_SLICES	(1 << PART_BITS)

/* A visitor's group in a part: Key16 visitor, uint32 n, n int32 path numbers. */
#define GROUP_HEAD			(sizeof(Key16) + sizeof(uint32))
#define PAIR_GROUP_BYTES	(GROUP_HEAD + sizeof(int32))

/* What page_day_deserialfn returns: the bytes of one part, not yet read. */
typedef struct PageDayPart
{
	uint32		magic;
	const char *data;
	Size		len;
} PageDayPart;

/* ---- small helpers --------------------------------------------------- */

/* A power of two at least twice n: an open-addressing table for n keys. */
static inline uint32
table_size_for(int64 n)
{
	uint32		size = 1;

	while (size < 2 * n)
		size <<= 1;
	return size;
}

/* Is view (at_a, id_a) before view (at_b, id_b)? */
static inline bool
before(TimestampTz at_a, int64 id_a, TimestampTz at_b, int64 id_b)
{
	return at_a < at_b || (at_a == at_b && id_a < id_b);
}

/*
 * Marks: a stamp per path number, to make one visitor's paths distinct
 * without a hash table.  next_stamp gives the stamp of the next visitor.
 */
static inline uint32
next_stamp(uint32 *marks, int npaths, uint32 stamp)
{
	if (++stamp == 0)
	{
		memset(marks, 0, sizeof(uint32) * Max(npaths, 1));
		stamp = 1;
	}
	return stamp;
}

/*
 * The same session seen again (in another part): the earliest first view
 * and the latest last view win.
 */
static inline void
session_merge_views(SessionEntry *dest, const SessionEntry *in)
{
	if (before(in->first_at, in->first_id, dest->first_at, dest->first_id))
	{
		dest->first_path = in->first_path;
		dest->first_id = in->first_id;
		dest->first_at = in->first_at;
	}
	if (before(dest->last_at, dest->last_id, in->last_at, in->last_id))
	{
		dest->last_path = in->last_path;
		dest->last_id = in->last_id;
		dest->last_at = in->last_at;
	}
}

/* A session's entry, exit and (one view) bounce, on its paths. */
static inline void
count_session_ends(PageDayState *st, const SessionEntry *se)
{
	st->stats[se->first_path].entries++;
	st->stats[se->last_path].exits++;
	if (se->views == 1)
		st->stats[se->first_path].bounces++;
}

/* ---- across the phases ----------------------------------------------- */

/* page_day_collect.c */
extern PageDayState *page_day_new_state(MemoryContext cxt);
extern int32 page_day_intern(PageDayState *st, strtab_hash *tab, const char *s,
							 uint32 len, const char **copy_out);
extern PathStats *page_day_path(PageDayState *st, const char *path, uint32 len,
								int32 *path_no);
extern int32 page_day_type_number(PageDayState *st, const char *type, uint32 len);
extern void page_day_count_type(PageDayState *st, PathStats *ps, int32 no, int64 views);
extern void page_day_flush_pending(PageDayState *st);

/*
 * page_day_pairs.c: the pairs of st->pairs grouped by visitor: the
 * visitors numbered in order of first sight, with their keys and
 * key16_hash(PAIR_SALT) values; the path numbers sorted by visitor (a
 * counting sort), visitor v's in paths[vstart[v]] .. paths[vstart[v + 1] - 1],
 * repeats included.
 */
typedef struct PairGroups
{
	int32		nv;
	Key16	   *vkey;
	uint32	   *vhash;
	int64	   *vstart;
	int32	   *paths;
} PairGroups;

extern void page_day_group_pairs(const PageDayState *st, PairGroups *g);
extern void page_day_free_pair_groups(PairGroups *g);
extern void page_day_distinct_pairs(PageDayState *st, bool count);

/* page_day_merge.c */
extern void page_day_merge_parts(PageDayState *st);

#endif
