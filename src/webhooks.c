/*-------------------------------------------------------------------------
 *
 * webhooks.c
 *	  Order webhooks: find the connection, verify the signature, drop
 *	  replays, record the event and ingest the order, in one call.
 *
 * Marketplaces send no JWT, so the endpoints are callable by anon and
 * trust nothing but the signature.  Which connection a delivery is for:
 *   shopify   x-shopify-shop-domain = config.shop_domain (copied from the
 *             credentials at connect time); secret credentials.webhook_secret
 *   walmart   payload.order.partnerId = config.partner_id, when set; secret
 *             credentials.webhook_secret, else client_secret
 *   kaufland  storefront = region; secret credentials.secret_key; the URL
 *             signed is config.webhook_url
 *   ebay      notification.data.sellerUsername = config.seller_username;
 *             ECDSA with eBay's public keys (nexus.store_webhook_key)
 *   bol       retailerId = config.retailer_id; RSA with bol's public keys
 * The eBay and bol keys are fetched by the sync workers when a webhook
 * names one nexus does not hold (bgworker/shared.c, worker.c).
 * HMAC marketplaces try each candidate's secret until one verifies.  A bad
 * or missing signature raises PT401 (HTTP 401) and leaves nothing behind.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "adapt.h"
#include "ingest.h"
#include "nexus.h"
#include "sync.h"

typedef struct Candidate
{
	pg_uuid_t	tenant;
	pg_uuid_t	connection;
	char	   *webhook_url;
} Candidate;

static const char *
candidate_sql(void)
{
	return "SELECT c.tenant_id, c.id, c.config ->> 'webhook_url'"
		"  FROM nexus.marketplace_connections c"
		" WHERE c.marketplace = $1 AND CASE $1"
		"   WHEN 'shopify' THEN c.config ->> 'shop_domain' = $2::jsonb ->> 'x-shopify-shop-domain'"
		"   WHEN 'walmart' THEN c.config ->> 'partner_id' IS NULL"
		"                    OR c.config ->> 'partner_id' = $3::jsonb #>> '{payload,order,partnerId}'"
		"   WHEN 'kaufland' THEN c.region = $3::jsonb ->> 'storefront'"
		"   WHEN 'ebay' THEN c.config ->> 'seller_username' = $3::jsonb #>> '{notification,data,sellerUsername}'"
		"   WHEN 'bol' THEN c.config ->> 'retailer_id' = $3::jsonb ->> 'retailerId'"
		"   ELSE false END"
		" ORDER BY c.created_at, c.id LIMIT 100";
}

/* The webhook secret of one connection, from its decrypted credentials. */
static char *
secret_of(const char *marketplace, const Candidate *c)
{
	char	   *plain = nexus_decrypt_credentials(&c->tenant, &c->connection);
	Jsonb	   *creds;
	const char *names[2] = {NULL, NULL};
	char	   *secret = NULL;

	if (plain == NULL)
		return NULL;
	creds = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(plain)));
	explicit_bzero(plain, strlen(plain));
	if (strcmp(marketplace, "shopify") == 0)
		names[0] = "webhook_secret";
	else if (strcmp(marketplace, "walmart") == 0)
	{
		names[0] = "webhook_secret";
		names[1] = "client_secret";
	}
	else if (strcmp(marketplace, "kaufland") == 0)
		names[0] = "secret_key";
	for (int i = 0; i < 2 && secret == NULL && names[i]; i++)
	{
		JsonbValue	buf;
		JsonbValue *v = getKeyJsonValueFromContainer(&creds->root, names[i], strlen(names[i]), &buf);

		if (v && v->type == jbvString)
			secret = pnstrdup(v->val.string.val, v->val.string.len);
	}
	return secret;
}

/*
 * Key look-up for eBay and bol: nexus_private.webhook_keys (SPI is
 * connected).  A key nexus lacks, or holds past its expiry, is asked of
 * the sync workers through shared memory: this transaction is about to
 * fail with 401 and roll back, and the marketplace delivers again.  A key
 * that expires within KEY_REFRESH_AHEAD is asked for too, while it still
 * verifies: refreshed before it lapses, no genuine webhook is refused.
 */
#define KEY_REFRESH_AHEAD "10 minutes"

