/*-------------------------------------------------------------------------
 *
 * bol.c
 *	  The bol.com adapter: Retailer API v10 orders and Subscriptions API
 *	  push messages.
 *
 * What is peculiar about bol.com, and what we chose:
 *
 * - The list (GET /retailer/orders) returns reduced orders with no prices,
 *   customer or titles.  parse_page therefore hands back the orderIds as
 *   detail_ids to fetch with GET /retailer/orders/{id}, rather than
 *   half-filled orders; normalize takes that detail shape.
 *
 * - Pages are numbered, newest first, with a fixed 50 orders per page and
 *   no cursor or total in the body.  A full page may have a successor; a
 *   short page is the last; bol answers a page past the end with the
 *   literal body "{ }" (no "orders" key).  The body does not say which page
 *   it is, so the caller passes the cursor it requested the page with in
 *   the pseudo-header "x-nexus-cursor" (no cursor: the first page, as for
 *   every marketplace), and next_cursor is that number plus one.
 *
 * - Money is bare JSON numbers (12.49), EUR with no currency field, VAT
 *   included, so tax_total is null; shipping_total is null because bol
 *   does not say what the customer paid for delivery.  Amounts are read
 *   from the number's literal, never through binary arithmetic: the line
 *   total is unitPrice x quantity computed at micro-units and rounded once.
 *   subtotal is the sum of those (cancelled lines keep their price),
 *   discount_total the sum of discounts[].amount, total_amount the sum of
 *   totalPrice (after discount).
 *
 * - There is no order status.  Each item has quantity, quantityShipped,
 *   quantityCancelled and cancellationRequest; an item is cancelled when
 *   fully cancelled, shipped when everything not cancelled has shipped,
 *   processing when partly shipped, else confirmed (bol only passes on
 *   paid orders).  The order status is nx_status_aggregate of the items.
 *   marketplace_status keeps the raw counts per item,
 *   "<orderItemId>:q2/s2/c0" joined by ";", with "/cr" when the customer
 *   asked to cancel.  Counts that contradict each other (more shipped and
 *   cancelled than ordered) are an unknown state: pending, with a warning.
 *
 * - Times carry Europe/Amsterdam offsets (+01:00/+02:00) and become UTC.
 *   updated_at is the latest item latestChangedDateTime.
 *
 * - fulfilment.method FBR is the retailer (FBM); FBB, formerly LVB, is
 *   Fulfilment by bol (FBA).  An order counts as FBA when all its items
 *   are.
 *
 * - The customer comes from billingDetails, falling back field by field to
 *   shipmentDetails (billingDetails is sometimes absent); the name is
 *   firstName + surname, else the company.
 *
 * - Push messages are signed RSA PKCS#1 v1.5 SHA-256 over the raw body;
 *   keys come from GET /retailer/subscriptions/signature-keys as base64
 *   DER.  The header layout is not confirmed against a live delivery
 *   (fixtures use 'Signature: keyId=0, algorithm="rsa-sha256",
 *   signature=<base64>'), so it is parsed leniently: parameters in any
 *   order and case, quoted or not.  The message has no id: the event id
 *   for replay detection is resource:type:resourceId:timestamp.
 *
 * - Sync: the list cursor is the page number; each listed order is fetched
 *   with GET /retailer/orders/{orderId}, whose response is the order.
 *   Retry-After, or an exhausted X-RateLimit-Remaining with its
 *   X-RateLimit-Reset, says how long to wait after a 429.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"

/* bol's fixed page size */
#define BOL_PAGE_SIZE 50
#define BOL_MAX_PAGE 1000000
#define BOL_MAX_QUANTITY INT64_C(2147483647)
/* digits kept below the cent while multiplying unit prices */
#define BOL_PRICE_EXPONENT 6

/* ---------- strings ---------- */

/* Append piece to a malloc'd string of length *len. */
static int
append(char **buf, size_t *len, const char *piece, NxError *err)
{
	size_t		n = strlen(piece);
	char	   *grown = realloc(*buf, *len + n + 1);

	if (grown == NULL)
		return nx_fail(err, "out of memory");
	memcpy(grown + *len, piece, n + 1);
	*buf = grown;
	*len += n;
	return NX_OK;
}

/* ---------- money ---------- */

/*
 * unitPrice x quantity at the order's exponent, exactly: the price is read
 * at micro-units, multiplied, and rounded half-up once, so a price with
 * sub-cent digits does not gain or lose a cent per unit.
 */
