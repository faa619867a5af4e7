/*-------------------------------------------------------------------------
 *
 * zalando.c
 *	  Zalando zDirect Orders API: JSON:API documents of orders with their
 *	  items and lines (include=order_items,order_lines).
 *
 * An order is spread over three kinds of resource: the Order (in data),
 * its OrderItems (one per article, with quantity counters) and their
 * OrderLines (exactly one piece each, with its own status and price), the
 * latter two in the document's "included" array and reached through
 * relationships.  So "one order" for normalize and classify is a JSON:API
 * document with a single Order resource in "data" and its items and lines
 * in "included": the answer of GET /merchants/{id}/orders/{order_id}
 * ?include=order_items,order_lines.  A bare Order resource cannot be
 * normalized, because its status and money live on the lines.  parse_page
 * takes a list document (data is an array) and normalizes every order
 * against the page's shared "included".
 *
 * Quirks, and the choices made for them (fixtures/zalando/README.md):
 *
 * - Resources are found by (type, id).  The type strings Order, OrderItem
 *	 and OrderLine are matched case-insensitively: client code in the wild
 *	 uses lower case.
 * - external_order_id is order_id (a UUID).  order_number is not unique:
 *	 one sales order can be split into several partner orders.
 * - Money is {amount, currency} with amount a JSON number (199.6, 749.0),
 *	 parsed exactly.  The currency is order_lines_price_currency, or the
 *	 first line's.  Prices include VAT and there are no discount fields:
 *	 tax_total and discount_total are null.  shipping_total is
 *	 shipping_costs, null when absent; total = subtotal + shipping.
 * - One canonical item per OrderItem: its line_total is the sum of its
 *	 lines' prices, its quantity quantity_initial (the number of lines when
 *	 the counter is missing), its sku the merchant's external_id (the
 *	 README names it external_order_id, the documents call it external_id).
 * - Status: an order still "initial" is pending (not yet approved for
 *	 fulfilment).  Otherwise the line statuses decide, aggregated with
 *	 nx_status_aggregate: initial confirmed, reserved processing, shipped,
 *	 returned return_received, canceled cancelled.  The order's own
 *	 "fulfilled" only says every line is final, so it is not used.
 *	 marketplace_status is "<order status>:<line status>x<count>,..." with
 *	 the line statuses in order of first appearance.
 * - order_type ZalandoFulfilled (ZFS) is FBA; PartnerFulfilled is FBM.
 * - buyer_email is customer_email, present only with the customer-data
 *	 permission; buyer_name is the billing address's first and last name
 *	 (the shipping address's when there is no billing address).
 * - Sync (doc/sync_protocol.md): a client-credentials token, then the
 *	 orders list with include=order_items,order_lines.  Next pages follow
 *	 links.next only under api_base (see zalando_next_url); throttling is
 *	 Retry-After in seconds.
 * - zDirect has no order push, so verify_webhook and parse_webhook are
 *	 NULL; orders are polled.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"

/* order_items.quantity is an integer column */
#define ZALANDO_MAX_QUANTITY INT64_C(2147483647)

static const NxStatusMap zalando_line_statuses[] =
{
	{"initial", NX_CONFIRMED},
	{"reserved", NX_PROCESSING},
	{"shipped", NX_SHIPPED},
	{"returned", NX_RETURN_RECEIVED},
	{"canceled", NX_CANCELLED},
	{NULL, NULL}
};

/* One raw line status and how many lines have it. */
typedef struct ZalandoCount
{
	const char *raw;			/* points into the JSON */
	size_t		count;
} ZalandoCount;

/* The line statuses of one order. */
typedef struct ZalandoLines
{
	const char **canonical;
	size_t		n;
	size_t		cap;
	ZalandoCount *counts;		/* first appearance order */
	size_t		ncounts;
	size_t		counts_cap;
	const char *unknown;		/* first unknown raw line status */
} ZalandoLines;

/* ---------- small readers ---------- */

