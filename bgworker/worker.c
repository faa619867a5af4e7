/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  A sync worker: claim runs in a short transaction, drive them with no
 *	  transaction or snapshot open while their requests are in flight, and
 *	  store each page in a short transaction of its own that also advances
 *	  the run's cursor (DESIGN.md section 2, rules 1-3).  A crash anywhere
 *	  loses nothing: a page is stored and its cursor moved together, and a
 *	  run whose worker died is claimed again when its lease runs out.
 *
 * The loop follows worker_spi: the latch (set at the commit of sync_now(),
 * cancel_sync(), enqueue_due_syncs()) wakes it, nexus.sync_poll_interval is
 * the fallback, SIGHUP reloads the settings and SIGTERM makes it hand its
 * runs back and leave within a poll of curl (100 ms) plus one transaction.
 * Worker 1 also fetches the webhook signing keys that webhooks asked for
 * (shared.c) over the same multi handle, one fetch at a time.
 * An error inside a transaction is logged, the transaction rolled back,
 * and the worker goes on; while the nexus extension is missing from the
 * database it waits, saying so once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <sys/time.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "ingest.h"
#include "nexus.h"
#include "sync.h"

PGDLLEXPORT void nexus_sync_worker_main(Datum arg);

/* Longest a worker sits in curl without looking at its latch. */
#define CURL_POLL_MS 100

typedef struct Active
{
	NexusRun   *run;
	bool		throttle_noted; /* rate_limited shown for the current wait */
} Active;

/* Orders this worker inserted since it last looked at the statistics. */
#define ANALYZE_CHECK_EVERY 5000

static int	my_slot;
static int64 inserted_since_check = 0;
static NexusHttp *http;
static NexusWorkerStats stats;
static Active *active;
static int	nactive;
static bool extension_missing_logged = false;

static int64
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void
set_state(const char *state)
{
	strlcpy(stats.state, state, sizeof(stats.state));
	stats.runs = nactive;
	stats.in_flight = http ? nexus_http_in_flight(http) : 0;
	nexus_sync_slot_update(my_slot, &stats);
}

static void
note_error(const char *msg)
{
	strlcpy(stats.last_error, msg, sizeof(stats.last_error));
	stats.last_error_at = GetCurrentTimestamp();
}

static void
apply_settings(void)
{
	NexusHttpSettings s;

	s.max_in_flight = nexus_sync_max_in_flight;
	s.max_per_host = nexus_sync_max_per_host;
	s.connect_timeout_ms = nexus_sync_connect_timeout_ms;
	s.timeout_ms = nexus_sync_timeout_ms;
	s.max_body = (size_t) nexus_sync_max_response_kb * 1024;
	nexus_http_configure(http, &s);
}

/* ---------- transactions ---------- */

static void
begin_tx(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "nexus: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

static void
commit_tx(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* After an error inside begin_tx/commit_tx: log it, roll back, and go on. */
static void
abort_tx(MemoryContext mcxt)
{
	char		msg[256];
	ErrorData  *edata;

	MemoryContextSwitchTo(mcxt);
	edata = CopyErrorData();
	FlushErrorState();
	strlcpy(msg, edata->message ? edata->message : "unknown error", sizeof(msg));
	ereport(LOG,
			(errmsg("nexus sync worker: %s", msg),
			 edata->detail ? errdetail_internal("%s", edata->detail) : 0));
	FreeErrorData(edata);
	AbortCurrentTransaction();
	pgstat_report_activity(STATE_IDLE, NULL);
	note_error(msg);
}

static Datum
interval_secs(int seconds)
{
	return DirectFunctionCall7(make_interval, Int32GetDatum(0), Int32GetDatum(0),
							   Int32GetDatum(0), Int32GetDatum(0), Int32GetDatum(0),
							   Int32GetDatum(0), Float8GetDatum((double) seconds));
}

static Datum
epoch_timestamptz(int64 seconds)
{
	return TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) seconds));
}

static bool
extension_present(void)
{
	if (OidIsValid(get_extension_oid("nexus", true)))
	{
		extension_missing_logged = false;
		return true;
	}
	if (!extension_missing_logged)
		ereport(LOG,
				(errmsg("nexus sync worker: the nexus extension is not installed in database \"%s\"; waiting",
						nexus_sync_database),
				 errhint("Run CREATE EXTENSION nexus there, or point nexus.sync_database at the right database.")));
	extension_missing_logged = true;
	return false;
}

