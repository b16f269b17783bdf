/*
 * writer.c: the background processes that drain the write queue
 * (write_queue.h) into the tables and Redis: one for rows, one for hot
 * state, each with its own ring, so that the two proceed side by side.
 *
 * Idle, a writer sleeps until a record arrives; it then lets records gather
 * for visittrack.write_behind_delay (less when its ring is a quarter full
 * or somebody waits in flush_writes()), takes the oldest ones, groups them
 * by kind and writes each group with one statement (or one Redis
 * pipeline), all in one transaction.  The records leave the queue only
 * after that transaction commits.  A batch that fails for a passing reason
 * (a deadlock, a lock or statement timeout, a full disk, a serialization
 * failure) is retried whole a second later; one that fails otherwise is
 * retried one record at a time, each in its own transaction, and a record
 * that fails alone is logged and dropped, so one bad record never blocks
 * the queue.  The hot-state writer also sweeps expired sessions from the
 * cache of anonymous sessions (anon_cache.h).
 *
 * Stopping (pg_terminate_backend, a smart or fast shutdown: SIGTERM).  A
 * batch that is running is cancelled at once, even while it waits on a
 * lock: its transaction aborts and its records stay in the ring.  The
 * writer then stops taking records and drains its ring with a short
 * lock_timeout, giving up at the first batch that fails for a passing
 * reason, and exits with code 1: the postmaster restarts this writer
 * alone, and the next one writes what is left (unless the server is
 * stopping).  Records leave the ring in the commit of the transaction that
 * wrote them (an XACT_EVENT_COMMIT callback, run with interrupts held): a
 * batch is either committed and consumed, or neither, so no exit makes a
 * record be written twice.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "anon_cache.h"
#include "bgconnect.h"
#include "guc.h"
#include "hotstore.h"
#include "write_batch.h"
#include "write_queue.h"
#include "writer.h"

PGDLLEXPORT void vt_writer_main(Datum arg);

#define BATCH_RECORDS 10000
#define BATCH_BYTES (4 * 1024 * 1024)
#define IDLE_WAIT_MS 1000		/* nothing queued: look again after this */

/*
 * The writer sends a whole batch to Redis in one pipeline, which takes
 * longer than one request's command: it waits at least this long before
 * declaring Redis unreachable.
 */
#define WRITER_REDIS_TIMEOUT_MS 2000

#define SWEEP_EVERY_MS 10000
#define RETRY_AFTER_MS 1000		/* after a batch failed for a passing reason */

/*
 * While stopping, a batch waits no longer than this for a lock: a lock held
 * by a session must not keep an operator's pg_terminate_backend waiting.
 */
#define STOPPING_LOCK_TIMEOUT_MS 1000

static volatile sig_atomic_t stop_requested = false;
static volatile sig_atomic_t in_batch = false;	/* between start and end of a batch */
static int	passing_failures = 0;	/* batches in a row that failed for a passing reason */
static int	my_ring;				/* VT_WQ_ROWS or VT_WQ_HOT */

void
vt_writer_register(void)
{
	static const char *const names[VT_WQ_RINGS] = {"rows", "hot state"};
	int			ring;

	for (ring = 0; ring < VT_WQ_RINGS; ring++)
	{
		BackgroundWorker w;

		memset(&w, 0, sizeof(w));
		snprintf(w.bgw_name, BGW_MAXLEN, "visittrack writer (%s)", names[ring]);
		snprintf(w.bgw_type, BGW_MAXLEN, "visittrack writer");
		w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = 5;
		w.bgw_main_arg = Int32GetDatum(ring);
		snprintf(w.bgw_library_name, BGW_MAXLEN, "visittrack");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "vt_writer_main");
		RegisterBackgroundWorker(&w);
	}
}

/*
 * SIGTERM: stop.  A running batch is cancelled (its wait ends at the next
 * CHECK_FOR_INTERRUPTS, lock waits included); the main loop then drains the
 * ring and exits.  Only the first SIGTERM cancels: the postmaster signals
 * both the process and its process group, so a shutdown delivers two, and
 * the second must not cancel the drain that the first one started.
 */
