/*-------------------------------------------------------------------------
 *
 * kaufland.c
 *	  The Kaufland Marketplace Seller API v2 adapter: /v2/orders list pages,
 *	  the /v2/orders/{id_order} detail, and signed push notifications.
 *
 * Kaufland's quirks and the choices made for them:
 *
 * - The list (`GET /v2/orders`) carries summaries only, with no units,
 *   prices or buyer.  parse_page therefore returns the id_order values to
 *   fetch as details rather than half-filled orders.  Paging is offset +
 *   limit against pagination.total; the next offset is offset + the number
 *   of orders received, so a short page can never skip rows, and an empty
 *   page ends the walk whatever total says.
 * - The detail wraps the order in `data`; a bare order is accepted too.
 * - There is no order status: every order unit has its own, and one unit
 *   is one piece (3 pieces = 3 units).  Unit statuses are mapped and then
 *   aggregated by nx_status_aggregate; the raw state is the sorted list of
 *   "<status>x<count>" ("cancelledx1,sentx2").  Following the fixtures,
 *   each unit stays its own item with quantity 1 and id_order_unit as its
 *   id, so a unit can be traced (and cancelled or returned) on its own.
 * - Money is integer cents (`price`, `shipping_rate`) in the unit's
 *   currency; every unit of an order must share one currency.  Prices
 *   include VAT and there are no discount fields, so tax and discount are
 *   null; shipping is charged on one unit, hence summed over all units.
 * - Timestamps are ISO 8601 UTC.  The order's update time is the latest
 *   unit update.
 * - `fulfillment_type` is fulfilled_by_merchant (FBM) or
 *   fulfilled_by_kaufland (FBA: the marketplace fulfils).
 * - Requests and push callbacks are signed alike: Shop-Signature =
 *   hex(HMAC-SHA256(secret, METHOD "\n" URI "\n" BODY "\n" TIMESTAMP)),
 *   Shop-Timestamp in Unix seconds within 5 minutes.  For a callback the
 *   URI is the URL the subscription registered (in->url), an assumption
 *   Kaufland does not document.  The callback names the resource only
 *   (`/orders/<id>/`), so the order is re-fetched; id_message dedupes.
 * - Sync: list and detail requests are signed that way over the exact URL
 *   sent, at the context's clock.  The list cursor is the next offset.
 *   Without a storefront (region NULL) the list sends no storefront
 *   parameter rather than an empty one, as the fixture's signed request
 *   does.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

/* Kaufland's amounts are cents whatever the currency. */
#define KAUFLAND_CENTS_EXPONENT 2

/* Shop-Timestamp must be within this many seconds of now. */
#define KAUFLAND_WINDOW_SECONDS 300

/* Offsets beyond this are not a real listing (and would overflow). */
#define KAUFLAND_MAX_OFFSET INT64_C(1000000000000)

/* ---------- small JSON readers ---------- */

/*
 * Optional integer cents as money at the order's exponent, field naming
 * it as the nx_json_* readers do.  A string or a fraction means the
 * payload is not what we think it is, so it fails rather than being
 * guessed at.
 */
static int
opt_cents(const json_t *obj, const char *key, const char *field, int exponent, NxMoney *out,
		  NxError *err)
{
	const json_t *v = json_object_get(obj, key);
	char		buf[NX_ERROR_MAX];
	const char *name = nx_field_name(field, key, buf, sizeof(buf));

	out->present = false;
	out->minor = 0;
	if (v == NULL || json_is_null(v))
		return NX_OK;
	if (!json_is_integer(v))
		return nx_fail(err, "%s: expected integer cents", name);
	return nx_money_from_minor(json_integer_value(v), KAUFLAND_CENTS_EXPONENT, exponent, out,
							   err, name);
}

/* "first last" from an address, with whichever parts are present. */
static char *
join_name(const json_t *address)
{
	return nx_join_name(nx_json_str(address, "first_name"), nx_json_str(address, "last_name"));
}

/* The order inside a detail response ({data: order}) or a bare order. */
static int
unwrap_order(const json_t *doc, const json_t **order, NxError *err)
{
	const json_t *data;

	if (!json_is_object(doc))
		return nx_fail(err, "order: expected a JSON object");
	data = json_object_get(doc, "data");
	if (data == NULL || json_is_null(data))
		*order = doc;
	else if (json_is_object(data))
		*order = data;
	else
		return nx_fail(err, "data: expected one order object (a /v2/orders/{id_order} response)");
	return NX_OK;
}

