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
 * made distinct at the end in cache-sized slices.  Paths and page types are
 * interned strings; visitors and sessions are 16-byte keys held inline
 * (uuids, and 32-digit hex ids decoded; other ids are interned).  Memory,
 * all in the aggregate's context: about 24 bytes per view for the pair
 * buffer (compacted when it grows large, so it follows the distinct pairs),
 * twice that while it is made distinct, 64 bytes per session, plus the
 * distinct strings.
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
	return (uint32) mix64(a ^ mix64(b ^ mix64(salt ^ k->kind)));
}

static inline bool
key16_equal(const Key16 *x, const Key16 *y)
{
	return x->kind == y->kind && memcmp(x->b, y->b, 16) == 0;
}

/* ---- (path, visitor) pairs ------------------------------------------- */

/*
 * Unique visitors need the distinct (path, visitor) pairs of the day: far
 * too many for a hash set to stay in cache, and probing one at random costs
 * a cache and TLB miss per view.  So pairs are appended to a buffer and
 * made distinct in bulk: partitioned by hash into cache-sized slices
 * (radix partitioning, sequential memory traffic), then each slice is
 * deduplicated with a small local table.  A buffer that grows past
 * PAIR_COMPACT_AT entries is compacted the same way, so memory follows the
 * number of distinct pairs, not the number of views.
 */
typedef struct PairKey
{
	Key16		visitor;
	int32		path_no;
} PairKey;

#define PAIR_COMPACT_AT		(4 * 1024 * 1024)
#define PAIR_SLICE_TARGET	4096	/* entries per slice: fits in L2 with its table */

static inline uint32
pair_hash(const PairKey *k)
{
	return key16_hash(&k->visitor, (uint64) k->path_no);
}

static inline bool
pair_equal(const PairKey *a, const PairKey *b)
{
	return a->path_no == b->path_no && key16_equal(&a->visitor, &b->visitor);
}

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
	int			maxtype_names;
	PendingView pending[BATCH];
	int			npending;
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
static const int8 hex_values[256] = {
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
		for (i = 0; i < 16; i++)
		{
			int			hi = hex_values[(unsigned char) s[2 * i]];
			int			lo = hex_values[(unsigned char) s[2 * i + 1]];

			if (hi == 0 || lo == 0)
				break;
			out->b[i] = (uint8) ((hi - 1) << 4 | (lo - 1));
		}
		if (i == 16)
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

static void
count_type(PageDayState *st, PathStats *ps, const char *type, uint32 len)
{
	const char *copy;
	int32		no = intern(st, st->types, type, len, &copy);
	int			i;

	if (copy)
	{
		if (no >= st->maxtype_names)
		{
			int			newmax = st->maxtype_names * 2;

			st->type_names = repalloc(st->type_names, sizeof(char *) * newmax);
			st->maxtype_names = newmax;
		}
		st->type_names[no] = copy;
	}
	for (i = 0; i < ps->ntypes; i++)
	{
		if (ps->types[i].type_no == no)
		{
			ps->types[i].views++;
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
	ps->types[ps->ntypes].views = 1;
	ps->ntypes++;
}

static inline bool
before(TimestampTz at_a, int64 id_a, TimestampTz at_b, int64 id_b)
{
	return at_a < at_b || (at_a == at_b && id_a < id_b);
}

/*
 * Make st->pairs distinct (see "pairs" above); with count, also add each
 * distinct pair to its path's unique visitors.  Returns the distinct count.
 */
static int64
distinct_pairs(PageDayState *st, bool count)
{
	int64		n = st->npairs;
	int			bits = 0;
	int			nslices;
	int64	   *starts;
	int64	   *fill;
	uint32	   *hashes;
	uint32	   *sliced_hash;
	PairKey    *sliced;
	uint32	   *table;
	int64		max_slice = 0;
	uint32		table_size = 1;
	int64		out = 0;
	int64		i;
	int			k;

	if (n == 0)
		return 0;
	while (bits < 16 && (n >> bits) > PAIR_SLICE_TARGET)
		bits++;
	nslices = 1 << bits;

	/* slice by the top bits of the hash */
	hashes = MemoryContextAllocHuge(st->cxt, sizeof(uint32) * n);
	starts = palloc0(sizeof(int64) * (nslices + 1));
	fill = palloc(sizeof(int64) * nslices);
	for (i = 0; i < n; i++)
	{
		hashes[i] = pair_hash(&st->pairs[i]);
		starts[bits ? (hashes[i] >> (32 - bits)) + 1 : 1]++;
	}
	for (k = 0; k < nslices; k++)
	{
		max_slice = Max(max_slice, starts[k + 1]);
		starts[k + 1] += starts[k];
		fill[k] = starts[k];
	}
	sliced = MemoryContextAllocHuge(st->cxt, sizeof(PairKey) * n);
	sliced_hash = MemoryContextAllocHuge(st->cxt, sizeof(uint32) * n);
	for (i = 0; i < n; i++)
	{
		int			slice = bits ? (int) (hashes[i] >> (32 - bits)) : 0;

		sliced[fill[slice]] = st->pairs[i];
		sliced_hash[fill[slice]++] = hashes[i];
	}

	/* each slice: a local open-addressing table of positions (0 = empty) */
	while (table_size < 2 * max_slice)
		table_size <<= 1;
	table = MemoryContextAllocHuge(st->cxt, sizeof(uint32) * table_size);
	for (k = 0; k < nslices; k++)
	{
		int64		lo = starts[k];
		int64		hi = starts[k + 1];
		uint32		size = 1;

		while (size < 2 * (hi - lo))
			size <<= 1;
		memset(table, 0, sizeof(uint32) * size);
		for (i = lo; i < hi; i++)
		{
			uint32		slot = (sliced_hash[i] * 0x9E3779B1u) & (size - 1);

			for (;;)
			{
				uint32		at = table[slot];

				if (at == 0)
				{
					table[slot] = (uint32) (i - lo) + 1;
					st->pairs[out++] = sliced[i];
					if (count)
						st->stats[sliced[i].path_no].unique_visitors++;
					break;
				}
				if (pair_equal(&sliced[lo + at - 1], &sliced[i]))
					break;
				slot = (slot + 1) & (size - 1);
			}
		}
	}
	pfree(table);
	pfree(sliced);
	pfree(sliced_hash);
	pfree(hashes);
	pfree(starts);
	pfree(fill);
	st->npairs = out;
	return out;
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
	for (path_len = 0; path_len < url_len; path_len++)
	{
		if (url_s[path_len] == '?' || url_s[path_len] == '#')
			break;
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

		count_type(st, ps, VARDATA_ANY(pt), VARSIZE_ANY_EXHDR(pt));
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
