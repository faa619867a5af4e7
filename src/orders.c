/*-------------------------------------------------------------------------
 *
 * orders.c
 *	  SQL entry points for orders: nexus.normalize_order(),
 *	  nexus.normalize_page() and nexus.ingest_orders().
 *
 * The adapters (through adapt.c) turn marketplace JSON into canonical
 * orders; this file turns those into JSON for the caller or into rows.
 * The upsert works a page at a time in a fixed number of statements: one
 * look-up of the stored versions, one INSERT, one UPDATE, one DELETE and
 * one INSERT of items, each over arrays, whatever the page size.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "common/cryptohash.h"
#include "common/md5.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "adapt.h"
#include "ingest.h"
#include "nexus.h"

static void
require_marketplace(const char *marketplace)
{
	if (!nexus_adapt_known(marketplace))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown marketplace \"%s\"", marketplace),
				 errhint("Marketplaces are amazon, ebay, bol, kaufland, shopify, zalando and walmart.")));
}

static void
payload_error(const char *marketplace, const char *error)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s payload", marketplace),
			 errdetail("%s", error),
			 errhint("Pass the marketplace's own JSON: one order (its single-order or detail response) or a whole list-response page.")));
}

static Datum
jsonb_from_text(const char *text)
{
	return jsonb_from_cstring(text);
}

static void
append_json_string(StringInfo buf, const char *s)
{
	if (s == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, s);
}

static void
warn_orders(const char *marketplace, const NexusPayload *p)
{
	for (int i = 0; i < p->norders; i++)
		if (p->orders[i].warning)
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("%s order %s: %s", marketplace,
							p->orders[i].external_order_id ? p->orders[i].external_order_id : "?",
							p->orders[i].warning),
					 errdetail("The order was kept with status \"%s\".", p->orders[i].status)));
}

/* nexus.normalize_order(marketplace text, payload json) -> jsonb */
PG_FUNCTION_INFO_V1(nexus_normalize_order);
Datum
nexus_normalize_order(PG_FUNCTION_ARGS)
{
	char	   *marketplace = text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *payload = PG_GETARG_TEXT_PP(1);
	NexusPayload p;
	char	   *error = NULL;

	require_marketplace(marketplace);
	if (!nexus_adapt_payload(marketplace, VARDATA_ANY(payload), VARSIZE_ANY_EXHDR(payload),
							 NULL, NEXUS_PAYLOAD_ORDER | NEXUS_PAYLOAD_CANONICAL | NEXUS_PAYLOAD_VALID, &p, &error))
		payload_error(marketplace, error);
	warn_orders(marketplace, &p);
	PG_RETURN_DATUM(jsonb_from_text(p.orders[0].canonical));
}

/*
 * The headers argument (jsonb, may be NULL) as the JSON text of an object
 * with lower-case names.
 */
static char *
headers_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return NULL;
	return text_to_cstring(DatumGetTextPP(PG_GETARG_DATUM(argno)));
}

