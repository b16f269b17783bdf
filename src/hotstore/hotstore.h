/*
 * hotstore.h: short-lived state ("hot state") behind one interface.
 *
 * Two backends implement it: Redis (hotstore_redis.c, the design document's
 * key layout) and PostgreSQL itself (hotstore_local.c, unlogged tables),
 * used when no Redis is configured or Redis cannot be reached.  Callers
 * never know which one served them; hotstore.c chooses, falls back, and
 * applies writes that describe database rows at commit (commit_phases.h).
 *
 * Rollback rules (doc/operations.md):
 *  - session and signed-in presence writes happen only if the transaction
 *    commits;
 *  - the anonymous page counter (hot_anon_touch) is applied at once and
 *    survives a rollback, as a page view that was served is still a view.
 */
#ifndef VT_HOTSTORE_H
#define VT_HOTSTORE_H

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "write_mode.h"

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

/* --- signed-in sessions (Redis only; the table is the local truth) --- */
extern void hot_session_store(const HotSession *s, int ttl_seconds); /* at commit */
extern bool hot_session_fetch(const char *session_id, HotSession *out);
/* at commit; queued for the writer in mode VT_WRITE_BEHIND */
extern void hot_session_set_pages(const char *session_id, int32 pages,
								  TimestampTz at, VtWriteMode mode);
extern void hot_session_remove(const char *session_id);	/* at commit */

/* --- anonymous sessions --- */
/* at once; in mode VT_WRITE_BEHIND, counted in the shared-memory cache */
extern void hot_anon_touch(HotAnonTouch *t, VtWriteMode mode);
extern bool hot_anon_fetch(const char *fingerprint, int ttl_seconds, HotAnon *out);
extern void hot_anon_remove(const char *fingerprint);

/* --- community presence --- */
/* at commit; queued for the writer in mode VT_WRITE_BEHIND */
extern void hot_visit_record(const HotVisit *v, VtWriteMode mode);
extern void hot_visit_counts(const char *community_id, TimestampTz now, int window_seconds,
							 int *authenticated, int *anonymous);
extern List *hot_visitors(const char *community_id, TimestampTz now, int window_seconds);	/* of char * JSON */
extern int64 hot_visitor_forget(const char *visitor_key);

/*
 * Write-behind (write_queue.h), hotstore_batch.c: a visit or a session's
 * page count queued for the writer at commit, and the writer applying a
 * batch of them (pipelined to Redis; the local store for what Redis did
 * not take).
 */
extern void hot_visit_queue(const HotVisit *v);
/* a view counted in the anonymous cache (anon_cache.h), for Redis */
extern bool hot_anon_mirror_try_queue(const HotAnonTouch *t);
extern void hot_anon_mirror_now(const HotAnonTouch *t);
extern void hot_anon_mirrors_write(StringInfo *payloads, int n);
extern void hot_session_pages_queue(const char *session_id, int32 pages, TimestampTz at);
extern void hot_visits_write(StringInfo *payloads, int n);
extern void hot_session_pages_write(StringInfo *payloads, int n);

/* hotstore.c, for hotstore_batch.c */
extern void hot_count_fallback_write(void);
extern void hot_note_stale(const char *kind, const char *id);

/*
 * Copy what the local store holds while Redis was out of reach back to
 * Redis, and repair Redis keys that went stale.  Returns entries handled.
 */
extern int64 hot_reconcile(void);

/*
 * What a backend implements.  Redis operations return false when Redis
 * could not be used (the dispatcher then falls back); local ones always
 * succeed or raise an ERROR.
 */
typedef struct HotStoreOps
{
	bool		(*session_store) (const HotSession *s, int ttl_seconds);
	bool		(*session_fetch) (const char *session_id, HotSession *out, bool *found);
	bool		(*session_set_pages) (const char *session_id, int32 pages, TimestampTz at);
	/* several in one round trip (Redis only): session_id, pages_visited, last_activity */
	bool		(*session_set_pages_batch) (int n, const HotSession *sessions, bool *done);
	bool		(*session_remove) (const char *session_id);

	bool		(*anon_touch) (HotAnonTouch *t);
	bool		(*anon_fetch) (const char *fingerprint, int ttl_seconds, HotAnon *out, bool *found);
	bool		(*anon_remove) (const char *fingerprint);

	bool		(*visit_record) (const HotVisit *v);
	/* several in one round trip (Redis only); done[i]: visit i recorded */
	bool		(*visit_record_batch) (int n, const HotVisit *visits, bool *done);
	bool		(*visit_counts) (const char *community_id, TimestampTz now, int window_seconds,
								 int *authenticated, int *anonymous);
	bool		(*visitors) (const char *community_id, TimestampTz now, int window_seconds,
							 List **out);
	bool		(*visitor_forget) (const char *visitor_key, int64 *removed);

	/* reconciliation, Redis side: merge local state into Redis */
	bool		(*anon_touch_merged) (HotAnonTouch *t, const HotAnon *local);
	/* replace the session Redis just started by local, and count the view */
	bool		(*anon_touch_restart) (HotAnonTouch *t, const HotAnon *local);
	bool		(*anon_merge) (const HotAnon *local, int ttl_seconds);
	/* several in one round trip (Redis only); ttl_seconds[i] per session */
	bool		(*anon_merge_batch) (int n, const HotAnon *sessions, const int *ttl_seconds,
									 bool *done);
	bool		(*visit_merge) (const HotVisitor *v);

	/* reconciliation, local side: take (delete and return) what waits */
	List	   *(*anon_take) (int ttl_seconds); /* of HotAnon, live ones */
	List	   *(*visitors_take) (int window_seconds);	/* of HotVisitor, live ones */
	List	   *(*stale_keys_take) (void);	/* of HotStaleKey */
	void		(*note_stale) (const char *kind, const char *id);
	bool		(*is_stale) (const char *kind, const char *id);
	bool		(*has_outage_state) (void);

	/* the visitor's session that its page views show inside the window */
	bool		(*anon_from_views) (const char *fingerprint, int ttl_seconds, HotAnon *out);
} HotStoreOps;

extern const HotStoreOps vt_hotstore_redis;
extern const HotStoreOps vt_hotstore_local;

#endif
