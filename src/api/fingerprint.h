/*
 * fingerprint.h: keyed hashes -- device fingerprints and session ids.
 */
#ifndef VT_FINGERPRINT_H
#define VT_FINGERPRINT_H

#include "utils/inet.h"

#define VT_HASH_HEX_LEN 32

/* 32 lowercase hex digits of HMAC-SHA-256 over ip (/64 for IPv6) and headers */
extern char *vt_fingerprint(inet *ip, const char *user_agent,
							const char *accept_language, const char *extra);

/* session_id: 32 lowercase hex digits of a keyed hash of the session key */
extern char *vt_session_id_for_key(const char *session_key, size_t len);

#endif
