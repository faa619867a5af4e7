/*-------------------------------------------------------------------------
 *
 * api_keys.c
 *	  API keys: generation, and PostgREST's db-pre-request hook that turns a
 *	  key into the request's tenant and scopes.
 *
 * A key is "nxc_live_" followed by 32 random bytes in URL-safe base64.  Only
 * its SHA-256 and the first 8 characters after "nxc_live_" (to find the
 * row) are stored.  nexus.pre_request() verifies the key and records its
 * tenant and scopes where only a superuser can write, so SQL run
 * by the caller cannot forge them (see nexus_current_key); the record dies
 * with the transaction, which for PostgREST is the request.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "lib/stringinfo.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "nexus.h"

#define KEY_PREFIX			"nxc_live_"
#define KEY_PREFIX_LEN		9
#define KEY_RANDOM_BYTES	32
#define KEY_BODY_LEN		43	/* base64url of 32 bytes, unpadded */
#define KEY_LOOKUP_LEN		8

#define ERRCODE_PGRST		MAKE_SQLSTATE('P','G','R','S','T')

static SPIPlanPtr lookup_plan = NULL;

/* Parsed form of nexus.request_key, valid while its text is unchanged. */
static NexusKeyContext current_key = {0};
static char *current_key_text = NULL;
static uint64 current_key_generation = 0;

/*
 * The key context travels in the setting nexus.request_key, which only a
 * superuser can set (pre_request is SECURITY DEFINER) and which is set
 * transaction-locally, so it ends with the request.  A setting rather than
 * a static variable because parallel workers inherit settings: a policy
 * evaluated in a parallel scan must see the same tenant as the leader.
 * Its value is "<key id> <tenant id> <scope>[,<scope>...]".
 */
const NexusKeyContext *
nexus_current_key(void)
{
	const char *text = nexus_request_key;
	char	   *copy;
	char	   *tok;
	char	   *save;
	int			n = 1;

	if (current_key_generation == nexus_request_generation())
		return current_key.active ? &current_key : NULL;
	current_key_generation = nexus_request_generation();
	if (text == NULL || *text == '\0')
		text = "";
	if (current_key_text && strcmp(current_key_text, text) == 0)
		return current_key.active ? &current_key : NULL;

	for (int i = 0; i < current_key.nscopes; i++)
		pfree(current_key.scopes[i]);
	if (current_key.scopes)
		pfree(current_key.scopes);
	if (current_key_text)
		pfree(current_key_text);
	memset(&current_key, 0, sizeof(current_key));
	current_key_text = MemoryContextStrdup(TopMemoryContext, text);
	if (*text == '\0')
		return NULL;

	for (const char *p = text; *p; p++)
		n += (*p == ',');
	copy = pstrdup(text);
	tok = strtok_r(copy, " ", &save);
	if (tok == NULL || !nexus_parse_uuid(tok, strlen(tok), &current_key.key_id))
		return NULL;
	tok = strtok_r(NULL, " ", &save);
	if (tok == NULL || !nexus_parse_uuid(tok, strlen(tok), &current_key.tenant_id))
		return NULL;
	current_key.scopes = MemoryContextAllocZero(TopMemoryContext, sizeof(char *) * n);
	tok = strtok_r(NULL, " ", &save);
	if (tok != NULL)
		for (char *sc = strtok_r(tok, ",", &save); sc; sc = strtok_r(NULL, ",", &save))
			current_key.scopes[current_key.nscopes++] = MemoryContextStrdup(TopMemoryContext, sc);
	pfree(copy);
	current_key.active = true;
	return &current_key;
}

