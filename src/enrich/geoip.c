/*
 * geoip.c: geolocate(ip inet) over a MaxMind-format database.
 *
 * The database is memory-mapped once per backend (libmaxminddb, malloc'd
 * state freed by MMDB_close) and opened again when visittrack.geoip_database
 * changes; an empty setting closes it and geolocation answers NULL.  Names
 * are taken in English.  Works with City and Country databases alike:
 * fields the database does not have are left out.  IPv4-mapped IPv6
 * addresses (::ffff:a.b.c.d) are looked up as the IPv4 address.
 */
#include "postgres.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <maxminddb.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/inet.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "enrich_guc.h"
#include "geoip.h"

PG_FUNCTION_INFO_V1(vt_geolocate_sql);

static MMDB_s db;
static bool db_open = false;
static char *db_path = NULL;	/* in TopMemoryContext */

/* Close the database, if one is open, and forget its path. */
static void
close_db(void)
{
	if (db_open)
		MMDB_close(&db);
	db_open = false;
	if (db_path)
		pfree(db_path);
	db_path = NULL;
}

/* Opens the configured database if needed; false when none is configured. */
static bool
ensure_db(void)
{
	const char *path = vt_geoip_database ? vt_geoip_database : "";
	int			status;

	if (path[0] == '\0')
	{
		close_db();
		return false;
	}
	if (db_open && strcmp(db_path, path) == 0)
		return true;
	close_db();
	status = MMDB_open(path, MMDB_MODE_MMAP, &db);
	if (status != MMDB_SUCCESS)
	{
		int			save_errno = errno;
		bool		missing = access(path, F_OK) != 0;

		if (status == MMDB_IO_ERROR || status == MMDB_FILE_OPEN_ERROR)
		{
			errno = save_errno;
			ereport(ERROR,
					(missing ? errcode(ERRCODE_UNDEFINED_FILE) : errcode_for_file_access(),
					 errmsg("could not open GeoIP database \"%s\": %s", path,
							MMDB_strerror(status)),
					 errhint("Set visittrack.geoip_database to a readable MaxMind-format (.mmdb) file, or to '' to turn geolocation off.")));
		}
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("\"%s\" is not a usable MaxMind-format database: %s", path,
						MMDB_strerror(status)),
				 errhint("Set visittrack.geoip_database to a MaxMind-format (.mmdb) file, or to '' to turn geolocation off.")));
	}
	db_open = true;
	db_path = MemoryContextStrdup(TopMemoryContext, path);
	return true;
}

/* A UTF-8 string value at a path of the entry, in the database encoding. */
static char *
string_at(MMDB_entry_s *entry, const char *const *path)
{
	MMDB_entry_data_s data;

	if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
		data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size == 0)
		return NULL;
	return pg_any_to_server(pnstrdup(data.utf8_string, data.data_size),
							data.data_size, PG_UTF8);
}

/* The number at path in entry (double or float), if there is one. */
static bool
double_at(MMDB_entry_s *entry, const char *const *path, double *out)
{
	MMDB_entry_data_s data;

	if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data)
		return false;
	if (data.type == MMDB_DATA_TYPE_DOUBLE)
		*out = data.double_value;
	else if (data.type == MMDB_DATA_TYPE_FLOAT)
		*out = data.float_value;
	else
		return false;
	return true;
}

/* Append "key": value to the JSON object in buf; nothing for NULL. */
static void
add_string(StringInfo buf, const char *key, const char *value)
{
	if (value == NULL)
		return;
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	escape_json(buf, value);
}

static void
add_double(StringInfo buf, const char *key, MMDB_entry_s *entry, const char *const *path)
{
	double		v;

	if (!double_at(entry, path, &v))
		return;
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfo(buf, ": %.15g", v);
}

/* ::ffff:a.b.c.d is looked up as a.b.c.d */
static bool
is_v4_mapped(const inet *ip)
{
	static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return ip_family(ip) == PGSQL_AF_INET6 &&
		memcmp(ip_addr(ip), prefix, sizeof(prefix)) == 0;
}

/*
 * The location of an address as a JSON object text (country, country_code,
 * region, city, latitude, longitude: those the database has), or NULL when
 * no database is configured or the address is in no network of it.  ERROR
 * when the database cannot be opened.
 */
static char *
geolocate(const inet *ip)
{
	static const char *const country[] = {"country", "names", "en", NULL};
	static const char *const registered[] = {"registered_country", "names", "en", NULL};
	static const char *const country_code[] = {"country", "iso_code", NULL};
	static const char *const registered_code[] = {"registered_country", "iso_code", NULL};
	static const char *const region[] = {"subdivisions", "0", "names", "en", NULL};
	static const char *const city[] = {"city", "names", "en", NULL};
	static const char *const latitude[] = {"location", "latitude", NULL};
	static const char *const longitude[] = {"location", "longitude", NULL};
	struct sockaddr_storage ss;
	MMDB_lookup_result_s result;
	int			mmdb_error = MMDB_SUCCESS;
	StringInfoData buf;
	char	   *name;

	if (!ensure_db())
		return NULL;

	memset(&ss, 0, sizeof(ss));
	if (ip_family(ip) == PGSQL_AF_INET || is_v4_mapped(ip))
	{
		struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip_addr(ip) + (ip_family(ip) == PGSQL_AF_INET ? 0 : 12), 4);
	}
	else
	{
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip_addr(ip), 16);
	}
	result = MMDB_lookup_sockaddr(&db, (struct sockaddr *) &ss, &mmdb_error);
	if (mmdb_error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
		return NULL;
	if (mmdb_error != MMDB_SUCCESS)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("lookup in GeoIP database \"%s\" failed: %s", db_path,
						MMDB_strerror(mmdb_error))));
	if (!result.found_entry)
		return NULL;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	name = string_at(&result.entry, country);
	add_string(&buf, "country", name ? name : string_at(&result.entry, registered));
	name = string_at(&result.entry, country_code);
	add_string(&buf, "country_code", name ? name : string_at(&result.entry, registered_code));
	add_string(&buf, "region", string_at(&result.entry, region));
	add_string(&buf, "city", string_at(&result.entry, city));
	add_double(&buf, "latitude", &result.entry, latitude);
	add_double(&buf, "longitude", &result.entry, longitude);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

void
vt_geoip_describe(StringInfo buf)
{
	const char *path = vt_geoip_database ? vt_geoip_database : "";

	appendStringInfoString(buf, "{\"database\": ");
	if (path[0])
		escape_json(buf, path);
	else
		appendStringInfoString(buf, "null");
	if (db_open && strcmp(db_path, path) == 0)
	{
		appendStringInfoString(buf, ", \"open\": true, \"type\": ");
		escape_json(buf, db.metadata.database_type ? db.metadata.database_type : "");
		appendStringInfo(buf, ", \"build_epoch\": " UINT64_FORMAT,
						 (uint64) db.metadata.build_epoch);
	}
	else
		appendStringInfoString(buf, ", \"open\": false");
	appendStringInfoChar(buf, '}');
}

/* geolocate(ip inet) RETURNS jsonb */
Datum
vt_geolocate_sql(PG_FUNCTION_ARGS)
{
	char	   *json = geolocate(PG_GETARG_INET_PP(0));

	if (json == NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}
