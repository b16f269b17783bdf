/*
 * analytics.c: the one-pass aggregate behind aggregate_page_analytics().
 *
 * collect_page_day(...) consumes the page views of one day (anonymous and
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
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/uuid.h"

PG_FUNCTION_INFO_V1(vt_page_day_transfn);
PG_FUNCTION_INFO_V1(vt_page_day_finalfn);
PG_FUNCTION_INFO_V1(vt_page_day_serialfn);
PG_FUNCTION_INFO_V1(vt_page_day_deserialfn);
PG_FUNCTION_INFO_V1(vt_page_day_combinefn);

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

/* Number of a string, interning a copy on first sight (*copy_out then set). */
static int32
intern(PageDayState *st, strtab_hash *tab, const char *s, uint32 len, const char **copy_out)
{
	VtStr		key = {s, len};
	bool		found;
	StrEntry   *e = strtab_insert(tab, key, &found);

	if (!found)
	{
		char	   *copy = MemoryContextAlloc(st->cxt, len + 1);

		memcpy(copy, s, len);
		copy[len] = '\0';
		e->key.s = copy;
		e->no = (int32) tab->members - 1;
	}
	if (copy_out)
		*copy_out = found ? NULL : e->key.s;
	return e->no;
}

/* hex digit values plus one; 0 for anything else */
static const uint8 hex_values[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16
};

/* The 16-byte key of an id given as text. */
static void
text_key(PageDayState *st, text *t, uint8 extra_kind, Key16 *out)
{
	const char *s = VARDATA_ANY(t);
	uint32		len = VARSIZE_ANY_EXHDR(t);
	int			i;

	memset(out, 0, sizeof(*out));
	if (len == 32)
	{
		uint8		bad = 0;

		/* no early exit: the loop compiles without branches */
		for (i = 0; i < 16; i++)
		{
			uint8		hi = hex_values[(unsigned char) s[2 * i]];
			uint8		lo = hex_values[(unsigned char) s[2 * i + 1]];

			bad |= (uint8) ((hi == 0) | (lo == 0));
			out->b[i] = (uint8) ((hi - 1) << 4 | (lo - 1));
		}
		if (!bad)
		{
			out->kind = KIND_HEX32 | extra_kind;
			return;
		}
		memset(out->b, 0, 16);
	}
	/* kinds are kept apart in the key, so one string table serves all */
	{
		int32		no = intern(st, st->other_ids, s, len, NULL);

		memcpy(out->b, &no, sizeof(no));
		out->kind = KIND_INTERNED | extra_kind;
	}
}

static void
uuid_key(pg_uuid_t *u, uint8 extra_kind, Key16 *out)
{
	memcpy(out->b, u->data, 16);
	out->kind = KIND_UUID | extra_kind;
}

static PageDayState *
new_state(MemoryContext cxt)
{
	PageDayState *st = MemoryContextAllocZero(cxt, sizeof(PageDayState));

	st->cxt = cxt;
	st->paths = strtab_create(cxt, 1024, NULL);
	st->types = strtab_create(cxt, 64, NULL);
	st->other_ids = strtab_create(cxt, 256, NULL);
	st->maxpairs = 65536;
	st->pairs = MemoryContextAllocHuge(cxt, sizeof(PairKey) * st->maxpairs);
	st->sessions = sesstab_create(cxt, 4096, NULL);
	st->maxstats = 256;
	st->stats = MemoryContextAllocZero(cxt, sizeof(PathStats) * st->maxstats);
	st->maxtype_names = 16;
	st->type_names = MemoryContextAllocZero(cxt, sizeof(char *) * st->maxtype_names);
	st->type_lens = MemoryContextAllocZero(cxt, sizeof(uint32) * st->maxtype_names);
	return st;
}

static PathStats *
path_stats(PageDayState *st, const char *path, uint32 len, int32 *path_no)
{
	const char *copy;
	int32		no = intern(st, st->paths, path, len, &copy);

	if (copy)
	{
		if (no >= st->maxstats)
		{
			int			newmax = st->maxstats * 2;

			st->stats = repalloc(st->stats, sizeof(PathStats) * newmax);
			memset(st->stats + st->maxstats, 0, sizeof(PathStats) * (newmax - st->maxstats));
			st->maxstats = newmax;
		}
		st->stats[no].path = copy;
		st->stats[no].path_len = len;
		st->nstats = no + 1;
	}
	*path_no = no;
	return &st->stats[no];
}

/* Number of a page type, interning it on first sight. */
static int32
type_number(PageDayState *st, const char *type, uint32 len)
{
	const char *copy;
	int32		no = intern(st, st->types, type, len, &copy);

	if (copy)
	{
		if (no >= st->maxtype_names)
		{
			int			newmax = st->maxtype_names * 2;

			st->type_names = repalloc(st->type_names, sizeof(char *) * newmax);
			st->type_lens = repalloc(st->type_lens, sizeof(uint32) * newmax);
			st->maxtype_names = newmax;
		}
		st->type_names[no] = copy;
		st->type_lens[no] = len;
	}
	return no;
}

/* Add views of page type number no to a path. */
static void
count_type(PageDayState *st, PathStats *ps, int32 no, int64 views)
{
	int			i;

	for (i = 0; i < ps->ntypes; i++)
	{
		if (ps->types[i].type_no == no)
		{
			ps->types[i].views += views;
			ps->last_type = i;
			return;
		}
	}
	if (ps->ntypes == ps->maxtypes)
	{
		ps->maxtypes = ps->maxtypes ? ps->maxtypes * 2 : 2;
		ps->types = ps->types ?
			repalloc(ps->types, sizeof(TypeCount) * ps->maxtypes) :
			MemoryContextAlloc(st->cxt, sizeof(TypeCount) * ps->maxtypes);
	}
	ps->types[ps->ntypes].type_no = no;
	ps->types[ps->ntypes].views = views;
	ps->last_type = ps->ntypes++;
}

