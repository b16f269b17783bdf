/*
 * devicetype.h: the coarse device type of a visit (desktop, mobile,
 * tablet, bot, other) from ua-parser's device and OS families and a few
 * tokens of the user agent.  ua-parser names devices but does not class
 * them; the rules are in devicetype.c and doc/enrichment.md.
 */
#ifndef VT_DEVICETYPE_H
#define VT_DEVICETYPE_H

/* Returns a static string. */
extern const char *vt_device_type(const char *user_agent, const char *device_family,
								  const char *device_brand, const char *device_model,
								  const char *os_family);

#endif