/* Finish a run in the current transaction (SPI connected). */
static void
record_finish(const pg_uuid_t *tenant, int64 run_id, const char *kind, const char *error,
			  int64 watermark, int requests)
{
	Oid			types[8] = {UUIDOID, INT8OID, INT4OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT4OID, INT4OID};
	Datum		args[8];
	char		nulls[8] = "        ";

	args[0] = UUIDPGetDatum(tenant);
	args[1] = Int64GetDatum(run_id);
	args[2] = Int32GetDatum(MyProcPid);
	args[3] = CStringGetTextDatum(kind);
	if (error)
		args[4] = CStringGetTextDatum(error);
	else
		nulls[4] = 'n';
	if (watermark > 0)
		args[5] = epoch_timestamptz(watermark);
	else
		nulls[5] = 'n';
	args[6] = Int32GetDatum(requests);
	args[7] = Int32GetDatum(nexus_sync_max_failures);
	if (SPI_execute_with_args("SELECT nexus_private.finish_sync_run($1, $2, $3, $4, $5, $6, $7, $8)",
							  8, types, args, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "nexus: finish_sync_run failed");
}

/* The cached access token of a connection, if one is valid for another minute. */
static char *
cached_token(const pg_uuid_t *tenant, const pg_uuid_t *conn, int64 *expires)
{
	Oid			types[2] = {UUIDOID, UUIDOID};
	Datum		args[2] = {UUIDPGetDatum(tenant), UUIDPGetDatum(conn)};
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;

	if (SPI_execute_with_args("SELECT key_version, nonce, ciphertext, extract(epoch FROM expires_at)::bigint"
							  "  FROM nexus_private.access_tokens"
							  " WHERE tenant_id = $1 AND connection_id = $2"
							  "   AND expires_at > now() + interval '1 minute'",
							  2, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "nexus: access token look-up failed");
	if (SPI_processed == 0)
		return NULL;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	*expires = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
	return nexus_decrypt_token(tenant, conn,
							   DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull)),
							   DatumGetByteaPP(SPI_getbinval(tup, desc, 2, &isnull)),
							   DatumGetByteaPP(SPI_getbinval(tup, desc, 3, &isnull)));
}

static void
add_active(NexusRun *run)
{
	active = repalloc(active, sizeof(Active) * (nactive + 1));
	active[nactive].run = run;
	active[nactive].throttle_noted = false;
	nactive++;
}

static void
drop_active(int i)
{
	nexus_http_cancel(http, active[i].run);
	nexus_run_free(active[i].run);
	memmove(&active[i], &active[i + 1], sizeof(Active) * (nactive - i - 1));
	nactive--;
}

/* One claimed row: decrypt what it needs and make its run; a run that cannot start fails here. */
static void
start_claimed(HeapTuple tup, TupleDesc desc, NexusRunLimits *limits)
{
	NexusRunSpec spec;
	bool		isnull;
	char	   *error = NULL;
	char	   *creds;
	NexusRun   *run;

	memset(&spec, 0, sizeof(spec));
	spec.run_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	spec.tenant = *DatumGetUUIDP(SPI_getbinval(tup, desc, 2, &isnull));
	spec.connection = *DatumGetUUIDP(SPI_getbinval(tup, desc, 3, &isnull));
	spec.marketplace = SPI_getvalue(tup, desc, 4);
	spec.region = SPI_getvalue(tup, desc, 5);
	spec.config_json = SPI_getvalue(tup, desc, 6);
	spec.since = DatumGetInt64(SPI_getbinval(tup, desc, 7, &isnull));
	spec.as_of = DatumGetInt64(SPI_getbinval(tup, desc, 8, &isnull));
	spec.page_cursor = SPI_getvalue(tup, desc, 9);

	creds = nexus_decrypt_credentials(&spec.tenant, &spec.connection);
	if (creds == NULL)
	{
		record_finish(&spec.tenant, spec.run_id, "credentials",
					  "the connection has no stored credentials", 0, 0);
		return;
	}
	spec.credentials_json = creds;
	spec.token = cached_token(&spec.tenant, &spec.connection, &spec.token_expires);
	run = nexus_run_create(&spec, limits, &error);
	explicit_bzero(creds, strlen(creds));
	if (spec.token)
		explicit_bzero((char *) spec.token, strlen(spec.token));
	if (run == NULL)
	{
		record_finish(&spec.tenant, spec.run_id, "failed", error, 0, 0);
		return;
	}
	add_active(run);
}

