/*-------------------------------------------------------------------------
 *
 * shopify.c
 *	  The Shopify Admin REST API (2024-10) adapter: orders.json pages, one
 *	  order, and the HMAC-signed order webhooks.
 *
 * Shopify's quirks and the choices made for them:
 *
 * - An order carries two currencies: the shop's (`currency`, the top-level
 *   amount strings, `*_set.shop_money`) and the buyer's (`presentment_*`).
 *   The canonical order is kept in the shop currency, so a Swiss buyer
 *   paying in CHF in a EUR shop gives a EUR order; presentment money is
 *   never read.
 * - Amounts are decimal strings ("44.77"), parsed as text, never through a
 *   double.  `total_line_items_price` (before discounts) is the subtotal,
 *   `total_discounts` is already positive, `total_price` is Shopify's own
 *   total.  In a `taxes_included` shop the tax is inside the prices, so it
 *   is reported but not added again.
 * - Timestamps carry the shop's UTC offset (+01:00 for Berlin) and are
 *   converted to UTC.
 * - Status is spread over `financial_status`, `fulfillment_status`,
 *   `cancelled_at` and each fulfillment's `shipment_status`.  A set
 *   `cancelled_at` (or a voided/expired payment) wins, then a refund, then
 *   an unpaid order, and only a paid order looks at fulfilment.  The raw
 *   state is kept as "financial/fulfillment" with "null" for a missing one.
 * - Orders fulfilled by the Shopify Fulfillment Network are FBS; the line
 *   items name the fulfilment service, and an order counts as FBS only when
 *   every line that ships is fulfilled by the network.
 * - Digital orders may have no e-mail, no customer and no shipping address:
 *   those become nulls, and the buyer's name falls back to the billing and
 *   then the shipping address.
 * - The list is paged by an opaque `page_info` cursor in the Link header's
 *   rel="next" URL; the last page has no rel="next".  The cursor is kept as
 *   it appears in the URL (already URL-safe) so it can be sent back as is.
 * - Sync (doc/sync_protocol.md): no token request, the credentials'
 *   access_token goes in X-Shopify-Access-Token.  A next page is rebuilt
 *   on api_base from the page_info cursor, never taken from the Link's
 *   host.  Throttling: Retry-After (fractional seconds), or a full
 *   X-Shopify-Shop-Api-Call-Limit bucket, which waits a second.
 * - Webhooks: X-Shopify-Hmac-Sha256 is base64(HMAC-SHA256(client secret,
 *   raw body)), checked in constant time over the exact bytes received.
 *   Replays are dropped on X-Shopify-Event-Id (the same for a re-delivered
 *   event); the body of an "orders/..." topic is the full order itself.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

/* Quantities beyond this are not plausible and would overflow line totals. */
#define SHOPIFY_MAX_QUANTITY INT64_C(1000000000)

/* ---------- small JSON readers ---------- */

/* "first last" with whichever parts are present; NULL when neither is. */
static char *
join_name(const json_t *obj)
{
	return nx_join_name(nx_json_str(obj, "first_name"), nx_json_str(obj, "last_name"));
}

/* ---------- status and fulfilment ---------- */

/*
 * A fulfilled order is delivered only when every successful fulfillment
 * reports shipment_status "delivered"; cancelled or failed fulfillments
 * do not count.
 */
static int
all_delivered(const json_t *order, bool *delivered, NxError *err)
{
	const json_t *fulfillments;
	const json_t *f;
	size_t		i;
	size_t		successful = 0;

	*delivered = false;
	if (nx_json_opt_array(order, "fulfillments", NULL, &fulfillments, err) != NX_OK)
		return NX_FAIL;
	json_array_foreach(fulfillments, i, f)
	{
		const char *status = nx_json_str(f, "status");
		const char *shipment = nx_json_str(f, "shipment_status");

		if (status && strcmp(status, "success") != 0)
			continue;
		successful++;
		if (shipment == NULL || strcmp(shipment, "delivered") != 0)
			return NX_OK;
	}
	*delivered = successful > 0;
	return NX_OK;
}

