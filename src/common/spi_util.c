/*
 * spi_util.c: prepared statements with a fixed search_path.
 *
 * PostgreSQL 15's plan cache remembers the search_path a plan was made with
 * and re-plans when the current one differs, so running our plans under the
 * caller's search_path would both open them to search-path tricks (the API
 * functions are SECURITY DEFINER) and re-plan them on every call.  Every
 * prepare and every execution therefore happens under an override search
 * path of pg_catalog, visittrack.  If the extension is dropped and created
 * again in the same session, the schema's OID changes and all plans are
 * thrown away.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "spi_util.h"

static Oid	schema_oid = InvalidOid;
static bool schema_checked = false; /* schema_oid is current */
static bool callback_registered = false;
static OverrideSearchPath *safe_path = NULL;
static VtQuery *prepared_queries = NULL;

/*
 * Whether each open vt_spi_connect pushed a snapshot, with the
 * (sub)transaction level that opened it.  An ERROR skips vt_spi_finish;
 * the abort of that (sub)transaction closes SPI and pops the snapshot, and
 * the callbacks below drop the entries with it, so no error can leave this
 * stack out of step.
 */
#define MAX_SPI_DEPTH 16
typedef struct SpiLevel
{
	bool		pushed_snapshot;
	int			nest_level;
} SpiLevel;
static SpiLevel spi_levels[MAX_SPI_DEPTH];
static int	spi_depth = 0;
static bool xact_callbacks_registered = false;

/* Forget the SPI levels opened at nest_level or deeper. */
static void
drop_levels_from(int nest_level)
{
	while (spi_depth > 0 && spi_levels[spi_depth - 1].nest_level >= nest_level)
		spi_depth--;
}

/* At the end of a transaction no SPI level is left open. */
static void
on_xact_end(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
		spi_depth = 0;
}

/* A subtransaction's abort closes the SPI levels it opened. */
static void
on_subxact_end(SubXactEvent event, SubTransactionId sub, SubTransactionId parent,
			   void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		drop_levels_from(GetCurrentTransactionNestLevel());
}

/* Free every kept plan (the schema they were made against is gone). */
static void
forget_plans(void)
{
	VtQuery    *q = prepared_queries;

	while (q)
	{
		VtQuery    *next = q->next_prepared;

		if (q->plan)
			SPI_freeplan(q->plan);
		q->plan = NULL;
		q->next_prepared = NULL;
		q = next;
	}
	prepared_queries = NULL;
}

/* Any change to schemas: look the schema up again (it may be re-created). */
static void
namespace_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	schema_checked = false;
}

/* The override search path, rebuilt if the schema was re-created. */
static OverrideSearchPath *
search_path_for_plans(void)
{
	Oid			current;

	if (schema_checked && safe_path != NULL)
		return safe_path;
	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(NAMESPACEOID, namespace_changed, (Datum) 0);
		callback_registered = true;
	}
	current = get_namespace_oid("visittrack", true);

	if (!OidIsValid(current))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schema \"visittrack\" does not exist"),
				 errhint("Run CREATE EXTENSION visittrack in this database.")));
	if (current != schema_oid || safe_path == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		forget_plans();
		safe_path = palloc0(sizeof(OverrideSearchPath));
		safe_path->schemas = list_make1_oid(current);
		safe_path->addCatalog = true;
		safe_path->addTemp = false;
		MemoryContextSwitchTo(old);
		schema_oid = current;
	}
	schema_checked = true;
	return safe_path;
}

void
vt_spi_forget(VtQuery *query)
{
	VtQuery   **link = &prepared_queries;

	while (*link && *link != query)
		link = &(*link)->next_prepared;
	if (*link)
		*link = query->next_prepared;
	if (query->plan)
		SPI_freeplan(query->plan);
	query->plan = NULL;
	query->next_prepared = NULL;
}

Oid
vt_schema_oid(void)
{
	(void) search_path_for_plans();
	return schema_oid;
}

void
vt_spi_connect(void)
{
	bool		push = !ActiveSnapshotSet();

	if (!xact_callbacks_registered)
	{
		RegisterXactCallback(on_xact_end, NULL);
		RegisterSubXactCallback(on_subxact_end, NULL);
		xact_callbacks_registered = true;
	}
	if (spi_depth >= MAX_SPI_DEPTH)
		elog(ERROR, "visittrack: SPI connections nested too deeply");
	SPI_connect();
	if (push)
		PushActiveSnapshot(GetTransactionSnapshot());
	spi_levels[spi_depth].pushed_snapshot = push;
	spi_levels[spi_depth].nest_level = GetCurrentTransactionNestLevel();
	spi_depth++;
}

void
vt_spi_finish(void)
{
	Assert(spi_depth > 0);
	if (spi_depth > 0 && spi_levels[--spi_depth].pushed_snapshot)
		PopActiveSnapshot();
	SPI_finish();
}

uint64
vt_spi_run(VtQuery *query, Datum *values, const char *nulls,
		   bool read_only, long max_rows)
{
	OverrideSearchPath *path = search_path_for_plans();
	int			rc;

	/* popped below; an ERROR in between is cleaned up by (sub)transaction abort */
	PushOverrideSearchPath(path);
	if (query->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare_cursor(query->sql, query->nargs, query->argtypes,
												 query->cursor_options);

		if (plan == NULL)
			elog(ERROR, "visittrack: could not prepare \"%s\": %s",
				 query->sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		query->plan = plan;
		query->next_prepared = prepared_queries;
		prepared_queries = query;
	}
	rc = SPI_execute_plan(query->plan, values, nulls, read_only, max_rows);
	PopOverrideSearchPath();
	if (rc < 0)
		elog(ERROR, "visittrack: \"%s\" failed: %s",
			 query->sql, SPI_result_code_string(rc));
	return SPI_processed;
}

uint64
vt_spi_run_dynamic(const char *sql, int nargs, Oid *argtypes, Datum *values,
				   const char *nulls, bool read_only)
{
	OverrideSearchPath *path = search_path_for_plans();
	int			rc;

	/* popped below; an ERROR in between is cleaned up by (sub)transaction abort */
	PushOverrideSearchPath(path);
	rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, read_only, 0);
	PopOverrideSearchPath();
	if (rc < 0)
		elog(ERROR, "visittrack: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
	return SPI_processed;
}

Datum
vt_spi_datum(uint64 row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

char *
vt_spi_text(uint64 row, int col)
{
	bool		isnull;
	Datum		d = vt_spi_datum(row, col, &isnull);
	char	   *s;
	size_t		len;

	if (isnull)
		return NULL;
	s = TextDatumGetCString(d);
	len = strlen(s) + 1;
	/* SPI_palloc: the memory outlives SPI_finish */
	return memcpy(SPI_palloc(len), s, len);
}

int64
vt_spi_int64(uint64 row, int col, int64 if_null)
{
	bool		isnull;
	Datum		d = vt_spi_datum(row, col, &isnull);
	Oid			type = SPI_gettypeid(SPI_tuptable->tupdesc, col);

	if (isnull)
		return if_null;
	switch (type)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT8OID:
		case TIMESTAMPTZOID:
			return DatumGetInt64(d);
		default:
			elog(ERROR, "visittrack: column %d is not an integer", col);
	}
	return if_null;
}

bool
vt_spi_bool(uint64 row, int col, bool if_null)
{
	bool		isnull;
	Datum		d = vt_spi_datum(row, col, &isnull);

	return isnull ? if_null : DatumGetBool(d);
}
