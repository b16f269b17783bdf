/*
 * page_day_merge.c: collect_page_day in a parallel plan, the leader's last
 * step: the parts page_day_combinefn kept are read (checked against their
 * layout, page_day.h "parallel aggregation"; a malformed part is an
 * internal error), their names renumbered into the leader's state, and
 * their pairs and sessions merged slice by slice into unique visitors,
 * entries, exits and bounces.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "page_day.h"

/* ---- reading a part -------------------------------------------------- */

typedef struct PartReader
{
	const char *at;
	const char *end;
} PartReader;

/* The next n bytes of a part. */
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

/* ERROR: a part is not what page_day_serialfn writes. */
static void
corrupt_part(void)
{
	elog(ERROR, "page analytics: corrupt partial state");
}

/* A count of the part, between 0 and limit. */
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

/* The offsets of the slices: from 0, never decreasing, up to count. */
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
 * npaths paths of a part: each path's counters added to st's, its page
 * types (type_map: the part's type numbers as st has them, ntypes of them)
 * counted; path_map gets the paths' numbers in st.
 */
static void
read_paths(PageDayState *st, PartReader *r, int32 npaths, int32 *path_map,
		   const int32 *type_map, int32 ntypes)
{
	int64		i;
	int			j;

	for (i = 0; i < npaths; i++)
	{
		uint32		len;
		const char *name;
		PathStats  *ps;
		int64		v;
		int32		nt;

		TAKE(r, len);
		name = take(r, len);
		ps = page_day_path(st, name, len, &path_map[i]);
		TAKE(r, v);
		ps->total += v;
		TAKE(r, v);
		ps->anonymous += v;
		TAKE(r, v);
		ps->authenticated += v;
		TAKE(r, v);
		ps->top_sum += v;
		TAKE(r, v);
		ps->top_count += v;
		nt = take_count(r, ntypes);
		for (j = 0; j < nt; j++)
		{
			int32		type_no;

			TAKE(r, type_no);
			TAKE(r, v);
			if (type_no < 0 || type_no >= ntypes)
				corrupt_part();
			page_day_count_type(st, ps, type_map[type_no], v);
		}
	}
}

/*
 * Read a part's names and path counters into st (adding them up) and index
 * its pairs and sessions for the merge of the slices.
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
		type_map[i] = page_day_type_number(st, take(&r, len), len);
	}
	for (i = 0; i < ix->nother; i++)
	{
		uint32		len;

		TAKE(&r, len);
		ix->other_map[i] = page_day_intern(st, st->other_ids, take(&r, len), len, NULL);
	}
	read_paths(st, &r, ix->npaths, ix->path_map, type_map, ntypes);
	pfree(type_map);

	take_starts(&r, ix->pair_starts, pair_bytes);
	ix->pairs = take(&r, (Size) pair_bytes);
	while (((r.at - part->data) & 7) != 4)
		take(&r, 1);			/* the padding of page_day_serialfn */
	take_starts(&r, ix->session_starts, nsessions);
	ix->sessions = take(&r, (Size) nsessions * sizeof(SessionEntry));
	if (r.at != r.end)
		corrupt_part();
}

/* A number of a part (below n), as the receiving state has it (map). */
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

/* ---- merging the slices ---------------------------------------------- */

/* A visitor's group of paths in a part, as merge_pair_slice reads them. */
typedef struct GroupRef
{
	int32		visitor;		/* number in the slice */
	int32		part;
	uint32		npaths;
	const char *paths;
} GroupRef;

/* Room for merging any one slice, allocated once (page_day_merge_parts). */
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
 * The groups of slice k of the parts' pairs into m->groups, their visitors
 * numbered (m->visitors) and counted (m->vcount[v + 2]); returns the number
 * of groups, *nv_out the number of visitors.
 */