/* The canonical status of a paid (or authorized) order, from its fulfilment. */
static const char *
paid_status(const char *fulfillment, bool delivered, const char **unknown)
{
	/* REST sends null for nothing fulfilled; "unfulfilled" is its filter spelling */
	if (fulfillment == NULL || strcmp(fulfillment, "unfulfilled") == 0)
		return NX_CONFIRMED;
	if (strcmp(fulfillment, "partial") == 0)
		return NX_PROCESSING;
	if (strcmp(fulfillment, "fulfilled") == 0)
		return delivered ? NX_DELIVERED : NX_SHIPPED;
	/* every line restocked: Shopify sets this when the order was cancelled */
	if (strcmp(fulfillment, "restocked") == 0)
		return NX_CANCELLED;
	*unknown = "fulfillment_status";
	return NX_PENDING;
}

/*
 * Status and raw status of one order.  *unknown_field names the raw field
 * whose value was not recognised (the order then maps to pending), or
 * stays NULL; *unknown_value is that value.
 */
static int
shopify_status(const json_t *order, const char **status, char **raw,
			   const char **unknown_field, const char **unknown_value, NxError *err)
{
	const char *financial;
	const char *fulfillment;
	const char *cancelled_at;
	int64_t		ignored;
	bool		delivered;

	*raw = NULL;
	*unknown_field = NULL;
	*unknown_value = NULL;
	if (nx_json_opt_string(order, "financial_status", NULL, &financial, err) != NX_OK ||
		nx_json_opt_string(order, "fulfillment_status", NULL, &fulfillment, err) != NX_OK ||
		nx_json_opt_string(order, "cancelled_at", NULL, &cancelled_at, err) != NX_OK ||
		all_delivered(order, &delivered, err) != NX_OK)
		return NX_FAIL;
	if (cancelled_at && nx_time_parse(cancelled_at, &ignored, err, "cancelled_at") != NX_OK)
		return NX_FAIL;

	if (cancelled_at ||
		(financial && (strcmp(financial, "voided") == 0 || strcmp(financial, "expired") == 0)))
		*status = NX_CANCELLED;
	else if (financial && strcmp(financial, "refunded") == 0)
		*status = NX_REFUNDED;		/* with or without a return */
	else if (financial == NULL || strcmp(financial, "pending") == 0 ||
			 strcmp(financial, "partially_paid") == 0)
		*status = NX_PENDING;
	else if (strcmp(financial, "paid") == 0 || strcmp(financial, "authorized") == 0 ||
			 strcmp(financial, "partially_refunded") == 0)
	{
		*status = paid_status(fulfillment, delivered, unknown_field);
		if (*unknown_field)
			*unknown_value = fulfillment;
	}
	else
	{
		*status = NX_PENDING;
		*unknown_field = "financial_status";
		*unknown_value = financial;
	}

	*raw = nx_sprintf("%s/%s", financial ? financial : "null", fulfillment ? fulfillment : "null");
	if (*raw == NULL)
		return nx_fail(err, "financial_status: out of memory");
	return NX_OK;
}

/* "shopify_fulfillment_network", "Shopify Fulfillment Network", ... */
static bool
is_fulfillment_network(const char *service)
{
	static const char want[] = "shopify fulfillment network";
	size_t		i;

	if (service == NULL || strlen(service) != sizeof(want) - 1)
		return false;
	for (i = 0; i < sizeof(want) - 1; i++)
	{
		char		c = (char) tolower((unsigned char) service[i]);

		if (c == '_' || c == '-')
			c = ' ';
		if (c != want[i])
			return false;
	}
	return true;
}

/*
 * FBS when every line that ships is fulfilled by the Shopify Fulfillment
 * Network; digital lines (requires_shipping false) do not decide.
 */
static const char *
shopify_fulfillment(const json_t *order)
{
	const json_t *lines = json_object_get(order, "line_items");
	const json_t *line;
	size_t		i;
	size_t		shipping = 0;
	size_t		network = 0;

	json_array_foreach(lines, i, line)
	{
		if (json_is_false(json_object_get(line, "requires_shipping")))
			continue;
		shipping++;
		if (is_fulfillment_network(nx_json_str(line, "fulfillment_service")))
			network++;
	}
	return shipping > 0 && network == shipping ? NX_FBS : NX_FBM;
}

