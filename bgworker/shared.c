/*-------------------------------------------------------------------------
 *
 * shared.c
 *	  The sync engine's shared memory: one slot per sync worker with its
 *	  latch and what nexus.worker_status shows, and the wake-up that
 *	  sync_now(), cancel_sync() and enqueue_due_syncs() ask for: the
 *	  workers' latches are set when the requesting transaction commits, so
 *	  a rolled-back request wakes nobody and a committed one is claimed at
 *	  once (DESIGN.md section 2, rule 5).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "nexus.h"
#include "sync.h"

typedef struct WorkerSlot
{
	pid_t		pid;			/* 0: free */
	int			pgprocno;
	NexusWorkerStats stats;
} WorkerSlot;

typedef struct SyncShared
{
	slock_t		mutex;
	TimestampTz paused_until;	/* no workers before this (a DROP DATABASE) */
	WorkerSlot	slots[NEXUS_MAX_SYNC_WORKERS];
} SyncShared;

/* How long the launcher holds off after a DROP DATABASE stopped the workers. */
#define DROP_PAUSE_MS 30000

static SyncShared *shared = NULL;
static bool wake_at_commit = false;
static bool callback_registered = false;

void
nexus_sync_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(SyncShared)));
}

void
nexus_sync_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("nexus sync", sizeof(SyncShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(SyncShared));
		SpinLockInit(&shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
nexus_sync_slot_attach(int slot)
{
	SpinLockAcquire(&shared->mutex);
	shared->slots[slot].pid = MyProcPid;
	shared->slots[slot].pgprocno = MyProc->pgprocno;
	memset(&shared->slots[slot].stats, 0, sizeof(NexusWorkerStats));
	strlcpy(shared->slots[slot].stats.state, "starting", sizeof(shared->slots[slot].stats.state));
	shared->slots[slot].stats.started_at = GetCurrentTimestamp();
	SpinLockRelease(&shared->mutex);
}

void
nexus_sync_slot_detach(int slot)
{
	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	if (shared->slots[slot].pid == MyProcPid)
		shared->slots[slot].pid = 0;
	SpinLockRelease(&shared->mutex);
}

void
nexus_sync_slot_update(int slot, const NexusWorkerStats *stats)
{
	SpinLockAcquire(&shared->mutex);
	shared->slots[slot].stats = *stats;
	SpinLockRelease(&shared->mutex);
}

/*
 * Stop every sync worker now and keep the launcher from starting them for
 * a while: a DROP DATABASE of the sync database is about to wait for its
 * other sessions to leave.
 */
void
nexus_sync_stop_workers(void)
{
	pid_t		pids[NEXUS_MAX_SYNC_WORKERS];
	int			n = 0;

	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	shared->paused_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), DROP_PAUSE_MS);
	for (int i = 0; i < NEXUS_MAX_SYNC_WORKERS; i++)
		if (shared->slots[i].pid != 0)
			pids[n++] = shared->slots[i].pid;
	SpinLockRelease(&shared->mutex);
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGTERM);
}

bool
nexus_sync_paused(void)
{
	bool		paused;

	SpinLockAcquire(&shared->mutex);
	paused = shared->paused_until > GetCurrentTimestamp();
	SpinLockRelease(&shared->mutex);
	return paused;
}

static void
wake_workers(void)
{
	int			procnos[NEXUS_MAX_SYNC_WORKERS];
	int			n = 0;

	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < NEXUS_MAX_SYNC_WORKERS; i++)
		if (shared->slots[i].pid != 0)
			procnos[n++] = shared->slots[i].pgprocno;
	SpinLockRelease(&shared->mutex);
	for (int i = 0; i < n; i++)
		SetLatch(&ProcGlobal->allProcs[procnos[i]].procLatch);
}

static void
at_commit(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		if (wake_at_commit && shared != NULL)
			wake_workers();
		wake_at_commit = false;
	}
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_at_commit = false;
}

/* nexus_private.wake_sync_workers(): wake the workers when this transaction commits. */
PG_FUNCTION_INFO_V1(nexus_wake_sync_workers);
Datum
nexus_wake_sync_workers(PG_FUNCTION_ARGS)
{
	if (!callback_registered)
	{
		RegisterXactCallback(at_commit, NULL);
		callback_registered = true;
	}
	wake_at_commit = true;
	PG_RETURN_VOID();
}

/* nexus_private.worker_status(): one row per running sync worker. */
PG_FUNCTION_INFO_V1(nexus_worker_status);
Datum
nexus_worker_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	WorkerSlot	copy[NEXUS_MAX_SYNC_WORKERS];

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		return (Datum) 0;
	SpinLockAcquire(&shared->mutex);
	memcpy(copy, shared->slots, sizeof(copy));
	SpinLockRelease(&shared->mutex);

	for (int i = 0; i < NEXUS_MAX_SYNC_WORKERS; i++)
	{
		Datum		values[11];
		bool		nulls[11] = {0};
		NexusWorkerStats *s = &copy[i].stats;

		if (copy[i].pid == 0)
			continue;
		values[0] = Int32GetDatum(i + 1);
		values[1] = Int32GetDatum(copy[i].pid);
		values[2] = CStringGetTextDatum(s->state);
		values[3] = Int32GetDatum(s->runs);
		values[4] = Int32GetDatum(s->in_flight);
		values[5] = Int64GetDatum(s->requests);
		values[6] = Int64GetDatum(s->pages);
		values[7] = Int64GetDatum(s->orders);
		if (s->last_error[0])
		{
			values[8] = CStringGetTextDatum(s->last_error);
			values[9] = TimestampTzGetDatum(s->last_error_at);
		}
		else
			nulls[8] = nulls[9] = true;
		values[10] = TimestampTzGetDatum(s->started_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
