/*
 * events.h: user_event rows, for log_event and the functions that write
 * events of their own (community_visit, link_conversion).
 */
#ifndef VT_EVENTS_H
#define VT_EVENTS_H

#include "lib/stringinfo.h"
#include "utils/inet.h"
#include "utils/jsonb.h"

/* ERROR unless metadata is a JSON object of acceptable size */
extern void vt_check_metadata(Jsonb *metadata);

/* Insert one event for a signed-in user (uuid datum); returns its id. */
extern int64 vt_event_insert(Datum user_id, const char *event_type,
							 const char *description, Jsonb *metadata,
							 inet *ip, const char *user_agent);

/*
 * Write-behind (write_queue.h): the same event queued at commit for the
 * writer, metadata as JSON text; and the writer inserting a batch of them.
 */
extern void vt_event_queue(const char *user_id, const char *event_type,
						   const char *description, const char *metadata_json,
						   inet *ip, const char *user_agent);
extern void vt_events_write(StringInfo *payloads, int n);

#endif