/* Count a view of page type (s, len) on a path, trying its last type first. */
static inline void
count_type_text(PageDayState *st, PathStats *ps, const char *s, uint32 len)
{
	if (ps->ntypes > 0)
	{
		TypeCount  *tc = &ps->types[ps->last_type];

		if (st->type_lens[tc->type_no] == len &&
			memcmp(st->type_names[tc->type_no], s, len) == 0)
		{
			tc->views++;
			return;
		}
	}
	count_type(st, ps, type_number(st, s, len), 1);
}

/* A power of two at least twice n: an open-addressing table for n keys. */
static inline uint32
table_size_for(int64 n)
{
	uint32		size = 1;

	while (size < 2 * n)
		size <<= 1;
	return size;
}

static inline bool
before(TimestampTz at_a, int64 id_a, TimestampTz at_b, int64 id_b)
{
	return at_a < at_b || (at_a == at_b && id_a < id_b);
}

/*
 * The pairs of st->pairs grouped by visitor (see "pairs" above): the
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

static void
group_pairs(const PageDayState *st, PairGroups *g)
{
	int64		n = st->npairs;
	uint32		size = 4096;
	uint32	   *table = palloc0(sizeof(uint32) * size);
	int32		maxv = 1024;
	int32	   *pv = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(n, 1));
	uint32		hashes[BATCH];
	int64		base;
	int64		i;
	int32		v;

	g->nv = 0;
	g->vkey = palloc(sizeof(Key16) * maxv);
	g->vhash = palloc(sizeof(uint32) * maxv);

	/* in batches whose buckets are prefetched (as flush_pending) */
	for (base = 0; base < n; base += BATCH)
	{
		int			m = (int) Min(BATCH, n - base);
		int			j;

		for (j = 0; j < m; j++)
		{
			hashes[j] = key16_hash(&st->pairs[base + j].visitor, PAIR_SALT);
			__builtin_prefetch(&table[hashes[j] & (size - 1)]);
		}
		for (j = 0; j < m; j++)
		{
			const Key16 *key = &st->pairs[base + j].visitor;
			uint32		h = hashes[j];
			uint32		slot = h & (size - 1);

			for (;;)
			{
				uint32		t = table[slot];

				if (t == 0)
				{
					if (g->nv == maxv)
					{
						maxv *= 2;
						g->vkey = repalloc_huge(g->vkey, sizeof(Key16) * maxv);
						g->vhash = repalloc_huge(g->vhash, sizeof(uint32) * maxv);
					}
					v = g->nv++;
					g->vkey[v] = *key;
					g->vhash[v] = h;
					if ((uint32) g->nv * 2 <= size)
						table[slot] = (uint32) g->nv;
					else
					{
						/* a table twice as large, the visitors placed again */
						int32		w;

						pfree(table);
						size *= 2;
						table = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * size);
						memset(table, 0, sizeof(uint32) * size);
						for (w = 0; w < g->nv; w++)
						{
							uint32		s = g->vhash[w] & (size - 1);

							while (table[s] != 0)
								s = (s + 1) & (size - 1);
							table[s] = (uint32) w + 1;
						}
					}
					break;
				}
				if (key16_equal(&g->vkey[t - 1], key))
				{
					v = (int32) t - 1;
					break;
				}
				slot = (slot + 1) & (size - 1);
			}
			pv[base + j] = v;
		}
	}
	pfree(table);

	g->vstart = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (g->nv + 2));
	memset(g->vstart, 0, sizeof(int64) * (g->nv + 2));
	for (i = 0; i < n; i++)
		g->vstart[pv[i] + 2]++;
	for (v = 0; v < g->nv; v++)
		g->vstart[v + 2] += g->vstart[v + 1];
	g->paths = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(n, 1));
	for (i = 0; i < n; i++)
		g->paths[g->vstart[pv[i] + 1]++] = st->pairs[i].path_no;
	pfree(pv);
}