/* The data array of a relationship ({"data": [{type, id}, ...]}), or NULL. */
static int
zalando_relationship(const json_t *res, const char *name, const char *where,
					 const json_t **out, NxError *err)
{
	const json_t *v = nx_json_path(res, "relationships");

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return NX_OK;
	if (!json_is_object(v))
		return nx_fail(err, "%s%srelationships: expected an object", where, *where ? "." : "");
	v = json_object_get(v, name);
	if (v == NULL || json_is_null(v))
		return NX_OK;
	if (!json_is_object(v) ||
		(json_object_get(v, "data") != NULL && !json_is_array(json_object_get(v, "data"))))
		return nx_fail(err, "%s%srelationships.%s.data: expected an array", where,
					   *where ? "." : "", name);
	*out = json_object_get(v, "data");
	return NX_OK;
}

/* ---------- the included resources ---------- */

/* 'I' for an OrderItem, 'L' for an OrderLine, 'O' for an Order, 0 otherwise. */
static char
zalando_kind(const json_t *res)
{
	const char *type = nx_json_str(res, "type");

	if (type == NULL)
		return 0;
	if (strcasecmp(type, "OrderItem") == 0)
		return 'I';
	if (strcasecmp(type, "OrderLine") == 0)
		return 'L';
	if (strcasecmp(type, "Order") == 0)
		return 'O';
	return 0;
}

/*
 * included as an object keyed "I:<id>" / "L:<id>", so that every lookup
 * is a hash probe: a list page holds the items and lines of all its
 * orders.  Other resource types (shipments, transitions) are skipped.
 */
static int
zalando_index(const json_t *included, json_t **out, NxError *err)
{
	json_t	   *idx;
	size_t		i;
	const json_t *res;

	*out = NULL;
	if (included != NULL && !json_is_null(included) && !json_is_array(included))
		return nx_fail(err, "included: expected an array");
	if ((idx = nx_json_new_object()) == NULL)
		return nx_fail(err, "out of memory");
	json_array_foreach(included, i, res)
	{
		char		kind = zalando_kind(res);
		const char *id = nx_json_str(res, "id");
		char	   *key;

		if ((kind != 'I' && kind != 'L') || id == NULL)
			continue;
		if ((key = nx_sprintf("%c:%s", kind, id)) == NULL)
		{
			json_decref(idx);
			return nx_fail(err, "out of memory");
		}
		json_object_set(idx, key, (json_t *) res);
		free(key);
	}
	*out = idx;
	return NX_OK;
}

static const json_t *
zalando_lookup(const json_t *idx, char kind, const char *id)
{
	char	   *key = nx_sprintf("%c:%s", kind, id);
	const json_t *res = key ? json_object_get(idx, key) : NULL;

	free(key);
	return res;
}

/* ---------- statuses ---------- */

static void
zalando_lines_free(ZalandoLines *l)
{
	free(l->canonical);
	free(l->counts);
	memset(l, 0, sizeof(*l));
}

static int
zalando_lines_add(ZalandoLines *l, const char *raw, NxError *err)
{
	bool		known;
	const char *canonical = nx_status_map(zalando_line_statuses, raw, &known);
	size_t		c;

	if (!known && l->unknown == NULL)
		l->unknown = raw;
	if (l->n == l->cap)
	{
		size_t		ncap = l->cap ? l->cap * 2 : 16;
		const char **a = realloc(l->canonical, ncap * sizeof(char *));

		if (a == NULL)
			return nx_fail(err, "out of memory");
		l->canonical = a;
		l->cap = ncap;
	}
	l->canonical[l->n++] = canonical;
	for (c = 0; c < l->ncounts; c++)
	{
		if (strcmp(l->counts[c].raw, raw) == 0)
		{
			l->counts[c].count++;
			return NX_OK;
		}
	}
	if (l->ncounts == l->counts_cap)
	{
		size_t		ncap = l->counts_cap ? l->counts_cap * 2 : 4;
		ZalandoCount *a = realloc(l->counts, ncap * sizeof(ZalandoCount));

		if (a == NULL)
			return nx_fail(err, "out of memory");
		l->counts = a;
		l->counts_cap = ncap;
	}
	l->counts[l->ncounts].raw = raw;
	l->counts[l->ncounts].count = 1;
	l->ncounts++;
	return NX_OK;
}

