/*
 * secrets.h: the two secrets, the key of the keyed hashes behind
 * fingerprints and session ids, and the Redis password.
 *
 * Code reads the effective values vt_fingerprint_secret and
 * vt_redis_password (guc.h): a superuser's session value if set, else
 * the content of the file named by visittrack.*_file, else empty.
 */
#ifndef VT_SECRETS_H
#define VT_SECRETS_H

typedef enum VtSecret
{
	VT_SECRET_FINGERPRINT,
	VT_SECRET_REDIS_PASSWORD,
	VT_SECRET_COUNT
} VtSecret;

/* longest secret a file may hold, in bytes (after the trailing newline) */
#define VT_SECRET_MAX_BYTES 1024

/*
 * Defines visittrack.fingerprint_secret, .redis_password and their *_file
 * settings, and keeps statements that name them out of the server log.
 */
extern void vt_secrets_init(void);

/*
 * ERROR when the secret is empty only because a configured value was
 * refused (an unsafe file at start, a value set per database or role):
 * better than silently using another key.
 */
extern void vt_secret_require_usable(VtSecret which);

#endif