static int
shopify_classify(const json_t *order, const char **status, const char **fulfillment,
				 char **marketplace_status, NxError *err)
{
	const char *unknown_field;
	const char *unknown_value;

	*marketplace_status = NULL;
	if (!json_is_object(order))
		return nx_fail(err, "order: expected a JSON object");
	if (shopify_status(order, status, marketplace_status, &unknown_field, &unknown_value,
					   err) != NX_OK)
	{
		free(*marketplace_status);
		*marketplace_status = NULL;
		return NX_FAIL;
	}
	*fulfillment = shopify_fulfillment(order);
	return NX_OK;
}

/* ---------- one order ---------- */

/* A top-level amount string of the order, in the shop currency. */
static int
order_money(const json_t *order, const char *key, const NxOrder *o, NxMoney *out,
			NxError *err)
{
	return nx_money_from_json(json_object_get(order, key), o->exponent, out, err, key);
}

/* The item title: `name` is the title with its variant ("Wollschal - Anthrazit"). */
static char *
item_title(const json_t *line)
{
	const char *name = nx_nonempty(nx_json_str(line, "name"));
	const char *title = nx_nonempty(nx_json_str(line, "title"));
	const char *variant = nx_nonempty(nx_json_str(line, "variant_title"));

	if (name)
		return nx_strdup(name);
	if (title && variant)
		return nx_sprintf("%s - %s", title, variant);
	return nx_strdup(title);
}

static int
shopify_item(const json_t *line, size_t index, NxOrder *o, NxError *err)
{
	char		at[48];
	char		field[64];
	NxItem	   *it;
	const char *sku;
	int64_t		quantity;
	NxMoney		price;

	if (!json_is_object(line))
		return nx_fail(err, "line_items[%zu]: expected an object", index);
	it = nx_order_add_item(o);
	if (it == NULL)
		return nx_fail(err, "line_items[%zu]: out of memory", index);
	snprintf(at, sizeof(at), "line_items[%zu].", index);

	/* Shopify sends "" for a variant without a SKU: that is no SKU */
	if (nx_json_req_id(line, "id", at, &it->external_item_id, err) != NX_OK ||
		nx_json_opt_text(line, "sku", at, &sku, err) != NX_OK)
		return NX_FAIL;
	it->sku = nx_strdup(sku);
	it->title = item_title(line);

	if (nx_json_req_int(line, "quantity", at, 0, SHOPIFY_MAX_QUANTITY, &quantity, err) != NX_OK)
		return NX_FAIL;
	it->quantity = quantity;

	/* `price` is the unit price before discounts, in the shop currency */
	snprintf(field, sizeof(field), "%sprice", at);
	if (nx_money_from_json(json_object_get(line, "price"), o->exponent, &price, err,
						   field) != NX_OK)
		return NX_FAIL;
	if (price.present && quantity > 0 &&
		(price.minor > NX_MONEY_MAX_MINOR / quantity ||
		 price.minor < -NX_MONEY_MAX_MINOR / quantity))
		return nx_fail(err, "%s: price times quantity %lld is too large", field,
					   (long long) quantity);
	it->unit_price = price;
	it->line_total = nx_money_mul(price, quantity);
	return NX_OK;
}

static int
shopify_items(const json_t *order, NxOrder *o, NxError *err)
{
	const json_t *lines;
	const json_t *line;
	size_t		i;

	if (nx_json_req_array(order, "line_items", NULL, &lines, err) != NX_OK)
		return NX_FAIL;
	json_array_foreach(lines, i, line)
	{
		if (shopify_item(line, i, o, err) != NX_OK)
			return NX_FAIL;
	}
	return NX_OK;
}

/* The buyer: e-mail, name with its fallbacks. */
static int
shopify_buyer(const json_t *order, NxOrder *o, NxError *err)
{
	const char *email;
	const char *contact;
	const json_t *customer = json_object_get(order, "customer");
	const char *address_keys[] = {"billing_address", "shipping_address"};
	size_t		i;

	if (nx_json_opt_text(order, "email", NULL, &email, err) != NX_OK ||
		nx_json_opt_text(order, "contact_email", NULL, &contact, err) != NX_OK)
		return NX_FAIL;
	o->buyer_email = nx_strdup(email ? email : contact);

	if (json_is_object(customer))
		o->buyer_name = join_name(customer);
	for (i = 0; o->buyer_name == NULL && i < 2; i++)
	{
		const json_t *address = json_object_get(order, address_keys[i]);
		const char *name = nx_nonempty(nx_json_str(address, "name"));

		o->buyer_name = name ? nx_strdup(name) : json_is_object(address) ? join_name(address) : NULL;
	}
	return NX_OK;
}

