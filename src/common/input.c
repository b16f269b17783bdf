/*
 * input.c: checks and normalisations applied to API arguments.
 */
#include "postgres.h"

#include <sys/socket.h>

#include "common/pg_prng.h"
#include "common/string.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/inet.h"

#include "guc.h"
#include "input.h"

void
vt_require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

char *
vt_text_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * A strict alphabet: no ':' (the key separator), no glob character (SCAN
 * patterns), no '{' or '}' (Redis Cluster hash tags), nothing to escape.
 */
void
vt_check_key_id(const char *value, const char *argname)
{
	size_t		len = strlen(value);
	const char *p;

	if (len == 0 || len > VT_MAX_ID_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s: length %zu is outside 1..%d", argname, len, VT_MAX_ID_LENGTH)));
	for (p = value; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s: only letters, digits, \"-\", \"_\" and \".\" are allowed", argname),
					 errhint("Pass the session id that session_start() returned.")));
	}
}

char *
vt_normalise_fingerprint(const char *value, const char *argname)
{
	size_t		len = strlen(value);
	char	   *out;
	size_t		i;

	if (len < 16 || len > VT_MAX_ID_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s: expected 16 to %d hexadecimal digits, got %zu characters",
						argname, VT_MAX_ID_LENGTH, len),
				 errhint("Use visittrack.fingerprint() to compute one.")));
	out = palloc(len + 1);
	for (i = 0; i < len; i++)
	{
		char		c = value[i];

		if (c >= 'A' && c <= 'F')
			c = c - 'A' + 'a';
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s: only hexadecimal digits are allowed", argname),
					 errhint("Use visittrack.fingerprint() to compute one.")));
		out[i] = c;
	}
	out[len] = '\0';
	return out;
}

void
vt_check_event_type(const char *value)
{
	size_t		len = strlen(value);
	size_t		i;
	bool		ok = len > 0 && len <= VT_MAX_EVENT_TYPE && value[0] >= 'a' && value[0] <= 'z';

	for (i = 1; ok && i < len; i++)
	{
		char		c = value[i];

		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '.' || c == ':' || c == '-';
	}
	if (!ok)
	{
		char	   *shown = pnstrdup(value, Min(len, 80));

		pg_clean_ascii(shown);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid event_type \"%s\"", shown),
				 errdetail("An event type is 1 to %d characters: a lower-case letter, then lower-case letters, digits, \"_\", \".\", \":\" or \"-\".",
						   VT_MAX_EVENT_TYPE),
				 errhint("For example: login, community_visit, post.created.")));
	}
}

/* cut s (of length len) to at most max bytes without splitting a character */
static int
clip_length(const char *s, int len, int max)
{
	if (len <= max)
		return len;
	return pg_mbcliplen(s, len, max);
}

char *
vt_normalise_url(const char *value)
{
	StringInfoData out;
	const unsigned char *p;
	int			len;

	if (value == NULL)
		return NULL;
	initStringInfo(&out);
	for (p = (const unsigned char *) value; *p; p++)
	{
		if (*p < 0x20 || *p == 0x7f)
			appendStringInfo(&out, "%%%02X", *p);
		else
			appendStringInfoChar(&out, (char) *p);
		if (out.len > vt_max_url_length + 3)
			break;				/* the rest will be cut anyway */
	}
	len = clip_length(out.data, out.len, vt_max_url_length);
	out.data[len] = '\0';
	return out.data;
}

char *
vt_normalise_text(const char *value, int max_bytes)
{
	char	   *out;
	char	   *p;
	int			len;

	if (value == NULL)
		return NULL;
	len = strlen(value);
	len = clip_length(value, len, max_bytes);
	out = pnstrdup(value, len);
	for (p = out; *p; p++)
	{
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	return out;
}

inet *
vt_ip_for_storage(inet *ip)
{
	inet	   *out;
	int			keep_bits;
	int			nbytes;
	int			i;

	if (ip == NULL || vt_ip_anonymize == VT_IP_DROP)
		return NULL;
	if (vt_ip_anonymize == VT_IP_NONE)
		return ip;

	out = (inet *) palloc0(sizeof(inet));
	keep_bits = ip_family(ip) == PGSQL_AF_INET ? 24 : 48;
	nbytes = ip_family(ip) == PGSQL_AF_INET ? 4 : 16;
	ip_family(out) = ip_family(ip);
	ip_bits(out) = Min(ip_bits(ip), keep_bits);
	for (i = 0; i < nbytes; i++)
	{
		int			bit = i * 8;

		if (bit + 8 <= ip_bits(out))
			ip_addr(out)[i] = ip_addr(ip)[i];
		else if (bit < ip_bits(out))
			ip_addr(out)[i] = ip_addr(ip)[i] & (0xff << (8 - (ip_bits(out) - bit)));
	}
	SET_INET_VARSIZE(out);
	return out;
}

/*
 * Session ids identify, they do not authenticate: the backend's PRNG
 * (seeded from a strong source at backend start) is enough, and much
 * cheaper than pg_strong_random on every page view.
 */
char *
vt_random_uuid(void)
{
	unsigned char b[16];
	uint64		hi = pg_prng_uint64(&pg_global_prng_state);
	uint64		lo = pg_prng_uint64(&pg_global_prng_state);
	char	   *out = palloc(37);

	memcpy(b, &hi, 8);
	memcpy(b + 8, &lo, 8);
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(out, 37,
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
			 b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return out;
}
