/*
 * events.c: log_event, the user_event table of signed-in users' events.
 *
 * Anonymous events are never stored (the design document's privacy rule):
 * log_event with a NULL user_id validates its arguments and returns NULL.
 * Rows are written by the event record kind (kind_event.h): log_event and
 * link_conversion now, as they return the id; community_visit in its call's
 * write mode (vt_event_record).
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "async_commit.h"
#include "events.h"
#include "guc.h"
#include "input.h"
#include "queue_at_commit.h"
#include "shared_state.h"

PG_FUNCTION_INFO_V1(vt_log_event);

void
vt_event_row(VtEventRow *row, const char *user_id, const char *event_type,
			 const char *description, Jsonb *metadata, inet *ip,
			 const char *user_agent)
{
	inet	   *ip_stored = vt_ip_for_storage(ip);

	row->user_id = (char *) user_id;
	row->event_type = (char *) event_type;
	row->description = (char *) description;
	row->metadata = metadata;
	row->ip = ip_stored ?
		DatumGetCString(DirectFunctionCall1(inet_out, InetPGetDatum(ip_stored))) : NULL;
	row->user_agent = (char *) user_agent;
	row->created_at = GetCurrentTransactionStartTimestamp();
}

void
vt_event_record(const VtEventRow *row, VtWriteMode mode)
{
	if (mode == VT_WRITE_BEHIND)
		vt_queue_at_commit(VT_WRITE_EVENT, vt_rec_encode(&vt_event_layout, row));
	else
		vt_events_write(row, 1, NULL);
	vt_count(VT_EVENTS_LOGGED, 1);
}

int64
vt_event_insert(Datum user_id, const char *event_type, const char *description,
				Jsonb *metadata, inet *ip, const char *user_agent)
{
	VtEventRow	row;
	int64		id = 0;

	vt_event_row(&row, DatumGetCString(DirectFunctionCall1(uuid_out, user_id)), event_type,
				 description, metadata, ip, user_agent);
	vt_events_write(&row, 1, &id);
	vt_count(VT_EVENTS_LOGGED, 1);
	return id;
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