/* ship_country and the stored shipping address (none for digital goods). */
static int
shopify_address(const json_t *order, NxOrder *o, NxError *err)
{
	const json_t *address;
	const char *code;

	if (nx_json_opt_object(order, "shipping_address", NULL, &address, err) != NX_OK)
		return NX_FAIL;
	if (address == NULL)
		return NX_OK;
	if (nx_json_opt_string(address, "country_code", "shipping_address.country_code", &code,
						   err) != NX_OK)
		return NX_FAIL;
	if (!nx_order_set_ship_country(o, code))
		nx_order_warn(o, "unknown shipping_address.country_code \"%.40s\"", code);
	o->shipping_address = json_deep_copy(address);
	if (o->shipping_address == NULL)
		return nx_fail(err, "shipping_address: out of memory");
	return NX_OK;
}

static int
shopify_normalize(const json_t *order, NxOrder *o, NxError *err)
{
	const char *name;
	const char *currency;
	const char *unknown_field;
	const char *unknown_value;

	if (!json_is_object(order))
		return nx_fail(err, "order: expected a JSON object");
	if (nx_json_req_id(order, "id", NULL, &o->external_order_id, err) != NX_OK)
		return NX_FAIL;

	/* `name` ("#1001") is what the merchant sees; order_number is 1001 */
	if (nx_json_opt_string(order, "name", NULL, &name, err) != NX_OK)
		return NX_FAIL;
	o->order_number = name ? nx_strdup(name) : nx_json_id(order, "order_number");

	if (nx_json_req_string(order, "currency", NULL, &currency, err) != NX_OK ||
		nx_order_set_currency(o, currency, err) != NX_OK)
		return NX_FAIL;

	if (shopify_status(order, &o->status, &o->marketplace_status, &unknown_field,
					   &unknown_value, err) != NX_OK)
		return NX_FAIL;
	if (unknown_field)
		nx_order_warn(o, "unknown %s \"%.100s\"", unknown_field, unknown_value);
	o->fulfillment_method = shopify_fulfillment(order);

	if (order_money(order, "total_line_items_price", o, &o->subtotal, err) != NX_OK ||
		order_money(order, "total_tax", o, &o->tax_total, err) != NX_OK ||
		order_money(order, "total_discounts", o, &o->discount_total, err) != NX_OK ||
		order_money(order, "total_price", o, &o->total_amount, err) != NX_OK ||
		nx_money_from_json(nx_json_path(order, "total_shipping_price_set.shop_money.amount"),
						   o->exponent, &o->shipping_total, err,
						   "total_shipping_price_set.shop_money.amount") != NX_OK)
		return NX_FAIL;

	if (nx_json_opt_time(order, "created_at", NULL, &o->has_ordered_at, &o->ordered_at,
						 err) != NX_OK ||
		nx_json_opt_time(order, "updated_at", NULL, &o->has_updated_at, &o->updated_at,
						 err) != NX_OK)
		return NX_FAIL;

	if (shopify_buyer(order, o, err) != NX_OK ||
		shopify_address(order, o, err) != NX_OK ||
		shopify_items(order, o, err) != NX_OK)
		return NX_FAIL;
	if (!o->subtotal.present && nx_order_sum_lines_checked(o, "line_items", err) != NX_OK)
		return NX_FAIL;
	return NX_OK;
}

/* ---------- a list page ---------- */

static bool
starts_with_ci(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (tolower((unsigned char) *s) != tolower((unsigned char) *prefix))
			return false;
	return true;
}

