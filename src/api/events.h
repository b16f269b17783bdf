/*
 * events.h: user_event rows, for log_event and the functions that write
 * events of their own (community_visit, link_conversion).
 */
#ifndef VT_EVENTS_H
#define VT_EVENTS_H

#include "utils/inet.h"
#include "utils/jsonb.h"

#include "kind_event.h"
#include "write_mode.h"

/* ERROR unless metadata is a JSON object of acceptable size */
extern void vt_check_metadata(Jsonb *metadata);

/*
 * An event of a signed-in user as its row (kind_event.h): the ip as
 * visittrack.ip_anonymize stores it, created at the call's now().
 */
extern void vt_event_row(VtEventRow *row, const char *user_id, const char *event_type,
						 const char *description, Jsonb *metadata,
						 inet *ip, const char *user_agent);

/* Write it now, or queue it at commit for the writer, as mode says. */
extern void vt_event_record(const VtEventRow *row, VtWriteMode mode);

/* Insert one event for a signed-in user (uuid datum) now; returns its id. */
extern int64 vt_event_insert(Datum user_id, const char *event_type,
							 const char *description, Jsonb *metadata,
							 inet *ip, const char *user_agent);

#endif
