/*
 * queued_record.c: the field-table codec of queued records, and the
 * columns of a batch of rows (queued_record.h).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

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

StringInfo
vt_rec_encode(const VtRecordLayout *layout, const void *row)
{
	StringInfo	buf = makeStringInfo();
	int			i;

	for (i = 0; i < layout->nfields; i++)
	{
		const VtRecordField *f = &layout->fields[i];
		const char *p = (const char *) row + f->offset;

		switch (f->type)
		{
			case VT_FIELD_TEXT:
				vt_rec_put_text(buf, *(char *const *) p);
				break;
			case VT_FIELD_BOOL:
				vt_rec_put_bool(buf, *(const bool *) p);
				break;
			case VT_FIELD_INT32:
				appendBinaryStringInfo(buf, p, sizeof(int32));
				break;
			case VT_FIELD_TIMESTAMPTZ:
				vt_rec_put_int64(buf, *(const TimestampTz *) p);
				break;
			case VT_FIELD_JSONB:
				{
					const struct varlena *v = *(struct varlena *const *) p;
					int32		len = v ? (int32) VARSIZE(v) : -1;

					appendBinaryStringInfo(buf, (const char *) &len, sizeof(len));
					if (v)
						appendBinaryStringInfo(buf, (const char *) v, len);
				}
				break;
			case VT_FIELD_PRESENCE:
				vt_rec_put_bool(buf, *(const bool *) p);
				if (!*(const bool *) p)
					return buf;
				break;
		}
	}
	return buf;
}

/* One record into *row (zeroed first); the record must be read to its end. */
static void
decode(const VtRecordLayout *layout, StringInfo buf, char *row)
{
	int			i;

	memset(row, 0, layout->row_size);
	buf->cursor = 0;
	for (i = 0; i < layout->nfields; i++)
	{
		const VtRecordField *f = &layout->fields[i];
		char	   *p = row + f->offset;

		switch (f->type)
		{
			case VT_FIELD_TEXT:
				*(char **) p = vt_rec_get_text(buf);
				break;
			case VT_FIELD_BOOL:
			case VT_FIELD_PRESENCE:
				*(bool *) p = vt_rec_get_bool(buf);
				break;
			case VT_FIELD_INT32:
				memcpy(p, take(buf, sizeof(int32)), sizeof(int32));
				break;
			case VT_FIELD_TIMESTAMPTZ:
				*(TimestampTz *) p = vt_rec_get_int64(buf);
				break;
			case VT_FIELD_JSONB:
				{
					int32		len;

					memcpy(&len, take(buf, sizeof(len)), sizeof(len));
					*(char **) p = NULL;
					if (len >= 0)
					{
						/* palloc'd, so aligned as a varlena must be */
						*(char **) p = palloc(len);
						memcpy(*(char **) p, take(buf, len), len);
					}
				}
				break;
		}
		if (f->type == VT_FIELD_PRESENCE && !*(bool *) p)
			break;
	}
	if (buf->cursor != buf->len)
		elog(ERROR, "visittrack: a queued write is longer than its kind's fields");
}

void *
vt_rec_decode_all(const VtRecordLayout *layout, StringInfo *records, int n)
{
	char	   *rows = palloc(layout->row_size * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		decode(layout, records[i], rows + layout->row_size * i);
	return rows;
}

/* The element type of each field type's column, as pg_type stores it (no lookup needed). */
static const struct
{
	Oid			elemtype;
	int16		typlen;
	bool		typbyval;
	char		typalign;
}			column_types[] = {
	[VT_FIELD_TEXT] = {TEXTOID, -1, false, TYPALIGN_INT},
	[VT_FIELD_BOOL] = {BOOLOID, sizeof(bool), true, TYPALIGN_CHAR},
	[VT_FIELD_INT32] = {INT4OID, sizeof(int32), true, TYPALIGN_INT},
	[VT_FIELD_TIMESTAMPTZ] = {TIMESTAMPTZOID, sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE},
	[VT_FIELD_JSONB] = {JSONBOID, -1, false, TYPALIGN_INT},
	[VT_FIELD_PRESENCE] = {BOOLOID, sizeof(bool), true, TYPALIGN_CHAR},
};

Datum
vt_rec_column(const VtRecordLayout *layout, const void *rows, const int *pick, int n,
			  size_t offset)
{
	const VtRecordField *f = NULL;
	Datum	   *values = palloc(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc0(sizeof(bool) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int			i;

	for (i = 0; i < layout->nfields && f == NULL; i++)
		if (layout->fields[i].offset == offset)
			f = &layout->fields[i];
	if (f == NULL)
		elog(ERROR, "visittrack: no field at offset %zu in a record kind", offset);

	for (i = 0; i < n; i++)
	{
		const char *p = (const char *) rows +
			layout->row_size * (pick ? pick[i] : i) + f->offset;

		switch (f->type)
		{
			case VT_FIELD_TEXT:
				nulls[i] = *(char *const *) p == NULL;
				values[i] = nulls[i] ? (Datum) 0 : CStringGetTextDatum(*(char *const *) p);
				break;
			case VT_FIELD_JSONB:
				nulls[i] = *(char *const *) p == NULL;
				values[i] = PointerGetDatum(*(char *const *) p);
				break;
			case VT_FIELD_BOOL:
			case VT_FIELD_PRESENCE:
				values[i] = BoolGetDatum(*(const bool *) p);
				break;
			case VT_FIELD_INT32:
				values[i] = Int32GetDatum(*(const int32 *) p);
				break;
			case VT_FIELD_TIMESTAMPTZ:
				values[i] = TimestampTzGetDatum(*(const TimestampTz *) p);
				break;
		}
	}
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs,
											  column_types[f->type].elemtype,
											  column_types[f->type].typlen,
											  column_types[f->type].typbyval,
											  column_types[f->type].typalign));
}
