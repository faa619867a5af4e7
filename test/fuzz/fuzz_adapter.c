/*-------------------------------------------------------------------------
 *
 * fuzz_adapter.c
 *	  One libFuzzer target per adapter entry point, built from this file
 *	  with -DNX_ADAPTER=nx_<marketplace>_adapter and -DNX_ENTRY=<1..5>:
 *	  1 normalize (input: one order JSON), 2 parse_page (input: a page),
 *	  3 verify_webhook + parse_webhook (input: a first line of headers
 *	  JSON, then the raw body), 4 the sync entry points that read what a
 *	  marketplace sends back (input: a first line of response headers
 *	  JSON, then the body): throttle, the token response, page_orders and
 *	  detail_merge, and list_request with a cursor taken from the body, as
 *	  next-page links are; 5 parse_keys (input: a key response) and
 *	  key_request with a key id taken from it.  Whatever the input, an entry point must return
 *	  NX_OK or NX_FAIL, never crash, leak or read out of bounds.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

extern const NxAdapter NX_ADAPTER;

static const char *
fuzz_key(void *ctx, const char *key_id)
{
	/* A syntactically valid EC key, so the verify path runs to the end. */
	static const char pem[] =
		"-----BEGIN PUBLIC KEY-----\n"
		"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE3pYFEb+H2GapzjhySGOJhebn6swQ\n"
		"XY1zK2B9D+emqYlesFjlsPRKd8ZeMBukvNNkiTTCO4SohQBHSxS/vDF3tQ==\n"
		"-----END PUBLIC KEY-----\n";

	(void) ctx;
	return key_id ? pem : NULL;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const NxAdapter *a = &NX_ADAPTER;
	NxError		err;
	json_error_t jerr;

#if NX_ENTRY == 4
	{
		const uint8_t *nl = memchr(data, '\n', size);
		json_t	   *headers = NULL;
		json_t	   *body = NULL;
		json_t	   *orders = NULL;
		json_t	   *acc = NULL;
		const char *b;
		size_t		blen;
		char	   *token = NULL;
		int64_t		expires;
		char	   *next = NULL;
		char	   *cursor;
		NxThrottle	th;
		NxSyncContext ctx;
		NxRequest	req;

		if (nl == NULL)
			return 0;
		headers = json_loadb((const char *) data, nl - data, 0, &jerr);
		b = (const char *) nl + 1;
		blen = size - (nl + 1 - data);
		if (json_is_object(headers) && a->throttle)
		{
			a->throttle(429, headers, 1741594365000, &th);
			a->throttle(200, headers, 1741594365000, &th);
		}
		if (nx_oauth_token_parse(b, blen, &token, &expires, &err) == NX_OK)
			free(token);
		body = json_loadb(b, blen, JSON_DECODE_ANY, &jerr);
		if (body && a->page_orders && a->page_orders(body, &orders, &err) == NX_OK)
		{
			const char *id;
			json_t	   *o;

			json_object_foreach(orders, id, o)
			{
				json_t	   *one = json_incref(o);

				if (a->detail_merge(&one, body, &next, &err) == NX_OK)
					free(next);
				next = NULL;
				json_decref(one);
			}
			json_decref(orders);
		}
		if (body && a->detail_merge && a->detail_merge(&acc, body, &next, &err) == NX_OK)
			free(next);
		json_decref(acc);

		/* The body as a next-page cursor. */
		memset(&ctx, 0, sizeof(ctx));
		ctx.credentials = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
									"lwa_client_id", "i", "lwa_client_secret", "s", "refresh_token", "r",
									"client_id", "i", "client_secret", "s", "client_key", "k",
									"secret_key", "s", "shop_domain", "x.myshopify.com", "merchant_id", "m");
		ctx.config = ctx.credentials;
		ctx.region = "ATVPDKIKX0DER";
		ctx.api_base = "https://api.example.test/base";
		ctx.auth_base = "https://auth.example.test";
		ctx.access_token = "token";
		ctx.user_agent = "nexus/fuzz";
		ctx.now = 1741594365;
		cursor = strndup(b, blen);
		if (cursor && a->list_request)
		{
			json_t	   *v2026 = json_pack("{s:s}", "orders_api", "2026-01-01");
			const json_t *config = ctx.config;

			if (a->list_request(&ctx, 1741500000, cursor, &req, &err) == NX_OK)
				nx_request_free(&req);
			/* Amazon lists with searchOrders for such a connection; the others ignore it */
			ctx.config = v2026;
			if (a->list_request(&ctx, 1741500000, cursor, &req, &err) == NX_OK)
				nx_request_free(&req);
			ctx.config = config;
			json_decref(v2026);
			if (a->detail_request && a->detail_request(&ctx, cursor, cursor, &req, &err) == NX_OK)
				nx_request_free(&req);
		}
		free(cursor);
		json_decref((json_t *) ctx.credentials);
		json_decref(body);
		json_decref(headers);
	}