static int32
gather_pair_slice(const PartIndex *ix, int nparts, int k, MergeScratch *m, int32 *nv_out)
{
	int64		bytes = 0;
	int32		nv = 0;
	int32		ng = 0;
	uint32		size;
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
			uint32	   *slot;

			if ((Size) (end - at) < GROUP_HEAD)
				corrupt_part();
			memcpy(&key, at, sizeof(Key16));
			memcpy(&count, at + sizeof(Key16), sizeof(count));
			at += GROUP_HEAD;
			if ((Size) (end - at) / sizeof(int32) < count)
				corrupt_part();
			renumber_key(&key, &ix[p]);
			slot = key16_probe(m->table, size - 1, m->visitors, &key,
							   key16_hash(&key, PAIR_SALT));
			if (*slot == 0)
			{
				m->visitors[nv] = key;
				*slot = (uint32) ++nv;
			}
			m->groups[ng].visitor = (int32) *slot - 1;
			m->groups[ng].part = p;
			m->groups[ng].npaths = count;
			m->groups[ng].paths = at;
			m->vcount[m->groups[ng].visitor + 2]++;
			ng++;
			at += count * sizeof(int32);
		}
	}
	*nv_out = nv;
	return ng;
}

/*
 * Slice k of the parts' pairs: each visitor's groups, from one or more
 * parts, their paths made distinct (marks; a visitor's group in one part
 * already is), each distinct pair a unique visitor of its path.
 */
static void
merge_pair_slice(PageDayState *st, const PartIndex *ix, int nparts, int k, MergeScratch *m)
{
	int32		nv;
	int32		ng = gather_pair_slice(ix, nparts, k, m, &nv);
	int32		g;
	int32		v;

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
					session_merge_views(se, &in);
					break;
				}
				slot = (slot + 1) & (size - 1);
			}
		}
	}
	for (i = 0; i < n; i++)
		count_session_ends(st, &m->sessions[i]);
}

/*
 * Scratch space for the largest slice of the parts: groups of pairs and
 * sessions.
 */
static void
alloc_scratch(const PageDayState *st, const PartIndex *ix, MergeScratch *m)
{
	int64		max_groups = 0;
	int64		max_sessions = 0;
	int			k;
	int			p;

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
	m->table = MemoryContextAllocHuge(CurrentMemoryContext,
									  sizeof(uint32) * table_size_for(Max(max_groups, max_sessions)));
	m->visitors = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Key16) * Max(max_groups, 1));
	m->vcount = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * (max_groups + 2));
	m->groups = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(GroupRef) * Max(max_groups, 1));
	m->sorted = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(GroupRef) * Max(max_groups, 1));
	m->marks = palloc0(sizeof(uint32) * Max(st->nstats, 1));
	m->stamp = 0;
	m->sessions = MemoryContextAllocHuge(CurrentMemoryContext,
										 sizeof(SessionEntry) * Max(max_sessions, 1));
}

static void
free_scratch(MergeScratch *m)
{
	pfree(m->table);
	pfree(m->visitors);
	pfree(m->vcount);
	pfree(m->groups);
	pfree(m->sorted);
	pfree(m->marks);
	pfree(m->sessions);
}

/*
 * The state made by page_day_combinefn: read its parts, then merge them
 * slice by slice (page_day.h, "parallel aggregation").
 */
void
page_day_merge_parts(PageDayState *st)
{
	PartIndex  *ix = palloc(sizeof(PartIndex) * st->nparts);
	MergeScratch m;
	int			k;
	int			p;

	if (st->npairs != 0 || st->sessions->members != 0 || st->npending != 0)
		elog(ERROR, "page analytics: a combined state also holds views of its own");
	for (p = 0; p < st->nparts; p++)
		read_part(st, &st->parts[p], &ix[p]);

	alloc_scratch(st, ix, &m);
	for (k = 0; k < PART_SLICES; k++)
	{
		merge_pair_slice(st, ix, st->nparts, k, &m);
		merge_session_slice(st, ix, st->nparts, k, &m);
	}
	free_scratch(&m);

	for (p = 0; p < st->nparts; p++)
	{
		pfree(ix[p].other_map);
		pfree(ix[p].path_map);
	}
	pfree(ix);
}