static int
bol_line_total(const json_t *unit_price, int64_t quantity, int exponent, const char *where,
			   NxMoney *out, NxError *err)
{
	NxMoney		unit;
	int64_t		scale = 1;

	out->present = false;
	out->minor = 0;
	if (nx_money_from_json(unit_price, BOL_PRICE_EXPONENT, &unit, err, where) != NX_OK)
		return NX_FAIL;
	if (!unit.present)
		return NX_OK;
	if (unit.minor > INT64_MAX / quantity || unit.minor < -(INT64_MAX / quantity))
		return nx_fail(err, "%s: the line total is too large", where);
	for (int e = exponent; e < BOL_PRICE_EXPONENT; e++)
		scale *= 10;
	*out = nx_money_div((NxMoney) {true, unit.minor * quantity}, scale);
	if (out->minor > NX_MONEY_MAX_MINOR || out->minor < -NX_MONEY_MAX_MINOR)
		return nx_fail(err, "%s: the line total is too large", where);
	return NX_OK;
}

/* ---------- status ---------- */

/* The raw state of one item, as far as classification needs it. */
typedef struct BolLine
{
	char	   *id;
	int64_t		quantity;
	int64_t		shipped;
	int64_t		cancelled;
	bool		cancel_request;
	const char *method;			/* fulfilment method, NULL when absent */
} BolLine;

static int
bol_read_line(const json_t *item, size_t i, BolLine *line, NxError *err)
{
	char		at[48];
	char		where[64];
	const json_t *fulfilment;
	const json_t *request;

	memset(line, 0, sizeof(*line));
	if (!json_is_object(item))
		return nx_fail(err, "orderItems[%zu]: expected an object", i);
	snprintf(at, sizeof(at), "orderItems[%zu].", i);
	if (nx_json_req_id(item, "orderItemId", at, &line->id, err) != NX_OK ||
		nx_json_req_int(item, "quantity", at, 1, BOL_MAX_QUANTITY, &line->quantity,
						err) != NX_OK ||
		nx_json_req_int(item, "quantityShipped", at, 0, BOL_MAX_QUANTITY, &line->shipped,
						err) != NX_OK ||
		nx_json_req_int(item, "quantityCancelled", at, 0, BOL_MAX_QUANTITY, &line->cancelled,
						err) != NX_OK)
		return NX_FAIL;

	request = json_object_get(item, "cancellationRequest");
	if (request && !json_is_null(request) && !json_is_boolean(request))
		return nx_fail(err, "orderItems[%zu].cancellationRequest: expected a boolean", i);
	line->cancel_request = json_is_true(request);

	/* the detail has fulfilment.method, the list's reduced item fulfilmentMethod */
	snprintf(where, sizeof(where), "%sfulfilment.", at);
	if (nx_json_opt_object(item, "fulfilment", at, &fulfilment, err) != NX_OK ||
		nx_json_opt_text(fulfilment, "method", where, &line->method, err) != NX_OK)
		return NX_FAIL;
	if (line->method == NULL &&
		nx_json_opt_text(item, "fulfilmentMethod", at, &line->method, err) != NX_OK)
		return NX_FAIL;
	return NX_OK;
}

/* Canonical status of one item; NULL when its counts contradict each other. */
static const char *
bol_line_status(const BolLine *line)
{
	if (line->shipped > line->quantity || line->cancelled > line->quantity ||
		line->shipped + line->cancelled > line->quantity)
		return NULL;
	if (line->cancelled == line->quantity)
		return NX_CANCELLED;
	if (line->shipped >= line->quantity - line->cancelled)
		return NX_SHIPPED;
	if (line->shipped > 0)
		return NX_PROCESSING;
	return NX_CONFIRMED;
}

/*
 * Status, fulfilment and raw status of an order (detail or reduced shape),
 * with a warning in unknown for the first state we cannot read (empty
 * otherwise).  On failure *raw is NULL.
 */
static int
bol_classify_items(const json_t *order, const char **status, const char **fulfillment,
				   char **raw, char *unknown, size_t unknown_size, NxError *err)
{
	const json_t *items;
	size_t		nitems;
	const char **line_status = NULL;
	size_t		raw_len = 0;
	size_t		fba = 0;
	size_t		i;
	const json_t *item;
	int			rc = NX_FAIL;

	*raw = NULL;
	unknown[0] = '\0';
	if (nx_json_req_array(order, "orderItems", NULL, &items, err) != NX_OK)
		return NX_FAIL;
	if ((nitems = json_array_size(items)) == 0)
		return nx_fail(err, "orderItems: no items");
	if ((line_status = calloc(nitems, sizeof(char *))) == NULL ||
		(*raw = nx_strdup("")) == NULL)
	{
		nx_fail(err, "out of memory");
		goto done;
	}
	json_array_foreach(items, i, item)
	{
		BolLine		line;
		char	   *piece;

		if (bol_read_line(item, i, &line, err) != NX_OK)
		{
			free(line.id);
			goto done;
		}
		piece = nx_sprintf("%s%s:q%lld/s%lld/c%lld%s", i > 0 ? ";" : "", line.id,
						   (long long) line.quantity, (long long) line.shipped,
						   (long long) line.cancelled, line.cancel_request ? "/cr" : "");
		free(line.id);
		if (piece == NULL || append(raw, &raw_len, piece, err) != NX_OK)
		{
			free(piece);
			nx_fail(err, "out of memory");
			goto done;
		}
		free(piece);

		line_status[i] = bol_line_status(&line);
		if (line_status[i] == NULL)
		{
			line_status[i] = NX_PENDING;
			if (!unknown[0])
				snprintf(unknown, unknown_size,
						 "unknown bol item state \"q%lld/s%lld/c%lld\" in orderItems[%zu]",
						 (long long) line.quantity, (long long) line.shipped,
						 (long long) line.cancelled, i);
		}

		if (line.method == NULL || strcmp(line.method, "FBR") == 0)
			continue;
		if (strcmp(line.method, "FBB") == 0 || strcmp(line.method, "LVB") == 0)
			fba++;
		else if (!unknown[0])
			snprintf(unknown, unknown_size, "unknown bol fulfilment method \"%.60s\"", line.method);
	}
	*status = nx_status_aggregate(line_status, nitems);
	*fulfillment = fba == nitems ? NX_FBA : NX_FBM;
	rc = NX_OK;

done:
	free(line_status);
	if (rc != NX_OK)
	{
		free(*raw);
		*raw = NULL;
	}
	return rc;
}

