/*
 * events.h: user_event rows, for log_event and the functions that write
 * events of their own (community_visit, link_conversion).
 */
#ifndef VT_EVENTS_H
#define VT_EVENTS_H

#include "utils/inet.h"
#include "utils/jsonb.h"

/* ERROR unless metadata is a JSON object of acceptable size */
extern void vt_check_metadata(Jsonb *metadata);

/* Insert one event for a signed-in user (uuid datum); returns its id. */
extern int64 vt_event_insert(Datum user_id, const char *event_type,
							 const char *description, Jsonb *metadata,
							 inet *ip, const char *user_agent);

#endif