static void
free_pair_groups(PairGroups *g)
{
	pfree(g->vkey);
	pfree(g->vhash);
	pfree(g->vstart);
	pfree(g->paths);
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
 * Make st->pairs distinct; with count, also add each distinct pair to its
 * path's unique visitors.
 */
static void
distinct_pairs(PageDayState *st, bool count)
{
	PairGroups	g;
	uint32	   *marks = palloc0(sizeof(uint32) * Max(st->nstats, 1));
	uint32		stamp = 0;
	int64		out = 0;
	int32		v;

	group_pairs(st, &g);
	for (v = 0; v < g.nv; v++)
	{
		int64		j;

		stamp = next_stamp(marks, st->nstats, stamp);
		for (j = g.vstart[v]; j < g.vstart[v + 1]; j++)
		{
			int32		path = g.paths[j];

			if (marks[path] == stamp)
				continue;
			marks[path] = stamp;
			st->pairs[out].visitor = g.vkey[v];
			st->pairs[out++].path_no = path;
			if (count)
				st->stats[path].unique_visitors++;
		}
	}
	st->npairs = out;
	free_pair_groups(&g);
	pfree(marks);
}

static void
add_pair(PageDayState *st, const PairKey *pair)
{
	if (st->npairs == st->maxpairs)
	{
		if (st->npairs >= PAIR_COMPACT_AT)
			distinct_pairs(st, false);
		if (st->npairs > st->maxpairs / 2)
		{
			st->maxpairs *= 2;
			st->pairs = repalloc_huge(st->pairs, sizeof(PairKey) * st->maxpairs);
		}
	}
	st->pairs[st->npairs++] = *pair;
}

/* Look up the sessions of the pending views. */
static void
flush_pending(PageDayState *st)
{
	int			i;

	for (i = 0; i < st->npending; i++)
	{
		PendingView *p = &st->pending[i];

		if (p->has_session)
		{
			p->session_hash = key16_hash(&p->session, SESSION_SALT);
			__builtin_prefetch(&st->sessions->data[p->session_hash & st->sessions->sizemask]);
		}
	}
	for (i = 0; i < st->npending; i++)
	{
		PendingView *p = &st->pending[i];
		bool		found;

		if (p->has_visitor)
			add_pair(st, &p->pair);
		if (p->has_session)
		{
			SessionEntry *se = sesstab_insert_hash(st->sessions, p->session,
												   p->session_hash, &found);

			if (!found)
			{
				se->first_path = se->last_path = p->pair.path_no;
				se->first_id = se->last_id = p->id;
				se->first_at = se->last_at = p->viewed_at;
				se->views = 1;
				continue;
			}
			se->views++;
			if (before(p->viewed_at, p->id, se->first_at, se->first_id))
			{
				se->first_path = p->pair.path_no;
				se->first_id = p->id;
				se->first_at = p->viewed_at;
			}
			if (before(se->last_at, se->last_id, p->viewed_at, p->id))
			{
				se->last_path = p->pair.path_no;
				se->last_id = p->id;
				se->last_at = p->viewed_at;
			}
		}
	}
	st->npending = 0;
}

/*
 * page_day_transfn(state internal, authenticated boolean, anon_session uuid,
 *                  user_session text, fingerprint text, user_id uuid,
 *                  url text, page_type text, viewed_at timestamptz,
 *                  view_id bigint, time_on_page integer) returns internal
 */
Datum
vt_page_day_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	PageDayState *st;
	bool		authenticated;
	text	   *url;
	const char *url_s;
	uint32		url_len;
	uint32		path_len;
	PathStats  *ps;
	PendingView *p;
	uint8		signed_in;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "page_day_transfn called in non-aggregate context");
	st = PG_ARGISNULL(0) ? new_state(aggcxt) : (PageDayState *) PG_GETARG_POINTER(0);

	/* rows the query should not have produced are ignored, never guessed at */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(6) || PG_ARGISNULL(8) || PG_ARGISNULL(9))
		PG_RETURN_POINTER(st);
	authenticated = PG_GETARG_BOOL(1);
	signed_in = authenticated ? KIND_SIGNED_IN : 0;
	url = PG_GETARG_TEXT_PP(6);
	url_s = VARDATA_ANY(url);
	url_len = VARSIZE_ANY_EXHDR(url);

	/* the path: the URL up to '?' or '#' (vt_url_path) */
	{
		const char *q = memchr(url_s, '?', url_len);
		const char *h = memchr(url_s, '#', q ? (Size) (q - url_s) : url_len);

		path_len = (uint32) ((h ? h : q ? q : url_s + url_len) - url_s);
	}
	p = &st->pending[st->npending];
	memset(p, 0, sizeof(*p));
	ps = path_stats(st, url_s, path_len, &p->pair.path_no);

	ps->total++;
	if (authenticated)
		ps->authenticated++;
	else
		ps->anonymous++;
	if (!PG_ARGISNULL(10))
	{
		ps->top_sum += PG_GETARG_INT32(10);
		ps->top_count++;
	}
	if (!PG_ARGISNULL(7))
	{
		text	   *pt = PG_GETARG_TEXT_PP(7);

		count_type_text(st, ps, VARDATA_ANY(pt), VARSIZE_ANY_EXHDR(pt));
	}

	/* the visitor: anonymous ones by fingerprint, signed-in ones by user */
	if (authenticated && !PG_ARGISNULL(5))
	{
		uuid_key(PG_GETARG_UUID_P(5), signed_in, &p->pair.visitor);
		p->has_visitor = true;
	}
	else if (!authenticated && !PG_ARGISNULL(4))
	{
		text_key(st, PG_GETARG_TEXT_PP(4), 0, &p->pair.visitor);
		p->has_visitor = true;
	}

	/* the session, for entries, exits and bounces */
	if (!authenticated && !PG_ARGISNULL(2))
	{
		uuid_key(PG_GETARG_UUID_P(2), 0, &p->session);
		p->has_session = true;
	}
	else if (authenticated && !PG_ARGISNULL(3))
	{
		text_key(st, PG_GETARG_TEXT_PP(3), signed_in, &p->session);
		p->has_session = true;
	}
	p->viewed_at = PG_GETARG_TIMESTAMPTZ(8);
	p->id = PG_GETARG_INT64(9);

	if (++st->npending == BATCH)
		flush_pending(st);
	PG_RETURN_POINTER(st);
}

/* ---- parallel aggregation ---------------------------------------------- */

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

/* What page_day_deserialfn returns: the bytes of one part, not yet read. */
typedef struct PageDayPart
{
	uint32		magic;
	const char *data;
	Size		len;
} PageDayPart;

/* The strings of a string table, indexed by their numbers. */
static VtStr *
strings_by_number(strtab_hash *tab)
{
	VtStr	   *out = palloc(sizeof(VtStr) * Max(tab->members, 1));
	strtab_iterator it;
	StrEntry   *e;

	strtab_start_iterate(tab, &it);
	while ((e = strtab_iterate(tab, &it)) != NULL)
		out[e->no] = e->key;
	return out;
}

