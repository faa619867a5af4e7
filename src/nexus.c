/*-------------------------------------------------------------------------
 *
 * nexus.c
 *	  Module entry point.  _PG_init only dispatches: settings, shared memory
 *	  and transaction callbacks live in the files that own them.
 *
 * nexus must be in shared_preload_libraries: the API-key rate limits live
 * in shared memory and the background workers of later releases register
 * at postmaster start.  Loaded any other way, the functions that depend on
 * preloading refuse with a hint instead of half-working.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "nexus.h"
#include "sync.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

bool		nexus_preloaded = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void nexus_shmem_request(void);
static void nexus_shmem_startup(void);

void
_PG_init(void)
{
	nexus_define_gucs();
	nexus_context_init();

	if (!process_shared_preload_libraries_in_progress)
		return;
	nexus_preloaded = true;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = nexus_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = nexus_shmem_startup;
	nexus_sync_register_launcher();
}

static void
nexus_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	nexus_ratelimit_shmem_request();
	nexus_sync_shmem_request();
}

static void
nexus_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	nexus_ratelimit_shmem_startup();
	nexus_sync_shmem_startup();
}

void
nexus_require_preload(const char *what)
{
	if (!nexus_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s requires nexus to be loaded via shared_preload_libraries", what),
				 errhint("Add nexus to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/*
 * OID of one of our tables.  Looked up on each use rather than cached: the
 * callers run once per request, and a cached OID would go stale across
 * DROP/CREATE EXTENSION.
 */
Oid
nexus_relid(const char *schema, const char *relname, bool missing_ok)
{
	Oid			nsp = get_namespace_oid(schema, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;

	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist", schema, relname),
				 errhint("Run CREATE EXTENSION nexus in this database.")));
	return relid;
}

PG_FUNCTION_INFO_V1(nexus_version);
Datum
nexus_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(NEXUS_VERSION));
}
