/*-------------------------------------------------------------------------
 *
 * sync.h
 *	  The sync engine: a launcher that keeps nexus.sync_workers sync
 *	  workers running, and the workers, which claim queued runs, fetch
 *	  marketplace pages over one curl multi handle, and store each page in
 *	  a short transaction of its own (DESIGN.md section 2, rules 1-5).
 *
 * shared.c	  shared memory: worker slots, wake-at-commit, worker_status(),
 *			  the webhook keys wanted
 * launcher.c the launcher (registered at preload)
 * worker.c	  a sync worker's loop and its transactions (claim, page, finish)
 * http.c	  transfers: curl multi, per-host limits, capped bodies
 * run.c	  one run's protocol: token, pages, details, throttling, retries
 * keys.c	  one fetch of webhook signing keys: token, key request, parse
 *
 * run.c and http.c see jansson and libcurl and never raise errors: they
 * return what happened, and worker.c turns it into SQL.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NEXUS_SYNC_H
#define NEXUS_SYNC_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"

#include "adapt.h"

#define NEXUS_MAX_SYNC_WORKERS 32

/* ---------- shared.c ---------- */

typedef struct NexusWorkerStats
{
	char		state[24];		/* idle, claiming, fetching, storing, waiting, stopping */
	int			runs;
	int			in_flight;
	int64		requests;
	int64		pages;
	int64		orders;
	char		last_error[256];
	TimestampTz last_error_at;
	TimestampTz started_at;
} NexusWorkerStats;

extern void nexus_sync_shmem_request(void);
extern void nexus_sync_shmem_startup(void);
/* A worker takes slot (0-based) for its lifetime; the slot holds its latch. */
extern void nexus_sync_slot_attach(int slot);
extern void nexus_sync_slot_detach(int slot);
extern void nexus_sync_slot_update(int slot, const NexusWorkerStats *stats);
/* DROP DATABASE of the sync database: SIGTERM the workers, hold off the launcher. */
extern void nexus_sync_stop_workers(void);
extern bool nexus_sync_paused(void);

/*
 * Webhook signing keys wanted (src/webhooks.c records them, sync worker 1
 * fetches them): keys nexus lacks, and keys it holds (held) that are about
 * to expire.  Key ids this long or longer are not recorded.
 */
#define NEXUS_WANTED_KEYS 16
#define NEXUS_KEY_ID_MAX 129
extern void nexus_webhook_key_wanted(const char *marketplace, const char *key_id, bool held);
/* marketplace: at least 8 bytes, key_id: NEXUS_KEY_ID_MAX. */
extern bool nexus_webhook_key_next(int interval_s, char *marketplace, char *key_id, int64 *wait_ms);
extern void nexus_webhook_key_done(const char *marketplace, const char *key_id);

/* ---------- launcher.c ---------- */

extern void nexus_sync_register_launcher(void);

/* ---------- http.c ---------- */

typedef struct NexusHttp NexusHttp;

/* A finished transfer. */
typedef struct NexusHttpResult
{
	void	   *owner;			/* what the caller passed to nexus_http_send */
	int			tag;
	long		status;			/* HTTP status, 0 when there was no response */
	char	   *error;			/* transport error (malloc'd), NULL when a response came */
	char	   *body;			/* malloc'd, NUL-terminated */
	size_t		body_len;
	void	   *headers;		/* json_t object: lower-case name -> value (repeats joined by ", ") */
	double		seconds;
} NexusHttpResult;

typedef struct NexusHttpSettings
{
	int			max_in_flight;
	int			max_per_host;
	long		connect_timeout_ms;
	long		timeout_ms;
	size_t		max_body;
} NexusHttpSettings;

extern NexusHttp *nexus_http_create(void);
extern void nexus_http_configure(NexusHttp *h, const NexusHttpSettings *s);
extern void nexus_http_destroy(NexusHttp *h);
/*
 * Queue a request (method, url, "Name: value" header lines, body); it
 * starts when the limits allow.  The strings are copied.  false only when
 * out of memory.
 */
extern bool nexus_http_send(NexusHttp *h, void *owner, int tag, const char *method,
							const char *url, char *const *headers, size_t nheaders,
							const char *body, size_t body_len);
/* Drop every transfer of owner, started or queued (a cancelled run). */
extern void nexus_http_cancel(NexusHttp *h, void *owner);
/* Move transfers along for up to timeout_ms; false when nothing is in flight or queued. */
extern bool nexus_http_poll(NexusHttp *h, int timeout_ms);
/* The next finished transfer into *r (caller frees with nexus_http_result_free). */
extern bool nexus_http_next(NexusHttp *h, NexusHttpResult *r);
extern void nexus_http_result_free(NexusHttpResult *r);
extern int	nexus_http_in_flight(NexusHttp *h);

/* ---------- run.c ---------- */

typedef struct NexusRun NexusRun;

/* What a claimed run starts from (strings are copied). */
typedef struct NexusRunSpec
{
	int64		run_id;
	pg_uuid_t	tenant;
	pg_uuid_t	connection;
	const char *marketplace;
	const char *region;			/* or NULL */
	const char *config_json;
	const char *credentials_json;
	const char *token;			/* a cached access token still valid, or NULL */
	int64		token_expires;	/* Unix seconds */
	int64		since;			/* Unix seconds */
	int64		as_of;
	const char *page_cursor;	/* resume after this page, or NULL */
} NexusRunSpec;