static inline void
put(char **at, const void *p, Size n)
{
	memcpy(*at, p, n);
	*at += n;
}

static void
put_string(char **at, const char *s, uint32 len)
{
	put(at, &len, sizeof(len));
	put(at, s, len);
}

/*
 * The distinct pairs of st->pairs, written at dest grouped by visitor: the
 * groups (Key16 visitor, uint32 n, n int32 path numbers, unaligned) slice by
 * slice, sliced by portable_hash of the visitor; starts[k] is the offset of
 * slice k from dest, starts[PART_SLICES] the length written.  dest needs
 * room for PAIR_GROUP_BYTES per pair.
 */
#define GROUP_HEAD			(sizeof(Key16) + sizeof(uint32))
#define PAIR_GROUP_BYTES	(GROUP_HEAD + sizeof(int32))

static void
write_pair_groups(PageDayState *st, const VtStr *others, char *dest, int64 *starts)
{
	PairGroups	g;
	int64		slice_at[PART_SLICES + 1];
	int32	   *by_slice;
	uint32	   *marks = palloc0(sizeof(uint32) * Max(st->nstats, 1));
	uint32		stamp = 0;
	char	   *at = dest;
	int32		i;
	int32		v;
	int			k;

	group_pairs(st, &g);

	/* the visitors, slice by slice (portable_hash: the same in every process) */
	memset(slice_at, 0, sizeof(slice_at));
	for (v = 0; v < g.nv; v++)
	{
		if ((g.vkey[v].kind & ~KIND_SIGNED_IN) == KIND_INTERNED)
			g.vhash[v] = portable_hash(&g.vkey[v], others, PAIR_SALT);
		g.vhash[v] >>= 32 - PART_BITS;
		slice_at[g.vhash[v] + 1]++;
	}
	for (k = 0; k < PART_SLICES; k++)
		slice_at[k + 1] += slice_at[k];
	by_slice = palloc(sizeof(int32) * Max(g.nv, 1));
	for (v = 0; v < g.nv; v++)
		by_slice[slice_at[g.vhash[v]]++] = v;

	/* each visitor's group, its paths made distinct */
	k = 0;
	starts[0] = 0;
	for (i = 0; i < g.nv; i++)
	{
		char	   *head = at;
		uint32		count = 0;
		int64		j;

		v = by_slice[i];
		while (k < (int) g.vhash[v])
			starts[++k] = at - dest;
		stamp = next_stamp(marks, st->nstats, stamp);
		at += GROUP_HEAD;
		for (j = g.vstart[v]; j < g.vstart[v + 1]; j++)
		{
			int32		path = g.paths[j];

			if (marks[path] != stamp)
			{
				marks[path] = stamp;
				memcpy(at, &path, sizeof(path));
				at += sizeof(path);
				count++;
			}
		}
		memcpy(head, &g.vkey[v], sizeof(Key16));
		memcpy(head + sizeof(Key16), &count, sizeof(count));
	}
	while (k < PART_SLICES)
		starts[++k] = at - dest;

	free_pair_groups(&g);
	pfree(by_slice);
	pfree(marks);
}

/*
 * Zero bytes up to an offset from base of 4 modulo 8: with base the VARDATA
 * of a MAXALIGNed varlena, *at is then 8-byte aligned.
 */
static void
put_padding(char **at, const char *base)
{
	while (((*at - base) & 7) != 4)
		*(*at)++ = 0;
}