static const char *
lookup_key(void *ctx, const char *key_id)
{
	const char *marketplace = (const char *) ctx;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		args[2] = {CStringGetTextDatum(marketplace), CStringGetTextDatum(key_id)};
	bool		isnull;

	if (SPI_execute_with_args("SELECT public_key,"
							  "       coalesce(expires_at < now() + interval '" KEY_REFRESH_AHEAD "', false)"
							  "  FROM nexus_private.webhook_keys"
							  " WHERE marketplace = $1 AND key_id = $2"
							  "   AND (expires_at IS NULL OR expires_at > now())",
							  2, types, args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed == 0)
	{
		nexus_webhook_key_wanted(marketplace, key_id, false);
		return NULL;
	}
	if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)))
		nexus_webhook_key_wanted(marketplace, key_id, true);
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

static Datum
result_datum(MemoryContext caller, const char *json)
{
	MemoryContext old = MemoryContextSwitchTo(caller);
	Datum		d = DirectFunctionCall1(jsonb_in, CStringGetDatum(pstrdup(json)));

	MemoryContextSwitchTo(old);
	return d;
}

static void
append_str(StringInfo buf, const char *key, const char *value)
{
	appendStringInfo(buf, ", \"%s\": ", key);
	if (value)
		escape_json(buf, value);
	else
		appendStringInfoString(buf, "null");
}