/* "approved:reservedx2,shippedx1", malloc'd. */
static char *
zalando_raw_status(const char *order_status, const ZalandoLines *l)
{
	size_t		len = strlen(order_status) + 2;
	char	   *out;
	size_t		n;

	for (size_t c = 0; c < l->ncounts; c++)
		len += strlen(l->counts[c].raw) + 24;
	if ((out = malloc(len)) == NULL)
		return NULL;
	n = (size_t) snprintf(out, len, "%s:", order_status);
	for (size_t c = 0; c < l->ncounts && n < len; c++)
		n += (size_t) snprintf(out + n, len - n, "%s%sx%zu", c > 0 ? "," : "", l->counts[c].raw,
							   l->counts[c].count);
	return out;
}

/* ---------- lines and items ---------- */

/*
 * Resolve one {type, id} reference of a relationship in the index; where
 * names the reference for the error.
 */
static int
zalando_resolve(const json_t *ref, const json_t *idx, char kind, const char *where,
				const json_t **out, NxError *err)
{
	const char *id;
	const char *type = kind == 'I' ? "OrderItem" : "OrderLine";

	*out = NULL;
	if (!json_is_object(ref) || (id = nx_json_str(ref, "id")) == NULL)
		return nx_fail(err, "%s: expected a {type, id} reference", where);
	*out = zalando_lookup(idx, kind, id);
	if (*out == NULL)
		return nx_fail(err, "%s: %s \"%.60s\" is not in included (request include=order_items,order_lines)",
					   where, type, id);
	if (!json_is_object(json_object_get(*out, "attributes")))
		return nx_fail(err, "%s.attributes: missing", where);
	return NX_OK;
}

static int
zalando_item(const json_t *ref, size_t i, const json_t *idx, NxOrder *o, ZalandoLines *lines,
			 NxMoney *subtotal, NxError *err)
{
	char		where[48];
	char		lwhere[96];
	char		attrs_at[112];
	char		field[128];
	const json_t *item;
	const json_t *attrs;
	const json_t *refs;
	const json_t *q;
	NxItem	   *it;
	size_t		k;
	const json_t *lref;

	snprintf(where, sizeof(where), "order_items[%zu]", i);
	if (zalando_resolve(ref, idx, 'I', where, &item, err) != NX_OK)
		return NX_FAIL;
	attrs = json_object_get(item, "attributes");
	if ((it = nx_order_add_item(o)) == NULL)
		return nx_fail(err, "out of memory");

	snprintf(field, sizeof(field), "%s.attributes.", where);
	if (nx_json_opt_strdup(attrs, "order_item_id", field, &it->external_item_id, err) != NX_OK ||
		nx_json_opt_strdup(attrs, "external_id", field, &it->sku, err) != NX_OK ||
		nx_json_opt_strdup(attrs, "description", field, &it->title, err) != NX_OK)
		return NX_FAIL;
	if (it->external_item_id == NULL)
		it->external_item_id = nx_strdup(nx_json_str(item, "id"));

	if (zalando_relationship(item, "order_lines", where, &refs, err) != NX_OK)
		return NX_FAIL;
	if (refs == NULL)
		return nx_fail(err, "%s.relationships.order_lines: missing (request include=order_items,order_lines)",
					   where);
	json_array_foreach(refs, k, lref)
	{
		const json_t *line;
		const json_t *la;
		const char *status;
		NxMoney		price;

		snprintf(lwhere, sizeof(lwhere), "%s.order_lines[%zu]", where, k);
		if (zalando_resolve(lref, idx, 'L', lwhere, &line, err) != NX_OK)
			return NX_FAIL;
		la = json_object_get(line, "attributes");
		snprintf(attrs_at, sizeof(attrs_at), "%s.attributes", lwhere);
		snprintf(field, sizeof(field), "%s.", attrs_at);
		if (nx_json_req_string(la, "status", field, &status, err) != NX_OK ||
			nx_json_opt_money(la, "price", field, true, o, &price, err) != NX_OK)
			return NX_FAIL;
		if (!price.present)
			return nx_fail(err, "%sprice: missing", field);
		if (nx_money_accumulate(&it->line_total, price, attrs_at, err) != NX_OK ||
			zalando_lines_add(lines, status, err) != NX_OK)
			return NX_FAIL;
	}

	/* each line is one piece; the counter is what was ordered */
	snprintf(field, sizeof(field), "%s.attributes.quantity_initial", where);
	q = json_object_get(attrs, "quantity_initial");
	if (q == NULL || json_is_null(q))
		it->quantity = (int64_t) json_array_size(refs);
	else if (!json_is_integer(q))
		return nx_fail(err, "%s: expected an integer", field);
	else
		it->quantity = json_integer_value(q);
	if (it->quantity < 0 || it->quantity > ZALANDO_MAX_QUANTITY)
		return nx_fail(err, "%s: %lld is out of range", field, (long long) it->quantity);
	it->unit_price = nx_money_div(it->line_total, it->quantity);
	return nx_money_accumulate(subtotal, it->line_total, "subtotal", err);
}

