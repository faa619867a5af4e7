/*-------------------------------------------------------------------------
 *
 * adapter.h
 *	  The marketplace adapters: one vtable per marketplace, the canonical
 *	  order model they fill, and the helpers they share.
 *
 * Adapters are pure C on jansson and OpenSSL libcrypto, with nothing from
 * PostgreSQL: they are unit-tested under AddressSanitizer and fuzzed
 * without a server, and src/ turns their output into SQL.  They never
 * abort on bad input: every entry point returns NX_OK or NX_FAIL with a
 * message in NxError naming the field and the problem.  Memory is plain
 * malloc/free; whatever an adapter puts into an NxOrder or NxPage is freed
 * by nx_order_free / nx_page_free, also after a failure.
 *
 * The canonical order is the one of ../shared/DESIGN.md section 6 and the
 * fixtures' expected_canonical.json; nx_order_to_json writes exactly that.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NEXUS_ADAPTER_H
#define NEXUS_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * Never call jansson's json_object() in code that goes into nexus.so: the
 * PostgreSQL server binary exports a json_object() of its own (the SQL
 * function), the dynamic linker binds our call to it, and the backend
 * crashes (checked on PostgreSQL 15).  jansson's other entry points have
 * no such twin.  json_pack("{}") makes an object through jansson's internal
 * reference; the name is poisoned so that a slip does not compile.
 */
static inline json_t *
nx_json_new_object(void)
{
	return json_pack("{}");
}
#pragma GCC poison json_object

#define NX_OK	0
#define NX_FAIL (-1)

#define NX_ERROR_MAX 256

typedef struct NxError
{
	char		msg[NX_ERROR_MAX];
} NxError;

