/*
 * redis_values.h: checks on what is read back from Redis.
 *
 * Redis is shared and writable by others (another database, an operator,
 * an attacker with network access), so nothing read from it is trusted:
 * text must be valid in the database encoding and of the shape visittrack
 * writes, numbers in range, timestamps real.  A value that fails counts as
 * absent; vt_rv_rejected() notes it (status() counter redis_rejected, a LOG
 * line once per backend).  None of these raise an ERROR.
 */
#ifndef VT_REDIS_VALUES_H
#define VT_REDIS_VALUES_H

#include "datatype/timestamp.h"

/* Note a rejected value: what (e.g. "anon_session:{fp} field landing_page"). */
extern void vt_rv_rejected(const char *what);

/* Valid in the database encoding, no NUL and no control character. */
extern bool vt_rv_is_text(const char *s, size_t len);

/* Text as above of at most max_len bytes: a palloc'd copy, or NULL. */
extern char *vt_rv_text(const char *s, size_t len, size_t max_len);

/* A URL as the input rules leave it (cut to max_url_length): copy or NULL. */
extern char *vt_rv_url(const char *s, size_t len);

/* "2025-10-10T14:00:00Z" or with .ffffff, as vt_iso_format writes: a real time. */
extern bool vt_rv_time(const char *s, size_t len, TimestampTz *out);

/* The same, of the past (a view, a start): not after tomorrow. */
extern bool vt_rv_past_time(const char *s, size_t len, TimestampTz *out);

/* Decimal integer (optional '-') within [min, max]. */
extern bool vt_rv_int(const char *s, size_t len, int64 min, int64 max, int64 *out);

/* A lower-case UUID in text form (anonymous session ids, user ids). */
extern bool vt_rv_is_uuid(const char *s, size_t len);

/* min_len..max_len lower-case hexadecimal digits (fingerprints). */
extern bool vt_rv_is_hex(const char *s, size_t len, size_t min_len, size_t max_len);

/* A JSON object of scalar members that jsonb_in accepts (visitor entries). */
extern bool vt_rv_is_flat_json_object(const char *s, size_t len);

#endif
