/*
 * worker.c: the background worker that runs what need not happen in a
 * request: ending expired sessions, finalising idle anonymous sessions,
 * purging expired local hot state, repairing Redis after an outage,
 * enrichment and partition upkeep -- the tasks SQL function
 * maintenance_tasks() lists for the worker.
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

/*
 * The worker's tasks come from SQL, maintenance_tasks(), read at the start
 * of every round: the same list the pg_cron jobs are made from
 * (cron_job_specs), so the two never drift apart, and a new extension
 * version brings its new tasks without a server restart.
 */
typedef struct WorkerTask
{
	char	   *sql;
	int64		every_rounds;	/* run on rounds divisible by this */
} WorkerTask;

typedef struct TaskList
{
	MemoryContext cxt;			/* where the list is kept: the round's */
	WorkerTask *tasks;
	uint64		ntasks;
} TaskList;

#define TASK_LIST_SQL \
	"SELECT command, worker_every_rounds FROM visittrack.maintenance_tasks() " \
	"WHERE worker_every_rounds > 0 ORDER BY run_order"

/* Register the worker with the postmaster (while preloading). */
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

/* At exit: status() shows no worker, and nobody sets a latch of ours. */
static void
clear_pid(int code, Datum arg)
{
	vt_worker_set_latch(NULL);
	vt_worker_set_pid(0);
}

/*
 * Run body(arg) in a transaction of its own, if visittrack is installed in
 * this database (*extension_present says whether it is).  activity names
 * the work in pg_stat_activity and in the error.  An error is logged, its
 * message kept in error, and rolls back this transaction only; returns
 * false then.
 */
static bool
run_in_transaction(const char *activity, void (*body) (void *), void *arg,
				   bool *extension_present, char *error, size_t errlen)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
	PG_TRY();
	{
		*extension_present = OidIsValid(get_extension_oid("visittrack", true));
		if (*extension_present)
		{
			vt_spi_connect();
			body(arg);
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
		snprintf(error, errlen, "%s: %s", activity, edata->message);
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

/* A task: its statement. */
static void
run_statement(void *sql)
{
	(void) vt_spi_run_dynamic((const char *) sql, 0, NULL, NULL, NULL, false);
}

/* The worker's tasks, from maintenance_tasks(), into list->cxt. */
static void
read_task_list(void *arg)
{
	static VtQuery query = {TASK_LIST_SQL};
	TaskList   *list = (TaskList *) arg;
	uint64		n = vt_spi_run(&query, NULL, NULL, true, 0);
	uint64		i;

	list->tasks = MemoryContextAlloc(list->cxt, sizeof(WorkerTask) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		list->tasks[i].sql = MemoryContextStrdup(list->cxt, vt_spi_text(i, 1));
		list->tasks[i].every_rounds = vt_spi_int64(i, 2, 1);
	}
	list->ntasks = n;
}

/*
 * One round: the task list read, then each task due in this round, each in
 * its own transaction, so that one failing neither blocks nor rolls back
 * the others.  The last error of the round goes to status().
 */
static void
run_round(MemoryContext round_cxt, int64 round)
{
	MemoryContext old = MemoryContextSwitchTo(round_cxt);
	TaskList	list = {round_cxt, NULL, 0};
	char		error[256] = "";
	bool		had_error = false;
	bool		present = false;
	uint64		i;

	if (!run_in_transaction(TASK_LIST_SQL, read_task_list, &list, &present,
							error, sizeof(error)))
		had_error = true;
	for (i = 0; present && i < list.ntasks; i++)
	{
		if (round % list.tasks[i].every_rounds != 0)
			continue;
		if (!run_in_transaction(list.tasks[i].sql, run_statement, list.tasks[i].sql,
								&present, error, sizeof(error)))
			had_error = true;
		CHECK_FOR_INTERRUPTS();
	}
	vt_worker_round_done(GetCurrentTimestamp(), had_error ? error : NULL);
	MemoryContextSwitchTo(old);
	MemoryContextReset(round_cxt);
}

/*
 * The worker's main loop: a round every visittrack.worker_interval seconds
 * (sooner when its latch is set: Redis came back), settings reloaded on
 * SIGHUP, ended by SIGTERM.
 */
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
