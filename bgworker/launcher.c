/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The sync launcher: registered at preload (the postmaster restarts it
 *	  if it dies), it keeps nexus.sync_workers sync workers running in
 *	  nexus.sync_database, restarts one that exits (after a pause, so that
 *	  a worker that cannot start does not spin), and follows the setting on
 *	  SIGHUP.
 *
 * It connects to no database, only to the shared catalogs, so that it can
 * tell whether the sync database exists: while it does not (not created
 * yet, or just dropped) no worker is started.  A DROP DATABASE of the sync
 * database stops the workers itself (nexus_sync_database_dropping), so
 * that they never keep it from being dropped.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "nexus.h"
#include "sync.h"

/* Pause before a worker that exited is started again. */
#define RESTART_DELAY_MS 5000

PGDLLEXPORT void nexus_sync_launcher_main(Datum arg);

static object_access_hook_type prev_object_access_hook = NULL;

typedef struct Child
{
	BackgroundWorkerHandle *handle;
	TimestampTz exited_at;		/* 0 while running, or never started */
} Child;

static Child children[NEXUS_MAX_SYNC_WORKERS];

/*
 * DROP DATABASE runs this hook just before it checks for other sessions in
 * the database (and waits up to 5 seconds for them to leave): stop the
 * sync workers there, as the autovacuum workers are stopped.
 */
static void
on_object_access(ObjectAccessType access, Oid classId, Oid objectId, int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (access == OAT_DROP && classId == DatabaseRelationId && nexus_sync_database &&
		*nexus_sync_database && objectId == get_database_oid(nexus_sync_database, true))
		nexus_sync_stop_workers();
}

void
nexus_sync_register_launcher(void)
{
	BackgroundWorker w;

	prev_object_access_hook = object_access_hook;
	object_access_hook = on_object_access;

	if (nexus_sync_database == NULL || *nexus_sync_database == '\0')
		return;
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 10;
	strlcpy(w.bgw_library_name, "nexus", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "nexus_sync_launcher_main", BGW_MAXLEN);
	strlcpy(w.bgw_name, "nexus sync launcher", BGW_MAXLEN);
	strlcpy(w.bgw_type, "nexus sync launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&w);
}

/*
 * A heap scan of pg_database, as the autovacuum launcher does: with no
 * database selected, an index scan may need pg_class (before the shared
 * relcache init file exists) and fail.
 */
static bool
database_exists(void)
{
	bool		exists = false;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (!exists && (tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database d = (Form_pg_database) GETSTRUCT(tup);

		exists = strcmp(NameStr(d->datname), nexus_sync_database) == 0 &&
			!database_is_invalid_form(d) && d->datallowconn;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return exists;
}

static void
start_worker(int slot)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;	/* the launcher does that */
	strlcpy(w.bgw_library_name, "nexus", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "nexus_sync_worker_main", BGW_MAXLEN);
	snprintf(w.bgw_name, BGW_MAXLEN, "nexus sync worker %d", slot + 1);
	strlcpy(w.bgw_type, "nexus sync worker", BGW_MAXLEN);
	w.bgw_main_arg = Int32GetDatum(slot);
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &children[slot].handle))
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("nexus: could not start sync worker %d", slot + 1),
				 errhint("Raise max_worker_processes: nexus needs one slot for its launcher and one per nexus.sync_workers.")));
		children[slot].handle = NULL;
		children[slot].exited_at = GetCurrentTimestamp();
	}
	else
		children[slot].exited_at = 0;
}

static bool
running(int slot)
{
	pid_t		pid;

	return children[slot].handle != NULL &&
		GetBackgroundWorkerPid(children[slot].handle, &pid) != BGWH_STOPPED;
}

static void
stop_all(void)
{
	for (int i = 0; i < NEXUS_MAX_SYNC_WORKERS; i++)
		if (children[i].handle)
			TerminateBackgroundWorker(children[i].handle);
}

void
nexus_sync_launcher_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	on_shmem_exit((pg_on_exit_callback) stop_all, (Datum) 0);

	ereport(LOG,
			(errmsg("nexus sync launcher started for database \"%s\" with %d worker(s)",
					nexus_sync_database, nexus_sync_workers)));

	while (!ShutdownRequestPending)
	{
		TimestampTz now = GetCurrentTimestamp();
		bool		db = database_exists();
		long		wait_ms = 10000;

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		for (int i = 0; i < NEXUS_MAX_SYNC_WORKERS; i++)
		{
			bool		want = db && i < nexus_sync_workers && !nexus_sync_paused();

			if (running(i))
			{
				if (!want)
					TerminateBackgroundWorker(children[i].handle);
				continue;
			}
			if (children[i].handle != NULL)
			{
				/* It exited: note when, and start it again after the pause. */
				pfree(children[i].handle);
				children[i].handle = NULL;
				children[i].exited_at = now;
			}
			if (!want)
				continue;
			if (children[i].exited_at != 0 &&
				!TimestampDifferenceExceeds(children[i].exited_at, now, RESTART_DELAY_MS))
			{
				wait_ms = Min(wait_ms, RESTART_DELAY_MS);
				continue;
			}
			start_worker(i);
		}
		pgstat_report_stat(true);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait_ms,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	stop_all();
	proc_exit(0);
}