/* What the worker must do next for a run. */
typedef enum NexusRunStep
{
	RUN_BUSY,					/* transfers in flight: wait for them */
	RUN_WAIT,					/* nothing to send before NexusRunStatus.wake_at */
	RUN_STORE,					/* a page is ready: nexus_run_payload, then nexus_run_stored */
	RUN_SAVE_TOKEN,				/* a new access token: nexus_run_token, then go on */
	RUN_DONE,					/* finished: ok or not, see NexusRunStatus */
} NexusRunStep;

typedef enum NexusRunOutcome
{
	RUN_OK,
	RUN_FAILED,					/* retries used up, or a response that is not retried */
	RUN_CREDENTIALS				/* the marketplace refused the credentials */
} NexusRunOutcome;

typedef struct NexusRunStatus
{
	NexusRunStep step;
	NexusRunOutcome outcome;	/* when RUN_DONE */
	const char *error;			/* when RUN_DONE and not ok; also the last retried error */
	int64		wake_at_ms;		/* when RUN_WAIT */
	bool		throttled;		/* the wait is the marketplace's (429): show rate_limited */
	int			requests;		/* HTTP requests since the last page stored */
	int64		watermark;		/* when RUN_DONE ok: Unix seconds */
} NexusRunStatus;

typedef struct NexusRunLimits
{
	int			per_run;		/* detail requests in flight */
	int			retries;
	int			backoff_ms;
	int			backoff_max_ms;
	int			page_size;		/* 0: the marketplace's default */
	const char *user_agent;
} NexusRunLimits;

/* NULL with *error set (palloc'd) when the spec cannot start (bad config). */
extern NexusRun *nexus_run_create(const NexusRunSpec *spec, const NexusRunLimits *limits,
								  char **error);
extern void nexus_run_free(NexusRun *run);
extern int64 nexus_run_id(const NexusRun *run);
extern const pg_uuid_t *nexus_run_tenant(const NexusRun *run);
extern const pg_uuid_t *nexus_run_connection(const NexusRun *run);
extern const char *nexus_run_marketplace(const NexusRun *run);
/* Send whatever is due now (first call starts the run). */
extern void nexus_run_advance(NexusRun *run, NexusHttp *http, int64 now_ms, NexusRunStatus *st);
/* Hand a finished transfer of this run back. */
extern void nexus_run_response(NexusRun *run, NexusHttpResult *r, int64 now_ms);
/* RUN_STORE: the page as a payload (palloc'd in CurrentMemoryContext) and its cursor. */
extern bool nexus_run_payload(NexusRun *run, NexusPayload *out, const char **next_cursor,
							  char **error);
/* The page was committed (or, stored = false, could not be: the run fails). */
extern void nexus_run_stored(NexusRun *run, bool stored);
/* RUN_SAVE_TOKEN: the token and its expiry (Unix seconds); then the run goes on. */
extern const char *nexus_run_token(NexusRun *run, int64 *expires);
extern void nexus_run_token_saved(NexusRun *run);

/*
 * A connection's api_base and auth_base (malloc'd; auth_base NULL when the
 * marketplace has no token endpoint): the adapter's defaults, or config's
 * api_base_url / auth_base_url, without a trailing slash.  false, with
 * *error palloc'd, when there is no http(s) API base.  credentials and
 * config are jansson objects.
 */
extern bool nexus_sync_base_urls(const char *marketplace, const void *credentials,
								 const void *config, const char *region, char **api_base,
								 char **auth_base, char **error);

/* ---------- keys.c ---------- */

typedef struct NexusKeyFetch NexusKeyFetch;

/* What a key fetch starts from: the key wanted and one connection's settings (copied). */
typedef struct NexusKeySpec
{
	const char *marketplace;
	const char *key_id;
	const char *region;			/* or NULL */
	const char *config_json;
	const char *credentials_json;
	const char *token;			/* the connection's cached sync token, or NULL */
	const char *user_agent;
} NexusKeySpec;

typedef enum NexusKeysOutcome
{
	KEYS_OK,					/* the keys of the response, maybe none */
	KEYS_UNKNOWN,				/* the marketplace has no such key (eBay's 404) */
	KEYS_FAILED					/* anything else: try again after the interval */
} NexusKeysOutcome;

/* NULL with *error set (palloc'd) when the connection cannot fetch keys. */
extern NexusKeyFetch *nexus_keys_create(const NexusKeySpec *spec, char **error);
extern void nexus_keys_free(NexusKeyFetch *f);
/* Send what is due; true once the fetch is over. */
extern bool nexus_keys_advance(NexusKeyFetch *f, NexusHttp *http);
/* Hand a finished transfer of this fetch back. */
extern void nexus_keys_response(NexusKeyFetch *f, NexusHttpResult *r);
/* Once over: how it went (*error: why not, or NULL), and the keys as PEM. */
extern NexusKeysOutcome nexus_keys_outcome(const NexusKeyFetch *f, const char **error);
extern int	nexus_keys_count(const NexusKeyFetch *f);
extern const char *nexus_keys_id(const NexusKeyFetch *f, int i);
extern const char *nexus_keys_pem(const NexusKeyFetch *f, int i);
/* Seconds a fetched key is trusted (0: until replaced); whether one answer lists every key. */
extern int	nexus_keys_ttl(const NexusKeyFetch *f);
extern bool nexus_keys_listed(const NexusKeyFetch *f);

#endif							/* NEXUS_SYNC_H */