/* page_day_serialfn(internal) returns bytea */
Datum
vt_page_day_serialfn(PG_FUNCTION_ARGS)
{
	PageDayState *st;
	VtStr	   *types;
	VtStr	   *others;
	int32		ntypes;
	int32		nother;
	int32		npaths;
	int64		nsessions;
	int64		pair_starts[PART_SLICES + 1];
	int64	   *session_starts;
	int64	   *fill;
	uint32	   *session_slice;
	Size		size;
	bytea	   *out;
	char	   *at;
	char	   *pair_bytes_at;
	SessionEntry *sessions;
	uint32		magic = PART_MAGIC;
	sesstab_iterator it;
	SessionEntry *se;
	int64		i;
	int			j;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "page_day_serialfn called in non-aggregate context");
	st = (PageDayState *) PG_GETARG_POINTER(0);
	flush_pending(st);

	ntypes = (int32) st->types->members;
	nother = (int32) st->other_ids->members;
	npaths = st->nstats;
	nsessions = (int64) st->sessions->members;
	types = strings_by_number(st->types);
	others = strings_by_number(st->other_ids);

	/* room for everything, as if no pair were repeated (see below) */
	size = sizeof(uint32) + 3 * sizeof(int32) + 2 * sizeof(int64);
	for (i = 0; i < ntypes; i++)
		size += sizeof(uint32) + types[i].len;
	for (i = 0; i < nother; i++)
		size += sizeof(uint32) + others[i].len;
	for (i = 0; i < npaths; i++)
		size += sizeof(uint32) + st->stats[i].path_len + 5 * sizeof(int64) +
			sizeof(int32) + st->stats[i].ntypes * (sizeof(int32) + sizeof(int64));
	size += 2 * sizeof(int64) * (PART_SLICES + 1) + 7;
	size += (Size) nsessions * sizeof(SessionEntry);
	if (size + (Size) st->npairs * PAIR_GROUP_BYTES > MaxAllocSize - VARHDRSZ)
		distinct_pairs(st, false);	/* try with fewer */
	size += (Size) st->npairs * PAIR_GROUP_BYTES;
	if (size > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("page analytics state of a parallel process is too large: %zu bytes", size),
				 errdetail("It holds " INT64_FORMAT " sessions and " INT64_FORMAT " distinct (path, visitor) pairs; at most 1 GB can pass between processes.",
						   nsessions, st->npairs),
				 errhint("Run the aggregation without parallel workers: ALTER FUNCTION visittrack.aggregate_page_analytics(date) SET max_parallel_workers_per_gather = 0.")));

	out = MemoryContextAllocHuge(CurrentMemoryContext, VARHDRSZ + size);
	at = VARDATA(out);
	put(&at, &magic, sizeof(magic));
	put(&at, &ntypes, sizeof(ntypes));
	put(&at, &nother, sizeof(nother));
	put(&at, &npaths, sizeof(npaths));
	pair_bytes_at = at;			/* known below */
	at += sizeof(int64);
	put(&at, &nsessions, sizeof(nsessions));
	for (i = 0; i < ntypes; i++)
		put_string(&at, types[i].s, types[i].len);
	for (i = 0; i < nother; i++)
		put_string(&at, others[i].s, others[i].len);
	for (i = 0; i < npaths; i++)
	{
		const PathStats *ps = &st->stats[i];

		put_string(&at, ps->path, ps->path_len);
		put(&at, &ps->total, sizeof(int64));
		put(&at, &ps->anonymous, sizeof(int64));
		put(&at, &ps->authenticated, sizeof(int64));
		put(&at, &ps->top_sum, sizeof(int64));
		put(&at, &ps->top_count, sizeof(int64));
		put(&at, &ps->ntypes, sizeof(int32));
		for (j = 0; j < ps->ntypes; j++)
		{
			put(&at, &ps->types[j].type_no, sizeof(int32));
			put(&at, &ps->types[j].views, sizeof(int64));
		}
	}

	/*
	 * The pairs, distinct, grouped by visitor, sliced (made here, in
	 * parallel, not in the leader); then, aligned, the sessions, sliced.
	 */
	write_pair_groups(st, others, at + sizeof(pair_starts), pair_starts);
	memcpy(pair_bytes_at, &pair_starts[PART_SLICES], sizeof(int64));
	put(&at, pair_starts, sizeof(pair_starts));
	at += pair_starts[PART_SLICES];
	put_padding(&at, VARDATA(out));
	session_starts = (int64 *) at;
	at += sizeof(int64) * (PART_SLICES + 1);
	sessions = (SessionEntry *) at;
	at += (Size) nsessions * sizeof(SessionEntry);
	memset(session_starts, 0, sizeof(int64) * (PART_SLICES + 1));
	session_slice = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(nsessions, 1));
	i = 0;
	sesstab_start_iterate(st->sessions, &it);
	while ((se = sesstab_iterate(st->sessions, &it)) != NULL)
	{
		session_slice[i] = portable_hash(&se->key, others, SESSION_SALT) >> (32 - PART_BITS);
		session_starts[session_slice[i] + 1]++;
		i++;
	}
	fill = palloc(sizeof(int64) * PART_SLICES);
	for (j = 0; j < PART_SLICES; j++)
	{
		session_starts[j + 1] += session_starts[j];
		fill[j] = session_starts[j];
	}
	i = 0;
	sesstab_start_iterate(st->sessions, &it);
	while ((se = sesstab_iterate(st->sessions, &it)) != NULL)
		sessions[fill[session_slice[i++]]++] = *se;

	SET_VARSIZE(out, at - (char *) out);
	pfree(types);
	pfree(others);
	pfree(fill);
	pfree(session_slice);
	PG_RETURN_BYTEA_P(out);
}

/* page_day_deserialfn(bytea, internal) returns internal */
Datum
vt_page_day_deserialfn(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	PageDayPart *part;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "page_day_deserialfn called in non-aggregate context");

	/*
	 * page_day_combinefn copies the bytes: they stay valid until then, since
	 * both run for the same input row.
	 */
	part = palloc(sizeof(PageDayPart));
	part->magic = PART_MAGIC;
	part->data = VARDATA_ANY(in);
	part->len = VARSIZE_ANY_EXHDR(in);
	PG_RETURN_POINTER(part);
}

/* page_day_combinefn(internal, internal) returns internal */
Datum
vt_page_day_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	PageDayState *st;
	PageDayPart *part;
	PageDayPart *kept;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "page_day_combinefn called in non-aggregate context");
	if (PG_ARGISNULL(1))
	{
		/* a process that read no rows */
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	part = (PageDayPart *) PG_GETARG_POINTER(1);
	if (part->magic != PART_MAGIC)
		elog(ERROR, "page_day_combinefn expects the output of page_day_deserialfn");
	st = PG_ARGISNULL(0) ? new_state(aggcxt) : (PageDayState *) PG_GETARG_POINTER(0);

	if (st->nparts == st->maxparts)
	{
		st->maxparts = st->maxparts ? st->maxparts * 2 : 4;
		st->parts = st->parts ?
			repalloc(st->parts, sizeof(PageDayPart) * st->maxparts) :
			MemoryContextAlloc(st->cxt, sizeof(PageDayPart) * st->maxparts);
	}
	kept = &st->parts[st->nparts++];
	kept->magic = PART_MAGIC;
	kept->len = part->len;
	kept->data = MemoryContextAllocHuge(st->cxt, Max(part->len, 1));
	memcpy((char *) kept->data, part->data, part->len);
	PG_RETURN_POINTER(st);
}

/* ---- merging the parts (in page_day_finalfn) ---- */

typedef struct PartReader
{
	const char *at;
	const char *end;
} PartReader;

static const char *
take(PartReader *r, Size n)
{
	const char *p = r->at;

	if ((Size) (r->end - r->at) < n)
		elog(ERROR, "page analytics: truncated partial state");
	r->at += n;
	return p;
}