/* Does a Link parameter list (after the "<url>") say rel="next"? */
static bool
link_is_next(const char *params, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		const char *p;
		size_t		n;

		while (i < len && (params[i] == ';' || params[i] == ' ' || params[i] == '\t'))
			i++;
		p = params + i;
		while (i < len && params[i] != ';')
			i++;
		n = (size_t) (params + i - p);
		if (n >= 4 && starts_with_ci(p, "rel="))
		{
			size_t		j = 4;

			/* rel may list several space-separated relation types */
			while (j < n)
			{
				size_t		start;

				while (j < n && (p[j] == '"' || p[j] == ' '))
					j++;
				start = j;
				while (j < n && p[j] != '"' && p[j] != ' ')
					j++;
				if (j - start == 4 && starts_with_ci(p + start, "next"))
					return true;
			}
		}
	}
	return false;
}

/* The page_info query parameter of a URL, or NULL. */
static char *
page_info_of(const char *url, size_t len)
{
	size_t		i;

	for (i = 0; i + 11 <= len; i++)
	{
		if ((url[i] == '?' || url[i] == '&') && strncmp(url + i + 1, "page_info=", 10) == 0)
		{
			size_t		start = i + 11;
			size_t		end = start;

			while (end < len && url[end] != '&' && url[end] != '#')
				end++;
			return end > start ? nx_strndup(url + start, end - start) : NULL;
		}
	}
	return NULL;
}

/*
 * The cursor of the rel="next" link in a Link header
 * (`<url>; rel="previous", <url>; rel="next"`).  *cursor stays NULL on the
 * last page.  A header that cannot be read fails: guessing "no next page"
 * would silently end the walk and lose orders.
 */
static int
next_page_info(const char *link, char **cursor, NxError *err)
{
	const char *p = link;

	*cursor = NULL;
	while (*p)
	{
		const char *url;
		const char *url_end;
		const char *params;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p != '<' || (url_end = strchr(p, '>')) == NULL)
			return nx_fail(err, "link: malformed header (expected <url>; rel=...)");
		url = p + 1;
		params = url_end + 1;
		for (p = params; *p && *p != ','; p++)
		{
			if (*p == '"')
			{
				for (p++; *p && *p != '"'; p++)
					;
				if (*p == '\0')
					break;
			}
		}
		if (link_is_next(params, (size_t) (p - params)))
		{
			*cursor = page_info_of(url, (size_t) (url_end - url));
			if (*cursor == NULL)
				return nx_fail(err, "link: the rel=\"next\" URL has no page_info");
			return NX_OK;
		}
	}
	return NX_OK;
}

static int
shopify_parse_page(const json_t *page, const json_t *headers, NxPage *out, NxError *err)
{
	const json_t *orders = json_object_get(page, "orders");
	const char *link = nx_header(headers, "link");

	if (!json_is_object(page))
		return nx_fail(err, "page: expected a JSON object with an \"orders\" array");
	if (!json_is_array(orders))
		return nx_fail(err, "orders: %s", orders ? "expected an array" :
					   "missing (not a Shopify orders page)");
	if (link && next_page_info(link, &out->next_cursor, err) != NX_OK)
		return NX_FAIL;
	if (nx_page_normalize_each(out, orders, nx_shopify_adapter.name, shopify_normalize,
							   "id") != NX_OK)
		return nx_fail(err, "orders: out of memory");
	return NX_OK;
}

/* ---------- webhooks ---------- */

static int
shopify_verify_webhook(const NxWebhookInput *in, NxError *err)
{
	const char *given = nx_header(in->headers, "x-shopify-hmac-sha256");
	unsigned char expected[32];
	unsigned char sig[64];
	int			len;

	if (in->secret == NULL || in->secret[0] == '\0')
		return nx_fail(err, "no webhook secret configured for this connection");
	if (given == NULL)
		return nx_fail(err, "x-shopify-hmac-sha256: missing header");
	len = nx_base64_decode(given, sig, sizeof(sig));
	if (len != (int) sizeof(expected))
		return nx_fail(err, "x-shopify-hmac-sha256: not a base64 HMAC-SHA256");
	if (nx_hmac_sha256(in->secret, strlen(in->secret), in->body ? in->body : "",
					   in->body ? in->body_len : 0, expected) != NX_OK)
		return nx_fail(err, "x-shopify-hmac-sha256: cannot compute the HMAC");
	if (!nx_equal_ct(sig, expected, sizeof(expected)))
		return nx_fail(err, "x-shopify-hmac-sha256: signature does not match the body");
	return NX_OK;
}