/* The order units, which every order has at least one of. */
static int
order_units(const json_t *order, const json_t **units, NxError *err)
{
	*units = json_object_get(order, "order_units");
	if (*units == NULL || json_is_null(*units))
		return nx_fail(err, "order_units: missing");
	if (!json_is_array(*units))
		return nx_fail(err, "order_units: expected an array");
	if (json_array_size(*units) == 0)
		return nx_fail(err, "order_units: empty");
	return NX_OK;
}

/* ---------- status and fulfilment ---------- */

static const NxStatusMap unit_statuses[] = {
	{"open", NX_PENDING},
	{"need_to_be_sent", NX_CONFIRMED},
	{"sent", NX_SHIPPED},
	{"sent_and_autopaid", NX_SHIPPED},
	{"received", NX_DELIVERED},
	{"returned", NX_RETURN_RECEIVED},
	{"returned_paid", NX_REFUNDED},
	{"cancelled", NX_CANCELLED},
	{NULL, NULL}
};

static int
cmp_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* "cancelledx1,sentx2": each raw unit status with its count, sorted. */
static char *
raw_status_string(const char **raw, size_t n)
{
	size_t		size = 1;
	size_t		len = 0;
	size_t		i;
	char	   *out;

	qsort(raw, n, sizeof(raw[0]), cmp_strings);
	for (i = 0; i < n; i++)
		size += strlen(raw[i]) + 24;
	out = malloc(size);
	if (out == NULL)
		return NULL;
	out[0] = '\0';
	for (i = 0; i < n;)
	{
		size_t		j = i;

		while (j < n && strcmp(raw[j], raw[i]) == 0)
			j++;
		len += (size_t) snprintf(out + len, size - len, "%s%sx%zu", len ? "," : "", raw[i], j - i);
		i = j;
	}
	return out;
}

/*
 * Status and raw status of an order from its units.  *unknown is the first
 * unit status we do not know (mapped to pending), or NULL.
 */
static int
kaufland_status(const json_t *units, const char **status, char **raw, const char **unknown,
				NxError *err)
{
	size_t		n = json_array_size(units);
	const char **raws;
	const char **mapped;
	const json_t *unit;
	size_t		i;

	*raw = NULL;
	*unknown = NULL;
	raws = calloc(n, sizeof(*raws));
	mapped = calloc(n, sizeof(*mapped));
	if (raws == NULL || mapped == NULL)
	{
		free(raws);
		free(mapped);
		return nx_fail(err, "order_units: out of memory");
	}
	json_array_foreach(units, i, unit)
	{
		const json_t *v = json_object_get(unit, "status");
		bool		known;

		if (!json_is_string(v))
		{
			free(raws);
			free(mapped);
			if (!json_is_object(unit))
				return nx_fail(err, "order_units[%zu]: expected an object", i);
			return nx_fail(err, "order_units[%zu].status: %s", i,
						   v == NULL || json_is_null(v) ? "missing" : "expected a string");
		}
		raws[i] = json_string_value(v);
		mapped[i] = nx_status_map(unit_statuses, raws[i], &known);
		if (!known && *unknown == NULL)
			*unknown = raws[i];
	}
	*status = nx_status_aggregate(mapped, n);
	*raw = raw_status_string(raws, n);
	free(raws);
	free(mapped);
	if (*raw == NULL)
		return nx_fail(err, "order_units: out of memory");
	return NX_OK;
}

/*
 * FBA when Kaufland fulfils.  The order names the type; a unit's is used
 * when the order does not.  *unknown is set for a type we do not know.
 */
static const char *
kaufland_fulfillment(const json_t *order, const json_t *units, const char **unknown)
{
	const char *type = nx_json_str(order, "fulfillment_type");

	*unknown = NULL;
	if (type == NULL)
		type = nx_json_str(json_array_get(units, 0), "fulfillment_type");
	if (type == NULL || strcmp(type, "fulfilled_by_merchant") == 0)
		return NX_FBM;
	if (strcmp(type, "fulfilled_by_kaufland") == 0)
		return NX_FBA;
	*unknown = type;
	return NX_FBM;
}

