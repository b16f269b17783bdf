/*
 * hotstore_types.h: the records of the hot state, and what a hot-state
 * backend implements.
 *
 * The bottom of the hot store: both backends (hotstore_redis.h,
 * hotstore_local.h), the reply checks, the anonymous cache and the outage
 * bookkeeping include this header, never the dispatcher's (hotstore.h).
 */
#ifndef VT_HOTSTORE_TYPES_H
#define VT_HOTSTORE_TYPES_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

/* session:{session_id} */
typedef struct HotSession
{
	char	   *session_id;
	char	   *user_id;
	char	   *username;		/* NULL when unknown */
	char	   *ip_address;		/* NULL when not stored */
	char	   *device_fingerprint; /* NULL when not given */
	char	   *fast_fingerprint;	/* NULL without ip and user agent */
	bool		persistent;
	bool		is_active;
	TimestampTz started_at;
	TimestampTz expires_at;
	TimestampTz last_activity;
	int32		pages_visited;
} HotSession;

/* anon_session:{fingerprint}: one page view of an anonymous visitor */
typedef struct HotAnonTouch
{
	/* in */
	const char *fingerprint;
	const char *new_session_id; /* used when a new session starts */
	TimestampTz now;
	const char *url;
	const char *referrer;		/* may be NULL */
	int			ttl_seconds;

	/*
	 * Set by the dispatcher when PostgreSQL stands in for Redis: without a
	 * live session, look for one the visitor's page views show (a session
	 * Redis held when it became unreachable).
	 */
	bool		continue_from_views;

	/* out */
	char	   *session_id;
	TimestampTz started_at;
	int32		pages_visited;
	char	   *landing_page;
	char	   *first_referrer;
	bool		is_new;
	TimestampTz prev_view_at;	/* viewed_at of the previous view, 0 if none */
} HotAnonTouch;

/* state of a live anonymous session */
typedef struct HotAnon
{
	char	   *fingerprint;
	char	   *session_id;
	TimestampTz started_at;
	TimestampTz last_activity;
	int32		pages_visited;
	char	   *current_page;
	char	   *landing_page;
	char	   *referrer;
	TimestampTz last_view_at;	/* viewed_at of the latest view, 0 if unknown */
} HotAnon;

/* one visit to community:{id}:visitors */
typedef struct HotVisit
{
	char	   *community_id;
	char	   *visitor_key;	/* user id, or "anon_" + fingerprint */
	bool		is_authenticated;
	char	   *json_fields;	/* visitor fields as JSON members, no braces */
	TimestampTz now;
	int			window_seconds;
} HotVisit;

/* a Redis key that could not be updated or deleted during an outage */
typedef struct HotStaleKey
{
	const char *kind;			/* "session", "anon_session" or "visitor" */
	char	   *id;				/* session id, fingerprint or visitor key */
} HotStaleKey;

/* one visitor as the local store holds it (for reconciliation) */
typedef struct HotVisitor
{
	HotVisit	visit;			/* now = last seen */
	int32		pages_viewed;
	TimestampTz first_seen;
} HotVisitor;

/*
 * What both backends implement, each slot meaningful in both: anonymous
 * sessions and community presence.  A Redis slot returns false when Redis
 * could not be used (the dispatcher then falls back to PostgreSQL); a local
 * slot always returns true or raises an ERROR.
 *
 * What only one backend can do is a named call in its own header instead:
 * signed-in sessions (Redis caches them; without Redis user_session is the
 * truth), pipelined batches and the merges of reconciliation
 * (hotstore_redis.h), taking the outage's state back out of PostgreSQL
 * (hotstore_local.h).
 */
typedef struct HotStoreOps
{
	bool		(*anon_touch) (HotAnonTouch *t);
	bool		(*anon_fetch) (const char *fingerprint, int ttl_seconds, HotAnon *out, bool *found);
	bool		(*anon_remove) (const char *fingerprint);

	bool		(*visit_record) (const HotVisit *v);
	bool		(*visit_counts) (const char *community_id, TimestampTz now, int window_seconds,
								 int *authenticated, int *anonymous);
	bool		(*visitors) (const char *community_id, TimestampTz now, int window_seconds,
							 List **out);	/* of char * JSON */
	bool		(*visitor_forget) (const char *visitor_key, int64 *removed);
} HotStoreOps;

#endif