static void
on_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	if (!stop_requested)
	{
		stop_requested = true;
		if (in_batch)
		{
			QueryCancelPending = true;
			InterruptPending = true;
		}
	}
	SetLatch(MyLatch);
	errno = save_errno;
}

/*
 * The records of the transaction in progress, consumed when it commits.
 * The callback runs inside CommitTransaction, after the commit record and
 * with interrupts held: nothing can end the writer between the two.
 */
static struct
{
	bool		armed;
	uint64		end;
	int			written;
} consume_at_commit;

static void
on_xact_event(XactEvent event, void *arg)
{
	if (!consume_at_commit.armed)
		return;
	if (event == XACT_EVENT_COMMIT)
		vt_wq_consume(my_ring, consume_at_commit.end, consume_at_commit.written, 0);
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT)
		consume_at_commit.armed = false;
}

static void
apply_writer_settings(void)
{
	/*
	 * The writer's commits follow visittrack.async_commit like the requests
	 * it writes for: what a crash can lose is already what waits in the
	 * queue (doc/settings.md).
	 */
	SetConfigOption("synchronous_commit", vt_async_commit ? "off" : "on",
					PGC_SUSET, PGC_S_SESSION);
	if (vt_redis_timeout_ms < WRITER_REDIS_TIMEOUT_MS)
	{
		char		value[16];

		snprintf(value, sizeof(value), "%d", WRITER_REDIS_TIMEOUT_MS);
		SetConfigOption("visittrack.redis_timeout_ms", value, PGC_SUSET, PGC_S_SESSION);
	}
}

/* Drop expired sessions from the anonymous cache every SWEEP_EVERY_MS. */
static void
sweep_now_and_then(void)
{
	static TimestampTz last = 0;
	TimestampTz now = GetCurrentTimestamp();

	if (TimestampDifferenceExceeds(last, now, SWEEP_EVERY_MS))
	{
		(void) vt_anon_cache_sweep(now);
		last = now;
	}
}

/*
 * The anonymous cache stays as it is when a writer leaves: cached visitors
 * are still counted there, and their views merge into Redis themselves
 * while nobody drains the queue (hotstore.c).
 */
static void
on_exit_detach(int code, Datum arg)
{
	vt_wq_writer_detach(my_ring);
}

/* Errors that say "not now" rather than "not this record". */
static bool
is_passing(int sqlerrcode)
{
	int			category = ERRCODE_TO_CATEGORY(sqlerrcode);

	return category == ERRCODE_TO_CATEGORY(ERRCODE_TRANSACTION_ROLLBACK) ||	/* 40 */
		category == ERRCODE_TO_CATEGORY(ERRCODE_INSUFFICIENT_RESOURCES) ||	/* 53 */
		category == ERRCODE_TO_CATEGORY(ERRCODE_OPERATOR_INTERVENTION) ||	/* 57 */
		category == ERRCODE_TO_CATEGORY(ERRCODE_SYSTEM_ERROR) ||	/* 58 */
		category == ERRCODE_TO_CATEGORY(ERRCODE_CONNECTION_EXCEPTION) ||	/* 08 */
		sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE;
}

/*
 * One transaction writing records, which leave the ring (up to end) as it
 * commits; false (and rolled back) on error, with the error's SQLSTATE in
 * *sqlerrcode.  Also false, without trying, when a stop was requested and
 * the writer is not draining: the batch would only be cancelled.
 */
