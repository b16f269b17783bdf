/*
 * page_day_parts.c: collect_page_day in a parallel plan, up to the leader's
 * merge: page_day_serialfn writes a process's state as a "part" (the layout
 * is in page_day.h, "parallel aggregation"), page_day_deserialfn hands the
 * bytes on unread, page_day_combinefn keeps them in the leader's state for
 * page_day_merge.c.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/memutils.h"

#include "page_day.h"

PG_FUNCTION_INFO_V1(vt_page_day_serialfn);
PG_FUNCTION_INFO_V1(vt_page_day_deserialfn);
PG_FUNCTION_INFO_V1(vt_page_day_combinefn);

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

/* Append n bytes at *at. */
static inline void
put(char **at, const void *p, Size n)
{
	memcpy(*at, p, n);
	*at += n;
}

/* Append a string as uint32 length, bytes. */
static void
put_string(char **at, const char *s, uint32 len)
{
	put(at, &len, sizeof(len));
	put(at, s, len);
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

/*
 * The order in which g's visitors go out: slice by slice, by portable_hash
 * (the same in every process).  g->vhash is replaced by each visitor's
 * slice.
 */
static int32 *
visitors_by_slice(PairGroups *g, const VtStr *others)
{
	int64		slice_at[PART_SLICES + 1];
	int32	   *by_slice = palloc(sizeof(int32) * Max(g->nv, 1));
	int32		v;
	int			k;

	memset(slice_at, 0, sizeof(slice_at));
	for (v = 0; v < g->nv; v++)
	{
		if ((g->vkey[v].kind & ~KIND_SIGNED_IN) == KIND_INTERNED)
			g->vhash[v] = portable_hash(&g->vkey[v], others, PAIR_SALT);
		g->vhash[v] >>= 32 - PART_BITS;
		slice_at[g->vhash[v] + 1]++;
	}
	for (k = 0; k < PART_SLICES; k++)
		slice_at[k + 1] += slice_at[k];
	for (v = 0; v < g->nv; v++)
		by_slice[slice_at[g->vhash[v]]++] = v;
	return by_slice;
}

/*
 * The distinct pairs of st->pairs, written at dest grouped by visitor: the
 * groups (Key16 visitor, uint32 n, n int32 path numbers, unaligned) slice by
 * slice, sliced by portable_hash of the visitor; starts[k] is the offset of
 * slice k from dest, starts[PART_SLICES] the length written.  dest needs
 * room for PAIR_GROUP_BYTES per pair.
 */
static void
write_pair_groups(PageDayState *st, const VtStr *others, char *dest, int64 *starts)
{
	PairGroups	g;
	int32	   *by_slice;
	uint32	   *marks = palloc0(sizeof(uint32) * Max(st->nstats, 1));
	uint32		stamp = 0;
	char	   *at = dest;
	int32		i;
	int			k = 0;

	page_day_group_pairs(st, &g);
	by_slice = visitors_by_slice(&g, others);

	/* each visitor's group, its paths made distinct */
	starts[0] = 0;
	for (i = 0; i < g.nv; i++)
	{
		int32		v = by_slice[i];
		char	   *head = at;
		uint32		count = 0;
		int64		j;

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

	page_day_free_pair_groups(&g);
	pfree(by_slice);
	pfree(marks);
}

/*
 * The sessions of st at *at: int64 starts[PART_SLICES + 1], then the
 * SessionEntry of each slice (by portable_hash) in turn.
 */
static void
write_session_slices(PageDayState *st, const VtStr *others, char **at)
{
	int64		nsessions = (int64) st->sessions->members;
	int64	   *starts = (int64 *) *at;
	SessionEntry *sessions = (SessionEntry *) (*at + sizeof(int64) * (PART_SLICES + 1));
	uint32	   *slice = MemoryContextAllocHuge(CurrentMemoryContext,
											   sizeof(uint32) * Max(nsessions, 1));
	int64		fill[PART_SLICES];
	sesstab_iterator it;
	SessionEntry *se;
	int64		i = 0;
	int			k;

	memset(starts, 0, sizeof(int64) * (PART_SLICES + 1));
	sesstab_start_iterate(st->sessions, &it);
	while ((se = sesstab_iterate(st->sessions, &it)) != NULL)
	{
		slice[i] = portable_hash(&se->key, others, SESSION_SALT) >> (32 - PART_BITS);
		starts[slice[i] + 1]++;
		i++;
	}
	for (k = 0; k < PART_SLICES; k++)
	{
		starts[k + 1] += starts[k];
		fill[k] = starts[k];
	}
	i = 0;
	sesstab_start_iterate(st->sessions, &it);
	while ((se = sesstab_iterate(st->sessions, &it)) != NULL)
		sessions[fill[slice[i++]]++] = *se;
	*at = (char *) (sessions + nsessions);
	pfree(slice);
}

/*
 * The bytes a part of st takes, at most; a state too large to pass between
 * processes is an ERROR, after trying with its pairs made distinct.
 */
static Size
part_size(PageDayState *st, const VtStr *types, const VtStr *others)
{
	int64		nsessions = (int64) st->sessions->members;
	Size		size;
	int64		i;

	/* room for everything, as if no pair were repeated (see below) */
	size = sizeof(uint32) + 3 * sizeof(int32) + 2 * sizeof(int64);
	for (i = 0; i < st->types->members; i++)
		size += sizeof(uint32) + types[i].len;
	for (i = 0; i < st->other_ids->members; i++)
		size += sizeof(uint32) + others[i].len;
	for (i = 0; i < st->nstats; i++)
		size += sizeof(uint32) + st->stats[i].path_len + 5 * sizeof(int64) +
			sizeof(int32) + st->stats[i].ntypes * (sizeof(int32) + sizeof(int64));
	size += 2 * sizeof(int64) * (PART_SLICES + 1) + 7;
	size += (Size) nsessions * sizeof(SessionEntry);
	if (size + (Size) st->npairs * PAIR_GROUP_BYTES > MaxAllocSize - VARHDRSZ)
		page_day_distinct_pairs(st, false); /* try with fewer */
	size += (Size) st->npairs * PAIR_GROUP_BYTES;
	if (size > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("page analytics state of a parallel process is too large: %zu bytes", size),
				 errdetail("It holds " INT64_FORMAT " sessions and " INT64_FORMAT " distinct (path, visitor) pairs; at most 1 GB can pass between processes.",
						   nsessions, st->npairs),
				 errhint("Run the aggregation without parallel workers: ALTER FUNCTION visittrack.aggregate_page_analytics(date) SET max_parallel_workers_per_gather = 0.")));
	return size;
}

/* The page types, interned ids and paths with their counters, at *at. */
static void
write_names_and_paths(const PageDayState *st, const VtStr *types, const VtStr *others,
					  char **at)
{
	int64		i;
	int			j;

	for (i = 0; i < st->types->members; i++)
		put_string(at, types[i].s, types[i].len);
	for (i = 0; i < st->other_ids->members; i++)
		put_string(at, others[i].s, others[i].len);
	for (i = 0; i < st->nstats; i++)
	{
		const PathStats *ps = &st->stats[i];

		put_string(at, ps->path, ps->path_len);
		put(at, &ps->total, sizeof(int64));
		put(at, &ps->anonymous, sizeof(int64));
		put(at, &ps->authenticated, sizeof(int64));
		put(at, &ps->top_sum, sizeof(int64));
		put(at, &ps->top_count, sizeof(int64));
		put(at, &ps->ntypes, sizeof(int32));
		for (j = 0; j < ps->ntypes; j++)
		{
			put(at, &ps->types[j].type_no, sizeof(int32));
			put(at, &ps->types[j].views, sizeof(int64));
		}
	}
}

/* page_day_serialfn(internal) returns bytea: the state as a part */
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
	bytea	   *out;
	char	   *at;
	char	   *pair_bytes_at;
	uint32		magic = PART_MAGIC;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "page_day_serialfn called in non-aggregate context");
	st = (PageDayState *) PG_GETARG_POINTER(0);
	page_day_flush_pending(st);

	ntypes = (int32) st->types->members;
	nother = (int32) st->other_ids->members;
	npaths = st->nstats;
	nsessions = (int64) st->sessions->members;
	types = strings_by_number(st->types);
	others = strings_by_number(st->other_ids);

	out = MemoryContextAllocHuge(CurrentMemoryContext,
								 VARHDRSZ + part_size(st, types, others));
	at = VARDATA(out);
	put(&at, &magic, sizeof(magic));
	put(&at, &ntypes, sizeof(ntypes));
	put(&at, &nother, sizeof(nother));
	put(&at, &npaths, sizeof(npaths));
	pair_bytes_at = at;			/* known below */
	at += sizeof(int64);
	put(&at, &nsessions, sizeof(nsessions));
	write_names_and_paths(st, types, others, &at);

	/*
	 * The pairs, distinct, grouped by visitor, sliced (made here, in
	 * parallel, not in the leader); then, aligned, the sessions, sliced.
	 */
	write_pair_groups(st, others, at + sizeof(pair_starts), pair_starts);
	memcpy(pair_bytes_at, &pair_starts[PART_SLICES], sizeof(int64));
	put(&at, pair_starts, sizeof(pair_starts));
	at += pair_starts[PART_SLICES];
	put_padding(&at, VARDATA(out));
	write_session_slices(st, others, &at);

	SET_VARSIZE(out, at - (char *) out);
	pfree(types);
	pfree(others);
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

/*
 * page_day_combinefn(internal, internal) returns internal: keeps a copy of
 * the part in the leader's state, for page_day_finalfn to merge.
 */
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
	st = PG_ARGISNULL(0) ? page_day_new_state(aggcxt) : (PageDayState *) PG_GETARG_POINTER(0);

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
