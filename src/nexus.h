/*-------------------------------------------------------------------------
 *
 * nexus.h
 *	  Private declarations shared by the backend half of nexus (src/).
 *
 * Each src/ file owns one concern: guc.c the settings, context.c who is
 * calling (claims, tenant, role, scopes), membership.c the membership
 * look-ups that context.c trusts, api_keys.c key generation and the
 * PostgREST pre-request hook, ratelimit.c the shared-memory counters,
 * credentials.c the encryption of marketplace credentials.  _PG_init in
 * nexus.c only dispatches to them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NEXUS_H
#define NEXUS_H

#include "postgres.h"

#include "utils/uuid.h"

/* Seconds from the Unix epoch to PostgreSQL's (2000-01-01): marketplace times are Unix times. */
#define NEXUS_UNIX_EPOCH_OFFSET \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* SQLSTATEs that PostgREST turns into HTTP statuses (PTxyz -> xyz). */
#define ERRCODE_NEXUS_HTTP_401	MAKE_SQLSTATE('P','T','4','0','1')
#define ERRCODE_NEXUS_HTTP_403	MAKE_SQLSTATE('P','T','4','0','3')
#define ERRCODE_NEXUS_HTTP_429	MAKE_SQLSTATE('P','T','4','2','9')

/* Roles inside a tenant, in increasing order of power. */
typedef enum NexusRole
{
	NEXUS_ROLE_NONE = 0,
	NEXUS_ROLE_VIEWER,
	NEXUS_ROLE_MANAGER,
	NEXUS_ROLE_ADMIN,
	NEXUS_ROLE_OWNER
} NexusRole;

/* Plans, which set the API-key rate limits. */
typedef enum NexusPlan
{
	NEXUS_PLAN_STARTER = 0,
	NEXUS_PLAN_GROWTH,
	NEXUS_PLAN_ENTERPRISE
} NexusPlan;

/* guc.c */
extern char *nexus_tenant_claim_path;
extern char *nexus_credentials_key_file;
extern int	nexus_rate_limit_slots;
extern bool nexus_rate_limit_enabled;
extern char *nexus_request_key;
extern char *nexus_request_claims;
extern char *nexus_request_legacy_sub;
extern char *nexus_request_headers;
extern char *nexus_sync_database;
extern int	nexus_sync_workers;
extern int	nexus_sync_max_in_flight;
extern int	nexus_sync_max_per_host;
extern int	nexus_sync_per_run;
extern int	nexus_sync_connect_timeout_ms;
extern int	nexus_sync_timeout_ms;
extern int	nexus_sync_max_response_kb;
extern int	nexus_sync_lease_s;
extern int	nexus_sync_retries;
extern int	nexus_sync_backoff_ms;
extern int	nexus_sync_backoff_max_ms;
extern int	nexus_sync_max_failures;
extern int	nexus_sync_overlap_s;
extern int	nexus_sync_initial_days;
extern int	nexus_sync_run_retention_days;
extern int	nexus_sync_poll_ms;
extern int	nexus_webhook_key_retry_s;
extern int	nexus_health_window;
extern void nexus_define_gucs(void);

/* nexus.c */
extern bool nexus_preloaded;
extern void nexus_require_preload(const char *what);
extern Oid	nexus_relid(const char *schema, const char *relname, bool missing_ok);

/* context.c */
extern NexusRole nexus_role_from_name(const char *name, bool missing_ok);
extern const char *nexus_role_name(NexusRole role);
extern void nexus_context_changed(void);
extern void nexus_request_changed(void);
extern uint64 nexus_request_generation(void);
extern void nexus_context_init(void);
extern bool nexus_parse_uuid(const char *s, int len, pg_uuid_t *out);
extern bool nexus_request_tenant(pg_uuid_t *tenant);
extern bool nexus_request_has_scope(const char *scope);
extern bool nexus_caller_is_service_role(void);

/* membership.c */
extern NexusRole nexus_membership_role(const pg_uuid_t *tenant, const pg_uuid_t *user,
									   Oid *relid_out);
extern bool nexus_tenant_plan(const pg_uuid_t *tenant, NexusPlan *plan);

/* api_keys.c: the key that authenticated the current request, if any */
typedef struct NexusKeyContext
{
	bool		active;
	pg_uuid_t	key_id;
	pg_uuid_t	tenant_id;
	int			nscopes;
	char	  **scopes;
} NexusKeyContext;

extern const NexusKeyContext *nexus_current_key(void);

/* ratelimit.c */
typedef struct NexusRateDecision
{
	bool		allowed;
	int64		limit;			/* limit of the window reported */
	int64		remaining;
	int64		reset_epoch;	/* when that window resets, Unix seconds */
	int64		retry_after;	/* seconds, when !allowed */
} NexusRateDecision;

extern void nexus_ratelimit_shmem_request(void);
extern void nexus_ratelimit_shmem_startup(void);
extern void nexus_ratelimit_check(const pg_uuid_t *key_id, NexusPlan plan,
								  NexusRateDecision *decision);

/* credentials.c */
extern char *nexus_decrypt_credentials(const pg_uuid_t *tenant,
									   const pg_uuid_t *connection);
extern void nexus_encrypt_token(const pg_uuid_t *tenant, const pg_uuid_t *connection,
								const char *token, int *version, bytea **nonce, bytea **cipher);
extern char *nexus_decrypt_token(const pg_uuid_t *tenant, const pg_uuid_t *connection,
								 int version, bytea *nonce, bytea *cipher);

#endif							/* NEXUS_H */