/* ---------- one order ---------- */

static int
zalando_buyer(const json_t *attrs, NxOrder *o, NxError *err)
{
	const json_t *billing;
	const json_t *shipping;
	const json_t *named;
	const char *first;
	const char *last;
	const char *country;

	if (nx_json_opt_object(attrs, "billing_address", "attributes.", &billing, err) != NX_OK ||
		nx_json_opt_object(attrs, "shipping_address", "attributes.", &shipping, err) != NX_OK ||
		nx_json_opt_strdup(attrs, "customer_email", "attributes.", &o->buyer_email, err) != NX_OK)
		return NX_FAIL;

	named = billing ? billing : shipping;
	if (named != NULL)
	{
		const char *where = billing ? "attributes.billing_address." : "attributes.shipping_address.";

		if (nx_json_opt_string(named, "first_name", where, &first, err) != NX_OK ||
			nx_json_opt_string(named, "last_name", where, &last, err) != NX_OK)
			return NX_FAIL;
		o->buyer_name = nx_join_name(first, last);
	}

	if (shipping != NULL)
	{
		o->shipping_address = json_incref((json_t *) shipping);
		if (nx_json_opt_string(shipping, "country_code", "attributes.shipping_address.", &country,
							   err) != NX_OK)
			return NX_FAIL;
		if (!nx_order_set_ship_country(o, country))
			nx_order_warn(o, "unknown country code \"%.20s\" in shipping_address.country_code",
						  country);
	}
	return NX_OK;
}