/* nexus_private.receive_webhook(marketplace text, headers text, body text) -> jsonb */
PG_FUNCTION_INFO_V1(nexus_receive_webhook);
Datum
nexus_receive_webhook(PG_FUNCTION_ARGS)
{
	char	   *marketplace = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *headers = text_to_cstring(PG_GETARG_TEXT_PP(1));
	text	   *body_text = PG_GETARG_TEXT_PP(2);
	const char *body = VARDATA_ANY(body_text);
	size_t		body_len = VARSIZE_ANY_EXHDR(body_text);
	MemoryContext caller = CurrentMemoryContext;
	NexusWebhook event;
	char	   *error = NULL;
	char	   *last_error = NULL;
	Candidate  *chosen = NULL;
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		args[3];
	int			ncand;
	Candidate  *cands;
	int64		now = (int64) (GetCurrentTimestamp() / USECS_PER_SEC) + NEXUS_UNIX_EPOCH_OFFSET;
	bool		public_keys = strcmp(marketplace, "ebay") == 0 || strcmp(marketplace, "bol") == 0;
	StringInfoData out;
	Datum		result;

	if (!nexus_adapt_has_webhooks(marketplace))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s sends no signed HTTP order webhooks", marketplace),
				 errhint("Webhooks are received for shopify, walmart, kaufland, ebay and bol; the others are polled.")));
	/* Reading the body is harmless; trusting it waits for the signature. */
	if (!nexus_adapt_parse_webhook(marketplace, body, body_len, headers, &event, &error))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s webhook", marketplace),
				 errdetail("%s", error)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "nexus: SPI_connect failed");
	args[0] = CStringGetTextDatum(marketplace);
	args[1] = CStringGetTextDatum(headers);
	args[2] = PointerGetDatum(cstring_to_text_with_len(body, body_len));
	if (SPI_execute_with_args(candidate_sql(), 3, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "nexus: webhook connection look-up failed");
	ncand = (int) SPI_processed;
	cands = palloc0(sizeof(Candidate) * Max(ncand, 1));
	for (int i = 0; i < ncand; i++)
	{
		bool		isnull;

		cands[i].tenant = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		cands[i].connection = *DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		cands[i].webhook_url = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
	}

	for (int i = 0; i < ncand && chosen == NULL; i++)
	{
		char	   *secret = public_keys ? NULL : secret_of(marketplace, &cands[i]);

		if (!public_keys && secret == NULL)
		{
			last_error = psprintf("the connection has no %s webhook secret in its credentials", marketplace);
			continue;
		}
		if (nexus_adapt_verify_webhook(marketplace, body, body_len, headers, secret,
									   cands[i].webhook_url, lookup_key, marketplace, now, &error))
			chosen = &cands[i];
		else
			last_error = error;
		if (secret)
			explicit_bzero(secret, strlen(secret));
	}
	if (chosen == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NEXUS_HTTP_401),
				 errmsg("invalid %s webhook signature", marketplace),
				 errdetail("%s", ncand == 0 ? "No connection matches the account this webhook is for." :
						   last_error ? last_error : "The signature does not match."),
				 errhint("Check the connection's webhook secret or account settings (config shop_domain, partner_id, retailer_id, seller_username, webhook_url), and for eBay and bol the public keys in nexus_private.webhook_keys, which the sync workers fetch when a webhook names one (the server log says why a fetch failed).")));

	/* Authentic: record it once; a replay finds the event id taken. */
	{
		Oid			etypes[6] = {UUIDOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		Datum		eargs[6];
		char		enulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

		eargs[0] = UUIDPGetDatum(&chosen->tenant);
		eargs[1] = UUIDPGetDatum(&chosen->connection);
		eargs[2] = CStringGetTextDatum(marketplace);
		eargs[3] = CStringGetTextDatum(event.event_id ? event.event_id : "");
		eargs[4] = event.topic ? CStringGetTextDatum(event.topic) : (Datum) 0;
		eargs[5] = event.order_id ? CStringGetTextDatum(event.order_id) : (Datum) 0;
		if (!event.topic)
			enulls[4] = 'n';
		if (!event.order_id)
			enulls[5] = 'n';
		if (event.event_id == NULL || *event.event_id == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s webhook carries no event id", marketplace)));
		if (SPI_execute_with_args("INSERT INTO nexus.webhook_events (tenant_id, connection_id, marketplace,"
								  "   event_id, topic, external_order_id, status)"
								  " VALUES ($1, $2, $3, $4, $5, $6, 'needs_fetch')"
								  " ON CONFLICT (tenant_id, connection_id, event_id) DO NOTHING RETURNING id",
								  6, etypes, eargs, enulls, false, 0) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "nexus: could not record the webhook event");
	}

	initStringInfo(&out);
	appendStringInfo(&out, "{\"marketplace\": \"%s\"", marketplace);
	append_str(&out, "event_id", event.event_id);
	append_str(&out, "external_order_id", event.order_id);
	if (SPI_processed == 0)
	{
		appendStringInfoString(&out, ", \"status\": \"duplicate\"}");
	}
	else
	{
		bool		isnull;
		Datum		event_row = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		pg_uuid_t	event_uuid = *DatumGetUUIDP(event_row);
		const char *status = "needs_fetch";
		char	   *detail = NULL;
		Oid			utypes[4] = {TEXTOID, JSONBOID, UUIDOID, UUIDOID};
		Datum		uargs[4];

		if (event.order_json)
		{
			NexusPayload p;
			NexusIngestCounts counts;

			if (nexus_adapt_payload(marketplace, event.order_json, strlen(event.order_json),
									NULL, NEXUS_PAYLOAD_ORDER, &p, &error))
			{
				nexus_ingest_payload(&chosen->tenant, &chosen->connection, marketplace, &p, &counts);
				detail = nexus_ingest_result_json(&counts, NULL);
				status = counts.nfailed > 0 ? "failed" : "processed";
			}
			else
			{
				StringInfoData e;

				initStringInfo(&e);
				appendStringInfoString(&e, "{\"error\": ");
				escape_json(&e, error);
				appendStringInfoChar(&e, '}');
				detail = e.data;
				status = "failed";
			}
		}
		uargs[0] = CStringGetTextDatum(status);
		uargs[1] = detail ? DirectFunctionCall1(jsonb_in, CStringGetDatum(detail)) : (Datum) 0;
		uargs[2] = UUIDPGetDatum(&chosen->tenant);
		uargs[3] = UUIDPGetDatum(&event_uuid);
		if (SPI_execute_with_args("UPDATE nexus.webhook_events SET status = $1, result = $2"
								  " WHERE tenant_id = $3 AND id = $4",
								  4, utypes, uargs, detail ? NULL : " n  ", false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "nexus: could not update the webhook event");
		appendStringInfo(&out, ", \"status\": \"%s\"", status);
		if (detail)
			appendStringInfo(&out, ", \"result\": %s", detail);
		if (strcmp(status, "needs_fetch") == 0)
		{
			/*
			 * The body only names the order: a sync of the connection fetches
			 * it (merged into one already queued or running).
			 */
			Oid			stypes[2] = {UUIDOID, UUIDOID};
			Datum		sargs[2] = {UUIDPGetDatum(&chosen->tenant), UUIDPGetDatum(&chosen->connection)};

			if (SPI_execute_with_args("INSERT INTO nexus.sync_runs (tenant_id, connection_id, trigger)"
									  " VALUES ($1, $2, 'webhook')"
									  " ON CONFLICT (tenant_id, connection_id) WHERE status IN ('queued', 'running')"
									  " DO NOTHING",
									  2, stypes, sargs, NULL, false, 0) != SPI_OK_INSERT ||
				SPI_execute("SELECT nexus_private.wake_sync_workers()", false, 0) != SPI_OK_SELECT)
				elog(ERROR, "nexus: could not queue the sync for a webhook");
			appendStringInfoString(&out, ", \"sync\": \"queued\"");
		}
		appendStringInfoChar(&out, '}');
	}
	result = result_datum(caller, out.data);
	SPI_finish();
	PG_RETURN_DATUM(result);
}
