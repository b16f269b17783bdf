/*
 * guc.h: visittrack's settings (visittrack.*).
 */
#ifndef VT_GUC_H
#define VT_GUC_H

#include "utils/guc.h"

/* visittrack.ip_anonymize */
typedef enum VtIpAnonymize
{
	VT_IP_NONE,
	VT_IP_TRUNCATE,
	VT_IP_DROP
} VtIpAnonymize;

/* Redis connection */
extern char *vt_redis_host;
extern int	vt_redis_port;
extern char *vt_redis_password;	/* effective value (secrets.h) */
extern int	vt_redis_db;
extern int	vt_redis_timeout_ms;
extern char *vt_redis_prefix;
extern int	vt_redis_retry_interval_ms;

/* keys and privacy */
extern char *vt_fingerprint_secret;	/* effective value (secrets.h) */
extern int	vt_ip_anonymize;

/* windows and thresholds, in seconds unless stated */
extern int	vt_session_ttl;
extern int	vt_remember_me_ttl;
extern int	vt_anon_session_ttl;
extern int	vt_community_window;
extern int	vt_anon_persist_every;	/* pages */
extern int	vt_anon_retention;

/* commit of tracking transactions (async_commit.c) */
extern bool vt_async_commit;

/* write-behind (write_queue.h) */
extern bool vt_write_behind;
extern int	vt_write_queue_size;	/* kB */
extern int	vt_write_behind_delay;	/* ms */
extern int	vt_anon_cache_size;		/* entries (anon_cache.h) */

/* partition maintenance: longest lock wait, ms (read by its SQL) */
extern int	vt_maintenance_lock_timeout;

/* input normalisation */
extern int	vt_max_url_length;
extern int	vt_max_user_agent_length;

/* background worker */
extern char *vt_worker_database;
extern int	vt_worker_interval;
extern bool vt_worker_enabled;

/* the core settings; _PG_init also defines secrets' and enrichment's */
extern void vt_define_settings(void);


#endif