/* The Order resource res, its items and lines found in idx. */
static int
zalando_order(const json_t *res, const json_t *idx, NxOrder *o, NxError *err)
{
	const json_t *attrs;
	const json_t *refs;
	const char *order_status;
	const char *currency;
	const char *order_type;
	ZalandoLines lines;
	NxMoney		subtotal = {false, 0};
	size_t		i;
	const json_t *ref;
	int			rc = NX_FAIL;

	memset(&lines, 0, sizeof(lines));
	if (!json_is_object(res))
		return nx_fail(err, "data: expected an Order resource object");
	if (json_object_get(res, "type") != NULL && zalando_kind(res) != 'O')
		return nx_fail(err, "type: expected \"Order\"");
	attrs = json_object_get(res, "attributes");
	if (!json_is_object(attrs))
		return nx_fail(err, "attributes: missing");

	if (nx_json_opt_strdup(attrs, "order_id", "attributes.", &o->external_order_id, err) != NX_OK)
		return NX_FAIL;
	if (o->external_order_id == NULL)
	{
		if (nx_json_opt_strdup(res, "id", NULL, &o->external_order_id, err) != NX_OK)
			return NX_FAIL;
	}
	if (o->external_order_id == NULL || o->external_order_id[0] == '\0')
		return nx_fail(err, "attributes.order_id: missing");
	if (nx_json_opt_strdup(attrs, "order_number", "attributes.", &o->order_number, err) != NX_OK ||
		nx_json_opt_string(attrs, "status", "attributes.", &order_status, err) != NX_OK ||
		nx_json_opt_string(attrs, "order_type", "attributes.", &order_type, err) != NX_OK ||
		nx_json_opt_string(attrs, "order_lines_price_currency", "attributes.", &currency,
						   err) != NX_OK)
		return NX_FAIL;
	if (order_status == NULL)
		return nx_fail(err, "attributes.status: missing");
	if (currency != NULL && nx_order_set_currency(o, currency, err) != NX_OK)
		return nx_fail(err, "attributes.order_lines_price_currency: \"%.20s\" is not an ISO 4217 currency code",
					   currency);
	if (nx_json_opt_time(attrs, "order_date", "attributes.", &o->has_ordered_at, &o->ordered_at,
						 err) != NX_OK ||
		nx_json_opt_time(attrs, "modified_at", "attributes.", &o->has_updated_at, &o->updated_at,
						 err) != NX_OK)
		return NX_FAIL;
	o->fulfillment_method = order_type && strcasecmp(order_type, "ZalandoFulfilled") == 0 ?
		NX_FBA : NX_FBM;

	if (zalando_relationship(res, "order_items", "", &refs, err) != NX_OK)
		return NX_FAIL;
	if (refs == NULL)
		return nx_fail(err, "relationships.order_items: missing (request include=order_items,order_lines)");
	json_array_foreach(refs, i, ref)
	{
		if (zalando_item(ref, i, idx, o, &lines, &subtotal, err) != NX_OK)
			goto done;
	}
	if (lines.n == 0)
	{
		nx_fail(err, "relationships.order_items: the order has no order lines");
		goto done;
	}

	/* an order not yet approved is pending whatever its lines say */
	if (strcmp(order_status, "initial") == 0)
		o->status = NX_PENDING;
	else if (strcmp(order_status, "approved") == 0 || strcmp(order_status, "fulfilled") == 0)
		o->status = nx_status_aggregate(lines.canonical, lines.n);
	else
	{
		o->status = NX_PENDING;
		nx_order_warn(o, "unknown Zalando order status \"%.100s\"", order_status);
	}
	if (lines.unknown != NULL)
		nx_order_warn(o, "unknown Zalando line status \"%.100s\"", lines.unknown);
	if ((o->marketplace_status = zalando_raw_status(order_status, &lines)) == NULL)
	{
		nx_fail(err, "out of memory");
		goto done;
	}

	o->subtotal = subtotal;
	if (nx_json_opt_money(attrs, "shipping_costs", "attributes.", true, o, &o->shipping_total,
						  err) != NX_OK)
		goto done;
	o->total_amount = nx_money_add(o->subtotal, o->shipping_total);
	if (zalando_buyer(attrs, o, err) != NX_OK)
		goto done;
	rc = NX_OK;
done:
	zalando_lines_free(&lines);
	return rc;
}

/* ---------- the entry points ---------- */

/* The single Order of a document, with the document's included indexed. */
static int
zalando_document(const json_t *doc, const json_t **order, json_t **idx, NxError *err)
{
	*idx = NULL;
	*order = NULL;
	if (!json_is_object(doc))
		return nx_fail(err, "document: expected a JSON:API document ({\"data\": Order, \"included\": [...]})");
	*order = json_object_get(doc, "data");
	if (json_is_array(*order))
		return nx_fail(err, "data: expected one Order resource, not a list (use parse_page)");
	if (!json_is_object(*order))
		return nx_fail(err, "data: expected an Order resource (a JSON:API document with include=order_items,order_lines)");
	return zalando_index(json_object_get(doc, "included"), idx, err);
}

static int
zalando_normalize(const json_t *doc, NxOrder *o, NxError *err)
{
	const json_t *order = NULL;
	json_t	   *idx;
	int			rc;

	if (zalando_document(doc, &order, &idx, err) != NX_OK)
		return NX_FAIL;
	rc = zalando_order(order, idx, o, err);
	json_decref(idx);
	return rc;
}

/* A JSON:API error document, or the RateLimitError {message}, as text. */
static const char *
zalando_error_text(const json_t *page)
{
	const json_t *e = json_array_get(json_object_get(page, "errors"), 0);

	if (nx_json_str(e, "detail"))
		return nx_json_str(e, "detail");
	if (nx_json_str(e, "title"))
		return nx_json_str(e, "title");
	return nx_json_str(page, "message");
}

