/*
 * input.h: validation and normalisation of what the application passes in.
 *
 * Every check raises an ERROR with a SQLSTATE and names the argument; every
 * normalisation is documented in doc/reference.md ("Input rules").
 */
#ifndef VT_INPUT_H
#define VT_INPUT_H

#include "fmgr.h"
#include "utils/inet.h"

#define VT_MAX_ID_LENGTH		128
#define VT_MAX_NAME_LENGTH		200		/* url_name, page_type, slug, username */
#define VT_MAX_DESCRIPTION		4000
#define VT_MAX_METADATA_BYTES	65536
#define VT_MAX_EVENT_TYPE		64

/* ERROR unless the argument is non-NULL */
extern void vt_require_arg(FunctionCallInfo fcinfo, int argno, const char *name);

/* text argument as a C string, NULL when the argument is NULL */
extern char *vt_text_arg(FunctionCallInfo fcinfo, int argno);

/*
 * An identifier used in Redis keys (session id): 1..128 letters, digits,
 * '-', '_' or '.', so that it never holds a key separator or a glob
 * character.  ERROR otherwise.
 */
extern void vt_check_key_id(const char *value, const char *argname);

/*
 * A device fingerprint: 16..128 hex digits, returned lower-cased.  ERROR
 * otherwise.
 */
extern char *vt_normalise_fingerprint(const char *value, const char *argname);

/* Event types: [a-z][a-z0-9_.:-]{0,63}.  ERROR otherwise. */
extern void vt_check_event_type(const char *value);

/*
 * URLs and referrers: control characters percent-encoded, cut to
 * visittrack.max_url_length bytes on a character boundary.  NULL stays NULL.
 */
extern char *vt_normalise_url(const char *value);

/* Free text (user agents, names): control characters become spaces, cut. */
extern char *vt_normalise_text(const char *value, int max_bytes);

/* An IP address as visittrack.ip_anonymize says to store it (NULL = none). */
extern inet *vt_ip_for_storage(inet *ip);

/* A fresh random (version 4) UUID in text form. */
extern char *vt_random_uuid(void);

#endif
