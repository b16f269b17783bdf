/*
 * kind_anon_view.c: the anonymous page view record kind (kind_anon_view.h):
 * its fields, and writing a batch of views -- one view written by the
 * request, or thousands by the rows writer -- with the same statements.
 *
 * A view whose previous view is among the rows gets its time on page before
 * it is inserted, so a visitor clicking through pages inside one batch costs
 * no UPDATE at all.  The others' previous views were written earlier (by a
 * request or an earlier batch): one statement per day partition closes
 * them and, the first time, inserts the rows.  The previous views are
 * updated in their partition, named in the statement: through the
 * partitioned parent, PostgreSQL 15's cached generic plan would lock and
 * set up every one of the ~90 day partitions on each call, a third of the
 * page view's CPU (doc/performance.md).  So there is one prepared statement
 * per partition in use (two at most at any time: today's and, around
 * midnight, yesterday's), plus one for views with no earlier previous view.
 * Sessions at a persist point are upserted by a third statement, so that
 * the other views do not pay for setting it up; the upsert only moves pages
 * and last activity forward, so views may be written in any order.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "arrays.h"
#include "kind_anon_view.h"
#include "spi_util.h"

static const VtRecordField anon_view_fields[] = {
	VT_FIELD(VtAnonViewRow, session_id, VT_FIELD_TEXT),
	VT_FIELD(VtAnonViewRow, fingerprint, VT_FIELD_TEXT),
	VT_VIEWED_PAGE_FIELDS(VtAnonViewRow, page),
	VT_FIELD(VtAnonViewRow, viewed_at, VT_FIELD_TIMESTAMPTZ),
	VT_FIELD(VtAnonViewRow, prev_view_at, VT_FIELD_TIMESTAMPTZ),
	VT_FIELD(VtAnonViewRow, persist, VT_FIELD_PRESENCE),
	VT_FIELD(VtAnonViewRow, started_at, VT_FIELD_TIMESTAMPTZ),
	VT_FIELD(VtAnonViewRow, ip, VT_FIELD_TEXT),
	VT_FIELD(VtAnonViewRow, user_agent, VT_FIELD_TEXT),
	VT_FIELD(VtAnonViewRow, pages_visited, VT_FIELD_INT32),
	VT_FIELD(VtAnonViewRow, landing_page, VT_FIELD_TEXT),
	VT_FIELD(VtAnonViewRow, first_referrer, VT_FIELD_TEXT),
};

const VtRecordLayout vt_anon_view_layout = VT_LAYOUT(VtAnonViewRow, anon_view_fields);

#define COLUMN(rows, pick, n, member) \
	vt_rec_column(&vt_anon_view_layout, rows, pick, n, offsetof(VtAnonViewRow, member))

/* $1-$9: the page-view rows, their time on page NULL unless known already */
#define INSERT_VIEWS_SQL \
	"INSERT INTO visittrack.anonymous_page_view" \
	" (session_id, device_fingerprint, url, url_name, page_type, referrer, is_bot," \
	"  viewed_at, time_on_page_seconds)" \
	" SELECT s::uuid, f, u, n, t, r, b, v, p" \
	"   FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9) AS x(s, f, u, n, t, r, b, v, p)"

#define INSERT_VIEWS_TYPES \
	TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, \
	BOOLARRAYOID, TIMESTAMPTZARRAYOID, INT4ARRAYOID

#define INSERT_VIEWS_ARGS 9

/*
 * Statements over arrays are planned once, generically
 * (CURSOR_OPT_GENERIC_PLAN): the number of rows in unnest($n) is unknown
 * to a generic plan, which plans for a few, so PostgreSQL would otherwise
 * keep planning each call anew for its one row -- more CPU than the write.
 */
static VtQuery insert_views_q = {INSERT_VIEWS_SQL, INSERT_VIEWS_ARGS, {INSERT_VIEWS_TYPES},
.cursor_options = CURSOR_OPT_GENERIC_PLAN};

/* --- the statement of a day partition ------------------------------------ */