/* ---------- one order ---------- */

/* One order item's details: ids, titles, money; adds to the order's sums. */
static int
bol_item(const json_t *item, size_t i, NxOrder *o, NxMoney *discounts, NxMoney *paid,
		 NxError *err)
{
	char		prefix[48];
	char		where[128];
	NxItem	   *it;
	const json_t *offer;
	const json_t *product;
	const json_t *list;
	const char *text;
	NxMoney		line_discount = {true, 0};
	NxMoney		total_price;
	bool		has_changed;
	int64_t		changed;
	size_t		k;
	const json_t *discount;

	snprintf(prefix, sizeof(prefix), "orderItems[%zu].", i);
	if ((it = nx_order_add_item(o)) == NULL)
		return nx_fail(err, "out of memory");

	if (nx_json_req_id(item, "orderItemId", prefix, &it->external_item_id, err) != NX_OK ||
		nx_json_req_int(item, "quantity", prefix, 1, BOL_MAX_QUANTITY, &it->quantity,
						err) != NX_OK)
		return NX_FAIL;

	/* the seller's own reference is the SKU; the EAN stays in product */
	snprintf(where, sizeof(where), "%soffer.", prefix);
	if (nx_json_opt_object(item, "offer", prefix, &offer, err) != NX_OK ||
		nx_json_opt_text(offer, "reference", where, &text, err) != NX_OK ||
		nx_set_string(&it->sku, text, err) != NX_OK)
		return NX_FAIL;
	snprintf(where, sizeof(where), "%sproduct.", prefix);
	if (nx_json_opt_object(item, "product", prefix, &product, err) != NX_OK ||
		nx_json_opt_strdup(product, "title", where, &it->title, err) != NX_OK)
		return NX_FAIL;

	snprintf(where, sizeof(where), "%sunitPrice", prefix);
	if (bol_line_total(json_object_get(item, "unitPrice"), it->quantity, o->exponent, where,
					   &it->line_total, err) != NX_OK)
		return NX_FAIL;
	it->unit_price = nx_money_div(it->line_total, it->quantity);
	if (nx_money_accumulate(&o->subtotal, it->line_total, "subtotal", err) != NX_OK ||
		nx_json_opt_array(item, "discounts", prefix, &list, err) != NX_OK)
		return NX_FAIL;
	json_array_foreach(list, k, discount)
	{
		NxMoney		amount;

		snprintf(where, sizeof(where), "%sdiscounts[%zu].amount", prefix, k);
		if (!json_is_object(discount))
			return nx_fail(err, "%sdiscounts[%zu]: expected an object", prefix, k);
		if (nx_money_from_json(json_object_get(discount, "amount"), o->exponent, &amount, err,
							   where) != NX_OK ||
			nx_money_accumulate(&line_discount, amount, where, err) != NX_OK)
			return NX_FAIL;
	}
	if (nx_money_accumulate(discounts, line_discount, "discounts", err) != NX_OK)
		return NX_FAIL;

	/* totalPrice is after discount; without one, work it out from the line */
	snprintf(where, sizeof(where), "%stotalPrice", prefix);
	if (nx_money_from_json(json_object_get(item, "totalPrice"), o->exponent, &total_price, err,
						   where) != NX_OK)
		return NX_FAIL;
	if (!total_price.present && it->line_total.present)
		total_price = nx_money_sub(it->line_total, line_discount);
	if (nx_money_accumulate(paid, total_price, "totalPrice", err) != NX_OK ||
		nx_json_opt_time(item, "latestChangedDateTime", prefix, &has_changed, &changed,
						 err) != NX_OK)
		return NX_FAIL;
	if (has_changed)
		nx_order_bump_updated_at(o, changed);
	return NX_OK;
}