static void
claim(void)
{
	MemoryContext mcxt = CurrentMemoryContext;
	int			room = nexus_sync_max_in_flight - nactive;
	NexusRunLimits limits;
	char		ua[64];
	int			before = nactive;

	if (room <= 0)
		return;
	snprintf(ua, sizeof(ua), "nexus/%s", NEXUS_VERSION);
	limits.per_run = nexus_sync_per_run;
	limits.retries = nexus_sync_retries;
	limits.backoff_ms = nexus_sync_backoff_ms;
	limits.backoff_max_ms = nexus_sync_backoff_max_ms;
	limits.page_size = 0;
	limits.user_agent = ua;

	set_state("claiming");
	PG_TRY();
	{
		begin_tx("nexus: claiming sync runs");
		if (extension_present())
		{
			Oid			types[5] = {INT4OID, INT4OID, INTERVALOID, INTERVALOID, INTERVALOID};
			Datum		args[5];
			uint64		n;
			SPITupleTable *tt;

			args[0] = Int32GetDatum(MyProcPid);
			args[1] = Int32GetDatum(room);
			args[2] = interval_secs(nexus_sync_lease_s);
			args[3] = interval_secs(nexus_sync_overlap_s);
			args[4] = interval_secs(nexus_sync_initial_days * 86400);
			if (SPI_execute_with_args("SELECT run_id, tenant_id, connection_id, marketplace, region, config::text,"
									  "       extract(epoch FROM since)::bigint, extract(epoch FROM as_of)::bigint,"
									  "       page_cursor"
									  "  FROM nexus_private.claim_sync_runs($1, $2, $3, $4, $5)",
									  5, types, args, NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "nexus: claim_sync_runs failed");
			n = SPI_processed;
			tt = SPI_tuptable;
			for (uint64 i = 0; i < n; i++)
				start_claimed(tt->vals[i], tt->tupdesc, &limits);
			if (nactive > before)
			{
				Datum	   *ids = palloc(sizeof(Datum) * (nactive - before));
				Oid			t1[1] = {INT8ARRAYOID};
				Datum		a1[1];

				for (int i = before; i < nactive; i++)
					ids[i - before] = Int64GetDatum(nexus_run_id(active[i].run));
				a1[0] = PointerGetDatum(construct_array(ids, nactive - before, INT8OID, 8, true, TYPALIGN_DOUBLE));
				SPI_execute_with_args("SELECT nexus_private.notify_sync_started($1)", 1, t1, a1, NULL, false, 0);
			}
		}
		commit_tx();
	}
	PG_CATCH();
	{
		abort_tx(mcxt);
		/* The claims were rolled back: their runs go to whoever claims next. */
		while (nactive > before)
			drop_active(nactive - 1);
	}
	PG_END_TRY();
}

/* Keep the leases of the running runs; drop those cancelled or taken over. */
static void
renew(void)
{
	MemoryContext mcxt = CurrentMemoryContext;
	Datum	   *ids;
	Oid			types[3] = {INT4OID, INT8ARRAYOID, INTERVALOID};
	Datum		args[3];

	if (nactive == 0)
		return;
	ids = palloc(sizeof(Datum) * nactive);
	for (int i = 0; i < nactive; i++)
		ids[i] = Int64GetDatum(nexus_run_id(active[i].run));
	PG_TRY();
	{
		begin_tx("nexus: renewing sync leases");
		args[0] = Int32GetDatum(MyProcPid);
		args[1] = PointerGetDatum(construct_array(ids, nactive, INT8OID, 8, true, TYPALIGN_DOUBLE));
		args[2] = interval_secs(nexus_sync_lease_s);
		if (SPI_execute_with_args("SELECT unnest(nexus_private.renew_sync_leases($1, $2, $3))",
								  3, types, args, NULL, false, 0) == SPI_OK_SELECT)
		{
			for (int i = nactive - 1; i >= 0; i--)
			{
				bool		kept = false;

				for (uint64 k = 0; k < SPI_processed && !kept; k++)
				{
					bool		isnull;

					kept = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc,
													   1, &isnull)) == nexus_run_id(active[i].run);
				}
				if (!kept)
				{
					ereport(LOG,
							(errmsg("nexus sync worker: run %lld was cancelled or taken over; stopping it",
									(long long) nexus_run_id(active[i].run))));
					drop_active(i);
				}
			}
		}
		commit_tx();
	}
	PG_CATCH();
	{
		abort_tx(mcxt);
	}
	PG_END_TRY();
}

