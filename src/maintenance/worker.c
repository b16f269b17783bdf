/*
 * worker.c: the background worker that runs what need not happen in a
 * request: ending expired sessions, finalising idle anonymous sessions,
 * purging expired local hot state, repairing Redis after an outage,
 * enrichment and partition upkeep.
 *
 * Started when visittrack is in shared_preload_libraries (and
 * visittrack.worker is on), in the database named by visittrack.database.
 * Each task is one SQL statement in its own transaction, so one failing task
 * neither blocks nor rolls back the others; its error is logged and shown
 * by status().  SIGHUP re-reads the configuration, SIGTERM ends the worker.
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "bgconnect.h"
#include "guc.h"
#include "spi_util.h"
#include "shared_state.h"
#include "worker.h"

PGDLLEXPORT void vt_worker_main(Datum arg);

typedef struct WorkerTask
{
	const char *sql;
	int			every_rounds;	/* run on rounds divisible by this */
} WorkerTask;

static const WorkerTask tasks[] = {
	{"SELECT visittrack.end_expired_sessions()", 1},
	{"SELECT visittrack.finalize_anonymous_sessions()", 1},
	{"SELECT visittrack.reconcile_hot_state()", 1},
	{"SELECT visittrack.purge_hot_state()", 1},
	{"SELECT visittrack.enrich_pending()", 1},
	{"SELECT visittrack.ensure_partitions()", 60},
};

void
vt_worker_register(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	snprintf(w.bgw_name, BGW_MAXLEN, "visittrack worker");
	snprintf(w.bgw_type, BGW_MAXLEN, "visittrack worker");
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 10;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "visittrack");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "vt_worker_main");
	RegisterBackgroundWorker(&w);
}

static void
clear_pid(int code, Datum arg)
{
	vt_worker_set_latch(NULL);
	vt_worker_set_pid(0);
}

/* Run one statement in its own transaction; returns false on error. */
static bool
run_task(const char *sql, bool *extension_present, char *error, size_t errlen)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, sql);
	PG_TRY();
	{
		*extension_present = OidIsValid(get_extension_oid("visittrack", true));
		if (*extension_present)
		{
			vt_spi_connect();
			(void) vt_spi_run_dynamic(sql, 0, NULL, NULL, NULL, false);
			vt_spi_finish();
		}
		PopActiveSnapshot();
		CommitTransactionCommand();
		MemoryContextSwitchTo(cxt);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		snprintf(error, errlen, "%s: %s", sql, edata->message);
		ereport(LOG,
				(errmsg("visittrack worker: task failed: %s", error)));
		FreeErrorData(edata);
		AbortCurrentTransaction();
		MemoryContextSwitchTo(cxt);
		ok = false;
	}
	PG_END_TRY();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return ok;
}

static void
run_round(MemoryContext round_cxt, int64 round)
{
	MemoryContext old = MemoryContextSwitchTo(round_cxt);
	char		error[256] = "";
	bool		had_error = false;
	int			i;

	for (i = 0; i < lengthof(tasks); i++)
	{
		bool		present = false;

		if (round % tasks[i].every_rounds != 0)
			continue;
		if (!run_task(tasks[i].sql, &present, error, sizeof(error)))
			had_error = true;
		if (!present)
			break;				/* extension not installed here (yet) */
		CHECK_FOR_INTERRUPTS();
	}
	vt_worker_round_done(GetCurrentTimestamp(), had_error ? error : NULL);
	MemoryContextSwitchTo(old);
	MemoryContextReset(round_cxt);
}

void
vt_worker_main(Datum arg)
{
	MemoryContext round_cxt;
	int64		round = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	vt_bgworker_connect(vt_worker_database);

	vt_worker_set_pid(MyProcPid);
	vt_worker_set_latch(MyLatch);	/* woken early when Redis comes back */
	on_shmem_exit(clear_pid, (Datum) 0);
	ereport(LOG,
			(errmsg("visittrack worker started in database \"%s\"", vt_worker_database)));

	round_cxt = AllocSetContextCreate(TopMemoryContext, "visittrack worker round",
									  ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TimestampTz started = GetCurrentTimestamp();
		long		wait_ms;

		run_round(round_cxt, round++);

		wait_ms = (long) vt_worker_interval * 1000 -
			(long) ((GetCurrentTimestamp() - started) / 1000);
		if (wait_ms > 0)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 wait_ms, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}
