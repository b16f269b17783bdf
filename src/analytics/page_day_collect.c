/*
 * page_day_collect.c: the transition function of collect_page_day(...)
 * (page_day_transfn), and the state it fills view by view: interned paths,
 * page types and ids, 16-byte identities, per-path counters, the pair
 * buffer and the session table (page_day.h describes them).
 *
 * This is the per-view path of the aggregate: what a view calls stays in
 * this file, where the compiler can inline it.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "page_day.h"

PG_FUNCTION_INFO_V1(vt_page_day_transfn);

/* Number of a string, interning a copy on first sight (*copy_out then set). */
int32
page_day_intern(PageDayState *st, strtab_hash *tab, const char *s, uint32 len,
				const char **copy_out)
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
		int32		no = page_day_intern(st, st->other_ids, s, len, NULL);

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

/* An empty state, allocated in the aggregate's context cxt. */
PageDayState *
page_day_new_state(MemoryContext cxt)
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

/* The counters of a path (its number in *path_no), made on first sight. */
PathStats *
page_day_path(PageDayState *st, const char *path, uint32 len, int32 *path_no)
{
	const char *copy;
	int32		no = page_day_intern(st, st->paths, path, len, &copy);

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
int32
page_day_type_number(PageDayState *st, const char *type, uint32 len)
{
	const char *copy;
	int32		no = page_day_intern(st, st->types, type, len, &copy);

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
void
page_day_count_type(PageDayState *st, PathStats *ps, int32 no, int64 views)
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
	page_day_count_type(st, ps, page_day_type_number(st, s, len), 1);
}

/* Append a (path, visitor) pair, compacting the buffer when it is large. */
static void
add_pair(PageDayState *st, const PairKey *pair)
{
	if (st->npairs == st->maxpairs)
	{
		if (st->npairs >= PAIR_COMPACT_AT)
			page_day_distinct_pairs(st, false);
		if (st->npairs > st->maxpairs / 2)
		{
			st->maxpairs *= 2;
			st->pairs = repalloc_huge(st->pairs, sizeof(PairKey) * st->maxpairs);
		}
	}
	st->pairs[st->npairs++] = *pair;
}

/* A pending view's session: counted, its first and last view kept. */
static inline void
add_session_view(PageDayState *st, const PendingView *p)
{
	bool		found;
	SessionEntry *se = sesstab_insert_hash(st->sessions, p->session,
										   p->session_hash, &found);
	SessionEntry view;

	view.first_path = view.last_path = p->pair.path_no;
	view.first_id = view.last_id = p->id;
	view.first_at = view.last_at = p->viewed_at;
	if (found)
	{
		se->views++;
		session_merge_views(se, &view);
		return;
	}
	se->views = 1;
	se->first_path = se->last_path = view.first_path;
	se->first_id = se->last_id = view.first_id;
	se->first_at = se->last_at = view.first_at;
}

/* Look up the sessions of the pending views (their buckets prefetched). */
void
page_day_flush_pending(PageDayState *st)
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

		if (p->has_visitor)
			add_pair(st, &p->pair);
		if (p->has_session)
			add_session_view(st, p);
	}
	st->npending = 0;
}

/* The length of a URL's path: the URL up to '?' or '#' (as url_path() in SQL). */
static inline uint32
url_path_length(const char *url, uint32 len)
{
	const char *q = memchr(url, '?', len);
	const char *h = memchr(url, '#', q ? (Size) (q - url) : len);

	return (uint32) ((h ? h : q ? q : url + len) - url);
}

/*
 * page_day_transfn(state internal, authenticated boolean, anon_session uuid,
 *                  user_session text, fingerprint text, user_id uuid,
 *                  url text, page_type text, viewed_at timestamptz,
 *                  view_id bigint, time_on_page integer) returns internal
 *
 * Counts the view on its path at once; its visitor and session wait in the
 * batch of pending views (page_day_flush_pending).
 */
Datum
vt_page_day_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	PageDayState *st;
	bool		authenticated;
	text	   *url;
	PathStats  *ps;
	PendingView *p;
	uint8		signed_in;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "page_day_transfn called in non-aggregate context");
	st = PG_ARGISNULL(0) ? page_day_new_state(aggcxt) : (PageDayState *) PG_GETARG_POINTER(0);

	/* rows the query should not have produced are ignored, never guessed at */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(6) || PG_ARGISNULL(8) || PG_ARGISNULL(9))
		PG_RETURN_POINTER(st);
	authenticated = PG_GETARG_BOOL(1);
	signed_in = authenticated ? KIND_SIGNED_IN : 0;
	url = PG_GETARG_TEXT_PP(6);

	p = &st->pending[st->npending];
	memset(p, 0, sizeof(*p));
	ps = page_day_path(st, VARDATA_ANY(url),
					   url_path_length(VARDATA_ANY(url), VARSIZE_ANY_EXHDR(url)),
					   &p->pair.path_no);

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
		page_day_flush_pending(st);
	PG_RETURN_POINTER(st);
}
