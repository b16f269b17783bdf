/*
 * jsonbuf.h: building JSON text member by member.
 *
 * A separator is written before a member unless the buffer is empty or
 * ends with '{', so objects (and the brace-less member lists stored in
 * Redis) are built with plain calls.  NULL text becomes JSON null.
 */
#ifndef VT_JSONBUF_H
#define VT_JSONBUF_H

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

extern void vt_json_key(StringInfo b, const char *key);
extern void vt_json_text(StringInfo b, const char *key, const char *value);
extern void vt_json_int(StringInfo b, const char *key, int64 value);
extern void vt_json_bool(StringInfo b, const char *key, bool value);
extern void vt_json_time(StringInfo b, const char *key, TimestampTz ts);	/* 0 = null */

/* parse the buffer's text as jsonb */
extern Jsonb *vt_json_to_jsonb(StringInfo b);

#endif
