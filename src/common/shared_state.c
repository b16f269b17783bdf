/*
 * shared_state.c: run-time state shared by all backends when preloaded.
 *
 * Locking rules:
 *  - counters are pg_atomic_uint64, updated and read without locks;
 *  - the Redis "up" flag, target and retry time are atomics so that the hot
 *    path decides whether to try Redis without taking a lock; admission of
 *    the one backend that probes a down Redis is a compare-and-swap on
 *    retry_at;
 *  - the text fields (last error) and timestamps that go with them are
 *    written and read under the "visittrack" LWLock.
 * Without shared_preload_libraries the same record lives in backend-local
 * memory and describes this backend only.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "shared_state.h"

/*
 * The data-epoch marker is kept per key namespace (Redis server and key
 * prefix: each database has its own by default), so that backends of two
 * databases sharing one Redis do not take each other's markers for a Redis
 * that lost its data.  Slots are read without a lock; taken and changed
 * under the LWLock.  With more namespaces than slots, the least recently
 * changed slot is reused (its namespace then sees no reset once).
 */
#define VT_EPOCH_SLOTS 16
typedef struct VtEpochSlot
{
	pg_atomic_uint32 ns;		/* namespace hash; 0 free */
	pg_atomic_uint64 epoch;		/* marker value last seen */
	pg_atomic_uint64 reset_at;	/* TimestampTz; 0 never */
	pg_atomic_uint64 changed_at;	/* TimestampTz */
} VtEpochSlot;

typedef struct VtShared
{
	LWLock	   *lock;
	pg_atomic_uint64 counters[VT_COUNTER_COUNT];

	pg_atomic_uint32 redis_up;
	pg_atomic_uint32 redis_target;
	pg_atomic_uint64 redis_retry_at;	/* TimestampTz */
	VtEpochSlot epochs[VT_EPOCH_SLOTS];	/* per key namespace; see below */
	TimestampTz redis_since;
	TimestampTz redis_error_at;
	char		redis_error[256];

	pg_atomic_uint64 local_writes;	/* see vt_local_backlog_note_write */
	pg_atomic_uint64 local_writes_cleared;
	pg_atomic_uint64 local_writes_last_empty;	/* counter at the last empty round */

	pg_atomic_uint32 worker_pid;
	Latch	   *worker_latch;	/* in shared memory (PGPROC); under lock */
	TimestampTz worker_last_run;
	TimestampTz worker_error_at;
	char		worker_error[256];

	TimestampTz reconcile_at;
	int64		reconcile_copied;
} VtShared;

static VtShared *shared = NULL;		/* in shared memory when preloaded */
static VtShared local_state;		/* otherwise */
static bool local_initialised = false;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static const char *const counter_names[VT_COUNTER_COUNT] = {
	"redis_commands",
	"redis_failures",
	"redis_timeouts",
	"redis_skipped",
	"fallback_calls",
	"deferred_writes",
	"reconciled",
	"page_views",
	"sessions_started",
	"community_visits",
	"events_logged",
	"redis_rejected",
	"ua_regex_limits"
};

/* A fresh record: counters at zero, Redis taken as up, no worker. */
static void
init_record(VtShared *s)
{
	int			i;

	for (i = 0; i < VT_COUNTER_COUNT; i++)
		pg_atomic_init_u64(&s->counters[i], 0);
	pg_atomic_init_u32(&s->redis_up, 1);
	pg_atomic_init_u32(&s->redis_target, 0);
	pg_atomic_init_u64(&s->redis_retry_at, 0);
	for (i = 0; i < VT_EPOCH_SLOTS; i++)
	{
		pg_atomic_init_u32(&s->epochs[i].ns, 0);
		pg_atomic_init_u64(&s->epochs[i].epoch, 0);
		pg_atomic_init_u64(&s->epochs[i].reset_at, 0);
		pg_atomic_init_u64(&s->epochs[i].changed_at, 0);
	}
	s->redis_since = 0;
	s->redis_error_at = 0;
	s->redis_error[0] = '\0';
	pg_atomic_init_u64(&s->local_writes, 0);
	pg_atomic_init_u64(&s->local_writes_cleared, 0);
	pg_atomic_init_u64(&s->local_writes_last_empty, PG_UINT64_MAX);
	pg_atomic_init_u32(&s->worker_pid, 0);
	s->worker_latch = NULL;
	s->worker_last_run = 0;
	s->worker_error_at = 0;
	s->worker_error[0] = '\0';
	s->reconcile_at = 0;
	s->reconcile_copied = 0;
}

/*
 * The record in use: in shared memory when preloaded, else this
 * backend's own (made on first use).
 */
static VtShared *
state(void)
{
	if (shared)
		return shared;
	if (!local_initialised)
	{
		init_record(&local_state);
		local_initialised = true;
	}
	return &local_state;
}

static void
lock_state(LWLockMode mode)
{
	if (shared)
		LWLockAcquire(shared->lock, mode);
}

static void
unlock_state(void)
{
	if (shared)
		LWLockRelease(shared->lock);
}