static int
zalando_parse_page(const json_t *page, const json_t *headers, NxPage *out, NxError *err)
{
	const json_t *data = json_object_get(page, "data");
	const json_t *next = nx_json_path(page, "links.next");
	json_t	   *idx;
	size_t		i;
	const json_t *res;

	(void) headers;
	if (!json_is_object(page) || !json_is_array(data))
	{
		const char *text = json_is_object(page) ? zalando_error_text(page) : NULL;

		if (text != NULL)
			return nx_fail(err, "data: missing, the API answered: %.150s", text);
		return nx_fail(err, "data: expected the Order array of a JSON:API list document");
	}
	if (next != NULL && !json_is_null(next) && !json_is_string(next))
		return nx_fail(err, "links.next: expected a string");
	if (zalando_index(json_object_get(page, "included"), &idx, err) != NX_OK)
		return NX_FAIL;

	json_array_foreach(data, i, res)
	{
		NxOrder    *o = nx_page_add_order(out, "zalando");
		NxError		oerr = {{0}};

		if (o == NULL)
		{
			json_decref(idx);
			return nx_fail(err, "out of memory");
		}
		if (zalando_order(res, idx, o, &oerr) != NX_OK)
		{
			const char *id = nx_json_str(res, "attributes.order_id");

			nx_page_drop_last(out);
			if (nx_page_add_failed(out, id ? id : nx_json_str(res, "id"), oerr.msg) != NX_OK)
			{
				json_decref(idx);
				return nx_fail(err, "out of memory");
			}
		}
	}
	json_decref(idx);

	/* an empty page ends the walk even if it links on */
	if (json_is_string(next) && json_string_length(next) > 0 && json_array_size(data) > 0 &&
		(out->next_cursor = nx_strdup(json_string_value(next))) == NULL)
		return nx_fail(err, "out of memory");
	return NX_OK;
}

static int
zalando_classify(const json_t *doc, const char **status, const char **fulfillment,
				 char **marketplace_status, NxError *err)
{
	NxOrder		scratch;

	/* the status lives on the lines: the same walk as normalize */
	nx_order_init(&scratch, "zalando");
	if (zalando_normalize(doc, &scratch, err) != NX_OK)
	{
		nx_order_free(&scratch);
		return NX_FAIL;
	}
	*status = scratch.status;
	*fulfillment = scratch.fulfillment_method;
	*marketplace_status = scratch.marketplace_status;
	scratch.marketplace_status = NULL;
	nx_order_free(&scratch);
	return NX_OK;
}

/* ---------- sync requests (doc/sync_protocol.md) ---------- */

#define ZALANDO_BASE "https://api.merchants.zalando.com"
#define ZALANDO_MEDIA_TYPE "application/vnd.api+json"
#define ZALANDO_MAX_PAGE 100

static int
zalando_base_urls(const json_t *credentials, const char *region, char **api_base,
				  char **auth_base, NxError *err)
{
	(void) credentials;
	(void) region;
	return nx_base_urls(ZALANDO_BASE, ZALANDO_BASE, api_base, auth_base, err);
}

/* User-Agent and Accept, which every request carries. */
static int
zalando_common_headers(const NxSyncContext *ctx, NxRequest *r, NxError *err)
{
	return nx_request_agent_headers(ctx, ZALANDO_MEDIA_TYPE, r, err);
}

/*
 * Client credentials at POST {auth_base}/auth/token.  Accept is the API's
 * media type here too: the protocol says every request carries it.
 */
static int
zalando_token_request(const NxSyncContext *ctx, NxRequest *out, NxError *err)
{
	return nx_client_credentials_request(ctx, "/auth/token", zalando_common_headers, out, err);
}

/*
 * The URL of the page after cursor, a links.next href.  The bearer token
 * goes wherever this points, so only two forms are followed: an absolute
 * href under api_base (same scheme, host and port, nx_url_under), and a
 * path beginning "/merchants/", which is joined to api_base (not to its
 * origin: a test api_base with a path prefix keeps it).  Anything else,
 * a protocol-relative "//host/..." included, is refused, as is a byte
 * that has no place in a URL (space, control, non-ASCII) or a fragment.
 */
