/*
 * shared_state.h: what visittrack knows about itself at run time -- Redis health,
 * counters, the background worker -- kept in shared memory when the library
 * is preloaded and in backend-local memory otherwise.  status() reads it.
 */
#ifndef VT_SHARED_STATE_H
#define VT_SHARED_STATE_H

#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "utils/jsonb.h"

typedef enum VtCounter
{
	VT_REDIS_COMMANDS,			/* commands or pipelines sent to Redis */
	VT_REDIS_FAILURES,			/* connection-level failures (refused, EOF) */
	VT_REDIS_TIMEOUTS,			/* commands abandoned after redis_timeout_ms */
	VT_REDIS_SKIPPED,			/* calls that skipped Redis because it is down */
	VT_FALLBACK_CALLS,			/* hot-state operations served by PostgreSQL */
	VT_DEFERRED_WRITES,			/* Redis writes applied at commit */
	VT_RECONCILED,				/* hot-state entries copied back to Redis */
	VT_PAGE_VIEWS,
	VT_SESSIONS_STARTED,
	VT_COMMUNITY_VISITS,
	VT_EVENTS_LOGGED,
	VT_REDIS_REJECTED,			/* values read from Redis and ignored (redis_values.h) */
	VT_UA_REGEX_LIMITS,			/* user agents a rule gave up on: counted as bots */
	VT_COUNTER_COUNT
} VtCounter;

/* A copy of the Redis health record, for status(). */
typedef struct VtRedisHealth
{
	bool		up;
	TimestampTz since;			/* when it last changed state; 0 = never */
	TimestampTz last_error_at;
	char		last_error[256];
	TimestampTz retry_at;		/* while down: next probe */
} VtRedisHealth;

extern void vt_state_request_shmem(void);
extern void vt_state_startup_shmem(void);
extern bool vt_state_is_shared(void);

extern void vt_count(VtCounter counter, uint64 n);
extern uint64 vt_counter_value(VtCounter counter);
extern const char *vt_counter_name(VtCounter counter);

/*
 * Redis health.  "target" identifies the server (host, port, db) so that a
 * session pointed elsewhere does not read another server's health.
 */
extern bool vt_redis_health_admit(uint32 target, int retry_interval_ms);
extern void vt_redis_health_failed(uint32 target, const char *message,
								   int retry_interval_ms);
extern void vt_redis_health_ok(uint32 target);
extern bool vt_redis_health_waiting(uint32 target);	/* down, retry not due yet */
extern void vt_redis_health_snapshot(VtRedisHealth *out);

/*
 * Redis data epochs: a marker that each new connection reads tells whether
 * Redis lost its data (restarted empty, flushed) since it was last seen.
 * Kept per key namespace ns (the server and the key prefix:
 * vt_redis_namespace()).
 */
extern void vt_redis_epoch_seen(uint32 ns, uint64 epoch);
extern TimestampTz vt_redis_reset_at(uint32 ns);	/* 0: never seen a reset */

/*
 * Hot state written to PostgreSQL while Redis was configured but out of
 * reach, waiting to be copied back.  Every such write bumps a counter;
 * reconciliation, having found nothing left, records the counter value it
 * saw before looking.  Pending = the two differ.
 */
extern void vt_local_backlog_note_write(void);
extern uint64 vt_local_backlog_writes(void);
/* a reconciliation round: counter read before looking, found nothing? */
extern void vt_local_backlog_round(uint64 writes_seen, bool found_nothing);
extern bool vt_local_backlog_pending(void);

/* Background worker bookkeeping. */
extern void vt_worker_set_pid(int pid);
extern void vt_worker_set_latch(Latch *latch);
extern void vt_worker_round_done(TimestampTz at, const char *error);
extern int	vt_worker_pid(void);
extern TimestampTz vt_worker_last_run(void);
extern TimestampTz vt_worker_last_error_at(void);
extern void vt_worker_last_error(char *buf, size_t len);

/* Reconciliation bookkeeping: when it last ran, entries copied in all. */
extern void vt_reconcile_note(TimestampTz at, int64 copied);
extern void vt_reconcile_snapshot(TimestampTz *at, int64 *copied);

#endif
