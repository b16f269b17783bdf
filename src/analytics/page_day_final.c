/*
 * page_day_final.c: the final function of collect_page_day(...): the
 * state's last counts (unique visitors; entries, exits and bounces from
 * each session's first and last view; in a parallel plan, the merge of the
 * parts), then one page_day_stats row per path.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "page_day.h"

PG_FUNCTION_INFO_V1(vt_page_day_finalfn);

#define PAGE_DAY_STATS_COLUMNS 11

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

/* A count as an integer column: ERROR beyond its range. */
static Datum
int32_datum(int64 v)
{
	if (v > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("page analytics count out of range: " INT64_FORMAT, v)));
	return Int32GetDatum((int32) v);
}

/* The counts that need every view, in a state that read them itself. */
static void
finish_serial(PageDayState *st)
{
	sesstab_iterator it;
	SessionEntry *se;

	page_day_flush_pending(st);
	page_day_distinct_pairs(st, true);
	sesstab_start_iterate(st->sessions, &it);
	while ((se = sesstab_iterate(st->sessions, &it)) != NULL)
		count_session_ends(st, se);
}

/* The page_day_stats row of a path. */
static Datum
path_row(const PageDayState *st, const PathStats *ps, TupleDesc tupdesc)
{
	const char *type = common_type(st, ps);
	Datum		values[PAGE_DAY_STATS_COLUMNS];
	bool		nulls[PAGE_DAY_STATS_COLUMNS] = {false};

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
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

/* page_day_finalfn(internal, ...) returns page_day_stats[] */
Datum
vt_page_day_finalfn(PG_FUNCTION_ARGS)
{
	PageDayState *st;
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
		page_day_merge_parts(st);	/* a parallel plan */
	else
		finish_serial(st);

	row_type = get_element_type(get_func_rettype(fcinfo->flinfo->fn_oid));
	if (!OidIsValid(row_type))
		elog(ERROR, "page_day_finalfn must return an array of page_day_stats");
	tupdesc = lookup_rowtype_tupdesc_copy(row_type, -1);
	if (tupdesc->natts != PAGE_DAY_STATS_COLUMNS)
		elog(ERROR, "page_day_stats has %d columns, expected %d", tupdesc->natts,
			 PAGE_DAY_STATS_COLUMNS);

	rows = palloc(sizeof(Datum) * Max(st->nstats, 1));
	for (i = 0; i < st->nstats; i++)
		rows[i] = path_row(st, &st->stats[i], tupdesc);
	get_typlenbyvalalign(row_type, &typlen, &typbyval, &typalign);
	PG_RETURN_ARRAYTYPE_P(construct_array(rows, st->nstats, row_type, typlen, typbyval, typalign));
}