#define TAKE(r, var) memcpy(&(var), take((r), sizeof(var)), sizeof(var))

static void
corrupt_part(void)
{
	elog(ERROR, "page analytics: corrupt partial state");
}

static int32
take_count(PartReader *r, Size limit)
{
	int32		n;

	TAKE(r, n);
	if (n < 0 || (Size) n > limit)
		corrupt_part();
	return n;
}

/* A part, read: its numbers as the receiving state has them, its slices. */
typedef struct PartIndex
{
	int32		nother;
	int32		npaths;
	int32	   *other_map;
	int32	   *path_map;
	int64		pair_starts[PART_SLICES + 1];
	const char *pairs;
	int64		session_starts[PART_SLICES + 1];
	const char *sessions;
} PartIndex;

static void
take_starts(PartReader *r, int64 *starts, int64 count)
{
	int			k;

	memcpy(starts, take(r, sizeof(int64) * (PART_SLICES + 1)), sizeof(int64) * (PART_SLICES + 1));
	if (starts[0] != 0 || starts[PART_SLICES] != count)
		corrupt_part();
	for (k = 0; k < PART_SLICES; k++)
	{
		if (starts[k + 1] < starts[k])
			corrupt_part();
	}
}

/*
 * Read a part's names and path counters into st (adding them up) and index
 * its pairs and sessions for merge_slices.
 */
static void
read_part(PageDayState *st, const PageDayPart *part, PartIndex *ix)
{
	PartReader	r = {part->data, part->data + part->len};
	uint32		magic;
	int32		ntypes;
	int32	   *type_map;
	int64		pair_bytes;
	int64		nsessions;
	int64		i;
	int			j;

	TAKE(&r, magic);
	if (magic != PART_MAGIC)
		corrupt_part();
	ntypes = take_count(&r, part->len);
	ix->nother = take_count(&r, part->len);
	ix->npaths = take_count(&r, part->len);
	TAKE(&r, pair_bytes);
	TAKE(&r, nsessions);
	if (pair_bytes < 0 || nsessions < 0 || pair_bytes > (int64) part->len ||
		nsessions > (int64) (part->len / sizeof(SessionEntry)))
		corrupt_part();

	type_map = palloc(sizeof(int32) * Max(ntypes, 1));
	ix->other_map = palloc(sizeof(int32) * Max(ix->nother, 1));
	ix->path_map = palloc(sizeof(int32) * Max(ix->npaths, 1));
	for (i = 0; i < ntypes; i++)
	{
		uint32		len;

		TAKE(&r, len);
		type_map[i] = type_number(st, take(&r, len), len);
	}
	for (i = 0; i < ix->nother; i++)
	{
		uint32		len;

		TAKE(&r, len);
		ix->other_map[i] = intern(st, st->other_ids, take(&r, len), len, NULL);
	}
	for (i = 0; i < ix->npaths; i++)
	{
		uint32		len;
		const char *name;
		PathStats  *ps;
		int64		v;
		int32		nt;

		TAKE(&r, len);
		name = take(&r, len);
		ps = path_stats(st, name, len, &ix->path_map[i]);
		TAKE(&r, v);
		ps->total += v;
		TAKE(&r, v);
		ps->anonymous += v;
		TAKE(&r, v);
		ps->authenticated += v;
		TAKE(&r, v);
		ps->top_sum += v;
		TAKE(&r, v);
		ps->top_count += v;
		nt = take_count(&r, ntypes);
		for (j = 0; j < nt; j++)
		{
			int32		type_no;

			TAKE(&r, type_no);
			TAKE(&r, v);
			if (type_no < 0 || type_no >= ntypes)
				corrupt_part();
			count_type(st, ps, type_map[type_no], v);
		}
	}
	pfree(type_map);

	take_starts(&r, ix->pair_starts, pair_bytes);
	ix->pairs = take(&r, (Size) pair_bytes);
	while (((r.at - part->data) & 7) != 4)
		take(&r, 1);			/* put_padding */
	take_starts(&r, ix->session_starts, nsessions);
	ix->sessions = take(&r, (Size) nsessions * sizeof(SessionEntry));
	if (r.at != r.end)
		corrupt_part();
}

static inline int32
renumber(int32 no, const int32 *map, int32 n)
{
	if (no < 0 || no >= n)
		corrupt_part();
	return map[no];
}

/* An interned id of another process, as the receiving state numbers it. */
static inline void
renumber_key(Key16 *k, const PartIndex *ix)
{
	int32		no;

	if ((k->kind & ~KIND_SIGNED_IN) != KIND_INTERNED)
		return;
	memcpy(&no, k->b, sizeof(no));
	no = renumber(no, ix->other_map, ix->nother);
	memcpy(k->b, &no, sizeof(no));
}

/* A visitor's group of paths in a part, as merge_pair_slice reads them. */
typedef struct GroupRef
{
	int32		visitor;		/* number in the slice */
	int32		part;
	uint32		npaths;
	const char *paths;
} GroupRef;

/* Room for merging any one slice, allocated once (merge_parts). */
typedef struct MergeScratch
{
	uint32	   *table;			/* open addressing: positions, 0 = empty */
	Key16	   *visitors;
	int32	   *vcount;
	GroupRef   *groups;
	GroupRef   *sorted;
	uint32	   *marks;			/* a stamp per path number */
	uint32		stamp;
	SessionEntry *sessions;
} MergeScratch;

/*
 * Slice k of the parts' pairs: each visitor's groups, from one or more
 * parts, their paths made distinct (marks; a visitor's group in one part
 * already is), each distinct pair a unique visitor of its path.
 */
