/*
 * geoip.h: IP geolocation from a MaxMind-format database (libmaxminddb),
 * the file visittrack.geoip_database names.
 */
#ifndef VT_GEOIP_H
#define VT_GEOIP_H

#include "lib/stringinfo.h"
#include "utils/inet.h"

/*
 * The location of an address as a JSON object text (country, country_code,
 * region, city, latitude, longitude: those the database has), or NULL when
 * no database is configured or the address is in no network of it.  ERROR
 * when the database cannot be opened.
 */
extern char *vt_geolocate(const inet *ip);

/* Appends a JSON object describing the configured database. */
extern void vt_geoip_describe(StringInfo buf);

#endif