/*
 * Name (malloc'd) and e-mail (into the JSON) of a billingDetails or
 * shipmentDetails object, what being its path with a trailing '.': the
 * person's name, else the company; NULL when the details say nothing.
 */
static int
bol_person(const json_t *details, const char *what, char **name, const char **email, NxError *err)
{
	const char *first;
	const char *surname;
	const char *company;

	*name = NULL;
	*email = NULL;
	if (details == NULL)
		return NX_OK;
	if (nx_json_opt_text(details, "firstName", what, &first, err) != NX_OK ||
		nx_json_opt_text(details, "surname", what, &surname, err) != NX_OK ||
		nx_json_opt_text(details, "company", what, &company, err) != NX_OK ||
		nx_json_opt_text(details, "email", what, email, err) != NX_OK)
		return NX_FAIL;

	*name = nx_join_name(first, surname);
	if (*name == NULL && company)
		*name = nx_strdup(company);
	if (*name == NULL && (first || surname || company))
		return nx_fail(err, "out of memory");
	return NX_OK;
}

static int
bol_customer(const json_t *order, NxOrder *o, NxError *err)
{
	const json_t *shipment;
	const json_t *billing;
	char	   *bill_name = NULL;
	char	   *ship_name = NULL;
	const char *bill_email = NULL;
	const char *ship_email = NULL;
	const char *country;
	int			rc = NX_FAIL;

	if (nx_json_opt_object(order, "shipmentDetails", NULL, &shipment, err) != NX_OK ||
		nx_json_opt_object(order, "billingDetails", NULL, &billing, err) != NX_OK ||
		nx_json_opt_text(shipment, "countryCode", "shipmentDetails.", &country, err) != NX_OK)
		return NX_FAIL;
	if (bol_person(billing, "billingDetails.", &bill_name, &bill_email, err) != NX_OK ||
		bol_person(shipment, "shipmentDetails.", &ship_name, &ship_email, err) != NX_OK)
		goto done;

	if (bill_name)
	{
		o->buyer_name = bill_name;
		bill_name = NULL;
	}
	else
	{
		o->buyer_name = ship_name;
		ship_name = NULL;
	}
	if (nx_set_string(&o->buyer_email, bill_email ? bill_email : ship_email, err) != NX_OK)
		goto done;

	if (!nx_order_set_ship_country(o, country))
		nx_order_warn(o, "unknown bol country code \"%.20s\"", country);
	if (shipment && (o->shipping_address = json_deep_copy(shipment)) == NULL)
	{
		nx_fail(err, "out of memory");
		goto done;
	}
	rc = NX_OK;

done:
	free(bill_name);
	free(ship_name);
	return rc;
}

static int
bol_normalize(const json_t *order, NxOrder *o, NxError *err)
{
	char		unknown[NX_ERROR_MAX];
	const json_t *items;
	size_t		i;
	const json_t *item;
	NxMoney		discounts = {true, 0};
	NxMoney		paid = {false, 0};

	if (!json_is_object(order))
		return nx_fail(err, "order: expected a JSON object");
	o->marketplace = "bol";
	if (nx_json_req_id(order, "orderId", NULL, &o->external_order_id, err) != NX_OK ||
		nx_set_string(&o->order_number, o->external_order_id, err) != NX_OK)
		return NX_FAIL;
	/* bol sells in euros only and sends no currency */
	if (nx_order_set_currency(o, "EUR", err) != NX_OK)
		return NX_FAIL;

	if (bol_classify_items(order, &o->status, &o->fulfillment_method, &o->marketplace_status,
						   unknown, sizeof(unknown), err) != NX_OK)
		return NX_FAIL;
	if (unknown[0])
		nx_order_warn(o, "%s", unknown);

	if (nx_json_opt_time(order, "orderPlacedDateTime", NULL, &o->has_ordered_at, &o->ordered_at,
						 err) != NX_OK)
		return NX_FAIL;

	/* bol_classify_items checked that orderItems is a non-empty array of objects */
	items = json_object_get(order, "orderItems");
	o->subtotal = (NxMoney) {false, 0};
	json_array_foreach(items, i, item)
	{
		if (bol_item(item, i, o, &discounts, &paid, err) != NX_OK)
			return NX_FAIL;
	}
	o->discount_total = discounts;
	o->total_amount = paid;
	/* VAT is inside the prices and bol does not say what delivery cost */
	o->tax_total = (NxMoney) {false, 0};
	o->shipping_total = (NxMoney) {false, 0};

	return bol_customer(order, o, err);
}