static void
set_request_key(const char *value)
{
	(void) set_config_option("nexus.request_key", value, PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}

static void
base64url(const unsigned char *in, int len, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32		acc = 0;
	int			bits = 0;
	int			n = 0;

	for (int i = 0; i < len; i++)
	{
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6)
		{
			bits -= 6;
			out[n++] = alphabet[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		out[n++] = alphabet[(acc << (6 - bits)) & 0x3f];
	out[n] = '\0';
}

static void
sha256(const char *data, size_t len, uint8 *digest)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "nexus: could not compute SHA-256: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
}

/* Compare in time independent of where the inputs differ. */
static bool
equal_constant_time(const uint8 *a, const uint8 *b, size_t len)
{
	volatile uint8 diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/*
 * nexus_private.new_api_key() -> (key text, prefix text, hash bytea).
 * The SQL wrapper stores prefix and hash and hands the key out once.
 */
PG_FUNCTION_INFO_V1(nexus_new_api_key);
Datum
nexus_new_api_key(PG_FUNCTION_ARGS)
{
	unsigned char rnd[KEY_RANDOM_BYTES];
	char		key[KEY_PREFIX_LEN + KEY_BODY_LEN + 1];
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	bytea	   *hash;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "nexus: new_api_key must return a composite");
	if (!pg_strong_random(rnd, sizeof(rnd)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes for an api key")));
	memcpy(key, KEY_PREFIX, KEY_PREFIX_LEN);
	base64url(rnd, sizeof(rnd), key + KEY_PREFIX_LEN);
	sha256(key, strlen(key), digest);

	hash = palloc(VARHDRSZ + sizeof(digest));
	SET_VARSIZE(hash, VARHDRSZ + sizeof(digest));
	memcpy(VARDATA(hash), digest, sizeof(digest));

	values[0] = CStringGetTextDatum(key);
	values[1] = PointerGetDatum(cstring_to_text_with_len(key + KEY_PREFIX_LEN, KEY_LOOKUP_LEN));
	values[2] = PointerGetDatum(hash);
	explicit_bzero(rnd, sizeof(rnd));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

static void
reject_key(const char *msg, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_NEXUS_HTTP_401),
			 errmsg("%s", msg),
			 detail ? errdetail("%s", detail) : 0,
			 errhint("Send a valid key in the x-api-key header or as \"Authorization: Bearer nxc_live_...\".")));
}

/* The key sent with the request, or NULL when the request carries none. */
static char *
key_from_headers(void)
{
	const char *headers = GetConfigOption("request.headers", true, false);
	Jsonb	   *doc;
	JsonbValue	buf;
	JsonbValue *v;

	if (headers == NULL || *headers == '\0')
		return NULL;
	/* Most requests carry a JWT and no key: skip the parse when no name can match. */
	if (strstr(headers, "x-api-key") == NULL && strstr(headers, "nxc_live_") == NULL)
		return NULL;
	doc = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(headers)));
	if (!JB_ROOT_IS_OBJECT(doc))
		return NULL;
	v = getKeyJsonValueFromContainer(&doc->root, "x-api-key", 9, &buf);
	if (v && v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	v = getKeyJsonValueFromContainer(&doc->root, "authorization", 13, &buf);
	if (v && v->type == jbvString)
	{
		char	   *auth = pnstrdup(v->val.string.val, v->val.string.len);

		/* Only our keys: a Bearer JWT is PostgREST's business. */
		if (pg_strncasecmp(auth, "bearer ", 7) == 0 &&
			strncmp(auth + 7, KEY_PREFIX, KEY_PREFIX_LEN) == 0)
			return pstrdup(auth + 7);
	}
	return NULL;
}

static void
set_response_headers(const NexusRateDecision *d)
{
	char	   *json = psprintf("[{\"X-RateLimit-Limit\": \"" INT64_FORMAT "\"},"
								" {\"X-RateLimit-Remaining\": \"" INT64_FORMAT "\"},"
								" {\"X-RateLimit-Reset\": \"" INT64_FORMAT "\"}]",
								d->limit, d->remaining, d->reset_epoch);

	(void) set_config_option("response.headers", json, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}

/*
 * Over the limit: PostgREST (v11+) answers a 'PGRST' error with the status
 * and headers named in its detail, which is the only way to send
 * Retry-After with a failed request: a setting made in an aborted
 * transaction is never read.
 */
static void
reject_rate(const NexusRateDecision *d)
{
	ereport(ERROR,
			(errcode(ERRCODE_PGRST),
			 errmsg("{\"code\": \"PT429\", \"message\": \"api key rate limit exceeded\", "
					"\"details\": \"The key's plan allows " INT64_FORMAT " requests in this window.\", "
					"\"hint\": \"Retry after " INT64_FORMAT " seconds.\"}",
					d->limit, d->retry_after),
			 errdetail("{\"status\": 429, \"headers\": {\"Retry-After\": \"" INT64_FORMAT "\", "
					   "\"X-RateLimit-Limit\": \"" INT64_FORMAT "\", \"X-RateLimit-Remaining\": \"0\", "
					   "\"X-RateLimit-Reset\": \"" INT64_FORMAT "\"}}",
					   d->retry_after, d->limit, d->reset_epoch)));
}

/*
 * Record when a key was last used, to the minute.  Only a writable
 * transaction can: PostgREST runs GET requests read-only, so a key used
 * only for reads is not recorded (a later release flushes those from
 * shared memory in a background worker).
 */
static void
note_key_use(const pg_uuid_t *key_id, const pg_uuid_t *tenant_id)
{
	Oid			types[2] = {UUIDOID, UUIDOID};
	Datum		args[2] = {UUIDPGetDatum(tenant_id), UUIDPGetDatum(key_id)};

	if (XactReadOnly || RecoveryInProgress())
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "nexus: SPI_connect failed");
	if (SPI_execute_with_args("UPDATE nexus.api_keys SET last_used_at = now()"
							  " WHERE tenant_id = $1 AND id = $2"
							  "   AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
							  2, types, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "nexus: could not record api key use");
	SPI_finish();
}

static NexusPlan
plan_from_name(const char *name)
{
	if (name && strcmp(name, "enterprise") == 0)
		return NEXUS_PLAN_ENTERPRISE;
	if (name && strcmp(name, "growth") == 0)
		return NEXUS_PLAN_GROWTH;
	return NEXUS_PLAN_STARTER;
}

/*
 * nexus.pre_request(): PostgREST's db-pre-request.  SECURITY DEFINER, so the
 * look-up below runs as the extension owner whatever role the request has.
 */
PG_FUNCTION_INFO_V1(nexus_pre_request);
Datum
nexus_pre_request(PG_FUNCTION_ARGS)
{
	char	   *key;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	Datum		arg;
	bool		matched = false;
	NexusPlan	plan = NEXUS_PLAN_STARTER;
	NexusRateDecision decision;
	pg_uuid_t	key_id = {{0}};
	pg_uuid_t	tenant_id = {{0}};
	ArrayType  *scopes = NULL;
	bool		revoked = false;
	bool		expired = false;

	if (nexus_request_key && *nexus_request_key)
		set_request_key("");
	key = key_from_headers();
	if (key == NULL)
		PG_RETURN_VOID();

	if (strlen(key) != KEY_PREFIX_LEN + KEY_BODY_LEN ||
		strncmp(key, KEY_PREFIX, KEY_PREFIX_LEN) != 0)
		reject_key("invalid api key", "The key does not have the form of a nexus api key.");
	sha256(key, strlen(key), digest);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "nexus: SPI_connect failed");
	if (lookup_plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};
		SPIPlanPtr	p = SPI_prepare(
									"SELECT k.id, k.tenant_id, k.scopes, h.key_hash, t.plan,"
									"       k.revoked_at IS NOT NULL,"
									"       k.expires_at IS NOT NULL AND k.expires_at <= now()"
									"  FROM nexus_private.api_key_hashes h"
									"  JOIN nexus.api_keys k ON k.tenant_id = h.tenant_id AND k.id = h.api_key_id"
									"  JOIN nexus.tenants t ON t.tenant_id = k.tenant_id"
									" WHERE h.key_prefix = $1",
									1, argtypes);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "nexus: could not prepare the api key look-up: %s",
				 SPI_result_code_string(SPI_result));
		lookup_plan = p;
	}
	arg = PointerGetDatum(cstring_to_text_with_len(key + KEY_PREFIX_LEN, KEY_LOOKUP_LEN));
	if (SPI_execute_plan(lookup_plan, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "nexus: api key look-up failed");

	/* Check every candidate, so the time taken says nothing about which matched. */
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		bytea	   *hash = DatumGetByteaPP(SPI_getbinval(tup, desc, 4, &isnull));

		if (!isnull && VARSIZE_ANY_EXHDR(hash) == sizeof(digest) &&
			equal_constant_time((uint8 *) VARDATA_ANY(hash), digest, sizeof(digest)) && !matched)
		{
			MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

			matched = true;
			key_id = *DatumGetUUIDP(SPI_getbinval(tup, desc, 1, &isnull));
			tenant_id = *DatumGetUUIDP(SPI_getbinval(tup, desc, 2, &isnull));
			scopes = DatumGetArrayTypePCopy(SPI_getbinval(tup, desc, 3, &isnull));
			plan = plan_from_name(SPI_getvalue(tup, desc, 5));
			revoked = DatumGetBool(SPI_getbinval(tup, desc, 6, &isnull));
			expired = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
			MemoryContextSwitchTo(old);
		}
	}
	SPI_finish();
	explicit_bzero(key, strlen(key));

	if (!matched)
		reject_key("invalid api key", "No key with this value exists.");
	if (!revoked && !expired)
		note_key_use(&key_id, &tenant_id);
	if (revoked)
		reject_key("api key has been revoked", "The key was revoked by an administrator of its tenant.");
	if (expired)
		reject_key("api key has expired", "The key's expiry time has passed.");

	if (nexus_rate_limit_enabled)
	{
		nexus_require_preload("API key rate limiting");
		nexus_ratelimit_check(&key_id, plan, &decision);
		if (!decision.allowed)
			reject_rate(&decision);
		set_response_headers(&decision);
	}

	/* Established last: a rejected request leaves no key context behind. */
	{
		Datum	   *elems;
		bool	   *enulls;
		int			n;
		StringInfoData buf;
		char	   *t;

		initStringInfo(&buf);
		t = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&key_id)));
		appendStringInfo(&buf, "%s ", t);
		t = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&tenant_id)));
		appendStringInfo(&buf, "%s ", t);
		deconstruct_array(scopes, TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &n);
		for (int i = 0, m = 0; i < n; i++)
			if (!enulls[i])
				appendStringInfo(&buf, "%s%s", m++ ? "," : "", TextDatumGetCString(elems[i]));
		set_request_key(buf.data);
	}
	PG_RETURN_VOID();
}

/* nexus.api_key_id(): the key that authenticated this request, if any. */
PG_FUNCTION_INFO_V1(nexus_api_key_id);
Datum
nexus_api_key_id(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *out;

	const NexusKeyContext *key = nexus_current_key();

	if (key == NULL)
		PG_RETURN_NULL();
	out = palloc(sizeof(pg_uuid_t));
	*out = key->key_id;
	PG_RETURN_UUID_P(out);
}