static int
kaufland_classify(const json_t *doc, const char **status, const char **fulfillment,
				  char **marketplace_status, NxError *err)
{
	const json_t *order;
	const json_t *units;
	const char *unknown;

	*marketplace_status = NULL;
	if (unwrap_order(doc, &order, err) != NX_OK ||
		order_units(order, &units, err) != NX_OK ||
		kaufland_status(units, status, marketplace_status, &unknown, err) != NX_OK)
		return NX_FAIL;
	*fulfillment = kaufland_fulfillment(order, units, &unknown);
	return NX_OK;
}

/* ---------- one order ---------- */

/* One unit: one item of quantity 1, plus its shipping and update time. */
static int
kaufland_unit(const json_t *unit, size_t index, NxOrder *o, NxMoney *shipping, NxError *err)
{
	char		at[48];
	const char *currency;
	NxItem	   *it;
	bool		has_updated;
	int64_t		updated;
	NxMoney		rate;

	if (!json_is_object(unit))
		return nx_fail(err, "order_units[%zu]: expected an object", index);
	snprintf(at, sizeof(at), "order_units[%zu].", index);

	if (nx_json_req_string(unit, "currency", at, &currency, err) != NX_OK)
		return NX_FAIL;
	if (o->currency[0] == '\0')
	{
		if (nx_order_set_currency(o, currency, err) != NX_OK)
			return nx_fail(err, "%scurrency: \"%.20s\" is not an ISO 4217 code", at, currency);
	}
	else if (strcmp(o->currency, currency) != 0)
		return nx_fail(err, "%scurrency: \"%.20s\" differs from the order's %s", at, currency,
					   o->currency);

	it = nx_order_add_item(o);
	if (it == NULL)
		return nx_fail(err, "order_units[%zu]: out of memory", index);
	if (nx_json_req_id(unit, "id_order_unit", at, &it->external_item_id, err) != NX_OK)
		return NX_FAIL;
	/* id_offer is the seller's offer reference, the closest thing to a SKU */
	it->sku = nx_json_id(unit, "id_offer");
	it->title = nx_strdup(nx_nonempty(nx_json_str(unit, "product.title")));
	it->quantity = 1;

	if (opt_cents(unit, "price", at, o->exponent, &it->line_total, err) != NX_OK)
		return NX_FAIL;
	it->unit_price = it->line_total;

	if (opt_cents(unit, "shipping_rate", at, o->exponent, &rate, err) != NX_OK ||
		nx_money_accumulate(shipping, rate, "shipping_rate", err) != NX_OK)
		return NX_FAIL;

	if (nx_json_opt_time(unit, "ts_updated_iso", at, &has_updated, &updated, err) != NX_OK)
		return NX_FAIL;
	if (has_updated)
		nx_order_bump_updated_at(o, updated);
	return NX_OK;
}

/* Buyer e-mail (a Kaufland relay address), name, ship country, address. */
static int
kaufland_buyer(const json_t *order, NxOrder *o, NxError *err)
{
	const json_t *billing = json_object_get(order, "billing_address");
	const json_t *shipping = json_object_get(order, "shipping_address");
	const char *email;
	const char *country;

	if (nx_json_opt_text(json_object_get(order, "buyer"), "email", "buyer.email", &email,
						 err) != NX_OK)
		return NX_FAIL;
	o->buyer_email = nx_strdup(email);

	if (json_is_object(billing))
		o->buyer_name = join_name(billing);
	if (o->buyer_name == NULL && json_is_object(shipping))
		o->buyer_name = join_name(shipping);

	if (nx_json_opt_object(order, "shipping_address", NULL, &shipping, err) != NX_OK)
		return NX_FAIL;
	if (shipping == NULL)
		return NX_OK;
	if (nx_json_opt_string(shipping, "country", "shipping_address.country", &country,
						   err) != NX_OK)
		return NX_FAIL;
	if (!nx_order_set_ship_country(o, country))
		nx_order_warn(o, "unknown shipping_address.country \"%.40s\"", country);
	o->shipping_address = json_deep_copy(shipping);
	if (o->shipping_address == NULL)
		return nx_fail(err, "shipping_address: out of memory");
	return NX_OK;
}