static void
merge_pair_slice(PageDayState *st, const PartIndex *ix, int nparts, int k, MergeScratch *m)
{
	int64		bytes = 0;
	int32		nv = 0;
	int32		ng = 0;
	uint32		size;
	int32		g;
	int32		v;
	int			p;

	for (p = 0; p < nparts; p++)
		bytes += ix[p].pair_starts[k + 1] - ix[p].pair_starts[k];
	size = table_size_for(bytes / (int64) GROUP_HEAD);
	memset(m->table, 0, sizeof(uint32) * size);
	memset(m->vcount, 0, sizeof(int32) * (bytes / GROUP_HEAD + 2));
	for (p = 0; p < nparts; p++)
	{
		const char *at = ix[p].pairs + ix[p].pair_starts[k];
		const char *end = ix[p].pairs + ix[p].pair_starts[k + 1];

		while (at < end)
		{
			Key16		key;
			uint32		count;
			uint32		slot;

			if ((Size) (end - at) < GROUP_HEAD)
				corrupt_part();
			memcpy(&key, at, sizeof(Key16));
			memcpy(&count, at + sizeof(Key16), sizeof(count));
			at += GROUP_HEAD;
			if ((Size) (end - at) / sizeof(int32) < count)
				corrupt_part();
			renumber_key(&key, &ix[p]);
			slot = key16_hash(&key, PAIR_SALT) & (size - 1);
			for (;;)
			{
				uint32		t = m->table[slot];

				if (t == 0)
				{
					m->visitors[nv] = key;
					m->table[slot] = (uint32) ++nv;
					v = nv - 1;
					break;
				}
				if (key16_equal(&m->visitors[t - 1], &key))
				{
					v = (int32) t - 1;
					break;
				}
				slot = (slot + 1) & (size - 1);
			}
			m->groups[ng].visitor = v;
			m->groups[ng].part = p;
			m->groups[ng].npaths = count;
			m->groups[ng].paths = at;
			ng++;
			m->vcount[v + 2]++;
			at += count * sizeof(int32);
		}
	}

	/* the groups visitor by visitor (a counting sort) */
	for (v = 0; v < nv; v++)
		m->vcount[v + 2] += m->vcount[v + 1];
	for (g = 0; g < ng; g++)
		m->sorted[m->vcount[m->groups[g].visitor + 1]++] = m->groups[g];
	for (v = 0; v < nv; v++)
	{
		bool		alone = m->vcount[v + 1] - m->vcount[v] == 1;

		if (!alone)
			m->stamp = next_stamp(m->marks, st->nstats, m->stamp);
		for (g = m->vcount[v]; g < m->vcount[v + 1]; g++)
		{
			const PartIndex *px = &ix[m->sorted[g].part];
			uint32		j;

			for (j = 0; j < m->sorted[g].npaths; j++)
			{
				int32		path;

				memcpy(&path, m->sorted[g].paths + j * sizeof(int32), sizeof(path));
				path = renumber(path, px->path_map, px->npaths);
				if (!alone)
				{
					if (m->marks[path] == m->stamp)
						continue;
					m->marks[path] = m->stamp;
				}
				st->stats[path].unique_visitors++;
			}
		}
	}
}

/*
 * Slice k of the parts' sessions: a session's views add up, the earliest
 * first view and the latest last view win; then each session's entry, exit
 * and bounce.
 */
static void
merge_session_slice(PageDayState *st, const PartIndex *ix, int nparts, int k, MergeScratch *m)
{
	int64		total = 0;
	int64		n = 0;
	uint32		size;
	int64		i;
	int			p;

	for (p = 0; p < nparts; p++)
		total += ix[p].session_starts[k + 1] - ix[p].session_starts[k];
	size = table_size_for(total);
	memset(m->table, 0, sizeof(uint32) * size);
	for (p = 0; p < nparts; p++)
	{
		for (i = ix[p].session_starts[k]; i < ix[p].session_starts[k + 1]; i++)
		{
			SessionEntry in;
			uint32		slot;

			memcpy(&in, ix[p].sessions + i * sizeof(SessionEntry), sizeof(SessionEntry));
			renumber_key(&in.key, &ix[p]);
			in.first_path = renumber(in.first_path, ix[p].path_map, ix[p].npaths);
			in.last_path = renumber(in.last_path, ix[p].path_map, ix[p].npaths);
			slot = key16_hash(&in.key, SESSION_SALT) & (size - 1);
			for (;;)
			{
				uint32		t = m->table[slot];
				SessionEntry *se;

				if (t == 0)
				{
					m->sessions[n] = in;
					m->table[slot] = (uint32) ++n;
					break;
				}
				se = &m->sessions[t - 1];
				if (key16_equal(&se->key, &in.key))
				{
					se->views += in.views;
					if (before(in.first_at, in.first_id, se->first_at, se->first_id))
					{
						se->first_path = in.first_path;
						se->first_id = in.first_id;
						se->first_at = in.first_at;
					}
					if (before(se->last_at, se->last_id, in.last_at, in.last_id))
					{
						se->last_path = in.last_path;
						se->last_id = in.last_id;
						se->last_at = in.last_at;
					}
					break;
				}
				slot = (slot + 1) & (size - 1);
			}
		}
	}
	for (i = 0; i < n; i++)
	{
		const SessionEntry *se = &m->sessions[i];

		st->stats[se->first_path].entries++;
		st->stats[se->last_path].exits++;
		if (se->views == 1)
			st->stats[se->first_path].bounces++;
	}
}

/*
 * The state made by page_day_combinefn: read its parts, then merge them
 * slice by slice (see "parallel aggregation").
 */