#elif NX_ENTRY == 5
	{
		/* The key response, and the key request for an id taken from it. */
		NxWebhookKeys keys;
		NxSyncContext ctx;
		NxRequest	req;
		char	   *id;

		if (a->parse_keys == NULL)
			return 0;
		nx_webhook_keys_init(&keys);
		(void) a->parse_keys((const char *) data, size, "fuzz-key-id", &keys, &err);
		for (size_t i = 0; i < keys.nkeys; i++)
			if (keys.keys[i].key_id == NULL || strncmp(keys.keys[i].pem, "-----BEGIN PUBLIC KEY-----", 26) != 0)
				abort();
		nx_webhook_keys_free(&keys);
		memset(&ctx, 0, sizeof(ctx));
		ctx.api_base = "https://api.example.test/base";
		ctx.auth_base = "https://auth.example.test";
		ctx.access_token = "token";
		ctx.user_agent = "nexus/fuzz";
		id = strndup((const char *) data, size);
		if (id && a->key_request(&ctx, id, &req, &err) == NX_OK)
			nx_request_free(&req);
		free(id);
	}
#elif NX_ENTRY == 1 || NX_ENTRY == 2
	json_t	   *j = json_loadb((const char *) data, size, JSON_DECODE_ANY, &jerr);

	if (j == NULL)
		return 0;
#if NX_ENTRY == 1
	{
		NxOrder		o;

		nx_order_init(&o, a->name);
		if (a->normalize(j, &o, &err) == NX_OK)
		{
			json_t	   *out = nx_order_to_json(&o);
			char	   *s = json_dumps(out, JSON_COMPACT);

			free(s);
			json_decref(out);
		}
		nx_order_free(&o);
		if (a->classify)
		{
			const char *status;
			const char *fulfillment;
			char	   *raw = NULL;

			if (a->classify(j, &status, &fulfillment, &raw, &err) == NX_OK)
				free(raw);
		}
	}
#else
	{
		NxPage		p;

		nx_page_init(&p);
		(void) a->parse_page(j, NULL, &p, &err);
		nx_page_free(&p);
	}
#endif
	json_decref(j);
#else
	{
		const uint8_t *nl = memchr(data, '\n', size);
		json_t	   *headers;
		json_t	   *body;
		NxWebhookInput in;
		NxWebhookEvent ev;

		if (nl == NULL || a->verify_webhook == NULL)
			return 0;
		headers = json_loadb((const char *) data, nl - data, 0, &jerr);
		if (!json_is_object(headers))
		{
			json_decref(headers);
			return 0;
		}
		memset(&in, 0, sizeof(in));
		in.body = (const char *) nl + 1;
		in.body_len = size - (nl + 1 - data);
		in.headers = headers;
		in.secret = "fuzz-secret";
		in.url = "https://example.test/webhook";
		in.public_key = fuzz_key;
		in.now = 1741594365;
		(void) a->verify_webhook(&in, &err);
		body = json_loadb(in.body, in.body_len, JSON_DECODE_ANY, &jerr);
		if (body && a->parse_webhook)
		{
			memset(&ev, 0, sizeof(ev));
			(void) a->parse_webhook(body, headers, &ev, &err);
			nx_webhook_event_free(&ev);
		}
		json_decref(body);
		json_decref(headers);
	}
#endif
	return 0;
}
