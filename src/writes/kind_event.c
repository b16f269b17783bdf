/*
 * kind_event.c: the event record kind (kind_event.h): its fields, and
 * inserting a batch of events -- one written by the request, or thousands
 * by the rows writer -- with one statement.
 */
#include "postgres.h"

#include "catalog/pg_type.h"

#include "kind_event.h"
#include "spi_util.h"

static const VtRecordField event_fields[] = {
	VT_FIELD(VtEventRow, user_id, VT_FIELD_TEXT),
	VT_FIELD(VtEventRow, event_type, VT_FIELD_TEXT),
	VT_FIELD(VtEventRow, description, VT_FIELD_TEXT),
	VT_FIELD(VtEventRow, metadata, VT_FIELD_JSONB),
	VT_FIELD(VtEventRow, ip, VT_FIELD_TEXT),
	VT_FIELD(VtEventRow, user_agent, VT_FIELD_TEXT),
	VT_FIELD(VtEventRow, created_at, VT_FIELD_TIMESTAMPTZ),
};

const VtRecordLayout vt_event_layout = VT_LAYOUT(VtEventRow, event_fields);

#define COLUMN(rows, n, member) \
	vt_rec_column(&vt_event_layout, rows, NULL, n, offsetof(VtEventRow, member))

void
vt_events_write(const VtEventRow *rows, int n, int64 *ids)
{
	/* RETURNING gives the rows in the order the SELECT produced them */
	static VtQuery q = {
		"INSERT INTO visittrack.user_event"
		" (user_id, event_type, description, metadata, ip_address, user_agent, created_at)"
		" SELECT u::uuid, t, d, m, i::inet, a, c"
		"   FROM unnest($1, $2, $3, $4, $5, $6, $7) AS e(u, t, d, m, i, a, c)"
		" RETURNING id",
		7, {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, JSONBARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, TIMESTAMPTZARRAYOID},
		.cursor_options = CURSOR_OPT_GENERIC_PLAN	/* as kind_anon_view.c says */
	};
	Datum		values[7];
	uint64		i;

	if (n == 0)
		return;
	values[0] = COLUMN(rows, n, user_id);
	values[1] = COLUMN(rows, n, event_type);
	values[2] = COLUMN(rows, n, description);
	values[3] = COLUMN(rows, n, metadata);
	values[4] = COLUMN(rows, n, ip);
	values[5] = COLUMN(rows, n, user_agent);
	values[6] = COLUMN(rows, n, created_at);
	vt_spi_connect();
	vt_spi_run(&q, values, NULL, false, 0);
	for (i = 0; ids && i < SPI_processed && i < (uint64) n; i++)
		ids[i] = vt_spi_int64(i, 1, 0);
	vt_spi_finish();
}
