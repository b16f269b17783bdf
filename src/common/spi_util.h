/*
 * spi_util.h: prepared statements for visittrack's own SQL.
 *
 * Each statement is prepared once per backend and kept (SPI_keepplan), and
 * always planned and run with search_path = pg_catalog, visittrack so that a
 * caller's search_path can neither redirect it nor force a re-plan.
 */
#ifndef VT_SPI_UTIL_H
#define VT_SPI_UTIL_H

#include "executor/spi.h"

#define VT_QUERY_MAX_ARGS 16

typedef struct VtQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[VT_QUERY_MAX_ARGS];
	int			cursor_options; /* for SPI_prepare_cursor; 0: PostgreSQL's choice */
	SPIPlanPtr	plan;			/* prepared on first use */
	struct VtQuery *next_prepared;	/* list of prepared queries */
} VtQuery;

/*
 * SPI_connect, with a snapshot pushed when none is active.  Between connect
 * and finish, palloc allocates in SPI's memory, freed by vt_spi_finish: keep
 * results with vt_spi_text (SPI_palloc) or by switching to the caller's
 * context.
 */
extern void vt_spi_connect(void);
extern void vt_spi_finish(void);

/*
 * Run a query; returns SPI_processed.  nulls uses SPI's convention (' ' not
 * null, 'n' null) and may be NULL when no argument is null.
 */
extern uint64 vt_spi_run(VtQuery *query, Datum *values, const char *nulls,
						 bool read_only, long max_rows);

/*
 * Run a statement built at run time (a partition's name in it, say), planned
 * once, under the same fixed search_path.  Never build one from user data:
 * pass that as arguments.
 */
extern uint64 vt_spi_run_dynamic(const char *sql, int nargs, Oid *argtypes, Datum *values,
								 const char *nulls, bool read_only);

/* Free a query's plan and take it off the list of prepared queries. */
extern void vt_spi_forget(VtQuery *query);

/* OID of schema visittrack (ERROR if the extension is not installed) */
extern Oid	vt_schema_oid(void);

/* Result helpers over SPI_tuptable row "row", column "col" (1-based). */
extern Datum vt_spi_datum(uint64 row, int col, bool *isnull);
extern char *vt_spi_text(uint64 row, int col);	/* survives vt_spi_finish; NULL if null */
extern int64 vt_spi_int64(uint64 row, int col, int64 if_null);
extern bool vt_spi_bool(uint64 row, int col, bool if_null);

#endif