static int
bol_classify(const json_t *order, const char **status, const char **fulfillment,
			 char **marketplace_status, NxError *err)
{
	char		unknown[NX_ERROR_MAX];

	*marketplace_status = NULL;
	if (!json_is_object(order))
		return nx_fail(err, "order: expected a JSON object");
	return bol_classify_items(order, status, fulfillment, marketplace_status, unknown,
							  sizeof(unknown), err);
}

/* ---------- a list page ---------- */

/* A page number as a cursor carries it (digits, from 1), field naming where it came from. */
static int
bol_page_number(const char *text, const char *field, long *page, NxError *err)
{
	char	   *end;

	if (!isdigit((unsigned char) text[0]))
		return nx_fail(err, "%s: \"%.20s\" is not a page number", field, text);
	*page = strtol(text, &end, 10);
	if (*end != '\0' || *page < 1 || *page >= BOL_MAX_PAGE)
		return nx_fail(err, "%s: \"%.20s\" is not a page number", field, text);
	return NX_OK;
}

/* The page number the caller requested this page with: x-nexus-cursor, else 1. */
static int
bol_current_page(const json_t *headers, long *page, NxError *err)
{
	const char *cursor = nx_header(headers, "x-nexus-cursor");

	*page = 1;
	if (cursor == NULL || cursor[0] == '\0')
		return NX_OK;
	return bol_page_number(cursor, "x-nexus-cursor", page, err);
}

static int
bol_parse_page(const json_t *page, const json_t *headers, NxPage *out, NxError *err)
{
	const json_t *orders;
	long		current;
	size_t		i;
	const json_t *summary;

	if (!json_is_object(page))
		return nx_fail(err, "page: expected a bol order list object");
	if (bol_current_page(headers, &current, err) != NX_OK)
		return NX_FAIL;
	orders = json_object_get(page, "orders");
	if (orders == NULL)
	{
		/* "{ }" ends the walk; an object with other keys is an error body */
		if (json_object_size(page) != 0)
			return nx_fail(err, "orders: missing (expected a bol order list or \"{ }\")");
		return NX_OK;
	}
	if (!json_is_array(orders))
		return nx_fail(err, "orders: expected an array");

	json_array_foreach(orders, i, summary)
	{
		char		where[48];
		char	   *id = NULL;
		NxError		order_err = {{0}};

		snprintf(where, sizeof(where), "orders[%zu].", i);
		if (!json_is_object(summary))
			nx_fail(&order_err, "orders[%zu]: expected an object", i);
		else if (nx_json_req_id(summary, "orderId", where, &id, &order_err) == NX_OK)
		{
			int			rc = nx_page_add_detail_id(out, id);

			free(id);
			if (rc != NX_OK)
				return nx_fail(err, "orders: out of memory");
			continue;
		}
		if (nx_page_add_failed(out, NULL, order_err.msg) != NX_OK)
			return nx_fail(err, "orders: out of memory");
	}

	/* only a full page can have a successor */
	if (json_array_size(orders) >= BOL_PAGE_SIZE)
	{
		out->next_cursor = nx_sprintf("%ld", current + 1);
		if (out->next_cursor == NULL)
			return nx_fail(err, "next page: out of memory");
	}
	return NX_OK;
}

/* ---------- webhooks ---------- */

typedef struct BolSignature
{
	char	   *key_id;
	char	   *algorithm;
	char	   *signature;
} BolSignature;

static void
bol_signature_free(BolSignature *s)
{
	free(s->key_id);
	free(s->algorithm);
	free(s->signature);
}

/*
 * Parse 'keyId=0, algorithm="rsa-sha256", signature=<base64>': parameters
 * separated by commas, names in any case, values quoted or not (base64
 * holds no commas).  Unknown parameters are ignored, so that a layout
 * with more parameters than the fixture still verifies.
 */
