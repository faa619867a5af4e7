/*-------------------------------------------------------------------------
 *
 * test_webhook_keys.c
 *	  The webhook signing-key entry points of the eBay and bol adapters:
 *	  the requests the sync workers send for a key a webhook named, and
 *	  the parsing of the answers into PEM public keys.  A key parsed from
 *	  the fixture response must verify the fixture webhook: that is the
 *	  whole point of fetching it.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "unit.h"

#define EBAY_KID "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

static NxSyncContext
key_ctx(const json_t *credentials, const char *base)
{
	NxSyncContext ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.credentials = credentials;
	ctx.api_base = base;
	ctx.auth_base = base;
	ctx.access_token = "app.token";
	ctx.user_agent = "nexus/0.1.0";
	return ctx;
}

/* parse_keys must fail with an error containing want, and leave no key behind. */
static void
check_parse_fails(const char *file, int line, const NxAdapter *a, const char *body,
				  const char *key_id, const char *want)
{
	NxWebhookKeys k;
	NxError		err = {{0}};

	nx_webhook_keys_init(&k);
	if (a->parse_keys(body, strlen(body), key_id, &k, &err) != NX_FAIL)
		nx_test_fail(file, line, "parsed, want an error saying \"%s\"", want);
	else if (strstr(err.msg, want) == NULL)
		nx_test_fail(file, line, "error \"%s\", want one saying \"%s\"", err.msg, want);
	nx_webhook_keys_free(&k);
}
#define PARSE_FAILS(a, body, kid, want) check_parse_fails(__FILE__, __LINE__, (a), (body), (kid), (want))

/* The fixture key file, one line of base64 without the armour (bol's form). */
static char *
bare_base64(const char *relpath)
{
	size_t		len;
	char	   *pem = nx_fixture_bytes(relpath, &len);
	char	   *out;
	size_t		n = 0;

	if (pem == NULL)
		return NULL;
	out = calloc(len + 1, 1);
	for (char *line = strtok(pem, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, "-----", 5) != 0)
		{
			memcpy(out + n, line, strlen(line));
			n += strlen(line);
		}
	free(pem);
	return out;
}

/* The fixture webhook verifies with the key just parsed. */
static void
check_verifies(const char *file, int line, const NxAdapter *a, const char *webhook,
			   const NxWebhookKey *key)
{
	NxWebhookInput in;
	NxTestKey	tk = {key->key_id, key->pem};
	char	   *body;
	json_t	   *headers;
	NxError		err = {{0}};

	nx_fixture_webhook(webhook, &in, &body, &headers);
	in.public_key = nx_test_key_lookup;
	in.ctx = &tk;
	CHECK_AT(file, line, a->verify_webhook(&in, &err) == NX_OK,
			 "%s: the fixture webhook does not verify with the fetched key: %s", a->name, err.msg);
	free(body);
	json_decref(headers);
}

/*
 * parse_keys of the fixture response (asking for key id ask) must give
 * exactly one key, want_kid, whose PEM is that of the fixture file and
 * which verifies the fixture webhook.
 */
static void
check_fixture_key(const char *file, int line, const NxAdapter *a, const char *response,
				  const char *ask, const char *pem_path, const char *want_kid,
				  const char *webhook)
{
	size_t		len;
	char	   *body = nx_fixture_bytes(response, &len);
	char	   *pem_file = nx_fixture_bytes(pem_path, NULL);
	NxWebhookKeys k;
	NxError		err = {{0}};

	nx_webhook_keys_init(&k);
	CHECK_AT(file, line, body && pem_file, "%s: fixture %s or %s missing", a->name, response,
			 pem_path);
	if (body && pem_file)
	{
		CHECK_AT(file, line, a->parse_keys(body, len, ask, &k, &err) == NX_OK,
				 "%s: parse_keys of %s failed: %s", a->name, response, err.msg);
		CHECK_AT(file, line, k.nkeys == 1, "%s: %zu keys, want 1", a->name, k.nkeys);
	}
	if (k.nkeys == 1)
	{
		CHECK_AT(file, line, k.keys[0].key_id && strcmp(k.keys[0].key_id, want_kid) == 0,
				 "%s: key id \"%s\", want \"%s\"", a->name,
				 k.keys[0].key_id ? k.keys[0].key_id : "(null)", want_kid);
		/* a one-line PEM comes back in OpenSSL's layout, as the fixture file has it */
		CHECK_AT(file, line, k.keys[0].pem && strcmp(k.keys[0].pem, pem_file) == 0,
				 "%s: key PEM \"%s\" is not that of %s", a->name,
				 k.keys[0].pem ? k.keys[0].pem : "(null)", pem_path);
		check_verifies(file, line, a, webhook, &k.keys[0]);
	}
	nx_webhook_keys_free(&k);
	free(body);
	free(pem_file);
}
#define CHECK_FIXTURE_KEY(a, response, ask, pem_path, want_kid, webhook) \
	check_fixture_key(__FILE__, __LINE__, (a), (response), (ask), (pem_path), (want_kid), (webhook))