static int
kaufland_normalize(const json_t *doc, NxOrder *o, NxError *err)
{
	const json_t *order;
	const json_t *units;
	const json_t *unit;
	const char *unknown;
	const char *unknown_type;
	NxMoney		shipping = {false, 0};
	size_t		i;

	if (unwrap_order(doc, &order, err) != NX_OK)
		return NX_FAIL;
	if (nx_json_req_id(order, "id_order", NULL, &o->external_order_id, err) != NX_OK)
		return NX_FAIL;
	o->order_number = nx_strdup(o->external_order_id);
	if (o->order_number == NULL)
		return nx_fail(err, "id_order: out of memory");
	if (order_units(order, &units, err) != NX_OK)
		return NX_FAIL;

	if (kaufland_status(units, &o->status, &o->marketplace_status, &unknown, err) != NX_OK)
		return NX_FAIL;
	if (unknown)
		nx_order_warn(o, "unknown order unit status \"%.100s\"", unknown);
	o->fulfillment_method = kaufland_fulfillment(order, units, &unknown_type);
	if (unknown_type)
		nx_order_warn(o, "unknown fulfillment_type \"%.100s\"", unknown_type);

	json_array_foreach(units, i, unit)
	{
		if (kaufland_unit(unit, i, o, &shipping, err) != NX_OK)
			return NX_FAIL;
	}

	/* cancelled units keep their price, as the fixtures' conventions say */
	if (nx_order_sum_lines_checked(o, "price", err) != NX_OK)
		return NX_FAIL;
	o->shipping_total = shipping;
	/* prices include VAT and Kaufland has no discounts: tax and discount stay null */
	if (o->subtotal.present)
	{
		o->total_amount = o->subtotal;
		if (nx_money_accumulate(&o->total_amount, shipping, "shipping_rate", err) != NX_OK)
			return NX_FAIL;
	}

	if (nx_json_opt_time(order, "ts_created_iso", NULL, &o->has_ordered_at, &o->ordered_at,
						 err) != NX_OK)
		return NX_FAIL;
	if (!o->has_updated_at &&
		nx_json_opt_time(order, "ts_units_updated_iso", NULL, &o->has_updated_at,
						 &o->updated_at, err) != NX_OK)
		return NX_FAIL;

	return kaufland_buyer(order, o, err);
}

/* ---------- a list page ---------- */

static int
kaufland_parse_page(const json_t *page, const json_t *headers, NxPage *out, NxError *err)
{
	const json_t *data = json_object_get(page, "data");
	const json_t *pagination = json_object_get(page, "pagination");
	const json_t *summary;
	int64_t		offset;
	int64_t		total;
	size_t		i;

	(void) headers;				/* Kaufland pages in the body */
	if (!json_is_object(page))
		return nx_fail(err, "page: expected a JSON object with \"data\" and \"pagination\"");
	if (!json_is_array(data))
		return nx_fail(err, "data: %s", data ? "expected an array of order summaries" :
					   "missing (not a Kaufland /v2/orders page)");
	if (!json_is_object(pagination))
		return nx_fail(err, "pagination: %s", pagination ? "expected an object" : "missing");
	if (nx_json_req_int(pagination, "offset", "pagination.", 0, KAUFLAND_MAX_OFFSET, &offset,
						err) != NX_OK ||
		nx_json_req_int(pagination, "total", "pagination.", 0, KAUFLAND_MAX_OFFSET, &total,
						err) != NX_OK)
		return NX_FAIL;

	/* summaries carry no units or prices: hand back the ids to fetch */
	json_array_foreach(data, i, summary)
	{
		char	   *id = json_is_object(summary) ? nx_json_id(summary, "id_order") : NULL;
		int			rc;

		if (id == NULL || id[0] == '\0')
		{
			char		msg[64];

			snprintf(msg, sizeof(msg), "data[%zu].id_order: missing or not a string", i);
			rc = nx_page_add_failed(out, NULL, msg);
		}
		else
			rc = nx_page_add_detail_id(out, id);
		free(id);
		if (rc != NX_OK)
			return nx_fail(err, "data: out of memory");
	}

	/* an empty page ends the walk even if total promises more */
	if (json_array_size(data) > 0 && offset + (int64_t) json_array_size(data) < total)
	{
		out->next_cursor = nx_sprintf("%lld", (long long) (offset + (int64_t) json_array_size(data)));
		if (out->next_cursor == NULL)
			return nx_fail(err, "pagination: out of memory");
	}
	return NX_OK;
}

