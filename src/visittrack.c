/*
 * visittrack.c: module entry point.
 *
 * Defines the settings and the commit callbacks in every backend that loads
 * the library.  When preloaded (shared_preload_libraries), also reserves
 * shared memory for run-time state, compiles the user-agent rules (so every
 * backend inherits them) and registers the background worker.
 * Nothing here connects to Redis: backends connect lazily on first use.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/guc.h"

#include "anon_cache.h"
#include "commit_phases.h"
#include "enrich_guc.h"
#include "guc.h"
#include "secrets.h"
#include "shared_state.h"
#include "useragent.h"
#include "worker.h"
#include "write_queue.h"
#include "writer.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;

/* shmem_request_hook: the shared memory and locks of every module. */
static void
request_shmem(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	vt_state_request_shmem();
	vt_wq_request_shmem();
	vt_anon_cache_request_shmem();
}

/*
 * Settings and transaction callbacks always; when preloaded, shared
 * memory, the rules compiled once for every backend, the worker and the
 * writers.
 */
void
_PG_init(void)
{
	/* secrets first: other settings' hooks may read them */
	vt_secrets_init();
	vt_define_settings();
	vt_define_enrichment_settings();
	MarkGUCPrefixReserved("visittrack");
	vt_deferred_register_callbacks();

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = request_shmem;
	vt_state_startup_shmem();
	vt_wq_startup_shmem();
	vt_anon_cache_startup_shmem();
	/* compiled once here, inherited by every backend */
	vt_ua_preload();
	if (vt_worker_enabled)
		vt_worker_register();
	/* the queue's only reader: runs whenever the queue exists */
	if (vt_write_queue_size > 0)
		vt_writer_register();
}