/* Format a message into err (may be NULL) and return NX_FAIL. */
extern int	nx_fail(NxError *err, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* ---------- money ---------- */

/*
 * An exact amount in minor units of the order's currency (cents for EUR,
 * yen for JPY).  present = false is the canonical null: the marketplace
 * did not report the figure, which is not the same as zero.
 */
typedef struct NxMoney
{
	bool		present;
	int64_t		minor;
} NxMoney;

/* Largest magnitude accepted, in minor units: numeric(14,2) and then some. */
#define NX_MONEY_MAX_MINOR INT64_C(999999999999999)

/* Digits after the decimal point for an ISO 4217 code (0, 2 or 3). */
extern int	nx_currency_exponent(const char *code);

/*
 * Parse a decimal text ("12.5", "-3.20", "1299") into minor units at
 * exponent, rounding half away from zero; no binary floating point.
 */
extern int	nx_money_parse(const char *text, int exponent, NxMoney *out, NxError *err,
						   const char *field);

/*
 * A JSON money value: a string or a number holding major units.  jansson
 * keeps JSON reals as doubles; the literal is recovered as the shortest
 * decimal that reads back as the same double, which is the literal itself
 * for every amount with at most 15 significant digits (all amounts that
 * fit numeric(14,2)), and then parsed as text.  NULL or JSON null gives an
 * absent amount.
 */
extern int	nx_money_from_json(const json_t *value, int exponent, NxMoney *out, NxError *err,
							   const char *field);

/* An integer count of a smaller unit (Kaufland's cents): minor at src_exponent. */
extern int	nx_money_from_minor(int64_t minor, int src_exponent, int exponent, NxMoney *out,
								NxError *err, const char *field);

/*
 * a + b, absent + x = x, absent + absent = absent.  Sums saturate just
 * past NX_MONEY_MAX_MINOR rather than wrap around.
 */
extern NxMoney nx_money_add(NxMoney a, NxMoney b);
extern NxMoney nx_money_sub(NxMoney a, NxMoney b);

/*
 * *acc += v, failing with "<field>: the sum is too large" (and *acc left
 * as it was) once the sum is past NX_MONEY_MAX_MINOR.  Checking every
 * step matters: a saturated sum that later lines bring back into range
 * would be accepted, and wrong.
 */
extern int	nx_money_accumulate(NxMoney *acc, NxMoney v, const char *field, NxError *err);

/* Divide by quantity, rounding half away from zero (unit price from line total). */
extern NxMoney nx_money_div(NxMoney a, int64_t quantity);
extern NxMoney nx_money_mul(NxMoney a, int64_t quantity);

/* Write "12.90" / "-3.20" / "1299" into buf (at least 32 bytes). */
extern void nx_money_format(NxMoney m, int exponent, char *buf, size_t size);

/* ---------- time ---------- */

/*
 * Parse ISO 8601 "YYYY-MM-DDTHH:MM:SS" with optional fraction (truncated)
 * and "Z", "+HH:MM", "+HHMM" or "+HH" (a missing zone is UTC) into Unix
 * seconds.  A space instead of "T" is accepted.
 */
extern int	nx_time_parse(const char *text, int64_t *out, NxError *err, const char *field);

/* Epoch milliseconds (Walmart) to Unix seconds, truncating. */
extern int64_t nx_time_from_epoch_ms(int64_t ms);

/* "2025-03-10T08:12:45Z" into buf (at least 21 bytes). */
extern void nx_time_format(int64_t t, char *buf, size_t size);

/* ---------- countries ---------- */

/*
 * ISO 3166-1 alpha-2 for an alpha-2 (any case) or alpha-3 code; NULL when
 * the code is not known.
 */
extern const char *nx_country_alpha2(const char *code);

/* ---------- statuses ---------- */

/* The canonical statuses, least to most advanced along the forward path. */
#define NX_PENDING			"pending"
#define NX_CONFIRMED		"confirmed"
#define NX_PROCESSING		"processing"
#define NX_SHIPPED			"shipped"
#define NX_DELIVERED		"delivered"
#define NX_COMPLETED		"completed"
#define NX_CANCELLED		"cancelled"
#define NX_RETURN_INITIATED "return_initiated"
#define NX_RETURN_RECEIVED	"return_received"
#define NX_REFUNDED			"refunded"

#define NX_FBM "FBM"
#define NX_FBA "FBA"
#define NX_FBS "FBS"

/* The canonical spelling of a status name, or NULL if it is not one. */
extern const char *nx_status_canonical(const char *name);

/* One raw marketplace status and the canonical status it means. */
typedef struct NxStatusMap
{
	const char *raw;
	const char *status;
} NxStatusMap;

/*
 * The canonical status of raw (matched exactly) in a map ending with
 * {NULL, NULL}.  A raw status the map does not know is pending, with
 * *known false so that the adapter can warn.
 */
extern const char *nx_status_map(const NxStatusMap *map, const char *raw, bool *known);

/*
 * The order status of a marketplace that keeps status per line or unit,
 * from the canonical status of each line (fixtures/README.md):
 * all cancelled -> cancelled; ignoring cancelled lines, all refunded ->
 * refunded; all returned or refunded -> return_received; shipped or
 * delivered lines mixed with open ones -> processing; otherwise the least
 * advanced.  NULL for no lines.
 */
extern const char *nx_status_aggregate(const char *const *line_status, size_t n);

/* ---------- the canonical order ---------- */

typedef struct NxItem
{
	char	   *external_item_id;
	char	   *sku;			/* NULL when the marketplace has none */
	char	   *title;
	int64_t		quantity;
	NxMoney		unit_price;
	NxMoney		line_total;
} NxItem;

typedef struct NxOrder
{
	const char *marketplace;	/* static: "amazon", ... */
	char	   *external_order_id;
	char	   *order_number;
	const char *status;			/* static, one of NX_* */
	char	   *marketplace_status;
	const char *fulfillment_method; /* static: NX_FBM, NX_FBA, NX_FBS */
	char		currency[4];
	int			exponent;
	NxMoney		subtotal;
	NxMoney		tax_total;
	NxMoney		shipping_total;
	NxMoney		discount_total;
	NxMoney		total_amount;
	bool		has_ordered_at;
	int64_t		ordered_at;
	bool		has_updated_at;
	int64_t		updated_at;
	char	   *buyer_email;
	char	   *buyer_name;
	char		ship_country[3];	/* "" when unknown */
	json_t	   *shipping_address;	/* a new reference, or NULL; stored, not in the canonical JSON */
	NxItem	   *items;
	size_t		nitems;
	size_t		items_cap;
	char	   *warning;		/* e.g. an unknown raw status, mapped to pending */
} NxOrder;

extern void nx_order_init(NxOrder *o, const char *marketplace);
extern void nx_order_free(NxOrder *o);

/* A zeroed item appended to the order; NULL only when out of memory. */
extern NxItem *nx_order_add_item(NxOrder *o);

/* Set currency (3 upper-case letters) and its exponent. */
extern int	nx_order_set_currency(NxOrder *o, const char *code, NxError *err);

/*
 * Set ship_country from an alpha-2 or alpha-3 code; false when the code
 * is given but not known (each adapter words its own warning).  A NULL
 * code leaves the country unknown and is not an error.
 */
extern bool nx_order_set_ship_country(NxOrder *o, const char *code);

/* Record a warning (first one wins); the order is still good. */
extern void nx_order_warn(NxOrder *o, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/*
 * updated_at = the later of itself and t: for marketplaces whose order
 * has no update time of its own, only its lines or units do.
 */
extern void nx_order_bump_updated_at(NxOrder *o, int64_t t);

/* subtotal = sum of line totals (absent if every line total is absent). */
extern void nx_order_sum_lines(NxOrder *o);
/* The same, failing as nx_money_accumulate does under field. */
extern int	nx_order_sum_lines_checked(NxOrder *o, const char *field, NxError *err);

/* The canonical JSON object, keys in the order of expected_canonical.json. */
extern json_t *nx_order_to_json(const NxOrder *o);

/* ---------- a list page ---------- */

typedef struct NxFailed
{
	char	   *external_order_id;	/* NULL when the order had no readable id */
	char	   *error;
} NxFailed;

typedef struct NxPage
{
	NxOrder    *orders;
	size_t		norders;
	size_t		orders_cap;
	/* Orders listed as summaries only: fetch each detail (bol, Kaufland). */
	char	  **detail_ids;
	size_t		ndetail_ids;
	size_t		detail_ids_cap;
	/* One bad order does not stop the page. */
	NxFailed   *failed;
	size_t		nfailed;
	size_t		failed_cap;
	char	   *next_cursor;	/* NULL on the last page */
} NxPage;

extern void nx_page_init(NxPage *p);
extern void nx_page_free(NxPage *p);
/* An initialised order appended to the page; NULL only when out of memory. */
extern NxOrder *nx_page_add_order(NxPage *p, const char *marketplace);
/* Drop the last order added (after its normalisation failed). */
extern void nx_page_drop_last(NxPage *p);
extern int	nx_page_add_detail_id(NxPage *p, const char *id);
extern int	nx_page_add_failed(NxPage *p, const char *external_order_id, const char *error);

/*
 * The common loop of parse_page: normalize each element of an array of
 * orders; a failure is recorded in failed, with the id read from id_field
 * when there is one, and the loop goes on.
 */
extern int	nx_page_normalize_each(NxPage *p, const json_t *orders, const char *marketplace,
								   int (*normalize) (const json_t *, NxOrder *, NxError *),
								   const char *id_field);

/* ---------- webhooks ---------- */

typedef struct NxWebhookInput
{
	const char *body;			/* the exact bytes received */
	size_t		body_len;
	const json_t *headers;		/* object: lower-case header names -> string values */
	const char *secret;			/* HMAC secret, for marketplaces that sign with one */
	const char *url;			/* the URL the request was sent to (Kaufland signs it) */
	/* PEM public key for a key id (eBay, bol), or NULL when unknown. */
	const char *(*public_key) (void *ctx, const char *key_id);
	void	   *ctx;
	int64_t		now;			/* Unix seconds, for timestamp windows */
} NxWebhookInput;

typedef struct NxWebhookEvent
{
	char	   *event_id;		/* for dropping replays */
	char	   *topic;
	char	   *order_id;		/* the order concerned, when the body names it */
	json_t	   *order;			/* the full order, when the body carries one (new reference) */
} NxWebhookEvent;

extern void nx_webhook_event_free(NxWebhookEvent *e);

/* ---------- key sets (adapters/keyset.c, adapters/keys.c) ---------- */

/*
 * The object keys an adapter reads.  nx_json_loadb_keys() builds only the
 * members whose key is in keep (at any depth) and checks the others
 * without building them: most of a marketplace's order JSON is never read.
 * Under a key in whole the value is built entirely (the shipping address
 * is stored as received).  adapters/keys.c is generated from the adapters'
 * sources by scripts/adapter_keys.sh.
 */
typedef struct NxKeySet
{
	const char *const *keep;	/* NULL-terminated */
	const char *const *whole;	/* NULL-terminated, or NULL */
	/* a hash of both, made on first use */
	bool		ready;
	bool		keep_all;		/* too many keys to hash: filter nothing */
	unsigned short nkeep;
	unsigned short slots[1024];
	unsigned short lens[512];	/* of key n - 1 in slots: most probes end on a length */
} NxKeySet;

#define NX_KEY_SKIP		0
#define NX_KEY_KEEP		1
#define NX_KEY_WHOLE	2

extern int	nx_keyset_lookup(const NxKeySet *set, const char *key, size_t len);

/* nx_json_loadb, building only what keys names (NULL: everything). */
extern json_t *nx_json_loadb_keys(const char *buffer, size_t len, const NxKeySet *keys,
								  json_error_t *error);
/*
 * The same, for input known to be valid JSON and UTF-8 (valid = true: a
 * PostgreSQL json value in a UTF-8 database): skipped values are not
 * checked a second time.  Never for bytes from the network.
 */
extern json_t *nx_json_loadb_valid(const char *buffer, size_t len, const NxKeySet *keys,
								   bool valid, json_error_t *error);

extern NxKeySet nx_amazon_keys;
extern NxKeySet nx_ebay_keys;
extern NxKeySet nx_bol_keys;
extern NxKeySet nx_kaufland_keys;
extern NxKeySet nx_shopify_keys;
extern NxKeySet nx_zalando_keys;
extern NxKeySet nx_walmart_keys;

/* ---------- sync requests (adapters/request.c; doc/sync_protocol.md) ---------- */

/* One HTTP request for the sync engine to send; every string is malloc'd. */
typedef struct NxRequest
{
	const char *method;			/* static: "GET" or "POST" */
	char	   *url;
	char	  **headers;		/* "Name: value" lines */
	size_t		nheaders;
	size_t		headers_cap;
	char	   *body;			/* NULL for none */
	size_t		body_len;
} NxRequest;

extern void nx_request_init(NxRequest *r, const char *method);
extern void nx_request_free(NxRequest *r);
/* Append "name: value"; NX_FAIL when out of memory or when the value holds CR or LF. */
extern int	nx_request_header(NxRequest *r, const char *name, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
/* Take body (malloc'd) as the request body; NULL body is no body. */
extern void nx_request_set_body(NxRequest *r, char *body, size_t len);

/* Percent-encode s for a query value or form field (RFC 3986 unreserved kept) into a malloc'd string. */
extern char *nx_url_encode(const char *s);
/* "Basic base64(user:password)", malloc'd. */
extern char *nx_basic_auth(const char *user, const char *password);
/*
 * The origin of url, "scheme://host:port" lower-cased with the default port
 * made explicit, into origin; *path_at (may be NULL) where its path starts.
 * false when url has no "scheme://host" or has userinfo.
 */
extern bool nx_url_origin(const char *url, char *origin, size_t size, size_t *path_at);
/*
 * True when url is base itself or lies under it: same scheme, host and
 * port, and a path at or below base's path.  Next-page links are followed
 * only then, so that an access token never leaves for another host.
 */
extern bool nx_url_under(const char *url, const char *base);
/* A new random UUID (v4) in text form into buf (at least 37 bytes). */
extern void nx_uuid_text(char *buf, size_t size);

/*
 * An OAuth token response {"access_token": ..., "expires_in": ...} (any
 * 2xx body of a token endpoint).  *token is malloc'd; *expires_in in
 * seconds (3600 when the response does not say).
 */
extern int	nx_oauth_token_parse(const char *body, size_t len, char **token, int64_t *expires_in,
								 NxError *err);

/* ---------- webhook signing keys (eBay, bol; doc/sync_protocol.md) ---------- */

/* The public keys of one key response: key id and PEM, malloc'd. */
typedef struct NxWebhookKey
{
	char	   *key_id;
	char	   *pem;
} NxWebhookKey;

typedef struct NxWebhookKeys
{
	NxWebhookKey *keys;
	size_t		nkeys;
	size_t		cap;
} NxWebhookKeys;

extern void nx_webhook_keys_init(NxWebhookKeys *k);
extern void nx_webhook_keys_free(NxWebhookKeys *k);
/* Append copies of key_id and pem; NX_FAIL only when out of memory. */
extern int	nx_webhook_keys_add(NxWebhookKeys *k, const char *key_id, const char *pem,
								NxError *err);

/* What the request builders know about one connection. */
typedef struct NxSyncContext
{
	const json_t *credentials;	/* the decrypted credentials object */
	const json_t *config;		/* the connection's config object */
	const char *region;			/* Amazon marketplace id, eBay site, Kaufland storefront; or NULL */
	const char *api_base;		/* no trailing slash */
	const char *auth_base;
	const char *access_token;	/* the current token, when the marketplace has one */
	const char *user_agent;		/* "nexus/0.2.0" */
	int			page_size;		/* 0: the marketplace's default */
	int64_t		now;			/* Unix seconds (Kaufland's timestamp) */
} NxSyncContext;

/*
 * The throttling a response asks for: *wait_ms >= 0 when it says how long
 * to wait (Retry-After, a reset time, an empty budget), -1 when it says
 * nothing (back off on a 429 then).
 */
typedef struct NxThrottle
{
	int64_t		wait_ms;
	/*
	 * The sustained rate, in requests per second, that a response says the
	 * endpoint allows (Amazon's x-amzn-RateLimit-Limit); 0 when it says none.
	 * The engine then paces requests with a token bucket of the size the
	 * vtable's list_burst / detail_burst give.
	 */
	double		rate;
} NxThrottle;

/*
 * The steps the request builders below share.  Each fails with a message
 * naming the field; the wording is the one the adapters' tests expect.
 */

/* rc, after freeing r when rc is NX_FAIL: a failed build leaves the request empty. */
extern int	nx_request_finish(NxRequest *r, int rc);
/* Init out with User-Agent and Accept; base (named what) and ctx->user_agent must be non-empty. */
extern int	nx_request_begin(const NxSyncContext *ctx, const char *method, const char *base,
							 const char *what, const char *accept, NxRequest *out, NxError *err);
/* A non-empty credential; field NULL: "credentials: <key>: missing", else named field. */
extern int	nx_credential(const json_t *credentials, const char *key, const char *field,
						  const char **out, NxError *err);
/* Append "name: value"; a NULL or empty value, a line break or no memory fails naming field. */
extern int	nx_request_field_header(NxRequest *r, const char *name, const char *value,
									const char *field, NxError *err);
/* User-Agent and Accept by nx_request_field_header, named "user_agent" and "accept". */
extern int	nx_request_agent_headers(const NxSyncContext *ctx, const char *accept, NxRequest *out,
									 NxError *err);
/* "Authorization: Basic ..." of client_id and client_secret, the encoded copy wiped. */
extern int	nx_request_basic(NxRequest *r, const char *id, const char *secret, NxError *err);
/* "name: <scheme>ctx->access_token", the token required; field NULL: "access token: ...". */
extern int	nx_request_access_token(const NxSyncContext *ctx, const char *name, const char *scheme,
									const char *field, NxRequest *out, NxError *err);
/* POST auth_base + path: client credentials, Basic; headers adds the marketplace's own first. */
extern int	nx_client_credentials_request(const NxSyncContext *ctx, const char *path,
										  int (*headers) (const NxSyncContext *ctx, NxRequest *r,
														  NxError *err),
										  NxRequest *out, NxError *err);
/* id can be one path segment: not missing, and not "." or "..", which clients resolve. */
extern int	nx_check_segment(const char *id, const char *field, NxError *err);
/* *url = base + path + the order id percent-encoded, checked by nx_check_segment. */
extern int	nx_detail_url(const char *base, const char *path, const char *id, char **url,
						  NxError *err);
/* ctx->page_size when it is from 1 to max, else max. */
extern int	nx_page_size(const NxSyncContext *ctx, int max);
/* since must lie from 1970 to the end of year 9999: "since: <n> is out of range". */
extern int	nx_check_since(int64_t since, NxError *err);
/* A header's whole number: 1 to max_digits (<= 18) digits, blanks around; else false. */
extern bool nx_parse_count(const char *s, int max_digits, int64_t *out);
/* Retry-After seconds ("21", "2.0") in ms, rounded up, at most an hour; false past a day. */
extern bool nx_retry_after_ms(const char *s, int64_t *ms);
/* *api_base, *auth_base = malloc'd copies (auth NULL: none); NX_FAIL leaves both NULL. */
extern int	nx_base_urls(const char *api, const char *auth, char **api_base, char **auth_base,
						 NxError *err);

/* ---------- the vtable ---------- */

typedef struct NxAdapter
{
	const char *name;

	/* The keys normalize, parse_page, page_orders and detail_merge read. */
	NxKeySet   *keys;

	/* One order, in the single-order (or detail) shape. */
	int			(*normalize) (const json_t *order, NxOrder *out, NxError *err);

	/*
	 * One list-response page.  headers (object of lower-case names, or NULL)
	 * carry pagination for marketplaces that put it there (Shopify's Link).
	 */
	int			(*parse_page) (const json_t *page, const json_t *headers, NxPage *out,
							   NxError *err);

	/* Canonical status, fulfilment and raw status string of one order. */
	int			(*classify) (const json_t *order, const char **status,
							 const char **fulfillment, char **marketplace_status,
							 NxError *err);

	/* NX_OK when the signature is valid; NULL for marketplaces without HTTP webhooks. */
	int			(*verify_webhook) (const NxWebhookInput *in, NxError *err);

	/* Event id, topic and order reference of a (verified) webhook body. */
	int			(*parse_webhook) (const json_t *body, const json_t *headers,
								  NxWebhookEvent *out, NxError *err);

	/* ---- sync (doc/sync_protocol.md) ---- */

	/* Largest and default list page size. */
	int			max_page_size;
	/* Seconds behind now the marketplace's lists may still change (Amazon: 120). */
	int			lag_seconds;
	/* Furthest back a list can search, in days (0: no limit). */
	int			max_days_back;
	/* Documented bucket sizes of the list and detail endpoints, for NxThrottle.rate. */
	int			list_burst;
	int			detail_burst;

	/*
	 * Default api_base and auth_base (malloc'd) for a connection whose
	 * config does not set them; auth_base NULL when there is no token
	 * endpoint.
	 */
	int			(*base_urls) (const json_t *credentials, const char *region, char **api_base,
							  char **auth_base, NxError *err);

	/*
	 * The request builders below initialise *out themselves and leave it
	 * freed (empty) when they fail; the caller frees it after a success.
	 */

	/* The access-token request; NULL when there is none (Kaufland, Shopify). */
	int			(*token_request) (const NxSyncContext *ctx, NxRequest *out, NxError *err);

	/*
	 * The list request: the first page of orders changed since (Unix
	 * seconds) when cursor is NULL, else the page after cursor (an
	 * NxPage.next_cursor), authenticated.
	 */
	int			(*list_request) (const NxSyncContext *ctx, int64_t since, const char *cursor,
								 NxRequest *out, NxError *err);

	/*
	 * Marketplaces whose list pages lack part of an order: bol and Kaufland
	 * list summaries (parse_page gives detail_ids, and the detail response
	 * is a whole order); Amazon's Orders v0 lists orders without items
	 * (page_orders gives them, each completed by its orderItems pages).
	 * NULL elsewhere.
	 * detail_request: the request for id, cursor NULL or the detail's next
	 * page.
	 */
	int			(*detail_request) (const NxSyncContext *ctx, const char *id, const char *cursor,
								   NxRequest *out, NxError *err);

	/*
	 * Amazon: the orders of a list page that need their items, as a new
	 * object mapping each order id to its order object (in page order);
	 * NULL elsewhere.  *orders NULL after NX_OK: the page's orders are
	 * whole (Orders v2026-01-01 lists items inline), so nothing is fetched
	 * for them and the page is stored as parse_page reads it.
	 */
	int			(*page_orders) (const json_t *page, json_t **orders, NxError *err);

	/*
	 * Fold one detail response into *acc: *acc NULL takes the response as
	 * the order (bol, Kaufland); else the response's items are appended to
	 * the order in *acc (Amazon).  *next_cursor (malloc'd) when the detail
	 * has another page.  NULL when detail_request is.
	 */
	int			(*detail_merge) (json_t **acc, const json_t *response, char **next_cursor,
								 NxError *err);

	/* Read the throttling signals of a response (status, lower-case headers). */
	void		(*throttle) (int status, const json_t *headers, int64_t now_ms, NxThrottle *out);

	/*
	 * ---- webhook signing keys (eBay, bol; NULL elsewhere) ----
	 *
	 * The sync workers fetch the public key a webhook named and nexus does
	 * not hold.  key_token_request: the token the key endpoint wants when
	 * it is not the sync's (eBay: an application token); NULL means
	 * token_request's.  key_request: the request for key_id, or for every
	 * key when keys_listed (bol; key_id is then not sent).
	 * parse_keys: the keys of a 2xx key response (the raw body), as PEM
	 * public keys; key_id is the one requested (eBay's response does not
	 * name it).  key_ttl_seconds: how long a fetched key is trusted before
	 * it is fetched again (0: until replaced).
	 */
	int			(*key_token_request) (const NxSyncContext *ctx, NxRequest *out, NxError *err);
	int			(*key_request) (const NxSyncContext *ctx, const char *key_id, NxRequest *out,
								NxError *err);
	int			(*parse_keys) (const char *body, size_t len, const char *key_id,
							   NxWebhookKeys *out, NxError *err);
	bool		keys_listed;
	int			key_ttl_seconds;
} NxAdapter;

/* The adapter for a marketplace name, or NULL. */
extern const NxAdapter *nx_adapter_find(const char *name);

extern const NxAdapter nx_amazon_adapter;
extern const NxAdapter nx_ebay_adapter;
extern const NxAdapter nx_bol_adapter;
extern const NxAdapter nx_kaufland_adapter;
extern const NxAdapter nx_shopify_adapter;
extern const NxAdapter nx_zalando_adapter;
extern const NxAdapter nx_walmart_adapter;

/* ---------- JSON and crypto helpers (adapters/json_util.c, crypto.c) ---------- */

/*
 * json_loadb(buffer, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, error), only
 * faster (adapters/json_parse.c): same acceptance, equal values, except
 * that a raw NUL byte outside a string is an error here (jansson skips
 * it; PostgreSQL text never holds one).
 */
extern json_t *nx_json_loadb(const char *buffer, size_t len, json_error_t *error);

/* Follow a dot-separated path of object keys; NULL if any step is missing. */
extern const json_t *nx_json_path(const json_t *root, const char *path);
/* The string at path, or NULL (also when it is not a string). */
extern const char *nx_json_str(const json_t *root, const char *path);
/* malloc'd copy of the string at path, NULL if absent or not a string. */
extern char *nx_json_strdup(const json_t *root, const char *path);
/* A string or integer value as a malloc'd string (ids sent as numbers). */
extern char *nx_json_id(const json_t *root, const char *path);
/* An integer, or an integral string; NX_FAIL naming field otherwise. */
extern int	nx_json_int(const json_t *root, const char *path, int64_t *out, NxError *err);
/* A header value (lower-case name) or NULL. */
extern const char *nx_header(const json_t *headers, const char *name);

extern char *nx_strdup(const char *s);
extern char *nx_strndup(const char *s, size_t n);
/* malloc'd printf. */
extern char *nx_sprintf(const char *fmt,...) __attribute__((format(printf, 1, 2)));
/* s when it is a non-empty string, else NULL. */
extern const char *nx_nonempty(const char *s);
/* *dst = malloc'd copy of s (NULL for NULL); NX_FAIL only when out of memory. */
extern int	nx_set_string(char **dst, const char *s, NxError *err);
/* "first last" from whichever of the two is non-empty, malloc'd; NULL for neither. */
extern char *nx_join_name(const char *first, const char *last);

/* HMAC-SHA256 of data under key into out[32]. */
extern int	nx_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
						   unsigned char *out);
/* Decode base64 (standard or URL-safe, padding optional); returns length or -1. */
extern int	nx_base64_decode(const char *in, unsigned char *out, size_t out_size);
extern void nx_base64_encode(const unsigned char *in, size_t len, char *out, size_t out_size);
extern void nx_hex_encode(const unsigned char *in, size_t len, char *out, size_t out_size);
/* Exactly 2 * len hex digits (either case) into out[len]; NX_FAIL for anything else. */
extern int	nx_hex_decode(const char *hex, unsigned char *out, size_t len);
/* Constant-time equality of two buffers of the same length. */
extern bool nx_equal_ct(const void *a, const void *b, size_t len);
/*
 * Verify a signature over data with a PEM public key (RSA or EC), digest
 * "sha1" or "sha256"; for EC the signature is DER.  NX_OK when valid.
 */
extern int	nx_verify_signature(const char *pem, const char *digest, const void *data, size_t len,
								const unsigned char *sig, size_t sig_len, NxError *err);
/*
 * A public key in the PEM layout OpenSSL reads (64-character lines), from
 * a PEM with or without line breaks (eBay's getPublicKey writes it on one
 * line) or from bare base64 DER (bol's signature keys).  *out is malloc'd;
 * NX_FAIL when key is neither, or out of memory.
 */
extern int	nx_pem_rewrap(const char *key, char **out);
/*
 * key (any form nx_pem_rewrap reads) as a PEM public key of kind "EC" or
 * "RSA" that OpenSSL can load, into *pem (malloc'd); NX_FAIL naming field
 * otherwise.  A key is checked before it is stored, not first when a
 * webhook needs it.
 */
extern int	nx_public_key_pem(const char *key, const char *kind, const char *field, char **pem,
							  NxError *err);

/* ---------- typed member readers (adapters/json_util.c) ---------- */

/*
 * Each reader takes the member key of obj, treats JSON null as absent,
 * and returns NX_OK, or NX_FAIL with a message naming the member as field
 * says:
 *
 *	 NULL				by its key:				"currency: missing"
 *	 ending in '.'		path, then key:			"orderItems[2].quantity: missing"
 *	 anything else		as written:				"buyer.email: expected a string"
 *
 * The prefix form lets a loop name the element once.  obj may be NULL or
 * not an object: it then has no members.  Outputs point into obj unless
 * said otherwise, and are NULL (or false) when the member is absent.
 */

/* The name of obj.key as the readers write it; buf backs the prefix form. */
extern const char *nx_field_name(const char *field, const char *key, char *buf, size_t size);

extern int	nx_json_opt_string(const json_t *obj, const char *key, const char *field,
							   const char **out, NxError *err);
/* Absent fails with "<field>: missing". */
extern int	nx_json_req_string(const json_t *obj, const char *key, const char *field,
							   const char **out, NxError *err);
/* A string where "" means absent too (marketplaces blank what they do not know). */
extern int	nx_json_opt_text(const json_t *obj, const char *key, const char *field,
							 const char **out, NxError *err);
/* An optional string as a malloc'd copy. */
extern int	nx_json_opt_strdup(const json_t *obj, const char *key, const char *field,
							   char **out, NxError *err);
extern int	nx_json_opt_object(const json_t *obj, const char *key, const char *field,
							   const json_t **out, NxError *err);
extern int	nx_json_req_object(const json_t *obj, const char *key, const char *field,
							   const json_t **out, NxError *err);
extern int	nx_json_opt_array(const json_t *obj, const char *key, const char *field,
							  const json_t **out, NxError *err);
extern int	nx_json_req_array(const json_t *obj, const char *key, const char *field,
							  const json_t **out, NxError *err);
/* A required id, a non-empty string or an integer, as a malloc'd string. */
extern int	nx_json_req_id(const json_t *obj, const char *key, const char *field, char **out,
						   NxError *err);
/* A required JSON integer from min to max (a string is not a number here). */
extern int	nx_json_req_int(const json_t *obj, const char *key, const char *field, int64_t min,
							int64_t max, int64_t *out, NxError *err);
/* An optional ISO 8601 timestamp (nx_time_parse) as Unix seconds; *has says if it was there. */
extern int	nx_json_opt_time(const json_t *obj, const char *key, const char *field, bool *has,
							 int64_t *out, NxError *err);

/*
 * An optional amount written as {"amount": 19.99, "currency": "EUR"}, at
 * the order's exponent; an object without its amount fails.  A currency
 * other than the order's fails.  While the order has none yet, adopt makes
 * the first one seen the order's; without adopt it goes unchecked.
 */
extern int	nx_json_opt_money(const json_t *obj, const char *key, const char *field, bool adopt,
							  NxOrder *o, NxMoney *out, NxError *err);

#endif							/* NEXUS_ADAPTER_H */
