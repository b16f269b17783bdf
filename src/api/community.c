/*
 * community.c: who is viewing a community right now.
 *
 * community_visit records a visitor in community:{id}:visitors (and its
 * :authenticated / :anonymous sets) for everyone, and a community_visit
 * user_event for signed-in visitors only: anonymous visits never reach a
 * table.  A visitor counts for visittrack.community_window (5 min) after its
 * last visit; each one leaves the window on its own.  Bots are not recorded.
 */
#include "postgres.h"

#include <sys/socket.h>

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "events.h"
#include "fingerprint.h"
#include "async_commit.h"
#include "guc.h"
#include "hotstore.h"
#include "input.h"
#include "isotime.h"
#include "jsonbuf.h"
#include "shared_state.h"
#include "useragent.h"

PG_FUNCTION_INFO_V1(vt_community_visit);
PG_FUNCTION_INFO_V1(vt_visitor_stats);
PG_FUNCTION_INFO_V1(vt_current_visitors);

static char *
uuid_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	return DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(argno)));
}

/*
 * community_visit(community_id uuid, user_id uuid, device_fingerprint text,
 *                 visitor_division_id uuid, community_division_id uuid,
 *                 community_slug text, url text, referrer text, ip inet,
 *                 user_agent text) returns void
 */
Datum
vt_community_visit(PG_FUNCTION_ARGS)
{
	char	   *community_id;
	char	   *user_id = uuid_arg(fcinfo, 1);
	char	   *fp = vt_text_arg(fcinfo, 2);
	char	   *visitor_division = uuid_arg(fcinfo, 3);
	char	   *community_division = uuid_arg(fcinfo, 4);
	char	   *slug = vt_normalise_text(vt_text_arg(fcinfo, 5), VT_MAX_NAME_LENGTH);
	char	   *url = vt_normalise_url(vt_text_arg(fcinfo, 6));
	char	   *referrer = vt_normalise_url(vt_text_arg(fcinfo, 7));
	inet	   *ip = PG_ARGISNULL(8) ? NULL : PG_GETARG_INET_PP(8);
	char	   *ua_raw = vt_text_arg(fcinfo, 9);
	bool		authenticated = user_id != NULL;
	bool		cross_division;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	char		now_iso[VT_ISO_BUFLEN];
	StringInfoData fields;
	HotVisit	visit;
	VtWriteMode mode = vt_write_mode_for_call();

	vt_require_arg(fcinfo, 0, "community_id");
	community_id = uuid_arg(fcinfo, 0);
	if (fp)
		fp = vt_normalise_fingerprint(fp, "device_fingerprint");
	else if (ip || ua_raw)
		fp = vt_fingerprint(ip, ua_raw, NULL, NULL);
	else if (!authenticated)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("an anonymous community visit needs device_fingerprint, ip or user_agent"),
				 errhint("Pass the visitor's fingerprint, or user_id for a signed-in visitor.")));

	if (ua_raw && vt_ua_is_bot_on_request(ua_raw))
		PG_RETURN_VOID();		/* bots are not visitors */
	if (mode == VT_WRITE_NOW)
		vt_tracking_write();	/* with write-behind, the call writes nothing itself */

	cross_division = visitor_division && community_division &&
		strcmp(visitor_division, community_division) != 0;
	vt_iso_format(now, now_iso);

	/* the visitor's JSON, after pages_viewed and first_seen (hotstore.h) */
	initStringInfo(&fields);
	vt_json_text(&fields, "user_id", user_id);
	vt_json_text(&fields, "device_fingerprint", fp);
	vt_json_bool(&fields, "is_authenticated", authenticated);
	vt_json_text(&fields, "division_id", visitor_division);
	vt_json_text(&fields, "community_slug", slug);
	vt_json_text(&fields, "current_page", url);
	vt_json_text(&fields, "last_seen", now_iso);

	visit.community_id = community_id;
	visit.visitor_key = authenticated ? user_id : psprintf("anon_%s", fp);
	visit.is_authenticated = authenticated;
	visit.json_fields = fields.data;
	visit.now = now;
	visit.window_seconds = vt_community_window;
	hot_visit_record(&visit, mode);

	if (authenticated)
	{
		StringInfoData meta;
		char	   *ua = vt_normalise_text(ua_raw, vt_max_user_agent_length);
		VtEventRow	event;

		initStringInfo(&meta);
		appendStringInfoChar(&meta, '{');
		vt_json_text(&meta, "community_id", community_id);
		vt_json_text(&meta, "community_slug", slug);
		vt_json_text(&meta, "visitor_division_id", visitor_division);
		vt_json_text(&meta, "community_division_id", community_division);
		vt_json_bool(&meta, "is_cross_division", cross_division);
		vt_json_bool(&meta, "is_authenticated", true);
		vt_json_text(&meta, "device_fingerprint", fp);
		vt_json_text(&meta, "url", url);
		vt_json_text(&meta, "referrer", referrer);
		appendStringInfoChar(&meta, '}');

		vt_event_row(&event, user_id, "community_visit",
					 psprintf("Visited community %s", slug ? slug : community_id),
					 vt_json_to_jsonb(&meta), ip, ua);
		vt_event_record(&event, mode);
	}
	vt_count(VT_COMMUNITY_VISITS, 1);
	PG_RETURN_VOID();
}

/* percentage with two decimals, as numeric */
static Datum
percentage(int part, int total)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), "%.2f", total == 0 ? 0.0 : 100.0 * part / total);
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
							   Int32GetDatum(-1));
}

/*
 * visitor_stats(community_id uuid) returns table(total_visitors int,
 *   authenticated_visitors int, anonymous_visitors int,
 *   authenticated_percentage numeric, anonymous_percentage numeric)
 */
Datum
vt_visitor_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			authenticated = 0;
	int			anonymous = 0;
	int			total;
	Datum		values[5];
	bool		nulls[5] = {false};

	vt_require_arg(fcinfo, 0, "community_id");
	hot_visit_counts(uuid_arg(fcinfo, 0), GetCurrentTimestamp(), vt_community_window,
					 &authenticated, &anonymous);
	total = authenticated + anonymous;

	InitMaterializedSRF(fcinfo, 0);
	values[0] = Int32GetDatum(total);
	values[1] = Int32GetDatum(authenticated);
	values[2] = Int32GetDatum(anonymous);
	/* the two shares add up to 100.00 */
	values[3] = percentage(authenticated, total);
	values[4] = total == 0 ? percentage(0, 0) :
		DirectFunctionCall2(numeric_sub,
							DirectFunctionCall3(numeric_in, CStringGetDatum("100.00"),
												ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)),
							values[3]);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/* current_visitors(community_id uuid) returns setof jsonb */
Datum
vt_current_visitors(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *visitors;
	ListCell   *lc;

	vt_require_arg(fcinfo, 0, "community_id");
	visitors = hot_visitors(uuid_arg(fcinfo, 0), GetCurrentTimestamp(), vt_community_window);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC | MAT_SRF_BLESS);
	foreach(lc, visitors)
	{
		Datum		value = DirectFunctionCall1(jsonb_in, CStringGetDatum(lfirst(lc)));
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	return (Datum) 0;
}