#define PARTITION_QUERIES 4

typedef struct PartitionQuery
{
	char		partition[NAMEDATALEN];
	VtQuery		query;
	uint64		last_used;
} PartitionQuery;

static PartitionQuery partition_queries[PARTITION_QUERIES];
static uint64 use_counter = 0;

/* The table holding page views of the UTC day of ts: its partition or the default. */
static void
partition_of(TimestampTz ts, char *name)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) == 0)
	{
		snprintf(name, NAMEDATALEN, "anonymous_page_view_p%04d%02d%02d",
				 tm.tm_year, tm.tm_mon, tm.tm_mday);
		if (OidIsValid(get_relname_relid(name, vt_schema_oid())))
			return;
	}
	strlcpy(name, "anonymous_page_view_default", NAMEDATALEN);
}

/*
 * The one statement that computes the time on page of anonymous views
 * written earlier ($10-$12: session, previous view, this view), in one
 * partition, and inserts the rows ($1-$9, empty after the first partition).
 * Prepared once per partition, least recently used replaced.
 */
static VtQuery *
close_and_insert_query(const char *partition)
{
	static const Oid types[] = {INSERT_VIEWS_TYPES,
	TEXTARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID};
	PartitionQuery *slot = NULL;
	int			i;

	for (i = 0; i < PARTITION_QUERIES; i++)
	{
		if (strcmp(partition_queries[i].partition, partition) == 0)
		{
			slot = &partition_queries[i];
			break;
		}
		if (slot == NULL || partition_queries[i].last_used < slot->last_used)
			slot = &partition_queries[i];	/* least recently used so far */
	}
	if (strcmp(slot->partition, partition) != 0)
	{
		vt_spi_forget(&slot->query);
		if (slot->query.sql)
			pfree((char *) slot->query.sql);
		memset(&slot->query, 0, sizeof(slot->query));
		strlcpy(slot->partition, partition, NAMEDATALEN);
		slot->query.sql = MemoryContextStrdup(TopMemoryContext, psprintf(
			"WITH closed AS ("
			"  UPDATE visittrack.%s p"
			"     SET time_on_page_seconds ="
			"         GREATEST(0, floor(extract(epoch FROM c.at - p.viewed_at)))::integer"
			"    FROM unnest($10, $11, $12) AS c(session_id, prev_at, at)"
			"   WHERE p.session_id = c.session_id::uuid AND p.viewed_at = c.prev_at"
			"     AND p.time_on_page_seconds IS NULL"
			"  RETURNING 1) " INSERT_VIEWS_SQL, quote_identifier(partition)));
		slot->query.nargs = lengthof(types);
		memcpy(slot->query.argtypes, types, sizeof(types));
		slot->query.cursor_options = CURSOR_OPT_GENERIC_PLAN;
	}
	slot->last_used = ++use_counter;
	return &slot->query;
}

/* --- views among the rows ------------------------------------------------ */

/* a view, by session and time */
typedef struct ViewKey
{
	char		session_id[UUID_LEN * 2 + 5];	/* canonical text form */
	TimestampTz viewed_at;
} ViewKey;

typedef struct ViewEntry
{
	ViewKey		key;
	int			index;
} ViewEntry;