/* nexus.normalize_page(marketplace text, payload json, headers json) -> jsonb */
PG_FUNCTION_INFO_V1(nexus_normalize_page);
Datum
nexus_normalize_page(PG_FUNCTION_ARGS)
{
	char	   *marketplace;
	text	   *payload;
	NexusPayload p;
	char	   *error = NULL;
	StringInfoData buf;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	marketplace = text_to_cstring(PG_GETARG_TEXT_PP(0));
	payload = PG_GETARG_TEXT_PP(1);
	require_marketplace(marketplace);
	if (!nexus_adapt_payload(marketplace, VARDATA_ANY(payload), VARSIZE_ANY_EXHDR(payload),
							 headers_arg(fcinfo, 2), NEXUS_PAYLOAD_PAGE | NEXUS_PAYLOAD_CANONICAL | NEXUS_PAYLOAD_VALID,
							 &p, &error))
		payload_error(marketplace, error);
	warn_orders(marketplace, &p);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"orders\": [");
	for (int i = 0; i < p.norders; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", p.orders[i].canonical);
	appendStringInfoString(&buf, "], \"next_cursor\": ");
	append_json_string(&buf, p.next_cursor);
	if (p.ndetail_ids > 0)
	{
		appendStringInfoString(&buf, ", \"detail_ids\": [");
		for (int i = 0; i < p.ndetail_ids; i++)
		{
			if (i)
				appendStringInfoString(&buf, ", ");
			append_json_string(&buf, p.detail_ids[i]);
		}
		appendStringInfoChar(&buf, ']');
	}
	if (p.nfailed > 0)
	{
		appendStringInfoString(&buf, ", \"failed\": [");
		for (int i = 0; i < p.nfailed; i++)
		{
			appendStringInfo(&buf, "%s{\"external_order_id\": ", i ? ", " : "");
			append_json_string(&buf, p.failed[i].external_order_id);
			appendStringInfoString(&buf, ", \"error\": ");
			append_json_string(&buf, p.failed[i].error);
			appendStringInfoChar(&buf, '}');
		}
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_DATUM(jsonb_from_text(buf.data));
}

/*
 * The connection's tenant and marketplace, checking that the caller may
 * ingest into it: service_role and superusers always; otherwise the
 * connection must be in the request's tenant (else it "does not exist")
 * and the request must hold orders:write.  SPI must be connected.
 */
void
nexus_connection_for_write(const pg_uuid_t *conn, pg_uuid_t *tenant, char **marketplace,
						   const char *scope)
{
	Oid			types[1] = {UUIDOID};
	Datum		args[1] = {UUIDPGetDatum(conn)};
	bool		isnull;
	pg_uuid_t	caller_tenant;
	char	   *id = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(conn)));

	if (SPI_execute_with_args("SELECT tenant_id, marketplace FROM nexus.marketplace_connections WHERE id = $1",
							  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "nexus: connection look-up failed");
	if (SPI_processed == 1)
	{
		*tenant = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		*marketplace = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	}
	if (SPI_processed != 1 ||
		(!nexus_caller_is_service_role() &&
		 (!nexus_request_tenant(&caller_tenant) ||
		  memcmp(&caller_tenant, tenant, sizeof(pg_uuid_t)) != 0)))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("marketplace connection %s does not exist", id)));
	if (scope && !nexus_caller_is_service_role() && !nexus_request_has_scope(scope))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to ingest orders"),
				 errdetail("Ingesting orders needs the manager role or higher, or an api key with %s.", scope)));
}

char *
nexus_ingest_result_json(const NexusIngestCounts *c, const NexusPayload *p)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"inserted\": " INT64_FORMAT ", \"updated\": " INT64_FORMAT
					 ", \"unchanged\": " INT64_FORMAT ", \"stale\": " INT64_FORMAT ", \"failed\": [",
					 c->inserted, c->updated, c->unchanged, c->stale);
	for (int i = 0; i < c->nfailed; i++)
	{
		appendStringInfo(&buf, "%s{\"external_order_id\": ", i ? ", " : "");
		append_json_string(&buf, c->failed[i].external_order_id);
		appendStringInfoString(&buf, ", \"error\": ");
		append_json_string(&buf, c->failed[i].error);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	if (p && p->is_page)
	{
		appendStringInfoString(&buf, ", \"next_cursor\": ");
		append_json_string(&buf, p->next_cursor);
		if (p->ndetail_ids > 0)
		{
			appendStringInfoString(&buf, ", \"detail_ids\": [");
			for (int i = 0; i < p->ndetail_ids; i++)
			{
				if (i)
					appendStringInfoString(&buf, ", ");
				append_json_string(&buf, p->detail_ids[i]);
			}
			appendStringInfoChar(&buf, ']');
		}
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* nexus.ingest_orders(connection_id uuid, payload json, headers json) -> jsonb; SECURITY DEFINER. */
PG_FUNCTION_INFO_V1(nexus_ingest_orders);
Datum
nexus_ingest_orders(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *conn;
	text	   *payload;
	MemoryContext caller = CurrentMemoryContext;
	pg_uuid_t	tenant;
	char	   *marketplace;
	NexusPayload p;
	NexusIngestCounts counts;
	char	   *error = NULL;
	char	   *result;
	char	   *headers = headers_arg(fcinfo, 2);

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	conn = PG_GETARG_UUID_P(0);
	payload = PG_GETARG_TEXT_PP(1);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "nexus: SPI_connect failed");
	nexus_connection_for_write(conn, &tenant, &marketplace, "orders:write");
	if (!nexus_adapt_payload(marketplace, VARDATA_ANY(payload), VARSIZE_ANY_EXHDR(payload),
							 headers, NEXUS_PAYLOAD_ANY | NEXUS_PAYLOAD_VALID, &p, &error))
		payload_error(marketplace, error);
	warn_orders(marketplace, &p);
	nexus_ingest_payload(&tenant, conn, marketplace, &p, &counts);
	result = MemoryContextStrdup(caller, nexus_ingest_result_json(&counts, &p));
	SPI_finish();
	PG_RETURN_DATUM(jsonb_from_text(result));
}
