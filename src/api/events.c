/*
 * events.c: log_event, the user_event table of signed-in users' events.
 *
 * Anonymous events are never stored (the design document's privacy rule):
 * log_event with a NULL user_id validates its arguments and returns NULL.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "arrays.h"
#include "events.h"
#include "async_commit.h"
#include "guc.h"
#include "input.h"
#include "spi_util.h"
#include "queued_record.h"
#include "shared_state.h"
#include "write_queue.h"
#include "queue_at_commit.h"

PG_FUNCTION_INFO_V1(vt_log_event);

int64
vt_event_insert(Datum user_id, const char *event_type, const char *description,
				Jsonb *metadata, inet *ip, const char *user_agent)
{
	static VtQuery q = {
		"INSERT INTO visittrack.user_event"
		" (user_id, event_type, description, metadata, ip_address, user_agent)"
		" VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
		6, {UUIDOID, TEXTOID, TEXTOID, JSONBOID, INETOID, TEXTOID}
	};
	Datum		values[6];
	char		nulls[6] = "      ";
	inet	   *ip_stored = vt_ip_for_storage(ip);
	int64		id;

	values[0] = user_id;
	values[1] = CStringGetTextDatum(event_type);
	values[2] = description ? CStringGetTextDatum(description) : (Datum) 0;
	nulls[2] = description ? ' ' : 'n';
	values[3] = JsonbPGetDatum(metadata);
	values[4] = ip_stored ? InetPGetDatum(ip_stored) : (Datum) 0;
	nulls[4] = ip_stored ? ' ' : 'n';
	values[5] = user_agent ? CStringGetTextDatum(user_agent) : (Datum) 0;
	nulls[5] = user_agent ? ' ' : 'n';

	vt_spi_connect();
	vt_spi_run(&q, values, nulls, false, 0);
	id = vt_spi_int64(0, 1, 0);
	vt_spi_finish();
	vt_count(VT_EVENTS_LOGGED, 1);
	return id;
}

/* --- write-behind ---------------------------------------------------------- */

void
vt_events_write(StringInfo *payloads, int n)
{
	static VtQuery q = {
		"INSERT INTO visittrack.user_event"
		" (user_id, event_type, description, metadata, ip_address, user_agent, created_at)"
		" SELECT u, t, d, m::jsonb, i, a, c"
		"   FROM unnest($1, $2, $3, $4, $5, $6, $7) AS e(u, t, d, m, i, a, c)",
		7, {UUIDARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INETARRAYOID, TEXTARRAYOID,
		TIMESTAMPTZARRAYOID}
	};
	Datum		values[7];
	Datum	   *users = palloc(sizeof(Datum) * n);
	Datum	   *times = palloc(sizeof(Datum) * n);
	Datum	   *ips = palloc(sizeof(Datum) * n);
	bool	   *ip_nulls = palloc(sizeof(bool) * n);
	char	  **cols[4];
	int			c,
				i;

	for (c = 0; c < 4; c++)
		cols[c] = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		StringInfo	buf = payloads[i];
		char	   *ip;

		buf->cursor = 0;
		users[i] = DirectFunctionCall1(uuid_in, CStringGetDatum(vt_rec_get_text(buf)));
		cols[0][i] = vt_rec_get_text(buf);	/* event_type */
		cols[1][i] = vt_rec_get_text(buf);	/* description */
		cols[2][i] = vt_rec_get_text(buf);	/* metadata */
		ip = vt_rec_get_text(buf);
		ip_nulls[i] = ip == NULL;
		ips[i] = ip ? DirectFunctionCall1(inet_in, CStringGetDatum(ip)) : (Datum) 0;
		cols[3][i] = vt_rec_get_text(buf);	/* user_agent */
		times[i] = TimestampTzGetDatum(vt_rec_get_int64(buf));	/* the call's time */
	}
	values[0] = vt_array(UUIDOID, users, NULL, n);
	values[1] = vt_text_array(cols[0], n);
	values[2] = vt_text_array(cols[1], n);
	values[3] = vt_text_array(cols[2], n);
	values[4] = vt_array(INETOID, ips, ip_nulls, n);
	values[5] = vt_text_array(cols[3], n);
	values[6] = vt_array(TIMESTAMPTZOID, times, NULL, n);
	vt_spi_connect();
	vt_spi_run(&q, values, NULL, false, 0);
	vt_spi_finish();
}

void
vt_event_queue(const char *user_id, const char *event_type, const char *description,
			   const char *metadata_json, inet *ip, const char *user_agent)
{
	StringInfoData buf;
	inet	   *ip_stored = vt_ip_for_storage(ip);

	initStringInfo(&buf);
	vt_rec_put_text(&buf, user_id);
	vt_rec_put_text(&buf, event_type);
	vt_rec_put_text(&buf, description);
	vt_rec_put_text(&buf, metadata_json);
	vt_rec_put_text(&buf, ip_stored ?
					DatumGetCString(DirectFunctionCall1(inet_out, InetPGetDatum(ip_stored))) : NULL);
	vt_rec_put_text(&buf, user_agent);
	/* now(), as the synchronous insert would have stored */
	vt_rec_put_int64(&buf, GetCurrentTransactionStartTimestamp());
	vt_queue_at_commit(VT_WRITE_EVENT, &buf);
	vt_count(VT_EVENTS_LOGGED, 1);
}

void
vt_check_metadata(Jsonb *metadata)
{
	if (!JB_ROOT_IS_OBJECT(metadata) || JB_ROOT_IS_SCALAR(metadata))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metadata must be a JSON object"),
				 errhint("Wrap the value in an object, for example jsonb_build_object('value', ...).")));
	if (VARSIZE(metadata) > VT_MAX_METADATA_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("metadata is too large: %zu bytes, the limit is %d",
						(size_t) VARSIZE(metadata), VT_MAX_METADATA_BYTES)));
}

/*
 * log_event(user_id uuid, event_type text, description text, metadata jsonb,
 *           ip inet, user_agent text) returns bigint
 */
Datum
vt_log_event(PG_FUNCTION_ARGS)
{
	char	   *event_type;
	Jsonb	   *metadata;

	vt_require_arg(fcinfo, 1, "event_type");
	event_type = vt_text_arg(fcinfo, 1);
	vt_check_event_type(event_type);
	if (PG_ARGISNULL(3))
		metadata = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	else
		metadata = PG_GETARG_JSONB_P(3);
	vt_check_metadata(metadata);

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();		/* anonymous: never stored */
	vt_tracking_write();

	PG_RETURN_INT64(vt_event_insert(PG_GETARG_DATUM(0), event_type,
									vt_normalise_text(vt_text_arg(fcinfo, 2), VT_MAX_DESCRIPTION),
									metadata,
									PG_ARGISNULL(4) ? NULL : PG_GETARG_INET_PP(4),
									vt_normalise_text(vt_text_arg(fcinfo, 5),
													  vt_max_user_agent_length)));
}