static bool
write_in_transaction(VtQueuedWrite *records, int n, uint64 end, bool draining,
					 bool log_error, int *sqlerrcode)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	/*
	 * A SIGTERM that came before in_batch was set did not cancel anything:
	 * look at stop_requested after setting it, so that either the handler
	 * sees in_batch or we see its stop.
	 */
	in_batch = true;
	if (stop_requested && !draining)
	{
		in_batch = false;
		*sqlerrcode = ERRCODE_ADMIN_SHUTDOWN;
		return false;
	}

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "visittrack writer: writing a batch");
	PG_TRY();
	{
		vt_write_records(records, n);
		PopActiveSnapshot();
		consume_at_commit.end = end;
		consume_at_commit.written = n;
		consume_at_commit.armed = true;
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		*sqlerrcode = edata->sqlerrcode;
		if (log_error)
			ereport(LOG,
					(errmsg("visittrack writer: dropped a queued write of kind %d: %s",
							records[0].kind, edata->message)));
		FreeErrorData(edata);
		AbortCurrentTransaction();
		ok = false;
	}
	PG_END_TRY();
	Assert(!consume_at_commit.armed);

	/*
	 * A cancel that arrived after the batch's last CHECK_FOR_INTERRUPTS is
	 * spent: the stop it stands for is in stop_requested, and left pending
	 * it would end the writer outside any batch, before it drains.
	 */
	in_batch = false;
	QueryCancelPending = false;
	MemoryContextSwitchTo(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
	return ok;
}

/*
 * A batch failed for a passing reason: it stays in the ring.  Running, the
 * writer tries it again in a moment (returns true); draining to exit, it
 * stops there (returns false).
 */
static bool
retry_later(int n, int sqlerrcode, bool draining, bool *full)
{
	passing_failures++;
	if (draining)
	{
		ereport(LOG,
				(errmsg("visittrack writer: stopping with writes left in the queue (SQLSTATE %s)",
						unpack_sql_state(sqlerrcode)),
				 errdetail("The writer started next writes them.")));
		return false;
	}
	ereport(LOG,
			(errmsg("visittrack writer: a batch of %d writes failed (SQLSTATE %s), retrying",
					n, unpack_sql_state(sqlerrcode))));
	/* SIGTERM sets the latch too: a stop does not wait for the retry */
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 RETRY_AFTER_MS, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	*full = true;				/* still behind */
	return true;
}

/*
 * Something in the batch fails: find it, keep the rest.  Each record
 * leaves the ring as its own transaction commits, so that stopping half-way
 * writes none twice.  One that fails alone is dropped; one that fails for a
 * passing reason ends the round (retry_later).
 */
static bool
write_one_by_one(VtQueuedWrite *records, int n, bool draining, bool *full)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		int			sqlerrcode = 0;

		if (write_in_transaction(&records[i], 1, records[i].end, draining, true,
								 &sqlerrcode))
			continue;
		if (stop_requested && !draining)
			return false;
		if (is_passing(sqlerrcode))
			return retry_later(n - i, sqlerrcode, draining, full);
		vt_wq_consume(my_ring, records[i].end, 0, 1);
	}
	passing_failures = 0;
	return true;
}

/*
 * Write the oldest records, up to a batch.  Returns false when the queue
 * was empty or writing must stop (a stop was requested; while draining to
 * exit, a batch failed for a passing reason); *full says the batch was as
 * large as a batch may be (more probably waits).
 */
static bool
drain_batch(MemoryContext batch_cxt, bool draining, bool *full)
{
	MemoryContext old = MemoryContextSwitchTo(batch_cxt);
	VtQueuedWrite *records;
	uint64		end;
	uint64		start;
	int			n;
	int			sqlerrcode = 0;
	bool		go_on = true;

	n = vt_wq_peek(my_ring, &records, BATCH_RECORDS, BATCH_BYTES, &end, &start);
	*full = n == BATCH_RECORDS || end - start >= BATCH_BYTES;
	if (n == 0)
		go_on = false;
	else if (write_in_transaction(records, n, end, draining, false, &sqlerrcode))
		passing_failures = 0;
	else if (stop_requested && !draining)
		go_on = false;			/* cancelled, or not begun: drain_to_exit goes on */
	else if (is_passing(sqlerrcode))	/* a cancel (57014) is one */
		go_on = retry_later(n, sqlerrcode, draining, full);
	else
		go_on = write_one_by_one(records, n, draining, full);
	pgstat_report_stat(false);
	MemoryContextSwitchTo(old);
	MemoryContextReset(batch_cxt);
	return go_on;
}

