/*
 * keyspace.c: the prefix in front of every Redis key (keyspace.h).
 *
 * The default prefix is derived from the cluster's system identifier and
 * the database's OID: unique per database and per cluster, unchanged by
 * ALTER DATABASE ... RENAME and by a failover to a physical standby (same
 * identifier), new after a dump and restore or pg_upgrade (a new namespace
 * starts empty, like a Redis restart).  Neither needs a catalog lookup, so
 * keys can be built outside a transaction (writers, commit callbacks).
 */
#include "postgres.h"

#include "access/xlog.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "guc.h"
#include "keyspace.h"

const char *
vt_key_prefix(void)
{
	static char derived[VT_KEY_PREFIX_MAX];
	static Oid	derived_for = InvalidOid;

	if (vt_redis_prefix && vt_redis_prefix[0])
		return vt_redis_prefix;
	if (derived_for != MyDatabaseId || derived[0] == '\0')
	{
		/* 3 + 16 + 1 + 10 + 1 bytes: well inside VT_KEY_PREFIX_MAX */
		snprintf(derived, sizeof(derived), "vt.%016llx.%u:",
				 (unsigned long long) GetSystemIdentifier(), MyDatabaseId);
		derived_for = MyDatabaseId;
	}
	return derived;
}

bool
vt_key_prefix_is_valid(const char *prefix, const char **why)
{
	size_t		len = strlen(prefix);
	size_t		i;

	if (len == 0)
		return true;			/* the database's own prefix */
	if (len > VT_KEY_PREFIX_MAX)
	{
		*why = "The prefix is limited to 64 bytes.";
		return false;
	}
	if (len < 2 || prefix[len - 1] != ':')
	{
		*why = "A prefix is a name followed by one \":\", for example \"myapp:\".";
		return false;
	}
	for (i = 0; i + 1 < len; i++)
	{
		unsigned char c = (unsigned char) prefix[i];

		if (c == ':')
		{
			*why = "A prefix holds exactly one \":\", at its end, so that no key under one prefix can equal a key under another.";
			return false;
		}
		if (c <= ' ' || c >= 0x7f)
		{
			*why = "Use printable ASCII characters without spaces, for example \"myapp:\".";
			return false;
		}
	}
	return true;
}

char *
vt_key_glob_escape(const char *s)
{
	StringInfoData out;

	initStringInfo(&out);
	for (; *s; s++)
	{
		if (strchr("*?[]\\", *s))
			appendStringInfoChar(&out, '\\');
		appendStringInfoChar(&out, *s);
	}
	return out.data;
}