/* shmem_startup_hook: find or make the record in shared memory. */
static void
startup_shmem(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("visittrack", sizeof(VtShared), &found);
	if (!found)
	{
		init_record(shared);
		shared->lock = &(GetNamedLWLockTranche("visittrack"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* called from the shmem_request_hook */
void
vt_state_request_shmem(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(VtShared)));
	RequestNamedLWLockTranche("visittrack", 1);
}

/* called from _PG_init while preloading */
void
vt_state_startup_shmem(void)
{
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = startup_shmem;
}

bool
vt_state_is_shared(void)
{
	return shared != NULL;
}

void
vt_count(VtCounter counter, uint64 n)
{
	pg_atomic_fetch_add_u64(&state()->counters[counter], n);
}

uint64
vt_counter_value(VtCounter counter)
{
	return pg_atomic_read_u64(&state()->counters[counter]);
}

const char *
vt_counter_name(VtCounter counter)
{
	return counter_names[counter];
}

/*
 * May this call talk to Redis?  Yes while Redis is believed up.  While it is
 * down, only the one caller that wins the retry_at compare-and-swap after the
 * retry interval has passed gets to probe it; everybody else is told no at
 * once, so an outage costs one timeout per interval, not one per call.
 */
bool
vt_redis_health_admit(uint32 target, int retry_interval_ms)
{
	VtShared   *s = state();
	uint64		retry_at;
	TimestampTz now;

	if (pg_atomic_read_u32(&s->redis_target) != target)
		return true;			/* nothing known about this server */
	if (pg_atomic_read_u32(&s->redis_up))
		return true;

	retry_at = pg_atomic_read_u64(&s->redis_retry_at);
	now = GetCurrentTimestamp();
	if (now < (TimestampTz) retry_at)
		return false;
	return pg_atomic_compare_exchange_u64(&s->redis_retry_at, &retry_at,
										  (uint64) TimestampTzPlusMilliseconds(now, retry_interval_ms));
}

/* The server "target" was the last one seen, and it was down. */
static bool
redis_known_down(uint32 target)
{
	VtShared   *s = state();

	return pg_atomic_read_u32(&s->redis_target) == target &&
		!pg_atomic_read_u32(&s->redis_up);
}

/* Known down and not yet time to probe: lock-free, for every call. */
bool
vt_redis_health_waiting(uint32 target)
{
	VtShared   *s = state();

	return redis_known_down(target) &&
		GetCurrentTimestamp() < (TimestampTz) pg_atomic_read_u64(&s->redis_retry_at);
}

/*
 * Redis (target) failed: mark it down with its message, no new probe
 * before retry_interval_ms.
 */
void
vt_redis_health_failed(uint32 target, const char *message, int retry_interval_ms)
{
	VtShared   *s = state();
	TimestampTz now = GetCurrentTimestamp();

	lock_state(LW_EXCLUSIVE);
	if (pg_atomic_read_u32(&s->redis_up) || pg_atomic_read_u32(&s->redis_target) != target)
		s->redis_since = now;
	pg_atomic_write_u32(&s->redis_target, target);
	pg_atomic_write_u64(&s->redis_retry_at,
						(uint64) TimestampTzPlusMilliseconds(now, retry_interval_ms));
	pg_atomic_write_u32(&s->redis_up, 0);
	s->redis_error_at = now;
	strlcpy(s->redis_error, message, sizeof(s->redis_error));
	unlock_state();
}

/* Wake the background worker now (its latch), if it is running. */
static void
wake_worker(void)
{
	Latch	   *latch;

	if (!shared)
		return;					/* no worker without preloading */
	lock_state(LW_SHARED);
	latch = shared->worker_latch;
	if (latch)
		SetLatch(latch);
	unlock_state();
}

/*
 * Redis (target) answered: mark it up; on recovery from an outage with
 * hot state waiting, wake the worker to copy it back.
 */
void
vt_redis_health_ok(uint32 target)
{
	VtShared   *s = state();
	bool		recovered = false;

	if (pg_atomic_read_u32(&s->redis_up) && pg_atomic_read_u32(&s->redis_target) == target)
		return;					/* the common case: nothing changes */

	lock_state(LW_EXCLUSIVE);
	if (!pg_atomic_read_u32(&s->redis_up) || pg_atomic_read_u32(&s->redis_target) != target)
	{
		s->redis_since = GetCurrentTimestamp();
		recovered = true;
	}
	pg_atomic_write_u32(&s->redis_target, target);
	pg_atomic_write_u32(&s->redis_up, 1);
	unlock_state();

	/* Redis is back: have the worker copy the outage's hot state to it now */
	if (recovered && vt_local_backlog_pending())
		wake_worker();
}

/* The epoch slot of key namespace ns, or NULL. */
static VtEpochSlot *
epoch_slot(VtShared *s, uint32 ns)
{
	int			i;

	for (i = 0; i < VT_EPOCH_SLOTS; i++)
		if (pg_atomic_read_u32(&s->epochs[i].ns) == ns)
			return &s->epochs[i];
	return NULL;
}

void
vt_redis_epoch_seen(uint32 ns, uint64 epoch)
{
	VtShared   *s = state();
	VtEpochSlot *slot;
	uint64		now = (uint64) GetCurrentTimestamp();

	if (ns == 0)
		ns = 1;					/* 0 marks a free slot */
	slot = epoch_slot(s, ns);
	if (slot != NULL && pg_atomic_read_u64(&slot->epoch) == epoch)
		return;
	lock_state(LW_EXCLUSIVE);
	slot = epoch_slot(s, ns);
	if (slot == NULL)
	{
		int			i;

		/* first time seen: a free slot, or the least recently changed */
		slot = &s->epochs[0];
		for (i = 0; i < VT_EPOCH_SLOTS; i++)
			if (pg_atomic_read_u64(&s->epochs[i].changed_at) <
				pg_atomic_read_u64(&slot->changed_at))
				slot = &s->epochs[i];
		pg_atomic_write_u64(&slot->reset_at, 0);
		pg_atomic_write_u64(&slot->epoch, epoch);
		pg_atomic_write_u32(&slot->ns, ns);
	}
	else if (pg_atomic_read_u64(&slot->epoch) != epoch)
	{
		/* the marker changed: Redis lost this namespace's data */
		pg_atomic_write_u64(&slot->epoch, epoch);
		pg_atomic_write_u64(&slot->reset_at, now);
	}
	pg_atomic_write_u64(&slot->changed_at, now);
	unlock_state();
}

TimestampTz
vt_redis_reset_at(uint32 ns)
{
	VtEpochSlot *slot = epoch_slot(state(), ns == 0 ? 1 : ns);

	return slot ? (TimestampTz) pg_atomic_read_u64(&slot->reset_at) : 0;
}

void
vt_local_backlog_note_write(void)
{
	pg_atomic_fetch_add_u64(&state()->local_writes, 1);
}

uint64
vt_local_backlog_writes(void)
{
	return pg_atomic_read_u64(&state()->local_writes);
}

/*
 * Cleared only when two consecutive rounds found nothing and saw the same
 * counter: a write counted before the first round but not yet committed
 * would have been found by the second.
 */
void
vt_local_backlog_round(uint64 writes_seen, bool found_nothing)
{
	VtShared   *s = state();

	if (found_nothing && pg_atomic_read_u64(&s->local_writes_last_empty) == writes_seen)
		pg_atomic_write_u64(&s->local_writes_cleared, writes_seen);
	pg_atomic_write_u64(&s->local_writes_last_empty, found_nothing ? writes_seen : PG_UINT64_MAX);
}

bool
vt_local_backlog_pending(void)
{
	VtShared   *s = state();

	return pg_atomic_read_u64(&s->local_writes) != pg_atomic_read_u64(&s->local_writes_cleared);
}

void
vt_redis_health_snapshot(VtRedisHealth *out)
{
	VtShared   *s = state();

	lock_state(LW_SHARED);
	out->up = pg_atomic_read_u32(&s->redis_up) != 0;
	out->since = s->redis_since;
	out->last_error_at = s->redis_error_at;
	strlcpy(out->last_error, s->redis_error, sizeof(out->last_error));
	out->retry_at = (TimestampTz) pg_atomic_read_u64(&s->redis_retry_at);
	unlock_state();
}

void
vt_worker_set_pid(int pid)
{
	pg_atomic_write_u32(&state()->worker_pid, (uint32) pid);
}

/* A worker round ended at "at"; error (NULL: none) is shown by status(). */
void
vt_worker_round_done(TimestampTz at, const char *error)
{
	VtShared   *s = state();

	lock_state(LW_EXCLUSIVE);
	s->worker_last_run = at;
	if (error)
	{
		s->worker_error_at = at;
		strlcpy(s->worker_error, error, sizeof(s->worker_error));
	}
	unlock_state();
}

void
vt_worker_set_latch(Latch *latch)
{
	lock_state(LW_EXCLUSIVE);
	state()->worker_latch = latch;
	unlock_state();
}

int
vt_worker_pid(void)
{
	return (int) pg_atomic_read_u32(&state()->worker_pid);
}

/* A time of the shared state, read under the lock. */
static TimestampTz
read_time(const TimestampTz *field)
{
	TimestampTz t;

	lock_state(LW_SHARED);
	t = *field;
	unlock_state();
	return t;
}

TimestampTz
vt_worker_last_run(void)
{
	return read_time(&state()->worker_last_run);
}

TimestampTz
vt_worker_last_error_at(void)
{
	return read_time(&state()->worker_error_at);
}

void
vt_worker_last_error(char *buf, size_t len)
{
	lock_state(LW_SHARED);
	strlcpy(buf, state()->worker_error, len);
	unlock_state();
}

void
vt_reconcile_note(TimestampTz at, int64 copied)
{
	VtShared   *s = state();

	lock_state(LW_EXCLUSIVE);
	s->reconcile_at = at;
	s->reconcile_copied += copied;
	unlock_state();
}

void
vt_reconcile_snapshot(TimestampTz *at, int64 *copied)
{
	VtShared   *s = state();

	lock_state(LW_SHARED);
	*at = s->reconcile_at;
	*copied = s->reconcile_copied;
	unlock_state();
}