/* ---------- signatures ---------- */

/*
 * HMAC-SHA256 under secret of METHOD "\n" URL "\n" BODY "\n" TIMESTAMP:
 * how Kaufland signs API requests and push callbacks alike.  The body is
 * the exact bytes (none for a GET).
 */
static int
kaufland_hmac(const char *secret, const char *method, const char *url, const char *body,
			  size_t body_len, const char *timestamp, unsigned char *out)
{
	size_t		method_len = strlen(method);
	size_t		url_len = strlen(url);
	size_t		ts_len = strlen(timestamp);
	size_t		len;
	char	   *message;
	char	   *p;
	int			rc;

	if (body == NULL)
		body_len = 0;
	len = method_len + 1 + url_len + 1 + body_len + 1 + ts_len;
	if ((message = malloc(len)) == NULL)
		return NX_FAIL;
	p = message;
	memcpy(p, method, method_len);
	p += method_len;
	*p++ = '\n';
	memcpy(p, url, url_len);
	p += url_len;
	*p++ = '\n';
	if (body_len > 0)
		memcpy(p, body, body_len);
	p += body_len;
	*p++ = '\n';
	memcpy(p, timestamp, ts_len);
	rc = nx_hmac_sha256(secret, strlen(secret), message, len, out);
	free(message);
	return rc;
}

/* ---------- webhooks ---------- */

/* Unix seconds as sent in Shop-Timestamp: digits only, no sign, no fraction. */
static bool
parse_timestamp(const char *text, int64_t *out)
{
	int64_t		v = 0;
	size_t		n = 0;

	for (; text[n]; n++)
	{
		if (text[n] < '0' || text[n] > '9' || n >= 12)
			return false;
		v = v * 10 + (text[n] - '0');
	}
	*out = v;
	return n > 0;
}

static int
kaufland_verify_webhook(const NxWebhookInput *in, NxError *err)
{
	const char *signature = nx_header(in->headers, "shop-signature");
	const char *timestamp = nx_header(in->headers, "shop-timestamp");
	unsigned char given[32];
	unsigned char expected[32];
	int64_t		ts;
	int64_t		skew;
	size_t		body_len = in->body ? in->body_len : 0;

	if (in->secret == NULL || in->secret[0] == '\0')
		return nx_fail(err, "no secret key configured for this connection");
	if (in->url == NULL || in->url[0] == '\0')
		return nx_fail(err, "no callback URL to verify the signature against");
	if (signature == NULL)
		return nx_fail(err, "shop-signature: missing header");
	if (timestamp == NULL)
		return nx_fail(err, "shop-timestamp: missing header");
	if (!parse_timestamp(timestamp, &ts))
		return nx_fail(err, "shop-timestamp: \"%.40s\" is not Unix seconds", timestamp);
	skew = in->now - ts;
	if (skew > KAUFLAND_WINDOW_SECONDS || skew < -KAUFLAND_WINDOW_SECONDS)
		return nx_fail(err, "shop-timestamp: %lld is %lld s from now, outside the %d s window",
					   (long long) ts, (long long) skew, KAUFLAND_WINDOW_SECONDS);
	if (nx_hex_decode(signature, given, sizeof(given)) != NX_OK)
		return nx_fail(err, "shop-signature: not a hex HMAC-SHA256");

	if (kaufland_hmac(in->secret, "POST", in->url, in->body, body_len, timestamp,
					  expected) != NX_OK)
		return nx_fail(err, "shop-signature: cannot compute the HMAC");
	if (!nx_equal_ct(given, expected, sizeof(expected)))
		return nx_fail(err, "shop-signature: signature does not match");
	return NX_OK;
}

/* The id_order in a resource path such as "/orders/M9XB3LW/", or NULL. */
static char *
order_id_of_resource(const char *resource)
{
	const char *p = resource;

	while (p && (p = strstr(p, "orders/")) != NULL)
	{
		/* "/orders/" itself, not the tail of "/order-units/" or the like */
		if (p == resource || p[-1] == '/')
		{
			const char *id = p + 7;
			size_t		n = strcspn(id, "/?#");

			return n > 0 ? nx_strndup(id, n) : NULL;
		}
		p += 7;
	}
	return NULL;
}

