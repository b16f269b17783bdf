/*
 * queued_record.c: writing and reading the fields of a queued write.
 */
#include "postgres.h"

#include "queued_record.h"

void
vt_rec_put_text(StringInfo buf, const char *s)
{
	int32		len = s ? (int32) strlen(s) : -1;

	appendBinaryStringInfo(buf, (const char *) &len, sizeof(len));
	if (s)
		appendBinaryStringInfo(buf, s, len);
}

void
vt_rec_put_int64(StringInfo buf, int64 v)
{
	appendBinaryStringInfo(buf, (const char *) &v, sizeof(v));
}

void
vt_rec_put_bool(StringInfo buf, bool v)
{
	appendStringInfoChar(buf, v ? 1 : 0);
}

/* the next n bytes, or an ERROR if the record is shorter */
static const char *
take(StringInfo buf, int n)
{
	const char *p;

	if (n < 0 || buf->cursor + n > buf->len)
		elog(ERROR, "visittrack: a queued write is truncated");
	p = buf->data + buf->cursor;
	buf->cursor += n;
	return p;
}

char *
vt_rec_get_text(StringInfo buf)
{
	int32		len;

	memcpy(&len, take(buf, sizeof(len)), sizeof(len));
	if (len < 0)
		return NULL;
	return pnstrdup(take(buf, len), len);
}

int64
vt_rec_get_int64(StringInfo buf)
{
	int64		v;

	memcpy(&v, take(buf, sizeof(v)), sizeof(v));
	return v;
}

bool
vt_rec_get_bool(StringInfo buf)
{
	return *take(buf, 1) != 0;
}
