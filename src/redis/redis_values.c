/*
 * redis_values.c: what visittrack accepts back from Redis (redis_values.h).
 *
 * Every check is written to fail quietly: the callers hold hiredis replies,
 * which an ERROR would leak, and a damaged key must never fail the request
 * that happens to read it.
 */
#include "postgres.h"

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "redis_values.h"
#include "shared_state.h"

void
vt_rv_rejected(const char *what)
{
	static bool logged = false;

	vt_count(VT_REDIS_REJECTED, 1);
	if (logged)
		return;
	logged = true;
	ereport(LOG,
			(errmsg("visittrack ignored a value read from Redis: %s", what),
			 errdetail("It is not valid in the database encoding or not of the form visittrack writes; it is treated as absent."),
			 errhint("Another program or database may be writing under this database's key prefix (visittrack.redis_prefix). Further rejections are only counted, in status().")));
}

bool
vt_rv_is_text(const char *s, size_t len)
{
	size_t		i;

	if (s == NULL || len > MaxAllocSize / 2)
		return false;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c < 0x20 || c == 0x7f)
			return false;		/* NUL and control characters included */
	}
	return pg_verifymbstr(s, (int) len, true);
}

char *
vt_rv_text(const char *s, size_t len, size_t max_len)
{
	if (len > max_len || !vt_rv_is_text(s, len))
		return NULL;
	return pnstrdup(s, len);
}

char *
vt_rv_url(const char *s, size_t len)
{
	int			keep;

	if (!vt_rv_is_text(s, len))
		return NULL;
	/* max_url_length may have been lowered since the value was written */
	keep = len <= (size_t) vt_max_url_length ? (int) len :
		pg_mbcliplen(s, (int) len, vt_max_url_length);
	return pnstrdup(s, keep);
}

static bool
digits(const char *s, int n, int *out)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool
vt_rv_time(const char *s, size_t len, TimestampTz *out)
{
	struct pg_tm tm;
	int			usec = 0;
	TimestampTz ts;

	memset(&tm, 0, sizeof(tm));
	/* 2025-10-10T14:00:00Z (20 bytes) or 2025-10-10T14:00:00.123456Z (27) */
	if (s == NULL || (len != 20 && len != 27) || s[len - 1] != 'Z' ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
		!digits(s, 4, &tm.tm_year) || !digits(s + 5, 2, &tm.tm_mon) ||
		!digits(s + 8, 2, &tm.tm_mday) || !digits(s + 11, 2, &tm.tm_hour) ||
		!digits(s + 14, 2, &tm.tm_min) || !digits(s + 17, 2, &tm.tm_sec))
		return false;
	if (len == 27 && (s[19] != '.' || !digits(s + 20, 6, &usec)))
		return false;
	if (tm.tm_year < 1 || tm.tm_mon < 1 || tm.tm_mon > MONTHS_PER_YEAR ||
		tm.tm_mday < 1 || tm.tm_mday > day_tab[isleap(tm.tm_year)][tm.tm_mon - 1] ||
		tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return false;
	if (tm2timestamp(&tm, usec, NULL, &ts) != 0)
		return false;
	*out = ts;
	return true;
}

bool
vt_rv_past_time(const char *s, size_t len, TimestampTz *out)
{
	TimestampTz ts;

	/* a day of clock skew between servers at most */
	if (!vt_rv_time(s, len, &ts) || ts > GetCurrentTimestamp() + USECS_PER_DAY)
		return false;
	*out = ts;
	return true;
}

bool
vt_rv_int(const char *s, size_t len, int64 min, int64 max, int64 *out)
{
	size_t		i = 0;
	bool		negative = false;
	int64		v = 0;

	if (s == NULL || len == 0 || len > 19)
		return false;
	if (s[0] == '-')
	{
		negative = true;
		i = 1;
		if (len == 1)
			return false;
	}
	for (; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');	/* 18 digits at most: no overflow */
	}
	if (negative)
		v = -v;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool
vt_rv_is_uuid(const char *s, size_t len)
{
	size_t		i;

	if (s == NULL || len != 36)
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (c != '-')
				return false;
		}
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

bool
vt_rv_is_hex(const char *s, size_t len, size_t min_len, size_t max_len)
{
	size_t		i;

	if (s == NULL || len < min_len || len > max_len)
		return false;
	for (i = 0; i < len; i++)
	{
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

/*
 * Nesting is checked before parsing: the parser recurses, and a deep
 * document would end in a stack-depth ERROR.  Visitor entries are flat.
 */
static bool
is_flat_object_text(const char *s, size_t len)
{
	bool		in_string = false;
	int			depth = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == '[' || (c == '{' && ++depth > 1))
			return false;
	}
	return true;
}

typedef struct FlatCheck
{
	int			depth;
	bool		ok;
} FlatCheck;

static void
flat_object_start(void *state)
{
	((FlatCheck *) state)->depth++;
}

/*
 * jsonb stores numbers as numeric, which refuses huge exponents: accept
 * plain numbers only, which is what visittrack writes.
 */
static void
flat_scalar(void *state, char *token, JsonTokenType type)
{
	FlatCheck  *check = state;

	if (check->depth == 0)
		check->ok = false;		/* a bare scalar, not an object */
	else if (type == JSON_TOKEN_NUMBER &&
			 (strlen(token) > 30 || strpbrk(token, "eE") != NULL))
		check->ok = false;
}

bool
vt_rv_is_flat_json_object(const char *s, size_t len)
{
	FlatCheck	check = {0, true};
	JsonSemAction sem = {0};
	JsonLexContext *lex;
	char	   *copy;

	if (len == 0 || len > MaxAllocSize / 2 || s[0] != '{' ||
		!vt_rv_is_text(s, len) || !is_flat_object_text(s, len))
		return false;
	copy = pnstrdup(s, len);
	sem.semstate = &check;
	sem.object_start = flat_object_start;
	sem.scalar = flat_scalar;
	/* with de-escaping, as jsonb_in: \u0000 and bad surrogates are refused */
	lex = makeJsonLexContextCstringLen(copy, (int) len, GetDatabaseEncoding(), true);
	if (pg_parse_json(lex, &sem) != JSON_SUCCESS)
		check.ok = false;
	pfree(copy);
	return check.ok;
}
