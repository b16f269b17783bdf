/*
 * queued_record.h: a flat encoding of one queued write (write_queue.h), and
 * the columns of a batch of rows for a multi-row statement.
 *
 * A record kind describes its row struct once, as a table of fields
 * ({offset, type}); the same table encodes a row for the queue, decodes it
 * in the writer, and turns a batch of rows into one array per column for
 * INSERT ... SELECT FROM unnest($1, $2, ...).
 *
 * In the queue, fields follow one another in table order: text and jsonb
 * as a 4-byte length (-1 for NULL) and their bytes, timestamps as 8 bytes,
 * int32 as 4, booleans as one.  The writer runs the same binary, so no version or
 * byte-order marker is needed.
 */
#ifndef VT_QUEUED_RECORD_H
#define VT_QUEUED_RECORD_H

#include "lib/stringinfo.h"

typedef enum VtFieldType
{
	VT_FIELD_TEXT,				/* char *, NULL allowed; a text[] column */
	VT_FIELD_BOOL,				/* bool; a boolean[] column */
	VT_FIELD_INT32,				/* int32; an integer[] column */
	VT_FIELD_TIMESTAMPTZ,		/* TimestampTz; a timestamptz[] column */
	VT_FIELD_JSONB,				/* Jsonb *, NULL allowed; a jsonb[] column */
	VT_FIELD_PRESENCE			/* bool: when false, the fields after it are
								 * left out of the record (and zero when
								 * decoded) */
} VtFieldType;

typedef struct VtRecordField
{
	size_t		offset;			/* in the row struct */
	VtFieldType type;
} VtRecordField;

typedef struct VtRecordLayout
{
	const VtRecordField *fields;
	int			nfields;
	Size		row_size;		/* sizeof the row struct */
} VtRecordLayout;

#define VT_FIELD(row_type, member, type) {offsetof(row_type, member), type}
#define VT_LAYOUT(row_type, fields) {fields, lengthof(fields), sizeof(row_type)}

/* One row as a queued record, palloc'd in the current memory context. */
extern StringInfo vt_rec_encode(const VtRecordLayout *layout, const void *row);

/*
 * n records decoded into a palloc'd array of rows (text palloc'd too);
 * ERROR if one is truncated.
 */
extern void *vt_rec_decode_all(const VtRecordLayout *layout, StringInfo *records, int n);

/*
 * The field at offset of the rows picked (their indexes; NULL: all n), as
 * a one-dimensional array of the field's SQL type.
 */
extern Datum vt_rec_column(const VtRecordLayout *layout, const void *rows, const int *pick,
						   int n, size_t offset);

/* Field by field, for records whose writer reads them itself (hotstore_batch.c). */
extern void vt_rec_put_text(StringInfo buf, const char *s);
extern void vt_rec_put_int64(StringInfo buf, int64 v);
extern void vt_rec_put_bool(StringInfo buf, bool v);

/* Read the next field; buf->cursor advances.  Text is palloc'd (or NULL). */
extern char *vt_rec_get_text(StringInfo buf);
extern int64 vt_rec_get_int64(StringInfo buf);
extern bool vt_rec_get_bool(StringInfo buf);

#endif
