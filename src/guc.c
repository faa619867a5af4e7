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

	MarkGUCPrefixReserved("nexus");
}
