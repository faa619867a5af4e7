/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Every nexus setting, in one table.  The README's settings table
 *	  mirrors this file; keep them in step.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "nexus.h"

char	   *nexus_tenant_claim_path = NULL;
char	   *nexus_credentials_key_file = NULL;
int			nexus_rate_limit_slots = 10000;
bool		nexus_rate_limit_enabled = true;
char	   *nexus_request_key = NULL;
char	   *nexus_request_claims = NULL;
char	   *nexus_request_legacy_sub = NULL;
char	   *nexus_request_headers = NULL;

/* The sync engine (bgworker/) */
char	   *nexus_sync_database = NULL;
int			nexus_sync_workers = 1;
int			nexus_sync_max_in_flight = 64;
int			nexus_sync_max_per_host = 16;
int			nexus_sync_per_run = 4;
int			nexus_sync_connect_timeout_ms = 10000;
int			nexus_sync_timeout_ms = 60000;
int			nexus_sync_max_response_kb = 65536;
int			nexus_sync_lease_s = 120;
int			nexus_sync_retries = 5;
int			nexus_sync_backoff_ms = 1000;
int			nexus_sync_backoff_max_ms = 300000;
int			nexus_sync_max_failures = 3;
int			nexus_sync_overlap_s = 300;
int			nexus_sync_initial_days = 30;
int			nexus_sync_run_retention_days = 30;
int			nexus_sync_poll_ms = 10000;
int			nexus_webhook_key_retry_s = 60;
int			nexus_health_window = 10;

static bool
check_claim_path(char **newval, void **extra, GucSource source)
{
	const char *p = *newval;

	if (p == NULL || *p == '\0')
	{
		GUC_check_errdetail("The claim path must name at least one key.");
		return false;
	}
	if (*p == '.' || p[strlen(p) - 1] == '.' || strstr(p, "..") != NULL)
	{
		GUC_check_errdetail("The claim path is a list of JSON keys separated by single dots, such as \"app_metadata.tenant_id\".");
		return false;
	}
	return true;
}

static void
assign_claim_path(const char *newval, void *extra)
{
	nexus_context_changed();	/* cached parses of claims mean something else now */
	nexus_request_changed();
}

/* Any change of what describes the request, including end-of-transaction resets. */
static void
assign_request_setting(const char *newval, void *extra)
{
	nexus_request_changed();
}

