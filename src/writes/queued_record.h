/*
 * queued_record.h: a flat encoding of one queued write (write_queue.h).
 *
 * Fields are appended in a fixed order and read back in the same order:
 * text as a 4-byte length (-1 for NULL) and its bytes, integers as 8
 * bytes, booleans as one.  The writer runs the same binary, so no version
 * or byte-order marker is needed.
 */
#ifndef VT_QUEUED_RECORD_H
#define VT_QUEUED_RECORD_H

#include "lib/stringinfo.h"

extern void vt_rec_put_text(StringInfo buf, const char *s);
extern void vt_rec_put_int64(StringInfo buf, int64 v);
extern void vt_rec_put_bool(StringInfo buf, bool v);

/* Read the next field; buf->cursor advances.  Text is palloc'd (or NULL). */
extern char *vt_rec_get_text(StringInfo buf);
extern int64 vt_rec_get_int64(StringInfo buf);
extern bool vt_rec_get_bool(StringInfo buf);

#endif
