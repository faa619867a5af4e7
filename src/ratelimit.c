/*-------------------------------------------------------------------------
 *
 * ratelimit.c
 *	  Per-plan request limits of API keys, counted in shared memory.
 *
 * Two fixed windows per key, the current minute and the current hour, both
 * aligned to the clock so that X-RateLimit-Reset is the same for every
 * backend.  Counts live in one shared hash under one lock: a request costs
 * one hash probe.  When every slot is taken the least recently used key is
 * forgotten, which can only make that key's next window more lenient.
 * Counts do not survive a restart; limits are a courtesy to the platform,
 * not an accounting record.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "nexus.h"

typedef struct RateEntry
{
	pg_uuid_t	key_id;			/* hash key */
	int64		minute;			/* Unix minute the minute count belongs to */
	int64		minute_count;
	int64		hour;			/* Unix hour the hour count belongs to */
	int64		hour_count;
	int64		last_used;		/* Unix seconds, for eviction */
} RateEntry;

typedef struct RateShared
{
	LWLock	   *lock;
} RateShared;

static const int64 per_minute[] = {60, 300, 1000};
static const int64 per_hour[] = {1000, 10000, 100000};

static RateShared *rate_shared = NULL;
static HTAB *rate_hash = NULL;

void
nexus_ratelimit_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(RateShared)) +
						   hash_estimate_size(nexus_rate_limit_slots, sizeof(RateEntry)));
	RequestNamedLWLockTranche("nexus_ratelimit", 1);
}

void
nexus_ratelimit_shmem_startup(void)
{
	HASHCTL		info;
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	rate_shared = ShmemInitStruct("nexus rate limits", sizeof(RateShared), &found);
	if (!found)
		rate_shared->lock = &(GetNamedLWLockTranche("nexus_ratelimit"))->lock;
	info.keysize = sizeof(pg_uuid_t);
	info.entrysize = sizeof(RateEntry);
	rate_hash = ShmemInitHash("nexus rate limit counters",
							  nexus_rate_limit_slots, nexus_rate_limit_slots,
							  &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

/* Drop the least recently used entry; caller holds the lock exclusively. */
static void
evict_oldest(void)
{
	HASH_SEQ_STATUS seq;
	RateEntry  *e;
	RateEntry  *oldest = NULL;
	pg_uuid_t	victim;

	hash_seq_init(&seq, rate_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (oldest == NULL || e->last_used < oldest->last_used)
			oldest = e;
	if (oldest)
	{
		victim = oldest->key_id;
		hash_search(rate_hash, &victim, HASH_REMOVE, NULL);
	}
}

void
nexus_ratelimit_check(const pg_uuid_t *key_id, NexusPlan plan, NexusRateDecision *d)
{
	int64		now = (int64) time(NULL);
	int64		minute = now / 60;
	int64		hour = now / 3600;
	RateEntry  *e;
	bool		found;
	int64		left_minute;
	int64		left_hour;

	if (rate_hash == NULL)
		nexus_require_preload("API key rate limiting");

	LWLockAcquire(rate_shared->lock, LW_EXCLUSIVE);
	e = hash_search(rate_hash, key_id, HASH_ENTER_NULL, &found);
	if (e == NULL)
	{
		evict_oldest();
		e = hash_search(rate_hash, key_id, HASH_ENTER_NULL, &found);
		if (e == NULL)
			elog(ERROR, "nexus: rate limit table is full");
	}
	if (!found || e->minute != minute)
	{
		e->minute = minute;
		e->minute_count = 0;
	}
	if (!found || e->hour != hour)
	{
		e->hour = hour;
		e->hour_count = 0;
	}
	e->last_used = now;

	d->allowed = e->minute_count < per_minute[plan] && e->hour_count < per_hour[plan];
	if (d->allowed)
	{
		e->minute_count++;
		e->hour_count++;
	}
	left_minute = per_minute[plan] - e->minute_count;
	left_hour = per_hour[plan] - e->hour_count;
	LWLockRelease(rate_shared->lock);

	/* Report the window that runs out first; when blocked, the one that blocks. */
	if (left_hour < left_minute || (!d->allowed && left_hour <= 0))
	{
		d->limit = per_hour[plan];
		d->remaining = Max(left_hour, 0);
		d->reset_epoch = (hour + 1) * 3600;
	}
	else
	{
		d->limit = per_minute[plan];
		d->remaining = Max(left_minute, 0);
		d->reset_epoch = (minute + 1) * 60;
	}
	d->retry_after = d->allowed ? 0 : Max(d->reset_epoch - now, 1);
}
