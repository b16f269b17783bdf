/*
 * geoip.h: IP geolocation from a MaxMind-format database (libmaxminddb),
 * the file visittrack.geoip_database names.
 */
#ifndef VT_GEOIP_H
#define VT_GEOIP_H

#include "lib/stringinfo.h"

/* Appends a JSON object describing the configured database. */
extern void vt_geoip_describe(StringInfo buf);

#endif