/* ---------- eBay ---------- */

NX_TEST(ebay_key_settings)
{
	CHECK(nx_ebay_adapter.key_token_request != NULL);
	CHECK(nx_ebay_adapter.key_request != NULL);
	CHECK(nx_ebay_adapter.parse_keys != NULL);
	CHECK(!nx_ebay_adapter.keys_listed);
	CHECK_INT(nx_ebay_adapter.key_ttl_seconds, 3600);
	/* marketplaces that sign with a shared secret, or send no webhooks, fetch no keys */
	CHECK(nx_amazon_adapter.key_request == NULL && nx_amazon_adapter.parse_keys == NULL);
	CHECK(nx_kaufland_adapter.key_request == NULL && nx_kaufland_adapter.parse_keys == NULL);
	CHECK(nx_shopify_adapter.key_request == NULL && nx_shopify_adapter.parse_keys == NULL);
	CHECK(nx_zalando_adapter.key_request == NULL && nx_zalando_adapter.parse_keys == NULL);
	CHECK(nx_walmart_adapter.key_request == NULL && nx_walmart_adapter.parse_keys == NULL);
}

NX_TEST(ebay_key_token_request_is_an_application_grant)
{
	json_t	   *cred = nx_parse_json("{\"client_id\": \"ebay-id\", \"client_secret\": \"EBAY-SECRET\"}");
	NxSyncContext ctx = key_ctx(cred, "https://api.ebay.com");
	NxRequest	r;
	NxError		err = {{0}};
	const char	body[] = "grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope";

	ctx.access_token = NULL;
	CHECK(nx_ebay_adapter.key_token_request(&ctx, &r, &err) == NX_OK);
	CHECK_STR(r.method, "POST");
	CHECK_STR(r.url, "https://api.ebay.com/identity/v1/oauth2/token");
	/* base64("ebay-id:EBAY-SECRET"); no refresh token needed: the key is the app's */
	CHECK_HEADERS(&r, "User-Agent: nexus/0.1.0", "Accept: application/json",
			"Authorization: Basic ZWJheS1pZDpFQkFZLVNFQ1JFVA==",
			"Content-Type: application/x-www-form-urlencoded");
	CHECK_INT(r.body_len, strlen(body));
	CHECK(r.body && memcmp(r.body, body, r.body_len) == 0);
	nx_request_free(&r);

	json_object_del(cred, "client_secret");
	CHECK(nx_ebay_adapter.key_token_request(&ctx, &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "credentials: client_secret: missing");
	CHECK(r.url == NULL && r.nheaders == 0);
	json_decref(cred);
}

NX_TEST(ebay_key_request)
{
	NxSyncContext ctx = key_ctx(NULL, "http://127.0.0.1:9/ebay");
	NxRequest	r;
	NxError		err = {{0}};
	char		long_id[200];

	CHECK(nx_ebay_adapter.key_request(&ctx, EBAY_KID, &r, &err) == NX_OK);
	CHECK_STR(r.method, "GET");
	CHECK_STR(r.url, "http://127.0.0.1:9/ebay/commerce/notification/v1/public_key/" EBAY_KID);
	CHECK_HEADERS(&r, "User-Agent: nexus/0.1.0", "Accept: application/json", "Authorization: Bearer app.token");
	nx_request_free(&r);

	/* a key id from a forged header stays one path segment */
	CHECK(nx_ebay_adapter.key_request(&ctx, "a/../b?c", &r, &err) == NX_OK);
	CHECK_STR(r.url, "http://127.0.0.1:9/ebay/commerce/notification/v1/public_key/a%2F..%2Fb%3Fc");
	nx_request_free(&r);

	CHECK(nx_ebay_adapter.key_request(&ctx, "..", &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "key id: \"..\" is not a path segment");
	CHECK(nx_ebay_adapter.key_request(&ctx, "", &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "key id: missing");
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	CHECK(nx_ebay_adapter.key_request(&ctx, long_id, &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "key id: longer than 128 characters");
	ctx.access_token = NULL;
	CHECK(nx_ebay_adapter.key_request(&ctx, EBAY_KID, &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "access token: missing (request one first)");
	CHECK(r.url == NULL && r.nheaders == 0);
}

NX_TEST(ebay_parse_keys_fixture_verifies_the_webhook)
{
	CHECK_FIXTURE_KEY(&nx_ebay_adapter, "ebay/public_key_response.json", EBAY_KID,
					  "ebay/test_public_key.pem", EBAY_KID, "ebay/webhook_order_confirmation");
}

NX_TEST(ebay_parse_keys_refuses_what_is_not_an_ecdsa_key)
{
	const NxAdapter *a = &nx_ebay_adapter;
	char	   *rsa = bare_base64("bol/test_public_key.pem");
	char	   *ec = bare_base64("ebay/test_public_key.pem");
	char		body[1024];

	PARSE_FAILS(a, "<html>", EBAY_KID, "public key response: not JSON");
	PARSE_FAILS(a, "[]", EBAY_KID, "public key response: expected a JSON object");
	PARSE_FAILS(a, "{}", EBAY_KID, "key: missing");
	PARSE_FAILS(a, "{\"key\": 42}", EBAY_KID, "key: expected a string");
	PARSE_FAILS(a, "{\"key\": \"not a key!\"}", EBAY_KID, "key: neither PEM nor base64 DER");
	PARSE_FAILS(a, "{\"key\": \"QUJD\"}", EBAY_KID, "key: not a public key OpenSSL can read");
	PARSE_FAILS(a, "{\"key\": \"-----BEGIN CERTIFICATE-----QUJD-----END CERTIFICATE-----\"}",
				EBAY_KID, "key: not a PEM public key");
	snprintf(body, sizeof(body), "{\"key\": \"%s\"}", rsa ? rsa : "");
	PARSE_FAILS(a, body, EBAY_KID, "key: not an EC public key");
	snprintf(body, sizeof(body), "{\"key\": \"%s\", \"algorithm\": \"RSA\"}", ec ? ec : "");
	PARSE_FAILS(a, body, EBAY_KID, "algorithm: \"RSA\" is not supported (expected ECDSA)");
	snprintf(body, sizeof(body), "{\"key\": \"%s\", \"digest\": \"MD5\"}", ec ? ec : "");
	PARSE_FAILS(a, body, EBAY_KID, "digest: \"MD5\" is not supported");
	snprintf(body, sizeof(body), "{\"key\": \"%s\"}", ec ? ec : "");
	PARSE_FAILS(a, body, NULL, "key id: missing");
	free(rsa);
	free(ec);
}

/* ---------- bol ---------- */

NX_TEST(bol_key_settings_and_request)
{
	NxSyncContext ctx = key_ctx(NULL, "https://api.bol.com");
	NxRequest	r;
	NxError		err = {{0}};

	/* the sync's own client-credentials token reads the keys */
	CHECK(nx_bol_adapter.key_token_request == NULL);
	CHECK(nx_bol_adapter.token_request != NULL);
	CHECK(nx_bol_adapter.keys_listed);
	CHECK_INT(nx_bol_adapter.key_ttl_seconds, 86400);

	CHECK(nx_bol_adapter.key_request(&ctx, "7", &r, &err) == NX_OK);
	CHECK_STR(r.method, "GET");
	CHECK_STR(r.url, "https://api.bol.com/retailer/subscriptions/signature-keys");
	CHECK_HEADERS(&r, "User-Agent: nexus/0.1.0", "Accept: application/vnd.retailer.v10+json",
			"Authorization: Bearer app.token");
	nx_request_free(&r);
	ctx.api_base = NULL;
	CHECK(nx_bol_adapter.key_request(&ctx, "7", &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "api_base: missing");
	CHECK(r.url == NULL && r.nheaders == 0);
}

NX_TEST(bol_parse_keys_fixture_verifies_the_webhook)
{
	/* the key wanted does not matter: the list is the answer */
	CHECK_FIXTURE_KEY(&nx_bol_adapter, "bol/signature_keys_response.json", "anything",
					  "bol/test_public_key.pem", "0", "bol/webhook_order_created");
}

NX_TEST(bol_parse_keys_reads_each_entry)
{
	const NxAdapter *a = &nx_bol_adapter;
	char	   *rsa = bare_base64("bol/test_public_key.pem");
	char	   *ec = bare_base64("ebay/test_public_key.pem");
	char		body[2048];
	NxWebhookKeys k;
	NxError		err = {{0}};

	/* numeric ids, no type, other types skipped, an empty list */
	snprintf(body, sizeof(body),
			 "{\"signatureKeys\": [{\"id\": 3, \"publicKey\": \"%s\"},"
			 " {\"id\": \"4\", \"type\": \"ED25519\", \"publicKey\": \"whatever\"},"
			 " {\"id\": \"5\", \"type\": \"rsa\", \"publicKey\": \"%s\"}]}", rsa ? rsa : "", rsa ? rsa : "");
	nx_webhook_keys_init(&k);
	CHECK(a->parse_keys(body, strlen(body), NULL, &k, &err) == NX_OK);
	CHECK_INT(k.nkeys, 2);
	if (k.nkeys == 2)
	{
		CHECK_STR(k.keys[0].key_id, "3");
		CHECK_STR(k.keys[1].key_id, "5");
		CHECK(strncmp(k.keys[1].pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	}
	nx_webhook_keys_free(&k);
	CHECK(a->parse_keys("{\"signatureKeys\": []}", 21, NULL, &k, &err) == NX_OK);
	CHECK_INT(k.nkeys, 0);
	nx_webhook_keys_free(&k);

	PARSE_FAILS(a, "{ ", NULL, "signature keys response: not JSON");
	PARSE_FAILS(a, "\"x\"", NULL, "signature keys response: expected a JSON object");
	PARSE_FAILS(a, "{}", NULL, "signatureKeys: missing");
	PARSE_FAILS(a, "{\"signatureKeys\": {}}", NULL, "signatureKeys: expected an array");
	PARSE_FAILS(a, "{\"signatureKeys\": [1]}", NULL, "signatureKeys[0]: expected an object");
	PARSE_FAILS(a, "{\"signatureKeys\": [{\"publicKey\": \"QUJD\"}]}", NULL, "signatureKeys[0].id: missing");
	PARSE_FAILS(a, "{\"signatureKeys\": [{\"id\": \"1\"}]}", NULL, "signatureKeys[0].publicKey: missing");
	snprintf(body, sizeof(body), "{\"signatureKeys\": [{\"id\": \"1\", \"publicKey\": \"%s\"},"
			 " {\"id\": \"2\", \"publicKey\": \"%s\"}]}", rsa ? rsa : "", ec ? ec : "");
	PARSE_FAILS(a, body, NULL, "signatureKeys[1].publicKey: not an RSA public key");
	PARSE_FAILS(a, "{\"signatureKeys\": [{\"id\": \"1\", \"publicKey\": \"%%%\"}]}", NULL,
				"signatureKeys[0].publicKey: neither PEM nor base64 DER");
	free(rsa);
	free(ec);
}