static int
kaufland_parse_webhook(const json_t *body, const json_t *headers, NxWebhookEvent *out,
					   NxError *err)
{
	const char *topic;
	const char *resource;

	(void) headers;				/* everything is in the body */
	if (!json_is_object(body))
		return nx_fail(err, "body: expected a JSON object");
	if (nx_json_req_id(body, "id_message", NULL, &out->event_id, err) != NX_OK)
		return NX_FAIL;
	if (nx_json_opt_string(body, "event_name", NULL, &topic, err) != NX_OK ||
		nx_json_opt_string(body, "resource", NULL, &resource, err) != NX_OK)
		return NX_FAIL;
	out->topic = nx_strdup(topic);
	out->order_id = nx_json_id(body, "id_order");
	if (out->order_id == NULL && resource)
		out->order_id = order_id_of_resource(resource);
	/* the body names the order only: it is re-fetched, so no order here */
	return NX_OK;
}

/* ---------- sync requests (doc/sync_protocol.md) ---------- */

#define KAUFLAND_API_BASE "https://sellerapi.kaufland.com"
#define KAUFLAND_MAX_PAGE 100
#define KAUFLAND_ACCEPT "application/json"

/* No token endpoint: every request is signed with the connection's keys. */
static int
kaufland_base_urls(const json_t *credentials, const char *region, char **api_base,
				   char **auth_base, NxError *err)
{
	(void) credentials;
	(void) region;				/* the storefront is a query parameter, not a host */
	return nx_base_urls(KAUFLAND_API_BASE, NULL, api_base, auth_base, err);
}

/* An empty GET with User-Agent (Kaufland requires one) and Accept. */
static int
kaufland_begin(const NxSyncContext *ctx, NxRequest *out, NxError *err)
{
	return nx_request_begin(ctx, "GET", ctx->api_base, "api_base", KAUFLAND_ACCEPT, out, err);
}

/*
 * Sign the finished request (its URL exactly as it will be sent) at
 * ctx->now, which Kaufland accepts within 5 minutes of its clock.
 */
static int
kaufland_sign(const NxSyncContext *ctx, NxRequest *out, NxError *err)
{
	const char *key;
	const char *secret;
	char		timestamp[24];
	unsigned char mac[32];
	char		hex[65];

	if (nx_credential(ctx->credentials, "client_key", NULL, &key, err) != NX_OK ||
		nx_credential(ctx->credentials, "secret_key", NULL, &secret, err) != NX_OK)
		return NX_FAIL;
	if (ctx->now <= 0)
		return nx_fail(err, "now: missing (the signature's Shop-Timestamp)");
	snprintf(timestamp, sizeof(timestamp), "%lld", (long long) ctx->now);
	if (kaufland_hmac(secret, out->method, out->url, out->body, out->body_len, timestamp,
					  mac) != NX_OK)
		return nx_fail(err, "shop-signature: cannot compute the HMAC");
	nx_hex_encode(mac, sizeof(mac), hex, sizeof(hex));
	if (nx_request_header(out, "Shop-Client-Key", "%s", key) != NX_OK)
		return nx_fail(err, "credentials: client_key: out of memory or not a single line");
	if (nx_request_header(out, "Shop-Timestamp", "%s", timestamp) != NX_OK ||
		nx_request_header(out, "Shop-Signature", "%s", hex) != NX_OK)
		return nx_fail(err, "shop-signature: out of memory");
	return NX_OK;
}

/* The offset a cursor carries (parse_page's next offset). */
static int
kaufland_offset(const char *cursor, int64_t *offset, NxError *err)
{
	size_t		n;

	*offset = 0;
	for (n = 0; cursor[n] >= '0' && cursor[n] <= '9'; n++)
	{
		if (*offset > KAUFLAND_MAX_OFFSET)
			break;
		*offset = *offset * 10 + (cursor[n] - '0');
	}
	if (n == 0 || cursor[n] != '\0' || *offset > KAUFLAND_MAX_OFFSET)
		return nx_fail(err, "cursor: \"%.20s\" is not an offset", cursor);
	return NX_OK;
}

