/*
 * fingerprint.c: keyed hashes that identify devices and sessions without
 * storing what they were computed from.
 *
 * The key is the secret of secrets.c (a file named by
 * visittrack.fingerprint_secret_file), or, when there is none, a random
 * per-install key made by CREATE EXTENSION (table visittrack.secret, read
 * once per backend).  Inputs are length-prefixed so that no two different
 * input tuples hash the same bytes, and each use has its own domain label so
 * a fingerprint can never equal a session id.  IPv6 addresses count by their
 * /64 prefix (one household or device behind privacy addresses); IPv4-mapped
 * IPv6 addresses count as the IPv4 address.
 */
#include "postgres.h"

#include <sys/socket.h>

#include "catalog/pg_type.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "fingerprint.h"
#include "guc.h"
#include "input.h"
#include "secrets.h"
#include "spi_util.h"

PG_FUNCTION_INFO_V1(vt_fingerprint_sql);

static bytea *install_secret = NULL;	/* in TopMemoryContext */
static Oid	install_secret_schema = InvalidOid; /* the extension it came from */

/* The per-install key (table visittrack.secret), into TopMemoryContext. */
static void
read_install_secret(void)
{
	static VtQuery q = {"SELECT value FROM visittrack.secret", 0, {0}};
	bool		isnull;
	Datum		d;

	vt_spi_connect();
	if (vt_spi_run(&q, NULL, NULL, true, 1) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("visittrack.secret is empty"),
				 errhint("Set visittrack.fingerprint_secret_file, or reinstall the extension.")));
	d = vt_spi_datum(0, 1, &isnull);
	install_secret = (bytea *) MemoryContextAlloc(TopMemoryContext,
												  VARSIZE_ANY(DatumGetPointer(d)));
	memcpy(install_secret, DatumGetPointer(d), VARSIZE_ANY(DatumGetPointer(d)));
	vt_spi_finish();
}

/*
 * The key of the keyed hashes: visittrack.fingerprint_secret(_file) when
 * set, else the per-install key, read again when the extension is
 * reinstalled.  ERROR when a configured secret was refused.
 */
static void
hash_key(const uint8 **key, size_t *len)
{
	if (vt_fingerprint_secret && vt_fingerprint_secret[0])
	{
		*key = (const uint8 *) vt_fingerprint_secret;
		*len = strlen(vt_fingerprint_secret);
		return;
	}
	vt_secret_require_usable(VT_SECRET_FINGERPRINT);
	if (install_secret == NULL || install_secret_schema != vt_schema_oid())
	{
		if (install_secret)
			pfree(install_secret);
		install_secret = NULL;
		read_install_secret();
		install_secret_schema = vt_schema_oid();
	}
	*key = (const uint8 *) VARDATA_ANY(install_secret);
	*len = VARSIZE_ANY_EXHDR(install_secret);
}

/* append one length-prefixed field; NULL is distinct from "" */
static void
add_field(StringInfo buf, const void *data, size_t len, bool isnull)
{
	uint32		n = isnull ? 0xFFFFFFFF : (uint32) len;

	appendBinaryStringInfo(buf, (const char *) &n, sizeof(n));
	if (!isnull)
		appendBinaryStringInfo(buf, data, len);
}

/* HMAC-SHA256 of message under the key, as VT_HASH_HEX_LEN hex digits. */
static char *
keyed_hash_hex(const StringInfo message)
{
	const uint8 *key;
	size_t		keylen;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	pg_hmac_ctx *ctx;
	char	   *hex = palloc(VT_HASH_HEX_LEN + 1);
	int			i;

	hash_key(&key, &keylen);
	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL ||
		pg_hmac_init(ctx, key, keylen) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) message->data, message->len) < 0 ||
		pg_hmac_final(ctx, digest, sizeof(digest)) < 0)
	{
		pg_hmac_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute a keyed hash")));
	}
	pg_hmac_free(ctx);
	for (i = 0; i < VT_HASH_HEX_LEN / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return hex;
}

char *
vt_fingerprint(inet *ip, const char *user_agent,
			   const char *accept_language, const char *extra)
{
	StringInfoData m;

	initStringInfo(&m);
	appendStringInfoString(&m, "visittrack-fingerprint-v1");
	if (ip == NULL)
		add_field(&m, NULL, 0, true);
	else
	{
		const unsigned char *a = ip_addr(ip);
		static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (ip_family(ip) == PGSQL_AF_INET)
			add_field(&m, a, 4, false);
		else if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0)
			add_field(&m, a + 12, 4, false);
		else
			add_field(&m, a, 8, false); /* the /64 prefix */
	}
	add_field(&m, user_agent, user_agent ? strlen(user_agent) : 0, user_agent == NULL);
	add_field(&m, accept_language, accept_language ? strlen(accept_language) : 0,
			  accept_language == NULL);
	add_field(&m, extra, extra ? strlen(extra) : 0, extra == NULL);
	return keyed_hash_hex(&m);
}

char *
vt_session_id_for_key(const char *session_key, size_t len)
{
	StringInfoData m;

	initStringInfo(&m);
	appendStringInfoString(&m, "visittrack-session-v1");
	add_field(&m, session_key, len, false);
	return keyed_hash_hex(&m);
}

/*
 * fingerprint(ip inet, user_agent text, accept_language text, extra text)
 */
Datum
vt_fingerprint_sql(PG_FUNCTION_ARGS)
{
	inet	   *ip = PG_ARGISNULL(0) ? NULL : PG_GETARG_INET_PP(0);
	char	   *ua = vt_text_arg(fcinfo, 1);

	if (ip == NULL && ua == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ip and user_agent must not both be null"),
				 errdetail("A fingerprint of nothing would be shared by every visitor.")));
	PG_RETURN_TEXT_P(cstring_to_text(vt_fingerprint(ip, ua, vt_text_arg(fcinfo, 2),
													vt_text_arg(fcinfo, 3))));
}