static bool
drain_once(MemoryContext batch_cxt)
{
	bool		full;

	return drain_batch(batch_cxt, false, &full);
}

/*
 * Leaving: stop taking records (callers write synchronously meanwhile),
 * then write what the ring holds.  A lock held by someone else ends the
 * drain after STOPPING_LOCK_TIMEOUT_MS, any failure ends it: the ring
 * outlives this process, and the restarted writer goes on from there.
 */
static void
drain_to_exit(MemoryContext batch_cxt)
{
	bool		full;

	vt_wq_writer_detach(my_ring);
	if (LockTimeout == 0 || LockTimeout > STOPPING_LOCK_TIMEOUT_MS)
	{
		char		value[16];

		snprintf(value, sizeof(value), "%d", STOPPING_LOCK_TIMEOUT_MS);
		SetConfigOption("lock_timeout", value, PGC_SUSET, PGC_S_SESSION);
	}
	while (drain_batch(batch_cxt, true, &full))
		;
}

void
vt_writer_main(Datum arg)
{
	MemoryContext batch_cxt;
	bool		behind = false;
	uint32		target;

	my_ring = DatumGetInt32(arg);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, on_sigterm);
	BackgroundWorkerUnblockSignals();
	vt_bgworker_connect(vt_worker_database);

	batch_cxt = AllocSetContextCreate(TopMemoryContext, "visittrack writer batch",
									  ALLOCSET_DEFAULT_SIZES);
	on_shmem_exit(on_exit_detach, (Datum) 0);
	RegisterXactCallback(on_xact_event, NULL);
	apply_writer_settings();
	target = vt_wq_target_id();
	vt_wq_writer_attach(my_ring, MyLatch);
	ereport(LOG,
			(errmsg("%s started in database \"%s\"", MyBgworkerEntry->bgw_name,
					vt_worker_database)));

	for (;;)
	{
		/* pg_cancel_backend outside a batch: nothing to cancel */
		QueryCancelPending = false;
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			apply_writer_settings();
			if (my_ring == VT_WQ_HOT && vt_wq_target_id() != target)
			{
				/* another Redis: what the cache holds belongs to the old one */
				while (drain_once(batch_cxt) && passing_failures < 10)
					;
				vt_anon_cache_clear();
				target = vt_wq_target_id();
			}
			vt_wq_writer_attach(my_ring, MyLatch);	/* Redis settings may have changed */
		}
		if (stop_requested)
			break;

		if (vt_wq_is_empty(my_ring))
		{
			/* quiet: sleep until a record arrives (the pusher wakes us) */
			vt_wq_writer_idle(my_ring, true);
			if (vt_wq_is_empty(my_ring))
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 IDLE_WAIT_MS, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			vt_wq_writer_idle(my_ring, false);
			if (my_ring == VT_WQ_HOT)
				sweep_now_and_then();
			continue;
		}

		/*
		 * Records wait: let more gather, then write them -- unless the last
		 * batch was a full one, when more are surely waiting.  A flush
		 * request or a quarter-full queue sets the latch and cuts the wait
		 * short.
		 */
		if (!behind)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 vt_write_behind_delay, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		(void) drain_batch(batch_cxt, false, &behind);
		if (my_ring == VT_WQ_HOT)
			sweep_now_and_then();
	}
	drain_to_exit(batch_cxt);

	/*
	 * 1, not 0: the postmaster restarts this writer alone (after
	 * bgw_restart_time) unless it is shutting down.  An ERROR or FATAL
	 * also exits with 1; only a process killed by a signal (SIGKILL, a
	 * crash) makes the postmaster restart the whole cluster.
	 */
	proc_exit(1);
}