static HTAB *
new_table(const char *name, Size keysize, Size entrysize, int n)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(name, Max(n, 16), &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static void
view_key(ViewKey *key, const char *session_id, TimestampTz at)
{
	memset(key, 0, sizeof(*key));
	strlcpy(key->session_id, session_id, sizeof(key->session_id));
	key->viewed_at = at;
}

/*
 * Time on page of the views whose next view is among the rows (top_null
 * false).  Returns the views whose previous view was written earlier, for
 * the UPDATE, in *earlier.
 */
static int
close_views_among_rows(VtAnonViewRow *rows, int n, int32 *time_on_page,
					   bool *top_null, int *earlier)
{
	HTAB	   *views;
	int			nearlier = 0;
	int			i;

	for (i = 0; i < n; i++)
		top_null[i] = true;
	if (n == 1)
	{
		if (rows[0].prev_view_at != 0)
			earlier[nearlier++] = 0;
		return nearlier;
	}

	views = new_table("visittrack batch views", sizeof(ViewKey), sizeof(ViewEntry), n);
	for (i = 0; i < n; i++)
	{
		ViewKey		key;
		ViewEntry  *e;
		bool		found;

		view_key(&key, rows[i].session_id, rows[i].viewed_at);
		e = hash_search(views, &key, HASH_ENTER, &found);
		if (!found)
			e->index = i;
	}
	for (i = 0; i < n; i++)
	{
		ViewKey		key;
		ViewEntry  *prev;

		if (rows[i].prev_view_at == 0)
			continue;
		view_key(&key, rows[i].session_id, rows[i].prev_view_at);
		prev = hash_search(views, &key, HASH_FIND, NULL);
		if (prev == NULL)
			earlier[nearlier++] = i;
		else if (top_null[prev->index])
		{
			TimestampTz from = rows[prev->index].viewed_at;
			TimestampTz to = rows[i].viewed_at;

			/* as the UPDATE computes it: whole seconds, never negative */
			time_on_page[prev->index] = to > from ? (int32) ((to - from) / USECS_PER_SEC) : 0;
			top_null[prev->index] = false;
		}
	}
	hash_destroy(views);
	return nearlier;
}

/* $1-$9 of the insert: the n rows */
static void
insert_columns(VtAnonViewRow *rows, int n, int32 *time_on_page, bool *top_null,
			   Datum *values)
{
	Datum	   *tops = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		tops[i] = Int32GetDatum(top_null[i] ? 0 : time_on_page[i]);
	values[0] = COLUMN(rows, NULL, n, session_id);
	values[1] = COLUMN(rows, NULL, n, fingerprint);
	vt_viewed_page_columns(&vt_anon_view_layout, rows, NULL, n,
						   offsetof(VtAnonViewRow, page), &values[2]);
	values[7] = COLUMN(rows, NULL, n, viewed_at);
	values[8] = vt_array(INT4OID, tops, top_null, n);
}

/*
 * Close the earlier previous views, partition by partition, inserting the
 * rows with the first statement.
 */
static void
close_earlier_and_insert(VtAnonViewRow *rows, int *earlier, int nearlier, Datum *values)
{
	char	  (*partitions)[NAMEDATALEN] = palloc(NAMEDATALEN * nearlier);
	bool	   *done = palloc0(sizeof(bool) * nearlier);
	int		   *group = palloc(sizeof(int) * nearlier);
	int			i,
				j;

	/*
	 * Each previous view is found through the (session_id, viewed_at)
	 * index.  With a batch's thousands of rows the planner would rather
	 * hash-join against a scan of the whole day; for this transaction, it
	 * may not.  (A single view has no join to choose: the request's own
	 * transaction is left alone.)
	 */
	if (nearlier > 1)
	{
		(void) set_config_option("enable_hashjoin", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
		(void) set_config_option("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
		(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	}
	for (i = 0; i < nearlier; i++)
		partition_of(rows[earlier[i]].prev_view_at, partitions[i]);
	for (i = 0; i < nearlier; i++)
	{
		int			m = 0;

		if (done[i])
			continue;
		for (j = i; j < nearlier; j++)
		{
			if (done[j] || strcmp(partitions[j], partitions[i]) != 0)
				continue;
			group[m++] = earlier[j];
			done[j] = true;
		}
		if (i > 0)
			insert_columns(rows, 0, NULL, NULL, values);	/* inserted already */
		values[9] = COLUMN(rows, group, m, session_id);
		values[10] = COLUMN(rows, group, m, prev_view_at);
		values[11] = COLUMN(rows, group, m, viewed_at);
		vt_spi_run(close_and_insert_query(partitions[i]), values, NULL, false, 0);
	}
}

/* --- sessions ------------------------------------------------------------ */

typedef struct SessionEntry
{
	char		session_id[UUID_LEN * 2 + 5];
	int			index;
} SessionEntry;

/* The rows at a persist point, one per session (its latest state); returns how many. */
static int
sessions_to_persist(VtAnonViewRow *rows, int n, int *pick)
{
	HTAB	   *sessions;
	HASH_SEQ_STATUS seq;
	SessionEntry *e;
	int			m = 0;
	int			i;

	if (n == 1)
	{
		if (rows[0].persist)
			pick[m++] = 0;
		return m;
	}
	sessions = new_table("visittrack batch sessions", sizeof(e->session_id),
						 sizeof(SessionEntry), n);
	for (i = 0; i < n; i++)
	{
		char		key[UUID_LEN * 2 + 5] = {0};
		bool		found;

		if (!rows[i].persist)
			continue;
		strlcpy(key, rows[i].session_id, sizeof(key));
		e = hash_search(sessions, key, HASH_ENTER, &found);
		if (!found || rows[i].pages_visited > rows[e->index].pages_visited)
			e->index = i;
	}
	hash_seq_init(&seq, sessions);
	while ((e = hash_seq_search(&seq)) != NULL)
		pick[m++] = e->index;
	hash_destroy(sessions);
	return m;
}

static void
upsert_sessions(VtAnonViewRow *rows, int n)
{
	static VtQuery q = {
		"INSERT INTO visittrack.anonymous_session AS a"
		" (session_id, device_fingerprint, session_start, last_activity, ip_address,"
		"  user_agent, pages_visited, landing_page, referrer, is_bot)"
		" SELECT s::uuid, f, st, la, ip::inet, ua, pv, lp, r, b"
		"   FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
		"     AS x(s, f, st, la, ip, ua, pv, lp, r, b)"
		" ON CONFLICT (session_id, session_start) DO UPDATE SET"
		"  pages_visited = GREATEST(a.pages_visited, excluded.pages_visited),"
		"  last_activity = GREATEST(a.last_activity, excluded.last_activity),"
		"  ip_address = COALESCE(a.ip_address, excluded.ip_address),"
		"  user_agent = COALESCE(a.user_agent, excluded.user_agent)",
		10, {TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, BOOLARRAYOID},
		.cursor_options = CURSOR_OPT_GENERIC_PLAN
	};
	int		   *pick = palloc(sizeof(int) * n);
	int			m = sessions_to_persist(rows, n, pick);
	Datum		values[10];

	if (m == 0)
		return;
	values[0] = COLUMN(rows, pick, m, session_id);
	values[1] = COLUMN(rows, pick, m, fingerprint);
	values[2] = COLUMN(rows, pick, m, started_at);
	values[3] = COLUMN(rows, pick, m, viewed_at);	/* last activity */
	values[4] = COLUMN(rows, pick, m, ip);
	values[5] = COLUMN(rows, pick, m, user_agent);
	values[6] = COLUMN(rows, pick, m, pages_visited);
	values[7] = COLUMN(rows, pick, m, landing_page);
	values[8] = COLUMN(rows, pick, m, first_referrer);
	values[9] = COLUMN(rows, pick, m, page.is_bot);
	vt_spi_run(&q, values, NULL, false, 0);
}

void
vt_anon_views_write(VtAnonViewRow *rows, int n)
{
	int32	   *time_on_page;
	bool	   *top_null;
	int		   *earlier;
	int			nearlier;
	Datum		values[INSERT_VIEWS_ARGS + 3];

	if (n == 0)
		return;
	time_on_page = palloc0(sizeof(int32) * n);
	top_null = palloc(sizeof(bool) * n);
	earlier = palloc(sizeof(int) * n);
	nearlier = close_views_among_rows(rows, n, time_on_page, top_null, earlier);
	insert_columns(rows, n, time_on_page, top_null, values);

	vt_spi_connect();
	if (nearlier == 0)
		vt_spi_run(&insert_views_q, values, NULL, false, 0);
	else
		close_earlier_and_insert(rows, earlier, nearlier, values);
	upsert_sessions(rows, n);
	vt_spi_finish();
}