static int
zalando_next_url(const NxSyncContext *ctx, const char *cursor, char **url, NxError *err)
{
	*url = NULL;
	if (cursor[0] == '\0')
		return nx_fail(err, "cursor (links.next): empty");
	for (const unsigned char *p = (const unsigned char *) cursor; *p; p++)
	{
		if (*p <= ' ' || *p >= 0x7f || *p == '#')
			return nx_fail(err, "cursor (links.next): a space, control character, non-ASCII "
						   "byte or '#' in the link");
	}
	if (cursor[0] == '/')
	{
		if (strncmp(cursor, "/merchants/", 11) != 0)
			return nx_fail(err, "cursor (links.next): a relative link must begin with "
						   "\"/merchants/\", got \"%.100s\"", cursor);
		*url = nx_sprintf("%s%s", ctx->api_base, cursor);
	}
	else
	{
		if (!nx_url_under(cursor, ctx->api_base))
			return nx_fail(err, "cursor (links.next): \"%.100s\" is not under api_base %.100s, "
						   "the token is not sent there", cursor, ctx->api_base);
		*url = nx_strdup(cursor);
	}
	if (*url == NULL)
		return nx_fail(err, "cursor (links.next): out of memory");
	return NX_OK;
}

static int
zalando_build_list(const NxSyncContext *ctx, int64_t since, const char *cursor, NxRequest *out,
				   NxError *err)
{
	int			n = nx_page_size(ctx, ZALANDO_MAX_PAGE);

	nx_request_init(out, "GET");
	if (ctx->api_base == NULL)
		return nx_fail(err, "api_base: missing");
	if (cursor != NULL)
	{
		if (zalando_next_url(ctx, cursor, &out->url, err) != NX_OK)
			return NX_FAIL;
	}
	else
	{
		const char *merchant;
		char	   *path_id;
		char		when[32];

		if (nx_check_since(since, err) != NX_OK ||
			nx_credential(ctx->credentials, "merchant_id", "credentials.merchant_id", &merchant,
						  err) != NX_OK)
			return NX_FAIL;
		if ((path_id = nx_url_encode(merchant)) == NULL)
			return nx_fail(err, "credentials.merchant_id: out of memory");
		/* "2025-03-09T00:00:00Z": nothing in it needs encoding in a query */
		nx_time_format(since, when, sizeof(when));
		out->url = nx_sprintf("%s/merchants/%s/orders?include=order_items,order_lines"
							  "&last_updated_after=%s&page%%5Bnumber%%5D=0&page%%5Bsize%%5D=%d",
							  ctx->api_base, path_id, when, n);
		free(path_id);
		if (out->url == NULL)
			return nx_fail(err, "url: out of memory");
	}
	if (zalando_common_headers(ctx, out, err) != NX_OK)
		return NX_FAIL;
	return nx_request_access_token(ctx, "Authorization", "Bearer ", "access_token", out, err);
}

static int
zalando_list_request(const NxSyncContext *ctx, int64_t since, const char *cursor,
					 NxRequest *out, NxError *err)
{
	return nx_request_finish(out, zalando_build_list(ctx, since, cursor, out, err));
}

static void
zalando_throttle(int status, const json_t *headers, int64_t now_ms, NxThrottle *out)
{
	int64_t		ms;

	(void) status;
	(void) now_ms;
	out->wait_ms = nx_retry_after_ms(nx_header(headers, "retry-after"), &ms) ? ms : -1;
}

const NxAdapter nx_zalando_adapter = {
	.name = "zalando",
	.keys = &nx_zalando_keys,
	.normalize = zalando_normalize,
	.parse_page = zalando_parse_page,
	.classify = zalando_classify,
	.verify_webhook = NULL,
	.parse_webhook = NULL,

	.max_page_size = ZALANDO_MAX_PAGE,
	.lag_seconds = 0,
	.max_days_back = 0,			/* orders are kept a year; no search limit */
	.base_urls = zalando_base_urls,
	.token_request = zalando_token_request,
	.list_request = zalando_list_request,
	.detail_request = NULL,		/* include= puts items and lines on the page */
	.page_orders = NULL,
	.detail_merge = NULL,
	.throttle = zalando_throttle,
};