static void
merge_parts(PageDayState *st)
{
	PartIndex  *ix = palloc(sizeof(PartIndex) * st->nparts);
	MergeScratch m;
	int64		max_groups = 0;
	int64		max_sessions = 0;
	int			k;
	int			p;

	if (st->npairs != 0 || st->sessions->members != 0 || st->npending != 0)
		elog(ERROR, "page analytics: a combined state also holds views of its own");
	for (p = 0; p < st->nparts; p++)
		read_part(st, &st->parts[p], &ix[p]);

	for (k = 0; k < PART_SLICES; k++)
	{
		int64		bytes = 0;
		int64		sessions = 0;

		for (p = 0; p < st->nparts; p++)
		{
			bytes += ix[p].pair_starts[k + 1] - ix[p].pair_starts[k];
			sessions += ix[p].session_starts[k + 1] - ix[p].session_starts[k];
		}
		max_groups = Max(max_groups, bytes / (int64) GROUP_HEAD);
		max_sessions = Max(max_sessions, sessions);
	}
	m.table = MemoryContextAllocHuge(CurrentMemoryContext,
									 sizeof(uint32) * table_size_for(Max(max_groups, max_sessions)));
	m.visitors = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Key16) * Max(max_groups, 1));
	m.vcount = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * (max_groups + 2));
	m.groups = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(GroupRef) * Max(max_groups, 1));
	m.sorted = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(GroupRef) * Max(max_groups, 1));
	m.marks = palloc0(sizeof(uint32) * Max(st->nstats, 1));
	m.stamp = 0;
	m.sessions = MemoryContextAllocHuge(CurrentMemoryContext,
										sizeof(SessionEntry) * Max(max_sessions, 1));

	for (k = 0; k < PART_SLICES; k++)
	{
		merge_pair_slice(st, ix, st->nparts, k, &m);
		merge_session_slice(st, ix, st->nparts, k, &m);
	}

	pfree(m.table);
	pfree(m.visitors);
	pfree(m.vcount);
	pfree(m.groups);
	pfree(m.sorted);
	pfree(m.marks);
	pfree(m.sessions);
	for (p = 0; p < st->nparts; p++)
	{
		pfree(ix[p].other_map);
		pfree(ix[p].path_map);
	}
	pfree(ix);
}

/* The most common page type of a path; ties go to the smallest name. */
static const char *
common_type(const PageDayState *st, const PathStats *ps)
{
	const char *best = NULL;
	int64		best_views = 0;
	int			i;

	for (i = 0; i < ps->ntypes; i++)
	{
		const char *name = st->type_names[ps->types[i].type_no];
		int64		views = ps->types[i].views;

		if (best == NULL || views > best_views ||
			(views == best_views && strcmp(name, best) < 0))
		{
			best = name;
			best_views = views;
		}
	}
	return best;
}

static Datum
int32_datum(int64 v)
{
	if (v > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("page analytics count out of range: " INT64_FORMAT, v)));
	return Int32GetDatum((int32) v);
}

/* page_day_finalfn(internal, ...) returns page_day_stats[] */
Datum
vt_page_day_finalfn(PG_FUNCTION_ARGS)
{
	PageDayState *st;
	sesstab_iterator it;
	SessionEntry *se;
	Oid			array_type;
	Oid			row_type;
	TupleDesc	tupdesc;
	Datum	   *rows;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();		/* no views: no rows */
	st = (PageDayState *) PG_GETARG_POINTER(0);
	if (st->nparts > 0)
		merge_parts(st);		/* a parallel plan: see "parallel aggregation" */
	else
	{
		flush_pending(st);
		distinct_pairs(st, true);

		/* entries, exits and bounces from each session's first and last view */
		sesstab_start_iterate(st->sessions, &it);
		while ((se = sesstab_iterate(st->sessions, &it)) != NULL)
		{
			st->stats[se->first_path].entries++;
			st->stats[se->last_path].exits++;
			if (se->views == 1)
				st->stats[se->first_path].bounces++;
		}
	}

	array_type = get_func_rettype(fcinfo->flinfo->fn_oid);
	row_type = get_element_type(array_type);
	if (!OidIsValid(row_type))
		elog(ERROR, "page_day_finalfn must return an array of page_day_stats");
	tupdesc = lookup_rowtype_tupdesc_copy(row_type, -1);
	if (tupdesc->natts != 11)
		elog(ERROR, "page_day_stats has %d columns, expected 11", tupdesc->natts);

	rows = palloc(sizeof(Datum) * Max(st->nstats, 1));
	for (i = 0; i < st->nstats; i++)
	{
		const PathStats *ps = &st->stats[i];
		const char *type = common_type(st, ps);
		Datum		values[11];
		bool		nulls[11] = {false};

		values[0] = PointerGetDatum(cstring_to_text_with_len(ps->path, ps->path_len));
		if (type)
			values[1] = CStringGetTextDatum(type);
		else
			nulls[1] = true;
		values[2] = int32_datum(ps->total);
		values[3] = int32_datum(ps->anonymous);
		values[4] = int32_datum(ps->authenticated);
		values[5] = int32_datum(ps->unique_visitors);
		values[6] = Int64GetDatum(ps->top_sum);
		values[7] = int32_datum(ps->top_count);
		values[8] = int32_datum(ps->entries);
		values[9] = int32_datum(ps->exits);
		values[10] = int32_datum(ps->bounces);
		rows[i] = HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
	}
	get_typlenbyvalalign(row_type, &typlen, &typbyval, &typalign);
	PG_RETURN_ARRAYTYPE_P(construct_array(rows, st->nstats, row_type, typlen, typbyval, typalign));
}