/* The order list from since; no storefront parameter without a region. */
static int
kaufland_list_url(const NxSyncContext *ctx, int64_t since, const char *cursor, char **url,
				  NxError *err)
{
	int64_t		offset = 0;
	int			n = nx_page_size(ctx, KAUFLAND_MAX_PAGE);
	char		when[32];
	char	   *storefront = NULL;

	*url = NULL;
	if (cursor != NULL && kaufland_offset(cursor, &offset, err) != NX_OK)
		return NX_FAIL;
	if (nx_check_since(since, err) != NX_OK)
		return NX_FAIL;
	nx_time_format(since, when, sizeof(when));
	if (nx_nonempty(ctx->region) == NULL)
		*url = nx_sprintf("%s/v2/orders?ts_units_updated_from_iso=%s&limit=%d&offset=%lld",
						  ctx->api_base, when, n, (long long) offset);
	else if ((storefront = nx_url_encode(ctx->region)) != NULL)
		*url = nx_sprintf("%s/v2/orders?storefront=%s&ts_units_updated_from_iso=%s&limit=%d"
						  "&offset=%lld", ctx->api_base, storefront, when, n, (long long) offset);
	free(storefront);
	if (*url == NULL)
		return nx_fail(err, "list request: out of memory");
	return NX_OK;
}

static int
kaufland_list_request(const NxSyncContext *ctx, int64_t since, const char *cursor,
					  NxRequest *out, NxError *err)
{
	int			rc = NX_FAIL;

	if (kaufland_begin(ctx, out, err) == NX_OK &&
		kaufland_list_url(ctx, since, cursor, &out->url, err) == NX_OK)
		rc = kaufland_sign(ctx, out, err);
	return nx_request_finish(out, rc);
}

/*
 * GET /v2/orders/{id_order}.  The id is percent-encoded so that it stays
 * one path segment; "." and ".." are refused, clients resolve them.
 */
static int
kaufland_detail_url(const NxSyncContext *ctx, const char *id, const char *cursor, char **url,
					NxError *err)
{
	*url = NULL;
	if (cursor != NULL)
		return nx_fail(err, "cursor: a Kaufland order detail has no further pages");
	return nx_detail_url(ctx->api_base, "/v2/orders/", id, url, err);
}

static int
kaufland_detail_request(const NxSyncContext *ctx, const char *id, const char *cursor,
						NxRequest *out, NxError *err)
{
	int			rc = NX_FAIL;

	if (kaufland_begin(ctx, out, err) == NX_OK &&
		kaufland_detail_url(ctx, id, cursor, &out->url, err) == NX_OK)
		rc = kaufland_sign(ctx, out, err);
	return nx_request_finish(out, rc);
}

/* The detail response ({data: order}, or a bare order) becomes the order. */
static int
kaufland_detail_merge(json_t **acc, const json_t *response, char **next_cursor, NxError *err)
{
	const json_t *order;

	*next_cursor = NULL;
	if (*acc != NULL)
		return nx_fail(err, "order detail: the order is already there (details have one page)");
	if (unwrap_order(response, &order, err) != NX_OK)
		return NX_FAIL;
	if (json_object_get(order, "id_order") == NULL)
		return nx_fail(err, "id_order: missing (not a /v2/orders/{id_order} response)");
	*acc = json_incref((json_t *) order);
	return NX_OK;
}

/* A 429 comes without headers that say how long: back off. */
static void
kaufland_throttle(int status, const json_t *headers, int64_t now_ms, NxThrottle *out)
{
	(void) status;
	(void) headers;
	(void) now_ms;
	out->wait_ms = -1;
}

const NxAdapter nx_kaufland_adapter = {
	.name = "kaufland",
	.keys = &nx_kaufland_keys,
	.normalize = kaufland_normalize,
	.parse_page = kaufland_parse_page,
	.classify = kaufland_classify,
	.verify_webhook = kaufland_verify_webhook,
	.parse_webhook = kaufland_parse_webhook,
	.max_page_size = KAUFLAND_MAX_PAGE,
	.lag_seconds = 0,
	.max_days_back = 0,
	.base_urls = kaufland_base_urls,
	.token_request = NULL,
	.list_request = kaufland_list_request,
	.detail_request = kaufland_detail_request,
	.page_orders = NULL,
	.detail_merge = kaufland_detail_merge,
	.throttle = kaufland_throttle,
};