void
nexus_define_gucs(void)
{
	DefineCustomStringVariable("nexus.tenant_claim_path",
							   "JWT claim path (dot-separated) that holds the caller's tenant id.",
							   "The tenant named there is used only if the caller is an active member of it.",
							   &nexus_tenant_claim_path,
							   "app_metadata.tenant_id",
							   PGC_SUSET, 0,
							   check_claim_path, assign_claim_path, NULL);

	DefineCustomStringVariable("nexus.credentials_key_file",
							   "File holding the keys that encrypt marketplace credentials.",
							   "One key per line, \"<version>:<64 hex digits>\"; the highest version encrypts. "
							   "A relative path is taken from the data directory.",
							   &nexus_credentials_key_file,
							   "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	/* Postmaster-level settings can only be defined while preloading. */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("nexus.rate_limit_slots",
								"Number of API keys whose request counts are kept in shared memory.",
								"When all slots are taken, the least recently used key's counters are reused.",
								&nexus_rate_limit_slots,
								10000, 16, 1000000,
								PGC_POSTMASTER, 0,
								NULL, NULL, NULL);

	DefineCustomBoolVariable("nexus.rate_limit_enabled",
							 "Enforces the per-plan request limits of API keys.",
							 NULL,
							 &nexus_rate_limit_enabled,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	/*
	 * Not a setting for people: nexus.pre_request() records the API key that
	 * authenticated the request here.  Superuser-only so that the caller
	 * cannot forge it; a setting so that parallel workers inherit it.
	 */
	DefineCustomStringVariable("nexus.request_key",
							   "Internal: the API key that authenticated the current request.",
							   NULL,
							   &nexus_request_key,
							   "",
							   PGC_SUSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_SUPERUSER_ONLY |
							   GUC_DISALLOW_IN_FILE | GUC_NO_RESET_ALL,
							   NULL, assign_request_setting, NULL);

	/*
	 * PostgREST's request settings.  Left undefined they would be
	 * placeholders, and the request context could only notice a change by
	 * looking every one up by name and comparing its text, for every row a
	 * policy filters.  Defined here, with a hook that counts changes, the
	 * check is one integer comparison.  They behave as before for everyone
	 * else: user-settable strings, empty unless set.  The rest of the
	 * "request." prefix stays PostgREST's.
	 */
	DefineCustomStringVariable("request.jwt.claims",
							   "PostgREST: the JWT claims of the current request, as JSON.",
							   NULL, &nexus_request_claims, "",
							   PGC_USERSET, GUC_NOT_IN_SAMPLE,
							   NULL, assign_request_setting, NULL);
	DefineCustomStringVariable("request.jwt.claim.sub",
							   "PostgREST (legacy): the JWT sub claim of the current request.",
							   NULL, &nexus_request_legacy_sub, "",
							   PGC_USERSET, GUC_NOT_IN_SAMPLE,
							   NULL, assign_request_setting, NULL);
	DefineCustomStringVariable("request.headers",
							   "PostgREST: the headers of the current request, as JSON with lower-case names.",
							   NULL, &nexus_request_headers, "",
							   PGC_USERSET, GUC_NOT_IN_SAMPLE,
							   NULL, assign_request_setting, NULL);

	/* ---- the sync engine ---- */

	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomStringVariable("nexus.sync_database",
								   "Database whose marketplace connections the sync workers keep current.",
								   "Empty: no sync workers start.",
								   &nexus_sync_database, "postgres",
								   PGC_POSTMASTER, 0,
								   NULL, NULL, NULL);
	}
	DefineCustomIntVariable("nexus.sync_workers",
							"Number of sync workers the launcher keeps running.",
							"Each takes background worker slots from max_worker_processes.",
							&nexus_sync_workers, 1, 0, 32,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_max_in_flight",
							"HTTP transfers one sync worker keeps in flight at most.",
							NULL, &nexus_sync_max_in_flight, 64, 1, 1024,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_max_per_host",
							"HTTP transfers one sync worker keeps in flight to one host at most.",
							"A slow host then holds only its own share of the worker.",
							&nexus_sync_max_per_host, 16, 1, 1024,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_per_run",
							"Detail and order-item requests one run keeps in flight at most.",
							NULL, &nexus_sync_per_run, 4, 1, 64,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_connect_timeout",
							"Time allowed to connect to a marketplace.",
							NULL, &nexus_sync_connect_timeout_ms, 10000, 100, 600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_timeout",
							"Time allowed for one whole HTTP request to a marketplace.",
							NULL, &nexus_sync_timeout_ms, 60000, 100, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_max_response_size",
							"Largest marketplace response body accepted.",
							"A larger one fails the request (and is retried like a network error).",
							&nexus_sync_max_response_kb, 65536, 64, 1048576,
							PGC_SIGHUP, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_lease",
							"How long a worker's claim on a run lasts without being renewed.",
							"A run whose worker died is claimed again this long after its last renewal.",
							&nexus_sync_lease_s, 120, 5, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_retries",
							"Retries of a request that failed for a network error, a 5xx or a bad body.",
							"A throttled request (429) is retried as the marketplace asks and does not count.",
							&nexus_sync_retries, 5, 0, 100,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_backoff",
							"First wait before retrying a failed or throttled request; doubles with each retry, with jitter.",
							NULL, &nexus_sync_backoff_ms, 1000, 1, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_backoff_max",
							"Longest wait between retries, and longest wait a marketplace's throttling is obeyed for.",
							NULL, &nexus_sync_backoff_max_ms, 300000, 1, 86400000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_max_failures",
							"Failed runs in a row after which a connection goes to error.",
							"A refusal of the credentials puts it in error at once.",
							&nexus_sync_max_failures, 3, 1, 1000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_overlap",
							"How far before the last sync's watermark the next one starts listing.",
							"Covers clock skew and orders changed while a list was read.",
							&nexus_sync_overlap_s, 300, 0, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_initial_days",
							"How many days back a connection's first sync lists orders.",
							"Capped by what each marketplace can search (eBay 90 days, Shopify 60, ...).",
							&nexus_sync_initial_days, 30, 1, 3650,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_run_retention_days",
							"Days finished rows of nexus.sync_runs are kept.",
							NULL, &nexus_sync_run_retention_days, 30, 1, 36500,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.sync_poll_interval",
							"How often an idle sync worker looks for work it was not woken for.",
							"Requests wake the workers at commit; this is the fallback (leases that ran out, backoffs that ended).",
							&nexus_sync_poll_ms, 10000, 100, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.webhook_key_retry_interval",
							"Shortest time between two fetches of a marketplace's webhook signing keys.",
							"A webhook signed with a key nexus lacks asks the sync workers for it; "
							"forged key ids must not make them hammer the marketplace.",
							&nexus_webhook_key_retry_s, 60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("nexus.health_window",
							"Finished runs per connection that nexus.connection_health looks at.",
							NULL, &nexus_health_window, 10, 1, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);

	MarkGUCPrefixReserved("nexus");
}
