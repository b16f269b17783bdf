/*
 * jsonbuf.c: building JSON text member by member (see jsonbuf.h).
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "isotime.h"
#include "jsonbuf.h"

/* Start a member: a comma unless it is the first, then "key":. */
void
vt_json_key(StringInfo b, const char *key)
{
	if (b->len > 0 && b->data[b->len - 1] != '{')
		appendStringInfoChar(b, ',');
	escape_json(b, key);
	appendStringInfoChar(b, ':');
}

/* A text member; NULL becomes null. */
void
vt_json_text(StringInfo b, const char *key, const char *value)
{
	vt_json_key(b, key);
	if (value)
		escape_json(b, value);
	else
		appendStringInfoString(b, "null");
}

void
vt_json_int(StringInfo b, const char *key, int64 value)
{
	vt_json_key(b, key);
	appendStringInfo(b, INT64_FORMAT, value);
}

void
vt_json_bool(StringInfo b, const char *key, bool value)
{
	vt_json_key(b, key);
	appendStringInfoString(b, value ? "true" : "false");
}

void
vt_json_time(StringInfo b, const char *key, TimestampTz ts)
{
	char		iso[VT_ISO_BUFLEN];

	if (ts == 0)
	{
		vt_json_text(b, key, NULL);
		return;
	}
	vt_iso_format(ts, iso);
	vt_json_text(b, key, iso);
}

Jsonb *
vt_json_to_jsonb(StringInfo b)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(b->data)));
}
