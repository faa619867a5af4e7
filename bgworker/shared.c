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
 *	  Also the webhook keys wanted: a webhook signed with a key nexus does
 *	  not hold fails, and its transaction rolls back, so the wish to fetch
 *	  the key is kept here, outside any transaction, for sync worker 1.
 *	  The list is short and deduplicated, and each marketplace is asked at
 *	  most once per nexus.webhook_key_retry_interval, so that webhooks with
 *	  forged key ids cannot make nexus hammer the marketplace.
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

/* A signing key some webhook named and nexus does not hold. */
typedef struct WantedKey
{
	char		marketplace[8]; /* "" when the entry is free */
	char		key_id[NEXUS_KEY_ID_MAX];
	int			hits;			/* webhooks that asked for it */
	bool		held;			/* nexus holds it, near its expiry: a refresh */
	TimestampTz first_at;
} WantedKey;

/* The marketplaces whose webhooks are signed with public keys. */
static const char *const key_markets[] = {"ebay", "bol"};
#define KEY_MARKETS lengthof(key_markets)

typedef struct SyncShared
{
	slock_t		mutex;
	TimestampTz paused_until;	/* no workers before this (a DROP DATABASE) */
	WorkerSlot	slots[NEXUS_MAX_SYNC_WORKERS];
	WantedKey	wanted[NEXUS_WANTED_KEYS];
	TimestampTz keys_fetched_at[KEY_MARKETS];	/* the last fetch each marketplace saw */
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

/* ---------- webhook keys wanted ---------- */

static int
key_market(const char *marketplace)
{
	for (int i = 0; i < (int) KEY_MARKETS; i++)
		if (strcmp(marketplace, key_markets[i]) == 0)
			return i;
	return -1;
}

/* Whether a marketplace may be asked for keys now (the mutex is held). */
static bool
keys_due(int m, TimestampTz now, int interval_s)
{
	return shared->keys_fetched_at[m] == 0 ||
		now >= TimestampTzPlusMilliseconds(shared->keys_fetched_at[m], (int64) interval_s * 1000);
}

/*
 * Which of two wanted keys to fetch first: a key nexus holds and is about
 * to see expire (a webhook named it, so it is the marketplace's own),
 * then the one more webhooks asked for, then the older.  Random key ids
 * of forged webhooks are neither held nor repeated: they come last.
 */
static bool
fetch_before(const WantedKey *a, const WantedKey *b)
{
	if (a->held != b->held)
		return a->held;
	if (a->hits != b->hits)
		return a->hits > b->hits;
	return a->first_at < b->first_at;
}

/*
 * Which of two wanted keys gives way when the list is full: not a held
 * key, then the one fewer webhooks asked for, then the older, so that a
 * genuine new key, named again by each redelivery, outlasts forged ids.
 */
static bool
evict_before(const WantedKey *a, const WantedKey *b)
{
	if (a->held != b->held)
		return !a->held;
	if (a->hits != b->hits)
		return a->hits < b->hits;
	return a->first_at < b->first_at;
}

/*
 * A webhook named a key nexus does not hold, or holds near its expiry
 * (held): remember it for sync worker 1 and wake that worker if the
 * marketplace may be asked now.  A repeat only counts a hit.  When the
 * list is full, an entry gives way (evict_before).  Without preloading
 * there is no list, and this does nothing.
 */
void
nexus_webhook_key_wanted(const char *marketplace, const char *key_id, bool held)
{
	int			m = key_market(marketplace);
	TimestampTz now = GetCurrentTimestamp();
	WantedKey  *w = NULL;
	int			procno = -1;

	if (shared == NULL || m < 0 || key_id == NULL || key_id[0] == '\0' ||
		strlen(key_id) >= NEXUS_KEY_ID_MAX)
		return;
	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < NEXUS_WANTED_KEYS && w == NULL; i++)
		if (strcmp(shared->wanted[i].marketplace, marketplace) == 0 &&
			strcmp(shared->wanted[i].key_id, key_id) == 0)
			w = &shared->wanted[i];
	if (w != NULL)
	{
		w->hits++;
		w->held |= held;
	}
	else
	{
		for (int i = 0; i < NEXUS_WANTED_KEYS; i++)
		{
			WantedKey  *c = &shared->wanted[i];

			if (c->marketplace[0] == '\0')
			{
				w = c;
				break;
			}
			if (w == NULL || evict_before(c, w))
				w = c;
		}
		strlcpy(w->marketplace, marketplace, sizeof(w->marketplace));
		strlcpy(w->key_id, key_id, sizeof(w->key_id));
		w->hits = 1;
		w->held = held;
		w->first_at = now;
		if (keys_due(m, now, nexus_webhook_key_retry_s) && shared->slots[0].pid != 0)
			procno = shared->slots[0].pgprocno;
	}
	SpinLockRelease(&shared->mutex);
	if (procno >= 0)
		SetLatch(&ProcGlobal->allProcs[procno].procLatch);
}

/*
 * The wanted key to fetch now: of a marketplace not asked for
 * interval_s, the key most webhooks named (the oldest of equals); the
 * marketplace counts as asked from now on, whatever the fetch brings.
 * false when none is due, with *wait_ms until one is (-1: none wanted).
 */
bool
nexus_webhook_key_next(int interval_s, char *marketplace, char *key_id, int64 *wait_ms)
{
	TimestampTz now = GetCurrentTimestamp();
	WantedKey  *best = NULL;
	TimestampTz soonest = 0;

	*wait_ms = -1;
	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < NEXUS_WANTED_KEYS; i++)
	{
		WantedKey  *w = &shared->wanted[i];
		int			m = w->marketplace[0] ? key_market(w->marketplace) : -1;

		if (m < 0)
			continue;
		if (!keys_due(m, now, interval_s))
		{
			TimestampTz due = TimestampTzPlusMilliseconds(shared->keys_fetched_at[m],
														  (int64) interval_s * 1000);

			if (soonest == 0 || due < soonest)
				soonest = due;
			continue;
		}
		if (best == NULL || fetch_before(w, best))
			best = w;
	}
	if (best != NULL)
	{
		strlcpy(marketplace, best->marketplace, sizeof(best->marketplace));
		strlcpy(key_id, best->key_id, NEXUS_KEY_ID_MAX);
		shared->keys_fetched_at[key_market(best->marketplace)] = now;
	}
	SpinLockRelease(&shared->mutex);
	if (best == NULL && soonest != 0)
		*wait_ms = Max((soonest - now + 999) / 1000, 1);
	return best != NULL;
}

/* The key is stored, or the marketplace has no such key: no longer wanted (key_id NULL: all of them). */
void
nexus_webhook_key_done(const char *marketplace, const char *key_id)
{
	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < NEXUS_WANTED_KEYS; i++)
	{
		WantedKey  *w = &shared->wanted[i];

		if (strcmp(w->marketplace, marketplace) == 0 &&
			(key_id == NULL || strcmp(w->key_id, key_id) == 0))
			memset(w, 0, sizeof(*w));
	}
	SpinLockRelease(&shared->mutex);
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