static int
shopify_parse_webhook(const json_t *body, const json_t *headers, NxWebhookEvent *out,
					  NxError *err)
{
	const char *event_id = nx_header(headers, "x-shopify-event-id");
	const char *topic = nx_header(headers, "x-shopify-topic");

	if (!json_is_object(body))
		return nx_fail(err, "body: expected a JSON object");
	/* older API versions send no event id; the webhook id is then the best key */
	if (event_id == NULL)
		event_id = nx_header(headers, "x-shopify-webhook-id");
	if (event_id == NULL || event_id[0] == '\0')
		return nx_fail(err, "x-shopify-event-id: missing header");
	out->event_id = nx_strdup(event_id);
	out->topic = nx_strdup(topic);
	if (out->event_id == NULL || (topic && out->topic == NULL))
		return nx_fail(err, "x-shopify-event-id: out of memory");

	if (topic == NULL || strncmp(topic, "orders/", 7) == 0)
	{
		/* "orders/...": the body is the order; orders/delete carries only its id */
		out->order_id = nx_json_id(body, "id");
		if (json_is_array(json_object_get(body, "line_items")))
		{
			out->order = json_deep_copy(body);
			if (out->order == NULL)
				return nx_fail(err, "body: out of memory");
		}
	}
	else
	{
		/* refunds/create and the like name their order in order_id */
		out->order_id = nx_json_id(body, "order_id");
	}
	return NX_OK;
}

/* ---------- sync requests (doc/sync_protocol.md) ---------- */

#define SHOPIFY_ORDERS_PATH "/admin/api/2024-10/orders.json"
#define SHOPIFY_MAX_PAGE 250

/*
 * X-Shopify-Shop-Api-Call-Limit n/n without Retry-After: the bucket leaks
 * 2 calls a second, so after 1 s there is room for the next call and one
 * to spare for the connection's other workers.
 */
#define SHOPIFY_FULL_BUCKET_WAIT_MS 1000

