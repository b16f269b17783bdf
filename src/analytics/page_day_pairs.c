/*
 * page_day_pairs.c: the (path, visitor) pairs of a page_day state grouped
 * by visitor and made distinct in bulk (page_day.h, "(path, visitor)
 * pairs"): when the pair buffer is compacted, when a parallel process
 * writes its part, and in the serial final step, where each distinct pair
 * is a unique visitor of its path.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "page_day.h"

/* Visitors numbered in order of first sight, in an open-addressing table. */
typedef struct VisitorTable
{
	uint32	   *slots;			/* visitor number + 1; 0 = empty */
	uint32		size;			/* a power of two */
	int32		maxv;			/* room in the PairGroups' vkey and vhash */
} VisitorTable;

/* A table twice as large, the visitors of g placed again. */
static void
grow_visitor_table(VisitorTable *t, const PairGroups *g)
{
	int32		w;

	pfree(t->slots);
	t->size *= 2;
	t->slots = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * t->size);
	memset(t->slots, 0, sizeof(uint32) * t->size);
	for (w = 0; w < g->nv; w++)
	{
		uint32		s = g->vhash[w] & (t->size - 1);

		while (t->slots[s] != 0)
			s = (s + 1) & (t->size - 1);
		t->slots[s] = (uint32) w + 1;
	}
}

/* The number of the visitor key (hash h), numbering it on first sight. */
static inline int32
visitor_number(VisitorTable *t, PairGroups *g, const Key16 *key, uint32 h)
{
	uint32	   *slot = key16_probe(t->slots, t->size - 1, g->vkey, key, h);
	int32		v;

	if (*slot != 0)
		return (int32) *slot - 1;
	if (g->nv == t->maxv)
	{
		t->maxv *= 2;
		g->vkey = repalloc_huge(g->vkey, sizeof(Key16) * t->maxv);
		g->vhash = repalloc_huge(g->vhash, sizeof(uint32) * t->maxv);
	}
	v = g->nv++;
	g->vkey[v] = *key;
	g->vhash[v] = h;
	if ((uint32) g->nv * 2 <= t->size)
		*slot = (uint32) g->nv;
	else
		grow_visitor_table(t, g);
	return v;
}

/*
 * The visitor number of each pair of st->pairs, into pv; the visitors into
 * g (nv, vkey, vhash).  In batches whose buckets are prefetched, as
 * page_day_flush_pending does.
 */
static void
number_visitors(const PageDayState *st, PairGroups *g, int32 *pv)
{
	VisitorTable t;
	uint32		hashes[BATCH];
	int64		base;

	t.size = 4096;
	t.slots = palloc0(sizeof(uint32) * t.size);
	t.maxv = 1024;
	g->nv = 0;
	g->vkey = palloc(sizeof(Key16) * t.maxv);
	g->vhash = palloc(sizeof(uint32) * t.maxv);

	for (base = 0; base < st->npairs; base += BATCH)
	{
		int			m = (int) Min(BATCH, st->npairs - base);
		int			j;

		for (j = 0; j < m; j++)
		{
			hashes[j] = key16_hash(&st->pairs[base + j].visitor, PAIR_SALT);
			__builtin_prefetch(&t.slots[hashes[j] & (t.size - 1)]);
		}
		for (j = 0; j < m; j++)
			pv[base + j] = visitor_number(&t, g, &st->pairs[base + j].visitor, hashes[j]);
	}
	pfree(t.slots);
}

/* The pairs of st->pairs grouped by visitor (PairGroups, page_day.h). */
void
page_day_group_pairs(const PageDayState *st, PairGroups *g)
{
	int64		n = st->npairs;
	int32	   *pv = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(n, 1));
	int64		i;
	int32		v;

	number_visitors(st, g, pv);

	/* a counting sort of the path numbers by visitor */
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

void
page_day_free_pair_groups(PairGroups *g)
{
	pfree(g->vkey);
	pfree(g->vhash);
	pfree(g->vstart);
	pfree(g->paths);
}

/*
 * Make st->pairs distinct; with count, also add each distinct pair to its
 * path's unique visitors.
 */
void
page_day_distinct_pairs(PageDayState *st, bool count)
{
	PairGroups	g;
	uint32	   *marks = palloc0(sizeof(uint32) * Max(st->nstats, 1));
	uint32		stamp = 0;
	int64		out = 0;
	int32		v;

	page_day_group_pairs(st, &g);
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
	page_day_free_pair_groups(&g);
	pfree(marks);
}
