/*
 * isotime.h: timestamps as the strings stored in Redis and JSON
 * ("2025-10-10T14:00:00Z", with microseconds when there are any).
 */
#ifndef VT_ISOTIME_H
#define VT_ISOTIME_H

#include "datatype/timestamp.h"

#define VT_ISO_BUFLEN 32

extern void vt_iso_format(TimestampTz ts, char *buf);	/* buf: VT_ISO_BUFLEN */

/* milliseconds since the Unix epoch (Redis sorted-set scores) */
extern int64 vt_epoch_ms(TimestampTz ts);

#endif