static bool
is_ascii_alnum(int c)
{
	/* not isalnum(): the server's LC_CTYPE may call Latin-1 letters alnum */
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_ascii_xdigit(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * A bare DNS host name: labels of letters, digits and '-', joined by dots.
 * The access token goes to this host, so a slash, '@', port or scheme
 * smuggled into shop_domain must not get through.
 */
static bool
shopify_host_name(const char *s)
{
	size_t		len = strlen(s);
	size_t		label = 0;

	if (len == 0 || len > 253)
		return false;
	for (const char *p = s; *p; p++)
	{
		if (*p == '.')
		{
			if (label == 0 || p[-1] == '-')
				return false;
			label = 0;
		}
		else if (is_ascii_alnum((unsigned char) *p) || (*p == '-' && label > 0))
		{
			if (++label > 63)
				return false;
		}
		else
			return false;
	}
	return label > 0 && s[len - 1] != '-';
}

static int
shopify_base_urls(const json_t *credentials, const char *region, char **api_base,
				  char **auth_base, NxError *err)
{
	const char *domain;

	(void) region;
	*api_base = NULL;
	*auth_base = NULL;			/* the access token is static: no token endpoint */
	if (nx_json_req_string(credentials, "shop_domain", "credentials.shop_domain", &domain,
						   err) != NX_OK)
		return NX_FAIL;
	if (!shopify_host_name(domain))
		return nx_fail(err, "credentials.shop_domain: expected a bare host name such as "
					   "\"acme-store.myshopify.com\"");
	if ((*api_base = nx_sprintf("https://%s", domain)) == NULL)
		return nx_fail(err, "credentials.shop_domain: out of memory");
	return NX_OK;
}

/*
 * page_info percent-encoded for the query.  The cursor is the value as it
 * stood in the Link URL, already encoded, so an escape it has (%2B) is
 * kept as is; only what could end the value or break the URL (&, #,
 * spaces, a stray %) is encoded.  Shopify's cursors are base64url and
 * come out unchanged.
 */
static char *
shopify_encode_cursor(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char	   *out = malloc(strlen(s) * 3 + 1);
	char	   *o = out;

	if (out == NULL)
		return NULL;
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (is_ascii_alnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
			(*p == '%' && is_ascii_xdigit(p[1]) && is_ascii_xdigit(p[2])))
			*o++ = (char) *p;
		else
		{
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/*
 * First page: status=any (the default lists open orders only) and
 * updated_at_min.  Next pages: only limit and page_info, as Shopify
 * rejects filters next to a page_info.  The URL is rebuilt on api_base
 * from the cursor alone, so the token never follows the Link's host.
 */
static int
shopify_build_list(const NxSyncContext *ctx, int64_t since, const char *cursor, NxRequest *out,
				   NxError *err)
{
	int			n = nx_page_size(ctx, SHOPIFY_MAX_PAGE);

	nx_request_init(out, "GET");
	if (ctx->api_base == NULL)
		return nx_fail(err, "api_base: missing");
	if (cursor == NULL)
	{
		char		when[32];

		if (nx_check_since(since, err) != NX_OK)
			return NX_FAIL;
		/* "2025-03-09T00:00:00Z": nothing in it needs encoding in a query */
		nx_time_format(since, when, sizeof(when));
		out->url = nx_sprintf("%s" SHOPIFY_ORDERS_PATH "?status=any&updated_at_min=%s&limit=%d",
							  ctx->api_base, when, n);
	}
	else
	{
		char	   *info;

		if (cursor[0] == '\0')
			return nx_fail(err, "cursor: empty page_info");
		if ((info = shopify_encode_cursor(cursor)) == NULL)
			return nx_fail(err, "cursor: out of memory");
		out->url = nx_sprintf("%s" SHOPIFY_ORDERS_PATH "?limit=%d&page_info=%s",
							  ctx->api_base, n, info);
		free(info);
	}
	if (out->url == NULL)
		return nx_fail(err, "url: out of memory");
	if (nx_request_agent_headers(ctx, "application/json", out, err) != NX_OK)
		return NX_FAIL;
	return nx_request_field_header(out, "X-Shopify-Access-Token",
								   nx_json_str(ctx->credentials, "access_token"),
								   "credentials.access_token", err);
}

static int
shopify_list_request(const NxSyncContext *ctx, int64_t since, const char *cursor,
					 NxRequest *out, NxError *err)
{
	return nx_request_finish(out, shopify_build_list(ctx, since, cursor, out, err));
}

/* A non-negative decimal of at most 9 digits; *s is left after it. */
static bool
shopify_small_int(const char **s, int64_t *out)
{
	const char *p = *s;

	*out = 0;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
	{
		if (p - *s >= 9)
			return false;
		*out = *out * 10 + (*p - '0');
	}
	*s = p;
	return true;
}

/* X-Shopify-Shop-Api-Call-Limit "used/size" says the bucket is full. */
static bool
shopify_bucket_full(const char *s)
{
	int64_t		used;
	int64_t		size;

	if (s == NULL)
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!shopify_small_int(&s, &used) || *s++ != '/' || !shopify_small_int(&s, &size))
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0' && size > 0 && used >= size;
}

static void
shopify_throttle(int status, const json_t *headers, int64_t now_ms, NxThrottle *out)
{
	int64_t		ms;

	(void) status;
	(void) now_ms;
	out->wait_ms = -1;
	/* Retry-After in seconds, "2.0" as Shopify writes it */
	if (nx_retry_after_ms(nx_header(headers, "retry-after"), &ms))
		out->wait_ms = ms;
	else if (shopify_bucket_full(nx_header(headers, "x-shopify-shop-api-call-limit")))
		out->wait_ms = SHOPIFY_FULL_BUCKET_WAIT_MS;
}

const NxAdapter nx_shopify_adapter = {
	.name = "shopify",
	.keys = &nx_shopify_keys,
	.normalize = shopify_normalize,
	.parse_page = shopify_parse_page,
	.classify = shopify_classify,
	.verify_webhook = shopify_verify_webhook,
	.parse_webhook = shopify_parse_webhook,

	.max_page_size = SHOPIFY_MAX_PAGE,
	.lag_seconds = 0,
	/* without the read_all_orders scope only the last 60 days are listed */
	.max_days_back = 60,
	.base_urls = shopify_base_urls,
	.token_request = NULL,		/* X-Shopify-Access-Token is the credentials' own */
	.list_request = shopify_list_request,
	.detail_request = NULL,		/* list pages carry whole orders */
	.page_orders = NULL,
	.detail_merge = NULL,
	.throttle = shopify_throttle,
};