/* Store the run's page and advance its cursor, in one transaction. */
static void
store_page(int i, int requests)
{
	MemoryContext mcxt = CurrentMemoryContext;
	NexusRun   *run = active[i].run;
	volatile bool stored = false;
	volatile bool gone = false;

	set_state("storing");
	PG_TRY();
	{
		NexusPayload p;
		const char *cursor;
		char	   *error = NULL;
		NexusIngestCounts counts;
		Oid			types[11] = {UUIDOID, INT8OID, INT4OID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID,
		INT4OID, INT4OID, INTERVALOID};
		Datum		args[11];
		char		nulls[11] = "           ";
		bool		isnull;

		begin_tx("nexus: storing a marketplace page");
		if (!nexus_run_payload(run, &p, &cursor, &error))
			elog(ERROR, "nexus: %s", error);
		memset(&counts, 0, sizeof(counts));
		nexus_ingest_payload(nexus_run_tenant(run), nexus_run_connection(run),
							 nexus_run_marketplace(run), &p, &counts);
		args[0] = UUIDPGetDatum(nexus_run_tenant(run));
		args[1] = Int64GetDatum(nexus_run_id(run));
		args[2] = Int32GetDatum(MyProcPid);
		if (cursor)
			args[3] = CStringGetTextDatum(cursor);
		else
			nulls[3] = 'n';
		args[4] = Int64GetDatum(counts.inserted);
		args[5] = Int64GetDatum(counts.updated);
		args[6] = Int64GetDatum(counts.unchanged + counts.stale);
		args[7] = Int64GetDatum(counts.nfailed);
		args[8] = Int32GetDatum(requests);
		args[9] = Int32GetDatum(0);
		args[10] = interval_secs(nexus_sync_lease_s);
		if (SPI_execute_with_args("SELECT nexus_private.sync_page_done($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
								  11, types, args, nulls, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "nexus: sync_page_done failed");
		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		{
			gone = true;
			elog(ERROR, "nexus: sync run %lld was cancelled or taken over", (long long) nexus_run_id(run));
		}
		if (counts.nfailed > 0)
			ereport(WARNING,
					(errmsg("nexus: %d %s order(s) of a page could not be read",
							counts.nfailed, nexus_run_marketplace(run)),
					 errdetail_internal("First: %s: %s",
										counts.failed[0].external_order_id ? counts.failed[0].external_order_id : "(no id)",
										counts.failed[0].error)));
		commit_tx();
		stored = true;
		inserted_since_check += counts.inserted;
		stats.pages++;
		stats.orders += counts.inserted + counts.updated + counts.unchanged + counts.stale;
	}
	PG_CATCH();
	{
		abort_tx(mcxt);
	}
	PG_END_TRY();

	if (gone)
		drop_active(i);
	else
		nexus_run_stored(run, stored);
}

/*
 * A first import fills nexus.orders far faster than autovacuum analyzes it.
 * With statistics of a nearly empty table the planner may check each new
 * item's foreign key through the wrong index and read a whole tenant's
 * orders every time (bench/sync measured 3x slower pages).  So after every
 * few thousand inserted orders, when the statistics describe less than
 * half of what the table holds, analyze the order tables now.
 */
static void
maybe_analyze(void)
{
	MemoryContext mcxt = CurrentMemoryContext;

	if (inserted_since_check < ANALYZE_CHECK_EVERY)
		return;
	inserted_since_check = 0;
	PG_TRY();
	{
		bool		isnull;
		bool		stale;

		begin_tx("nexus: checking the order tables' statistics");
		if (SPI_execute("SELECT c.reltuples < 0 OR pg_stat_get_live_tuples(c.oid) > 2 * c.reltuples + 1000"
						"  FROM pg_class c WHERE c.oid = 'nexus.orders'::regclass", true, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "nexus: could not read the statistics of nexus.orders");
		stale = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (stale)
		{
			set_state("analyzing");
			if (SPI_execute("ANALYZE nexus.orders, nexus.order_items", false, 0) != SPI_OK_UTILITY)
				elog(ERROR, "nexus: ANALYZE of the order tables failed");
		}
		commit_tx();
		if (stale)
			ereport(LOG, (errmsg("nexus sync worker %d: analyzed nexus.orders and nexus.order_items (their statistics lagged behind an import)",
								 my_slot + 1)));
	}
	PG_CATCH();
	{
		abort_tx(mcxt);
	}
	PG_END_TRY();
}

static void
save_token(int i)
{
	MemoryContext mcxt = CurrentMemoryContext;
	NexusRun   *run = active[i].run;
	int64		expires;
	const char *token = nexus_run_token(run, &expires);

	PG_TRY();
	{
		int			version;
		bytea	   *nonce;
		bytea	   *cipher;
		Oid			types[6] = {UUIDOID, UUIDOID, INT4OID, BYTEAOID, BYTEAOID, TIMESTAMPTZOID};
		Datum		args[6];

		begin_tx("nexus: saving an access token");
		nexus_encrypt_token(nexus_run_tenant(run), nexus_run_connection(run), token,
							&version, &nonce, &cipher);
		args[0] = UUIDPGetDatum(nexus_run_tenant(run));
		args[1] = UUIDPGetDatum(nexus_run_connection(run));
		args[2] = Int32GetDatum(version);
		args[3] = PointerGetDatum(nonce);
		args[4] = PointerGetDatum(cipher);
		args[5] = epoch_timestamptz(expires);
		SPI_execute_with_args("SELECT nexus_private.save_access_token($1, $2, $3, $4, $5, $6)",
							  6, types, args, NULL, false, 1);
		commit_tx();
	}
	PG_CATCH();
	{
		/* Only a cache: the run goes on with the token it holds. */
		abort_tx(mcxt);
	}
	PG_END_TRY();
	nexus_run_token_saved(run);
}

static void
note_throttled(int i, int64 wake_at_ms)
{
	MemoryContext mcxt = CurrentMemoryContext;
	NexusRun   *run = active[i].run;

	PG_TRY();
	{
		Oid			types[5] = {UUIDOID, INT8OID, INT4OID, TIMESTAMPTZOID, INTERVALOID};
		Datum		args[5];

		begin_tx("nexus: a marketplace asked to wait");
		args[0] = UUIDPGetDatum(nexus_run_tenant(run));
		args[1] = Int64GetDatum(nexus_run_id(run));
		args[2] = Int32GetDatum(MyProcPid);
		args[3] = epoch_timestamptz(wake_at_ms / 1000 + 1);
		args[4] = interval_secs(nexus_sync_lease_s);
		SPI_execute_with_args("SELECT nexus_private.sync_throttled($1, $2, $3, $4, $5)",
							  5, types, args, NULL, false, 1);
		commit_tx();
	}
	PG_CATCH();
	{
		abort_tx(mcxt);
	}
	PG_END_TRY();
	active[i].throttle_noted = true;
}

static void
finish(int i, const NexusRunStatus *st)
{
	MemoryContext mcxt = CurrentMemoryContext;
	NexusRun   *run = active[i].run;
	const char *kind = st->outcome == RUN_OK ? "ok" : st->outcome == RUN_CREDENTIALS ? "credentials" : "failed";

	if (st->outcome != RUN_OK && st->error)
		note_error(st->error);
	PG_TRY();
	{
		begin_tx("nexus: finishing a sync run");
		record_finish(nexus_run_tenant(run), nexus_run_id(run), kind, st->error,
					  st->outcome == RUN_OK ? st->watermark : 0, st->requests);
		commit_tx();
	}
	PG_CATCH();
	{
		/* Left running: its lease runs out and it is tried again. */
		abort_tx(mcxt);
	}
	PG_END_TRY();
	drop_active(i);
}

/* Hand every run back (SIGTERM): they resume after their last stored page. */
static void
release_all(void)
{
	MemoryContext mcxt = CurrentMemoryContext;
	Datum	   *ids;
	Oid			types[2] = {INT4OID, INT8ARRAYOID};
	Datum		args[2];

	if (nactive == 0)
		return;
	ids = palloc(sizeof(Datum) * nactive);
	for (int i = 0; i < nactive; i++)
		ids[i] = Int64GetDatum(nexus_run_id(active[i].run));
	PG_TRY();
	{
		begin_tx("nexus: handing sync runs back");
		args[0] = Int32GetDatum(MyProcPid);
		args[1] = PointerGetDatum(construct_array(ids, nactive, INT8OID, 8, true, TYPALIGN_DOUBLE));
		SPI_execute_with_args("SELECT nexus_private.release_sync_runs($1, $2)", 2, types, args, NULL, false, 1);
		commit_tx();
		ereport(LOG,
				(errmsg("nexus sync worker %d: handed %d sync run(s) back; they resume after their last stored page",
						my_slot + 1, nactive)));
	}
	PG_CATCH();
	{
		abort_tx(mcxt);
	}
	PG_END_TRY();
	while (nactive > 0)
		drop_active(nactive - 1);
}

/* ---------- webhook signing keys (sync worker 1 only) ---------- */

static NexusKeyFetch *key_fetch = NULL;
static char key_market[8];
static char key_wanted[NEXUS_KEY_ID_MAX];

/*
 * Start fetching the wanted key with one connection of its marketplace
 * that has credentials (active ones first, those in error last), read and
 * decrypted as a claim does, in a short transaction of its own.
 */
static void
start_key_fetch(void)
{
	MemoryContext mcxt = CurrentMemoryContext;
	char	   *error = NULL;

	PG_TRY();
	{
		begin_tx("nexus: choosing a connection to fetch webhook keys with");
		if (!extension_present())
			error = pstrdup("the nexus extension is not installed");
		else
		{
			Oid			types[1] = {TEXTOID};
			Datum		args[1] = {CStringGetTextDatum(key_market)};

			if (SPI_execute_with_args("SELECT c.tenant_id, c.id, c.region, c.config::text"
									  "  FROM nexus.marketplace_connections c"
									  "  JOIN nexus_private.connection_credentials cc"
									  "    ON cc.tenant_id = c.tenant_id AND cc.connection_id = c.id"
									  " WHERE c.marketplace = $1"
									  " ORDER BY c.status = 'active' DESC, c.status = 'error', c.created_at, c.id"
									  " LIMIT 1",
									  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
				elog(ERROR, "nexus: connection look-up for webhook keys failed");
			if (SPI_processed == 0)
				error = psprintf("no %s connection has credentials to fetch it with", key_market);
			else
			{
				HeapTuple	tup = SPI_tuptable->vals[0];
				TupleDesc	desc = SPI_tuptable->tupdesc;
				bool		isnull;
				pg_uuid_t	tenant = *DatumGetUUIDP(SPI_getbinval(tup, desc, 1, &isnull));
				pg_uuid_t	conn = *DatumGetUUIDP(SPI_getbinval(tup, desc, 2, &isnull));
				NexusKeySpec spec;
				char		ua[64];
				char	   *creds;
				int64		expires;

				snprintf(ua, sizeof(ua), "nexus/%s", NEXUS_VERSION);
				memset(&spec, 0, sizeof(spec));
				spec.marketplace = key_market;
				spec.key_id = key_wanted;
				spec.region = SPI_getvalue(tup, desc, 3);
				spec.config_json = SPI_getvalue(tup, desc, 4);
				spec.user_agent = ua;
				creds = nexus_decrypt_credentials(&tenant, &conn);
				if (creds == NULL)
					error = pstrdup("the connection's credentials are gone");
				else
				{
					spec.credentials_json = creds;
					spec.token = cached_token(&tenant, &conn, &expires);
					key_fetch = nexus_keys_create(&spec, &error);
					explicit_bzero(creds, strlen(creds));
					if (spec.token)
						explicit_bzero((char *) spec.token, strlen(spec.token));
				}
			}
		}
		commit_tx();
	}
	PG_CATCH();
	{
		abort_tx(mcxt);
		error = pstrdup("see the error above");
	}
	PG_END_TRY();
	if (key_fetch == NULL)
		ereport(LOG,
				(errmsg("nexus sync worker: could not fetch %s webhook key \"%s\": %s; trying again in %d s",
						key_market, key_wanted, error, nexus_webhook_key_retry_s)));
}

/* Store what the fetch brought (upsert, trusted for the adapter's time), in one short transaction. */
static bool
store_keys(void)
{
	MemoryContext mcxt = CurrentMemoryContext;
	volatile bool stored = false;

	PG_TRY();
	{
		Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, INT4OID};
		Datum		args[4];

		begin_tx("nexus: storing webhook signing keys");
		args[0] = CStringGetTextDatum(key_market);
		args[3] = Int32GetDatum(nexus_keys_ttl(key_fetch));
		for (int i = 0; i < nexus_keys_count(key_fetch); i++)
		{
			args[1] = CStringGetTextDatum(nexus_keys_id(key_fetch, i));
			args[2] = CStringGetTextDatum(nexus_keys_pem(key_fetch, i));
			if (SPI_execute_with_args("INSERT INTO nexus_private.webhook_keys AS k"
									  "   (marketplace, key_id, public_key, expires_at)"
									  " VALUES ($1, $2, $3, CASE WHEN $4 > 0 THEN now() + make_interval(secs => $4) END)"
									  " ON CONFLICT (marketplace, key_id) DO UPDATE"
									  "   SET public_key = excluded.public_key, expires_at = excluded.expires_at",
									  4, types, args, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "nexus: could not store a webhook key");
		}
		commit_tx();
		stored = true;
	}
	PG_CATCH();
	{
		abort_tx(mcxt);
	}
	PG_END_TRY();
	return stored;
}

static void
finish_key_fetch(void)
{
	const char *error;
	NexusKeysOutcome outcome = nexus_keys_outcome(key_fetch, &error);
	bool		listed = nexus_keys_listed(key_fetch);

	if (outcome == KEYS_OK && store_keys())
	{
		ereport(LOG,
				(errmsg("nexus sync worker: stored %d %s webhook signing key(s), asked for key \"%s\"",
						nexus_keys_count(key_fetch), key_market, key_wanted)));
		/* A list answers for every key wanted: those it lacks are not the marketplace's. */
		nexus_webhook_key_done(key_market, listed ? NULL : key_wanted);
	}
	else if (outcome == KEYS_UNKNOWN)
	{
		ereport(LOG,
				(errmsg("nexus sync worker: %s has no webhook key \"%s\" (a forged or stale key id)",
						key_market, key_wanted)));
		nexus_webhook_key_done(key_market, key_wanted);
	}
	else if (outcome == KEYS_FAILED)
		ereport(LOG,
				(errmsg("nexus sync worker: could not fetch %s webhook key \"%s\": %s; trying again in %d s",
						key_market, key_wanted, error ? error : "unknown error", nexus_webhook_key_retry_s)));
	nexus_keys_free(key_fetch);
	key_fetch = NULL;
}

/*
 * Worker 1 fetches the keys webhooks asked for, one fetch at a time,
 * beside its runs; true when one started or ended.  When none is due,
 * *next_wake covers the next that will be.
 */
static bool
drive_keys(int64 *next_wake)
{
	int64		wait_ms;

	if (my_slot != 0)
		return false;
	if (key_fetch == NULL)
	{
		if (!nexus_webhook_key_next(nexus_webhook_key_retry_s, key_market, key_wanted, &wait_ms))
		{
			if (wait_ms >= 0)
				*next_wake = Min(*next_wake, now_ms() + wait_ms);
			return false;
		}
		start_key_fetch();
		if (key_fetch == NULL)
			return true;
	}
	if (!nexus_keys_advance(key_fetch, http))
		return false;
	finish_key_fetch();
	return true;
}

static void
on_exit_detach(int code, Datum arg)
{
	nexus_sync_slot_detach(my_slot);
}

/* ---------- the loop ---------- */

/* Drive every run as far as it goes now; true when something moved. */
static bool
drive(int64 *next_wake)
{
	bool		moved = false;

	for (int i = 0; i < nactive; i++)
	{
		NexusRunStatus st;

		nexus_run_advance(active[i].run, http, now_ms(), &st);
		switch (st.step)
		{
			case RUN_STORE:
				store_page(i, st.requests);
				maybe_analyze();
				moved = true;
				break;
			case RUN_SAVE_TOKEN:
				save_token(i);
				moved = true;
				break;
			case RUN_DONE:
				finish(i, &st);
				i--;
				moved = true;
				break;
			case RUN_WAIT:
				*next_wake = Min(*next_wake, st.wake_at_ms);
				if (st.throttled && !active[i].throttle_noted)
					note_throttled(i, st.wake_at_ms);
				break;
			case RUN_BUSY:
				if (!st.throttled)
					active[i].throttle_noted = false;
				break;
		}
	}
	return moved;
}

/* Hand finished transfers to their runs; returns how many there were. */
static int
collect(void)
{
	NexusHttpResult r;
	int			n = 0;

	while (nexus_http_next(http, &r))
	{
		n++;
		stats.requests++;
		if (key_fetch != NULL && r.owner == (void *) key_fetch)
			nexus_keys_response(key_fetch, &r);
		else
			for (int i = 0; i < nactive; i++)
				if ((void *) active[i].run == r.owner)
				{
					nexus_run_response(active[i].run, &r, now_ms());
					break;
				}
		nexus_http_result_free(&r);
	}
	return n;
}

void
nexus_sync_worker_main(Datum arg)
{
	MemoryContext loop_cxt;
	int64		next_claim = 0;
	int64		next_renew = 0;
	bool		woken = true;

	my_slot = DatumGetInt32(arg);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(nexus_sync_database, NULL, 0);

	nexus_sync_slot_attach(my_slot);
	before_shmem_exit(on_exit_detach, (Datum) 0);
	nexus_adapt_use_malloc();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (http = nexus_http_create()) == NULL)
		ereport(FATAL, (errmsg("nexus sync worker: could not initialise libcurl")));
	apply_settings();
	active = MemoryContextAlloc(TopMemoryContext, sizeof(Active));
	loop_cxt = AllocSetContextCreate(TopMemoryContext, "nexus sync worker loop", ALLOCSET_DEFAULT_SIZES);
	ereport(LOG, (errmsg("nexus sync worker %d started in database \"%s\"", my_slot + 1, nexus_sync_database)));

	while (!ShutdownRequestPending)
	{
		int64		now;
		int64		next_wake;
		bool		keys_moved;
		int			rc;

		MemoryContextSwitchTo(loop_cxt);
		MemoryContextReset(loop_cxt);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			apply_settings();
		}
		if (my_slot >= nexus_sync_workers)
			break;

		now = now_ms();
		if (woken || now >= next_claim)
		{
			claim();
			next_claim = now + nexus_sync_poll_ms;
		}
		if (woken || now >= next_renew)
		{
			renew();
			next_renew = now + nexus_sync_lease_s * 1000 / 3;
		}
		woken = false;

		next_wake = Min(next_claim, next_renew);
		/* Keys first: a busy worker's runs always have something to do. */
		keys_moved = drive_keys(&next_wake);
		if (drive(&next_wake))
		{
			/* A finished run leaves room: look for more work at once. */
			next_claim = Min(next_claim, now_ms() + 10);
			continue;
		}
		if (keys_moved)
			continue;
		set_state(nactive == 0 ? "idle" : nexus_http_in_flight(http) > 0 ? "fetching" : "waiting");

		now = now_ms();
		if (nexus_http_poll(http, 0))
		{
			nexus_http_poll(http, (int) Max(Min(next_wake - now, CURL_POLL_MS), 1));
			collect();
			rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 0, PG_WAIT_EXTENSION);
		}
		else if (collect() > 0)
			continue;			/* the last transfers just ended: drive their runs on */
		else
		{
			rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						   (long) Max(Min(next_wake - now, (int64) nexus_sync_poll_ms), 0),
						   PG_WAIT_EXTENSION);
		}
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			woken = true;
		}
	}

	set_state("stopping");
	MemoryContextSwitchTo(loop_cxt);
	release_all();
	nexus_http_destroy(http);
	http = NULL;
	nexus_keys_free(key_fetch);
	key_fetch = NULL;
	curl_global_cleanup();
	proc_exit(0);
}
