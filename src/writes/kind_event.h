/*
 * kind_event.h: a signed-in user's event, its user_event row.
 *
 * The same rows and the same statement serve both write modes
 * (write_mode.h): log_event and link_conversion write their one row now
 * (they return its id); community_visit writes it now or queues it at
 * commit (vt_event_layout) for the rows writer, which writes a batch.
 */
#ifndef VT_KIND_EVENT_H
#define VT_KIND_EVENT_H

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

#include "queued_record.h"

typedef struct VtEventRow
{
	char	   *user_id;		/* canonical text form of the uuid */
	char	   *event_type;
	char	   *description;
	Jsonb	   *metadata;		/* a JSON object */
	char	   *ip;				/* as stored (visittrack.ip_anonymize applied) */
	char	   *user_agent;
	TimestampTz created_at;		/* the call's now() */
} VtEventRow;

/* its fields, for the queue (queued_record.h) */
extern const VtRecordLayout vt_event_layout;

/* Insert n events; ids (may be NULL) receives their ids, in row order. */
extern void vt_events_write(const VtEventRow *rows, int n, int64 *ids);

#endif