static int
bol_parse_signature(const char *header, BolSignature *s, NxError *err)
{
	const char *p = header;

	memset(s, 0, sizeof(*s));
	while (*p)
	{
		const char *name;
		size_t		name_len;
		const char *value;
		size_t		value_len;
		char	  **slot = NULL;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		name = p;
		while (*p && *p != '=' && *p != ',')
			p++;
		name_len = (size_t) (p - name);
		while (name_len > 0 && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
			name_len--;
		if (*p != '=')
			return nx_fail(err, "Signature header: parameter \"%.*s\" has no value",
						   (int) (name_len > 40 ? 40 : name_len), name);
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '"')
		{
			value = ++p;
			while (*p && *p != '"')
				p++;
			if (*p != '"')
				return nx_fail(err, "Signature header: unterminated quoted value");
			value_len = (size_t) (p - value);
			p++;
		}
		else
		{
			value = p;
			while (*p && *p != ',')
				p++;
			value_len = (size_t) (p - value);
			while (value_len > 0 && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
				value_len--;
		}

		if (name_len == 5 && strncasecmp(name, "keyId", 5) == 0)
			slot = &s->key_id;
		else if (name_len == 9 && strncasecmp(name, "algorithm", 9) == 0)
			slot = &s->algorithm;
		else if (name_len == 9 && strncasecmp(name, "signature", 9) == 0)
			slot = &s->signature;
		if (slot)
		{
			free(*slot);
			if ((*slot = nx_strndup(value, value_len)) == NULL)
				return nx_fail(err, "Signature header: out of memory");
		}
	}
	return NX_OK;
}

static int
bol_verify_webhook(const NxWebhookInput *in, NxError *err)
{
	const char *header = nx_header(in->headers, "signature");
	BolSignature sig;
	const char *pem;
	char	   *pem_fixed = NULL;
	unsigned char raw[1024];
	int			raw_len;
	NxError		inner = {{0}};
	int			rc = NX_FAIL;

	if (in->body == NULL)
		return nx_fail(err, "webhook body: missing");
	if (header == NULL || header[0] == '\0')
		return nx_fail(err, "Signature header: missing");
	if (bol_parse_signature(header, &sig, err) != NX_OK)
		goto done;
	if (sig.signature == NULL || sig.signature[0] == '\0')
	{
		nx_fail(err, "Signature header: no signature");
		goto done;
	}
	if (sig.key_id == NULL || sig.key_id[0] == '\0')
	{
		nx_fail(err, "Signature header: no keyId");
		goto done;
	}
	if (sig.algorithm && strcasecmp(sig.algorithm, "rsa-sha256") != 0)
	{
		nx_fail(err, "Signature header: algorithm \"%.20s\" is not supported (expected rsa-sha256)",
				sig.algorithm);
		goto done;
	}
	pem = in->public_key ? in->public_key(in->ctx, sig.key_id) : NULL;
	if (pem == NULL)
	{
		nx_fail(err, "Signature header: unknown keyId \"%.64s\"", sig.key_id);
		goto done;
	}
	if (nx_pem_rewrap(pem, &pem_fixed) != NX_OK)
	{
		nx_fail(err, "Signature header: the key for keyId \"%.64s\" is not a public key", sig.key_id);
		goto done;
	}
	raw_len = nx_base64_decode(sig.signature, raw, sizeof(raw));
	if (raw_len <= 0)
	{
		nx_fail(err, "Signature header: signature is not base64");
		goto done;
	}
	if (nx_verify_signature(pem_fixed, "sha256", in->body, in->body_len, raw, (size_t) raw_len,
							&inner) != NX_OK)
	{
		nx_fail(err, "Signature header: %s", inner.msg);
		goto done;
	}
	rc = NX_OK;

done:
	bol_signature_free(&sig);
	free(pem_fixed);
	return rc;
}

static int
bol_parse_webhook(const json_t *body, const json_t *headers, NxWebhookEvent *out, NxError *err)
{
	const json_t *event;
	const char *resource;
	const char *type;
	const char *timestamp;
	char	   *resource_id = NULL;

	(void) headers;
	if (!json_is_object(body))
		return nx_fail(err, "webhook body: expected a JSON object");
	if (nx_json_req_object(body, "event", NULL, &event, err) != NX_OK ||
		nx_json_req_string(event, "resource", "event.", &resource, err) != NX_OK ||
		nx_json_req_string(event, "type", "event.", &type, err) != NX_OK ||
		nx_json_req_string(body, "timestamp", NULL, &timestamp, err) != NX_OK ||
		nx_json_req_id(event, "resourceId", "event.", &resource_id, err) != NX_OK)
		return NX_FAIL;

	/* no message id: a redelivery repeats all four */
	out->event_id = nx_sprintf("%s:%s:%s:%s", resource, type, resource_id, timestamp);
	out->topic = nx_strdup(type);
	if (out->event_id == NULL || out->topic == NULL)
	{
		free(resource_id);
		return nx_fail(err, "out of memory");
	}
	/* the message only names the resource: the consumer fetches the order */
	if (strcmp(resource, "ORDER") == 0)
		out->order_id = resource_id;
	else
		free(resource_id);
	out->order = NULL;
	return NX_OK;
}

/* ---------- sync requests (doc/sync_protocol.md) ---------- */

#define BOL_API_BASE "https://api.bol.com"
#define BOL_AUTH_BASE "https://login.bol.com"
/* bol cannot look further back than 3 months */
#define BOL_MAX_DAYS_BACK 90
#define BOL_ACCEPT "application/vnd.retailer.v10+json"
#define BOL_TOKEN_ACCEPT "application/json"
/* The longest wait a response may ask for; longer ones are cut to this. */
#define BOL_WAIT_MAX_MS INT64_C(3600000)
/* More digits than this is no wait at all, but garbage. */
#define BOL_WAIT_MAX_DIGITS 12

static int
bol_base_urls(const json_t *credentials, const char *region, char **api_base, char **auth_base,
			  NxError *err)
{
	(void) credentials;
	(void) region;
	return nx_base_urls(BOL_API_BASE, BOL_AUTH_BASE, api_base, auth_base, err);
}

/* Client credentials: the grant type goes in the query, and there is no body. */
static int
bol_build_token(const NxSyncContext *ctx, NxRequest *out, NxError *err)
{
	const char *id;
	const char *secret;

	if (nx_request_begin(ctx, "POST", ctx->auth_base, "auth_base", BOL_TOKEN_ACCEPT, out,
						 err) != NX_OK ||
		nx_credential(ctx->credentials, "client_id", NULL, &id, err) != NX_OK ||
		nx_credential(ctx->credentials, "client_secret", NULL, &secret, err) != NX_OK)
		return NX_FAIL;
	if ((out->url = nx_sprintf("%s/token?grant_type=client_credentials", ctx->auth_base)) == NULL)
		return nx_fail(err, "token request: out of memory");
	return nx_request_basic(out, id, secret, err);
}

static int
bol_token_request(const NxSyncContext *ctx, NxRequest *out, NxError *err)
{
	return nx_request_finish(out, bol_build_token(ctx, out, err));
}

/* A GET on the Retailer API, in its versioned media type. */
static int
bol_begin(const NxSyncContext *ctx, NxRequest *out, NxError *err)
{
	return nx_request_begin(ctx, "GET", ctx->api_base, "api_base", BOL_ACCEPT, out, err);
}

/* A page of the order list; page size is bol's fixed 50, whatever was asked. */
static int
bol_list_url(const NxSyncContext *ctx, int64_t since, const char *cursor, char **url,
			 NxError *err)
{
	long		page = 1;
	char		when[32];

	*url = NULL;
	if (cursor != NULL && bol_page_number(cursor, "cursor", &page, err) != NX_OK)
		return NX_FAIL;
	if (nx_check_since(since, err) != NX_OK)
		return NX_FAIL;
	nx_time_format(since, when, sizeof(when));
	/* latest-change-date is a date: the day of since */
	*url = nx_sprintf("%s/retailer/orders?page=%ld&status=ALL&fulfilment-method=ALL"
					  "&latest-change-date=%.10s", ctx->api_base, page, when);
	if (*url == NULL)
		return nx_fail(err, "list request: out of memory");
	return NX_OK;
}

static int
bol_list_request(const NxSyncContext *ctx, int64_t since, const char *cursor, NxRequest *out,
				 NxError *err)
{
	int			rc = NX_FAIL;

	if (bol_begin(ctx, out, err) == NX_OK &&
		bol_list_url(ctx, since, cursor, &out->url, err) == NX_OK)
		rc = nx_request_access_token(ctx, "Authorization", "Bearer ", NULL, out, err);
	return nx_request_finish(out, rc);
}

/*
 * GET /retailer/orders/{orderId}.  The id is percent-encoded so that it
 * stays one path segment; "." and ".." are refused, clients resolve them.
 */
static int
bol_detail_url(const NxSyncContext *ctx, const char *id, const char *cursor, char **url,
			   NxError *err)
{
	*url = NULL;
	if (cursor != NULL)
		return nx_fail(err, "cursor: a bol order detail has no further pages");
	return nx_detail_url(ctx->api_base, "/retailer/orders/", id, url, err);
}

static int
bol_detail_request(const NxSyncContext *ctx, const char *id, const char *cursor,
				   NxRequest *out, NxError *err)
{
	int			rc = NX_FAIL;

	if (bol_begin(ctx, out, err) == NX_OK &&
		bol_detail_url(ctx, id, cursor, &out->url, err) == NX_OK)
		rc = nx_request_access_token(ctx, "Authorization", "Bearer ", NULL, out, err);
	return nx_request_finish(out, rc);
}

/* The detail response is the whole order: it becomes the order. */
static int
bol_detail_merge(json_t **acc, const json_t *response, char **next_cursor, NxError *err)
{
	*next_cursor = NULL;
	if (*acc != NULL)
		return nx_fail(err, "order detail: the order is already there (details have one page)");
	if (!json_is_object(response))
		return nx_fail(err, "order detail: expected a JSON object");
	if (json_object_get(response, "orderId") == NULL)
		return nx_fail(err, "orderId: missing (not a GET /retailer/orders/{orderId} response)");
	*acc = json_incref((json_t *) response);
	return NX_OK;
}

/* ---------- webhook signing keys (doc/sync_protocol.md) ---------- */

/*
 * A listed key is trusted for a day, then listed again: a key bol drops
 * stops verifying by then, and a webhook signed with a new one asks for
 * the list at once anyway.
 */
#define BOL_KEY_TTL 86400

/* GET /retailer/subscriptions/signature-keys: every key at once, so key_id is not sent. */
static int
bol_key_request(const NxSyncContext *ctx, const char *key_id, NxRequest *out, NxError *err)
{
	int			rc = NX_FAIL;

	(void) key_id;
	if (bol_begin(ctx, out, err) == NX_OK)
	{
		if ((out->url = nx_sprintf("%s/retailer/subscriptions/signature-keys", ctx->api_base)) == NULL)
			nx_fail(err, "key request: out of memory");
		else
			rc = nx_request_access_token(ctx, "Authorization", "Bearer ", NULL, out, err);
	}
	return nx_request_finish(out, rc);
}

/*
 * {"signatureKeys": [{"id", "type", "publicKey"}]}, publicKey base64 DER.
 * Keys of a type other than RSA could not verify rsa-sha256 and are
 * skipped; a malformed entry fails the response, naming it.
 */
static int
bol_parse_keys(const char *body, size_t len, const char *key_id, NxWebhookKeys *out,
			   NxError *err)
{
	json_error_t jerr;
	json_t	   *doc = nx_json_loadb(body, len, &jerr);
	const json_t *list;
	const json_t *entry;
	size_t		i;
	int			rc = NX_OK;

	(void) key_id;
	if (doc == NULL)
		return nx_fail(err, "signature keys response: not JSON (%s)", jerr.text);
	if (!json_is_object(doc))
		rc = nx_fail(err, "signature keys response: expected a JSON object");
	else if (nx_json_req_array(doc, "signatureKeys", NULL, &list, err) != NX_OK)
		rc = NX_FAIL;
	else
		json_array_foreach(list, i, entry)
		{
			char		prefix[48];
			char		field[80];
			char	   *id = NULL;
			const char *type;
			const char *key;
			char	   *pem = NULL;

			snprintf(prefix, sizeof(prefix), "signatureKeys[%zu].", i);
			snprintf(field, sizeof(field), "signatureKeys[%zu].publicKey", i);
			if (!json_is_object(entry))
				rc = nx_fail(err, "signatureKeys[%zu]: expected an object", i);
			else if (nx_json_req_id(entry, "id", prefix, &id, err) != NX_OK ||
					 nx_json_opt_string(entry, "type", prefix, &type, err) != NX_OK ||
					 nx_json_req_string(entry, "publicKey", prefix, &key, err) != NX_OK)
				rc = NX_FAIL;
			else if (type == NULL || strcasecmp(type, "RSA") == 0)
			{
				if (nx_public_key_pem(key, "RSA", field, &pem, err) != NX_OK ||
					nx_webhook_keys_add(out, id, pem, err) != NX_OK)
					rc = NX_FAIL;
			}
			free(id);
			free(pem);
			if (rc != NX_OK)
				break;
		}
	json_decref(doc);
	return rc;
}

/*
 * A count of seconds in a header; -1 when the header is absent or not a
 * plain count (a sign, a fraction, a date, more digits than any wait).
 */
static int64_t
bol_header_seconds(const json_t *headers, const char *name)
{
	int64_t		seconds;

	return nx_parse_count(nx_header(headers, name), BOL_WAIT_MAX_DIGITS, &seconds) ? seconds : -1;
}

/*
 * Retry-After says how long; so does a spent budget (X-RateLimit-Remaining
 * 0) with its X-RateLimit-Reset.  Both are seconds from now; when both
 * speak, the longer wait wins.
 */
static void
bol_throttle(int status, const json_t *headers, int64_t now_ms, NxThrottle *out)
{
	int64_t		wait = bol_header_seconds(headers, "retry-after");

	(void) status;
	(void) now_ms;
	if (bol_header_seconds(headers, "x-ratelimit-remaining") == 0)
	{
		int64_t		reset = bol_header_seconds(headers, "x-ratelimit-reset");

		if (reset > wait)
			wait = reset;
	}
	if (wait < 0)
		out->wait_ms = -1;
	else
		out->wait_ms = wait > BOL_WAIT_MAX_MS / 1000 ? BOL_WAIT_MAX_MS : wait * 1000;
}

const NxAdapter nx_bol_adapter = {
	.name = "bol",
	.keys = &nx_bol_keys,
	.normalize = bol_normalize,
	.parse_page = bol_parse_page,
	.classify = bol_classify,
	.verify_webhook = bol_verify_webhook,
	.parse_webhook = bol_parse_webhook,
	.max_page_size = BOL_PAGE_SIZE,
	.lag_seconds = 0,
	.max_days_back = BOL_MAX_DAYS_BACK,
	.base_urls = bol_base_urls,
	.token_request = bol_token_request,
	.list_request = bol_list_request,
	.detail_request = bol_detail_request,
	.page_orders = NULL,
	.detail_merge = bol_detail_merge,
	.throttle = bol_throttle,
	/* the sync's client-credentials token also reads the signature keys */
	.key_token_request = NULL,
	.key_request = bol_key_request,
	.parse_keys = bol_parse_keys,
	.keys_listed = true,
	.key_ttl_seconds = BOL_KEY_TTL,
};
