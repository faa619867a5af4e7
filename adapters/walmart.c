/*-------------------------------------------------------------------------
 *
 * walmart.c
 *	  Walmart Marketplace Orders API v3 (US and Canada): order list pages,
 *	  one purchase order, and the HMAC-signed ORDER_UPDATES notification.
 *
 * One Walmart "order" is a purchase order (PO): purchaseOrderId is the
 * external id and customerOrderId the order number, since one customer
 * order can be split into several POs.  normalize takes one element of
 * list.elements.order[], or the {"order": {...}} body of GET
 * /v3/orders/{purchaseOrderId}, which is unwrapped.
 *
 * Quirks, and the choices made for them (fixtures/walmart/README.md):
 *
 * - Times are epoch milliseconds (JSON integers); ordered_at is orderDate.
 *	 The PO has no last-modified field, so updated_at is the latest line
 *	 statusDate.  An ISO 8601 string is accepted too, as the notification
 *	 payload writes its dates that way.
 * - Money is {currency, amount} with amount a JSON number (0.05, 33.0),
 *	 parsed exactly.  Every line has charges: PRODUCT (the line total,
 *	 not the unit price), SHIPPING, each with its tax.  subtotal is the sum
 *	 of PRODUCT charges, shipping_total of SHIPPING charges, tax_total of
 *	 their taxes and total_amount is their sum: Walmart has no order total
 *	 and no discount field (discount_total stays null).  A PO that has
 *	 charges but no SHIPPING charge shipped for free, so its shipping is
 *	 0.00, not unknown.  Other charge types (FEE) are left out of every
 *	 figure, tax included, so that the total stays the sum of its parts.
 *	 Amounts are as ordered: cancelled lines keep their charges.
 * - There is no order status.  Each line has orderLineStatuses, one entry
 *	 per quantity split (2 shipped, 1 cancelled); every entry is mapped
 *	 (Created confirmed, Acknowledged processing, Shipped, Delivered,
 *	 Cancelled) and the entries are aggregated with nx_status_aggregate.
 *	 A line whose PRODUCT refund covers its PRODUCT charge counts as
 *	 refunded, unless it was cancelled (a cancelled line's money goes back
 *	 as a matter of course).  marketplace_status is the distinct raw
 *	 statuses in order of first appearance, joined by ",".
 * - Countries are alpha-3 ("USA", "CAN") and mapped to alpha-2.
 * - Line numbers are unique only within a PO: external_item_id is
 *	 "<purchaseOrderId>-<lineNumber>".
 * - shipNode.type "WFSFulfilled" (Walmart Fulfillment Services) is FBA;
 *	 SellerFulfilled and 3PLFulfilled are FBM.
 *
 * Sync (doc/sync_protocol.md): a client-credentials token from /v3/token,
 * then /v3/orders by lastModifiedStartDate; every request carries
 * WM_SVC.NAME and a fresh WM_QOS.CORRELATION_ID.  A next page appends
 * list.meta.nextCursor (a query string) to /v3/orders.  Throttling is
 * X-Next-Replenishment-Time on a 429 or an empty token bucket.  A
 * connection of region "ca" lists /v3/ca/orders instead and names its
 * market in WM_MARKET: ca.
 *
 * Webhooks: a Notifications API subscription with authMethod HMAC names a
 * header (authHeaderName) that carries HMAC-SHA256 of the raw body keyed
 * with the app's client secret.  nexus expects the subscription to name it
 * X-Walmart-Signature.  Walmart does not document the encoding, so both
 * base64 and hex are accepted; comparison is constant-time.  The event id
 * (source.eventId) is the replay key; the ORDER_UPDATES payload is a
 * light PO summary without charges or buyer data, so the PO must be
 * re-fetched: event->order is only set when the payload carries an order
 * that normalizes as a full PO.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"

#define WALMART_SIGNATURE_HEADER "x-walmart-signature"

/* order_items.quantity is an integer column */
#define WALMART_MAX_QUANTITY INT64_C(2147483647)

/* Epoch milliseconds accepted: 1970 to 9999, so that the time helpers never overflow. */
#define WALMART_MAX_EPOCH_MS INT64_C(253402300799999)

static const NxStatusMap walmart_statuses[] =
{
	{"Created", NX_CONFIRMED},
	{"Acknowledged", NX_PROCESSING},
	{"Shipped", NX_SHIPPED},
	{"Delivered", NX_DELIVERED},
	{"Cancelled", NX_CANCELLED},
	{NULL, NULL}
};

/* The status entries of a PO, as the aggregation and the raw string need them. */
typedef struct WalmartStatuses
{
	const char **canonical;		/* one per orderLineStatus entry */
	size_t		n;
	const char **distinct;		/* raw values, first appearance order (point into JSON) */
	size_t		ndistinct;
	const char *unknown;		/* first raw value not in walmart_statuses */
} WalmartStatuses;

/* ---------- small readers ---------- */

/*
 * An optional array at obj.key1.key2: Walmart wraps its arrays in an
 * object named after the element ({"orderLine": [...]}).  field names
 * obj.key1 as for the nx_json_* readers.
 */
static int
walmart_opt_list(const json_t *obj, const char *key1, const char *key2, const char *field,
				 const json_t **out, NxError *err)
{
	const json_t *v;
	char		buf[NX_ERROR_MAX];

	*out = NULL;
	if (nx_json_opt_object(obj, key1, field, &v, err) != NX_OK)
		return NX_FAIL;
	if (v == NULL)
		return NX_OK;
	v = json_object_get(v, key2);
	if (v == NULL || json_is_null(v))
		return NX_OK;
	if (!json_is_array(v))
		return nx_fail(err, "%s.%s: expected an array",
					   nx_field_name(field, key1, buf, sizeof(buf)), key2);
	*out = v;
	return NX_OK;
}

/*
 * A time member: epoch milliseconds, or an ISO 8601 string.  Absent or
 * null leaves *has false.
 */
static int
walmart_time(const json_t *obj, const char *key, const char *field, bool *has, int64_t *out,
			 NxError *err)
{
	const json_t *v = json_object_get(obj, key);
	char		buf[NX_ERROR_MAX];
	const char *name = nx_field_name(field, key, buf, sizeof(buf));
	json_int_t	ms;

	*has = false;
	if (v == NULL || json_is_null(v))
		return NX_OK;
	if (json_is_string(v))
	{
		if (nx_time_parse(json_string_value(v), out, err, name) != NX_OK)
			return NX_FAIL;
		*has = true;
		return NX_OK;
	}
	if (!json_is_integer(v))
		return nx_fail(err, "%s: expected epoch milliseconds", name);
	ms = json_integer_value(v);
	if (ms < 0 || ms > WALMART_MAX_EPOCH_MS)
		return nx_fail(err, "%s: %lld is out of range", name, (long long) ms);
	*out = nx_time_from_epoch_ms(ms);
	*has = true;
	return NX_OK;
}

/* ---------- currency and money ---------- */

/*
 * The first currency any charge names: the PO's currency, needed before
 * amounts can be read at its exponent (and for classify, which reads the
 * refund amounts).
 */
static const char *
walmart_find_currency(const json_t *order)
{
	const json_t *lines = nx_json_path(order, "orderLines.orderLine");
	size_t		i,
				j;
	const json_t *line;
	const json_t *charge;

	json_array_foreach(lines, i, line)
	{
		json_array_foreach(nx_json_path(line, "charges.charge"), j, charge)
		{
			const char *c = nx_json_str(charge, "chargeAmount.currency");

			if (c)
				return c;
		}
	}
	return NULL;
}

/*
 * Sum of the PRODUCT charges of a charge list (the path of the list in
 * where); refund lists wrap each charge as {"charge": {...}} (wrapped =
 * true).
 */
static int
walmart_product_sum(const json_t *charges, bool wrapped, const char *where, NxOrder *o,
					NxMoney *out, NxError *err)
{
	size_t		j;
	const json_t *c;
	char		at[160];
	char		prefix[161];
	NxMoney		m;

	out->present = false;
	out->minor = 0;
	json_array_foreach(charges, j, c)
	{
		const char *type;

		snprintf(at, sizeof(at), "%s[%zu]%s", where, j, wrapped ? ".charge" : "");
		snprintf(prefix, sizeof(prefix), "%s.", at);
		if (wrapped)
			c = json_object_get(c, "charge");
		if (!json_is_object(c))
			return nx_fail(err, "%s: expected an object", at);
		if (nx_json_opt_string(c, "chargeType", prefix, &type, err) != NX_OK)
			return NX_FAIL;
		if (type == NULL || strcmp(type, "PRODUCT") != 0)
			continue;
		if (nx_json_opt_money(c, "chargeAmount", prefix, false, o, &m, err) != NX_OK ||
			nx_money_accumulate(out, m, at, err) != NX_OK)
			return NX_FAIL;
	}
	return NX_OK;
}

/* ---------- status ---------- */

/* Whether a line's PRODUCT refunds cover its PRODUCT charges; where ends in '.'. */
static int
walmart_line_refunded(const json_t *line, const char *where, NxOrder *o, bool *refunded,
					  NxError *err)
{
	const json_t *charges;
	const json_t *refunds;
	NxMoney		charged;
	NxMoney		back;
	char		at[128];
	int64_t		magnitude;

	*refunded = false;
	if (nx_json_opt_object(line, "refund", where, &refunds, err) != NX_OK)
		return NX_FAIL;
	if (refunds == NULL)
		return NX_OK;
	snprintf(at, sizeof(at), "%srefund.", where);
	if (walmart_opt_list(refunds, "refundCharges", "refundCharge", at, &refunds, err) != NX_OK)
		return NX_FAIL;
	snprintf(at, sizeof(at), "%srefund.refundCharges.refundCharge", where);
	if (walmart_product_sum(refunds, true, at, o, &back, err) != NX_OK)
		return NX_FAIL;
	snprintf(at, sizeof(at), "%scharges.charge", where);
	if (walmart_opt_list(line, "charges", "charge", where, &charges, err) != NX_OK ||
		walmart_product_sum(charges, false, at, o, &charged, err) != NX_OK)
		return NX_FAIL;
	/* refund amounts are negative; what counts is how much went back */
	magnitude = back.minor < 0 ? -back.minor : back.minor;
	*refunded = back.present && magnitude > 0 && magnitude >= charged.minor;
	return NX_OK;
}

static void
walmart_statuses_free(WalmartStatuses *s)
{
	free(s->canonical);
	free(s->distinct);
	memset(s, 0, sizeof(*s));
}

static int
walmart_line_statuses(const json_t *line, const char *where, NxOrder *o, WalmartStatuses *s,
					  size_t *cap, NxError *err)
{
	const json_t *entries;
	bool		refunded;
	size_t		k;
	const json_t *e;
	char		at[128];

	if (walmart_line_refunded(line, where, o, &refunded, err) != NX_OK ||
		walmart_opt_list(line, "orderLineStatuses", "orderLineStatus", where, &entries, err) != NX_OK)
		return NX_FAIL;
	if (json_array_size(entries) == 0)
		return nx_fail(err, "%sorderLineStatuses.orderLineStatus: missing (a line without status)",
					   where);
	json_array_foreach(entries, k, e)
	{
		const char *raw;
		const char *canonical;
		bool		known;
		size_t		d;

		if (!json_is_object(e))
			return nx_fail(err, "%sorderLineStatuses.orderLineStatus[%zu]: expected an object",
						   where, k);
		snprintf(at, sizeof(at), "%sorderLineStatuses.orderLineStatus[%zu].", where, k);
		if (nx_json_req_string(e, "status", at, &raw, err) != NX_OK)
			return NX_FAIL;
		canonical = nx_status_map(walmart_statuses, raw, &known);
		if (!known && s->unknown == NULL)
			s->unknown = raw;
		if (refunded && strcmp(canonical, NX_CANCELLED) != 0)
			canonical = NX_REFUNDED;
		if (s->n == *cap)
		{
			size_t		ncap = *cap ? *cap * 2 : 8;
			const char **a = realloc(s->canonical, ncap * sizeof(char *));
			const char **b;

			if (a == NULL)
				return nx_fail(err, "out of memory");
			s->canonical = a;
			if ((b = realloc(s->distinct, ncap * sizeof(char *))) == NULL)
				return nx_fail(err, "out of memory");
			s->distinct = b;
			*cap = ncap;
		}
		s->canonical[s->n++] = canonical;
		for (d = 0; d < s->ndistinct; d++)
			if (strcmp(s->distinct[d], raw) == 0)
				break;
		if (d == s->ndistinct)
			s->distinct[s->ndistinct++] = raw;
	}
	return NX_OK;
}

/* "Acknowledged,Cancelled": the distinct raw statuses, malloc'd. */
static char *
walmart_join(const WalmartStatuses *s)
{
	size_t		len = 1;
	char	   *out;
	char	   *p;

	for (size_t i = 0; i < s->ndistinct; i++)
		len += strlen(s->distinct[i]) + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	p = out;
	for (size_t i = 0; i < s->ndistinct; i++)
	{
		size_t		n = strlen(s->distinct[i]);

		if (i > 0)
			*p++ = ',';
		memcpy(p, s->distinct[i], n);
		p += n;
	}
	*p = '\0';
	return out;
}

/*
 * The aggregated status and raw status string of a PO; o supplies the
 * currency exponent the refund check reads amounts at.  The line readers
 * take where, the path of the line with a trailing '.'.
 */
static int
walmart_po_status(const json_t *order, NxOrder *o, const char **status, char **raw,
				  const char **unknown, NxError *err)
{
	const json_t *lines;
	WalmartStatuses s;
	size_t		cap = 0;
	size_t		i;
	const json_t *line;
	char		where[64];

	memset(&s, 0, sizeof(s));
	if (walmart_opt_list(order, "orderLines", "orderLine", NULL, &lines, err) != NX_OK)
		return NX_FAIL;
	if (json_array_size(lines) == 0)
		return nx_fail(err, "orderLines.orderLine: missing (a purchase order without lines)");
	json_array_foreach(lines, i, line)
	{
		snprintf(where, sizeof(where), "orderLines.orderLine[%zu].", i);
		if (!json_is_object(line))
		{
			walmart_statuses_free(&s);
			return nx_fail(err, "orderLines.orderLine[%zu]: expected an object", i);
		}
		if (walmart_line_statuses(line, where, o, &s, &cap, err) != NX_OK)
		{
			walmart_statuses_free(&s);
			return NX_FAIL;
		}
	}
	*status = nx_status_aggregate(s.canonical, s.n);
	*unknown = s.unknown;
	*raw = walmart_join(&s);
	walmart_statuses_free(&s);
	if (*raw == NULL)
		return nx_fail(err, "out of memory");
	return NX_OK;
}

static const char *
walmart_fulfillment(const json_t *order)
{
	const char *type = nx_json_str(order, "shipNode.type");

	return type && strcasecmp(type, "WFSFulfilled") == 0 ? NX_FBA : NX_FBM;
}

/* GET /v3/orders/{id} answers {"order": {...}}: accept that too. */
static const json_t *
walmart_unwrap(const json_t *order)
{
	const json_t *inner = json_object_get(order, "order");

	if (json_is_object(order) && json_object_get(order, "purchaseOrderId") == NULL &&
		json_is_object(inner))
		return inner;
	return order;
}

/* ---------- lines ---------- */

/* Running figures of a PO. */
typedef struct WalmartSums
{
	bool		any_charge;
	NxMoney		subtotal;
	NxMoney		shipping;
	NxMoney		tax;
} WalmartSums;

static int
walmart_charges(const json_t *line, const char *where, NxOrder *o, NxItem *it,
				WalmartSums *sums, NxError *err)
{
	const json_t *charges;
	size_t		j;
	const json_t *c;
	char		at[160];
	char		prefix[168];

	if (walmart_opt_list(line, "charges", "charge", where, &charges, err) != NX_OK)
		return NX_FAIL;
	json_array_foreach(charges, j, c)
	{
		const char *type;
		const json_t *tax;
		NxMoney		amount;
		NxMoney		tax_amount;

		snprintf(at, sizeof(at), "%scharges.charge[%zu]", where, j);
		snprintf(prefix, sizeof(prefix), "%s.", at);
		if (!json_is_object(c))
			return nx_fail(err, "%s: expected an object", at);
		if (nx_json_req_string(c, "chargeType", prefix, &type, err) != NX_OK)
			return NX_FAIL;
		if (strcmp(type, "PRODUCT") != 0 && strcmp(type, "SHIPPING") != 0)
			continue;
		if (nx_json_opt_money(c, "chargeAmount", prefix, false, o, &amount, err) != NX_OK)
			return NX_FAIL;
		if (!amount.present)
			return nx_fail(err, "%s.chargeAmount: missing", at);
		if (nx_json_opt_object(c, "tax", prefix, &tax, err) != NX_OK)
			return NX_FAIL;
		tax_amount.present = false;
		tax_amount.minor = 0;
		if (tax != NULL)
		{
			snprintf(prefix, sizeof(prefix), "%s.tax.", at);
			if (nx_json_opt_money(tax, "taxAmount", prefix, false, o, &tax_amount, err) != NX_OK)
				return NX_FAIL;
		}
		sums->any_charge = true;
		if (strcmp(type, "PRODUCT") == 0)
		{
			if (nx_money_accumulate(&it->line_total, amount, at, err) != NX_OK)
				return NX_FAIL;
		}
		else if (nx_money_accumulate(&sums->shipping, amount, "shipping_total", err) != NX_OK)
			return NX_FAIL;
		if (nx_money_accumulate(&sums->tax, tax_amount, "tax_total", err) != NX_OK)
			return NX_FAIL;
	}
	return nx_money_accumulate(&sums->subtotal, it->line_total, "subtotal", err);
}

static int
walmart_line(const json_t *line, size_t i, const char *po, NxOrder *o, WalmartSums *sums,
			 NxError *err)
{
	char		where[64];
	char	   *number;
	const json_t *item;
	const json_t *qty;
	int64_t		q;
	bool		has;
	int64_t		t;
	NxItem	   *it;

	if (!json_is_object(line))
		return nx_fail(err, "orderLines.orderLine[%zu]: expected an object", i);
	snprintf(where, sizeof(where), "orderLines.orderLine[%zu].", i);
	if ((it = nx_order_add_item(o)) == NULL)
		return nx_fail(err, "out of memory");

	/* line numbers are strings ("1"); a number is read the same way */
	if ((number = nx_json_id(line, "lineNumber")) == NULL)
		return nx_fail(err, "%slineNumber: missing", where);
	it->external_item_id = nx_sprintf("%s-%s", po, number);
	free(number);

	if (nx_json_opt_object(line, "item", where, &item, err) != NX_OK)
		return NX_FAIL;
	if (item != NULL)
	{
		char		iat[80];

		snprintf(iat, sizeof(iat), "%sitem.", where);
		if (nx_json_opt_strdup(item, "sku", iat, &it->sku, err) != NX_OK ||
			nx_json_opt_strdup(item, "productName", iat, &it->title, err) != NX_OK)
			return NX_FAIL;
	}

	/* {"unitOfMeasurement": "EACH", "amount": "2"}: the count is a string */
	if (nx_json_opt_object(line, "orderLineQuantity", where, &qty, err) != NX_OK)
		return NX_FAIL;
	if (qty == NULL || json_object_get(qty, "amount") == NULL)
		return nx_fail(err, "%sorderLineQuantity.amount: missing", where);
	if (nx_json_int(qty, "amount", &q, NULL) != NX_OK)
		return nx_fail(err, "%sorderLineQuantity.amount: expected an integer", where);
	if (q < 0 || q > WALMART_MAX_QUANTITY)
		return nx_fail(err, "%sorderLineQuantity.amount: %lld is out of range", where,
					   (long long) q);
	it->quantity = q;

	if (walmart_charges(line, where, o, it, sums, err) != NX_OK)
		return NX_FAIL;
	it->unit_price = nx_money_div(it->line_total, it->quantity);

	if (walmart_time(line, "statusDate", where, &has, &t, err) != NX_OK)
		return NX_FAIL;
	if (has)
		nx_order_bump_updated_at(o, t);
	return NX_OK;
}

/* ---------- the entry points ---------- */

static int
walmart_normalize(const json_t *order_in, NxOrder *o, NxError *err)
{
	const json_t *order = walmart_unwrap(order_in);
	const char *currency;
	const json_t *ship;
	const json_t *addr = NULL;
	const json_t *lines;
	const char *country;
	const char *unknown;
	WalmartSums sums;
	size_t		i;
	const json_t *line;

	memset(&sums, 0, sizeof(sums));
	if (!json_is_object(order))
		return nx_fail(err, "order: expected a purchase order object");
	if (nx_json_opt_strdup(order, "purchaseOrderId", NULL, &o->external_order_id, err) != NX_OK)
		return NX_FAIL;
	if (o->external_order_id == NULL || o->external_order_id[0] == '\0')
		return nx_fail(err, "purchaseOrderId: missing");
	if (nx_json_opt_strdup(order, "customerOrderId", NULL, &o->order_number, err) != NX_OK ||
		nx_json_opt_strdup(order, "customerEmailId", NULL, &o->buyer_email, err) != NX_OK)
		return NX_FAIL;
	if (walmart_time(order, "orderDate", NULL, &o->has_ordered_at, &o->ordered_at, err) != NX_OK)
		return NX_FAIL;

	if ((currency = walmart_find_currency(order)) != NULL &&
		nx_order_set_currency(o, currency, err) != NX_OK)
		return nx_fail(err, "chargeAmount.currency: \"%.20s\" is not an ISO 4217 currency code",
					   currency);

	/* first, so that an unknown status is the warning that is kept */
	if (walmart_po_status(order, o, &o->status, &o->marketplace_status, &unknown, err) != NX_OK)
		return NX_FAIL;
	if (unknown != NULL)
		nx_order_warn(o, "unknown Walmart line status \"%.100s\"", unknown);
	o->fulfillment_method = walmart_fulfillment(order);

	if (nx_json_opt_object(order, "shippingInfo", NULL, &ship, err) != NX_OK ||
		(ship != NULL &&
		 nx_json_opt_object(ship, "postalAddress", "shippingInfo.", &addr, err) != NX_OK))
		return NX_FAIL;
	if (addr != NULL)
	{
		o->shipping_address = json_incref((json_t *) addr);
		if (nx_json_opt_strdup(addr, "name", "shippingInfo.postalAddress.", &o->buyer_name,
							   err) != NX_OK ||
			nx_json_opt_string(addr, "country", "shippingInfo.postalAddress.", &country,
							   err) != NX_OK)
			return NX_FAIL;
		if (!nx_order_set_ship_country(o, country))
			nx_order_warn(o, "unknown country code \"%.20s\" in shippingInfo.postalAddress.country",
						  country);
	}

	if (walmart_opt_list(order, "orderLines", "orderLine", NULL, &lines, err) != NX_OK)
		return NX_FAIL;
	if (json_array_size(lines) == 0)
		return nx_fail(err, "orderLines.orderLine: missing (a purchase order without lines)");
	json_array_foreach(lines, i, line)
	{
		if (walmart_line(line, i, o->external_order_id, o, &sums, err) != NX_OK)
			return NX_FAIL;
	}
	if (sums.any_charge)
	{
		/* Walmart lists every charge: no SHIPPING charge means free shipping */
		sums.shipping.present = true;
		sums.tax.present = true;
		o->subtotal = sums.subtotal;
		o->shipping_total = sums.shipping;
		o->tax_total = sums.tax;
		o->total_amount = nx_money_add(nx_money_add(sums.subtotal, sums.shipping), sums.tax);
	}
	return NX_OK;
}

static int
walmart_parse_page(const json_t *page, const json_t *headers, NxPage *out, NxError *err)
{
	const json_t *list = json_object_get(page, "list");
	const json_t *orders;
	const json_t *cursor;

	(void) headers;
	if (!json_is_object(list))
		return nx_fail(err, "list: expected a Walmart order list ({\"list\": {\"meta\", \"elements\"}})");
	cursor = nx_json_path(list, "meta.nextCursor");
	if (cursor != NULL && !json_is_null(cursor))
	{
		if (!json_is_string(cursor))
			return nx_fail(err, "list.meta.nextCursor: expected a string");
		if (json_string_length(cursor) > 0 &&
			(out->next_cursor = nx_strdup(json_string_value(cursor))) == NULL)
			return nx_fail(err, "out of memory");
	}
	/* an empty result may leave elements out altogether */
	orders = nx_json_path(list, "elements.order");
	if (orders == NULL || json_is_null(orders))
		return NX_OK;
	if (!json_is_array(orders))
		return nx_fail(err, "list.elements.order: expected an array");
	if (nx_page_normalize_each(out, orders, "walmart", walmart_normalize, "purchaseOrderId") != NX_OK)
		return nx_fail(err, "out of memory");
	return NX_OK;
}

static int
walmart_classify(const json_t *order_in, const char **status, const char **fulfillment,
				 char **marketplace_status, NxError *err)
{
	const json_t *order = walmart_unwrap(order_in);
	const char *currency;
	const char *unknown;
	NxOrder		scratch;
	int			rc;

	if (!json_is_object(order))
		return nx_fail(err, "order: expected a purchase order object");
	/* the refund check compares amounts, read at the PO's currency exponent */
	nx_order_init(&scratch, "walmart");
	if ((currency = walmart_find_currency(order)) != NULL &&
		nx_order_set_currency(&scratch, currency, err) != NX_OK)
	{
		nx_order_free(&scratch);
		return nx_fail(err, "chargeAmount.currency: \"%.20s\" is not an ISO 4217 currency code",
					   currency);
	}
	rc = walmart_po_status(order, &scratch, status, marketplace_status, &unknown, err);
	nx_order_free(&scratch);
	if (rc != NX_OK)
		return NX_FAIL;
	*fulfillment = walmart_fulfillment(order);
	return NX_OK;
}

/* ---------- webhooks ---------- */

/*
 * The 32 bytes of the signature header, written in hex (64 digits) or
 * base64; false if it is neither.
 */
static bool
walmart_decode_signature(const char *value, unsigned char *mac)
{
	char		text[128];
	size_t		len;
	unsigned char buf[96];

	/* header values may carry trailing blanks; a signature is never long */
	len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, value, len);
	text[len] = '\0';

	if (nx_hex_decode(text, mac, 32) == NX_OK)
		return true;
	if (nx_base64_decode(text, buf, sizeof(buf)) != 32)
		return false;
	memcpy(mac, buf, 32);
	return true;
}

static int
walmart_verify_webhook(const NxWebhookInput *in, NxError *err)
{
	const char *header = nx_header(in->headers, WALMART_SIGNATURE_HEADER);
	unsigned char got[32];
	unsigned char want[32];

	if (in->secret == NULL || in->secret[0] == '\0')
		return nx_fail(err, "walmart webhook: no client secret configured for the HMAC check");
	if (header == NULL)
		return nx_fail(err, WALMART_SIGNATURE_HEADER ": missing header");
	if (!walmart_decode_signature(header, got))
		return nx_fail(err, WALMART_SIGNATURE_HEADER ": not a base64 or hex HMAC-SHA256");
	if (nx_hmac_sha256(in->secret, strlen(in->secret), in->body ? in->body : "",
					   in->body ? in->body_len : 0, want) != NX_OK)
		return nx_fail(err, "walmart webhook: HMAC-SHA256 failed");
	if (!nx_equal_ct(got, want, sizeof(want)))
		return nx_fail(err, WALMART_SIGNATURE_HEADER ": signature does not match the body");
	return NX_OK;
}

/*
 * {"source": {eventType, eventTime, eventId}, "payload": {subEventType,
 * order: {purchaseOrderId, ...}}}.  topic is "ORDER_UPDATES/PO_CREATED"
 * (eventType, then the sub-event when there is one).
 */
static int
walmart_parse_webhook(const json_t *body, const json_t *headers, NxWebhookEvent *out,
					  NxError *err)
{
	const json_t *source;
	const json_t *payload;
	const json_t *order = NULL;
	const char *id;
	const char *type;
	const char *sub = NULL;
	NxOrder		probe;

	(void) headers;
	if (!json_is_object(body))
		return nx_fail(err, "notification: expected a JSON object");
	if (nx_json_opt_object(body, "source", NULL, &source, err) != NX_OK ||
		nx_json_opt_object(body, "payload", NULL, &payload, err) != NX_OK)
		return NX_FAIL;
	if (source == NULL)
		return nx_fail(err, "source: missing");
	if (nx_json_opt_string(source, "eventId", "source.", &id, err) != NX_OK ||
		nx_json_opt_string(source, "eventType", "source.", &type, err) != NX_OK)
		return NX_FAIL;
	if (id == NULL || id[0] == '\0')
		return nx_fail(err, "source.eventId: missing");
	if (payload != NULL &&
		(nx_json_opt_string(payload, "subEventType", "payload.", &sub, err) != NX_OK ||
		 nx_json_opt_object(payload, "order", "payload.", &order, err) != NX_OK))
		return NX_FAIL;

	out->event_id = nx_strdup(id);
	if (type != NULL)
		out->topic = sub ? nx_sprintf("%s/%s", type, sub) : nx_strdup(type);
	if (order != NULL)
	{
		const char *po;

		if (nx_json_opt_string(order, "purchaseOrderId", "payload.order.", &po, err) != NX_OK)
			return NX_FAIL;
		out->order_id = nx_strdup(po);

		/* only a PO that normalizes is worth handing on; else re-fetch */
		nx_order_init(&probe, "walmart");
		if (walmart_normalize(order, &probe, NULL) == NX_OK)
			out->order = json_incref((json_t *) order);
		nx_order_free(&probe);
	}
	if (out->event_id == NULL)
		return nx_fail(err, "out of memory");
	return NX_OK;
}

/* ---------- sync requests (doc/sync_protocol.md) ---------- */

#define WALMART_BASE "https://marketplace.walmartapis.com"
#define WALMART_SVC_NAME "Walmart Marketplace"
#define WALMART_MAX_PAGE 200

/* No wait a response asks for is kept longer than this: a run never stalls. */
#define WALMART_MAX_WAIT_MS INT64_C(3600000)

/*
 * A replenishment time more than a day away from now, either way, is no
 * time Walmart means (seconds or microseconds sent for milliseconds): it
 * is ignored, and the engine backs off on its own.
 */
#define WALMART_BELIEVABLE_MS INT64_C(86400000)

static int
walmart_base_urls(const json_t *credentials, const char *region, char **api_base,
				  char **auth_base, NxError *err)
{
	(void) credentials;
	(void) region;				/* Canada is a path and a header on the same host */
	return nx_base_urls(WALMART_BASE, WALMART_BASE, api_base, auth_base, err);
}

/*
 * Whether the connection sells on Walmart Canada.  NULL is the US, as it
 * was before connections had a region.  A region the database would not
 * have let in fails rather than listing another market's orders.
 */
static int
walmart_canada(const NxSyncContext *ctx, bool *canada, NxError *err)
{
	*canada = false;
	if (ctx->region == NULL || strcmp(ctx->region, "us") == 0)
		return NX_OK;
	if (strcmp(ctx->region, "ca") == 0)
	{
		*canada = true;
		return NX_OK;
	}
	return nx_fail(err, "region: \"%s\" is not a Walmart region (us or ca)", ctx->region);
}

/*
 * What every Walmart request carries: User-Agent, Accept, WM_SVC.NAME and
 * a correlation id of its own, so that Walmart support can find the call.
 * Canada adds WM_MARKET, without which Walmart takes the US market, token
 * request included.  WM_CONSUMER.CHANNEL.TYPE is an id Walmart hands the
 * seller at onboarding; its CA order list requires it, so it is sent
 * whenever the credentials carry one.
 */
static int
walmart_common_headers(const NxSyncContext *ctx, NxRequest *r, NxError *err)
{
	char		uuid[40];
	bool		canada;
	const char *channel = nx_nonempty(nx_json_str(ctx->credentials, "consumer_channel_type"));

	if (walmart_canada(ctx, &canada, err) != NX_OK)
		return NX_FAIL;
	nx_uuid_text(uuid, sizeof(uuid));
	if (nx_request_agent_headers(ctx, "application/json", r, err) != NX_OK ||
		nx_request_field_header(r, "WM_SVC.NAME", WALMART_SVC_NAME, "wm_svc.name", err) != NX_OK ||
		nx_request_field_header(r, "WM_QOS.CORRELATION_ID", uuid, "wm_qos.correlation_id",
								err) != NX_OK)
		return NX_FAIL;
	if (canada &&
		nx_request_field_header(r, "WM_MARKET", "ca", "wm_market", err) != NX_OK)
		return NX_FAIL;
	if (channel != NULL &&
		nx_request_field_header(r, "WM_CONSUMER.CHANNEL.TYPE", channel,
								"credentials.consumer_channel_type", err) != NX_OK)
		return NX_FAIL;
	return NX_OK;
}

/* Client credentials at POST {auth_base}/v3/token. */
static int
walmart_token_request(const NxSyncContext *ctx, NxRequest *out, NxError *err)
{
	return nx_client_credentials_request(ctx, "/v3/token", walmart_common_headers, out, err);
}

/*
 * list.meta.nextCursor is a ready-made query string ("?limit=3&...") for
 * the list's own path.  Anything else could change the path or the request line:
 * it must begin with '?' and carry no space, control, non-ASCII byte or
 * fragment.
 */
static int
walmart_check_cursor(const char *cursor, NxError *err)
{
	if (cursor[0] != '?' || cursor[1] == '\0')
		return nx_fail(err, "cursor (list.meta.nextCursor): expected a query string "
					   "beginning with '?'");
	for (const unsigned char *p = (const unsigned char *) cursor; *p; p++)
	{
		if (*p <= ' ' || *p >= 0x7f || *p == '#')
			return nx_fail(err, "cursor (list.meta.nextCursor): a space, control character, "
						   "non-ASCII byte or '#' in the query string");
	}
	return NX_OK;
}

static int
walmart_build_list(const NxSyncContext *ctx, int64_t since, const char *cursor, NxRequest *out,
				   NxError *err)
{
	int			n = nx_page_size(ctx, WALMART_MAX_PAGE);
	bool		canada;
	const char *path;

	nx_request_init(out, "GET");
	if (ctx->api_base == NULL)
		return nx_fail(err, "api_base: missing");
	if (walmart_canada(ctx, &canada, err) != NX_OK)
		return NX_FAIL;
	path = canada ? "/v3/ca/orders" : "/v3/orders";
	if (cursor != NULL)
	{
		if (walmart_check_cursor(cursor, err) != NX_OK)
			return NX_FAIL;
		out->url = nx_sprintf("%s%s%s", ctx->api_base, path, cursor);
	}
	else
	{
		char		when[32];

		if (nx_check_since(since, err) != NX_OK)
			return NX_FAIL;
		/* "2025-03-09T00:00:00Z": nothing in it needs encoding in a query */
		nx_time_format(since, when, sizeof(when));
		out->url = nx_sprintf("%s%s?lastModifiedStartDate=%s&limit=%d&productInfo=false",
							  ctx->api_base, path, when, n);
	}
	if (out->url == NULL)
		return nx_fail(err, "url: out of memory");
	if (walmart_common_headers(ctx, out, err) != NX_OK)
		return NX_FAIL;
	return nx_request_access_token(ctx, "WM_SEC.ACCESS_TOKEN", "", "access_token", out, err);
}

static int
walmart_list_request(const NxSyncContext *ctx, int64_t since, const char *cursor,
					 NxRequest *out, NxError *err)
{
	return nx_request_finish(out, walmart_build_list(ctx, since, cursor, out, err));
}

/* A decimal of at most 15 digits (epoch milliseconds up to year 9999), or false. */
static bool
walmart_epoch_ms(const char *s, int64_t *out)
{
	int64_t		v;

	if (!nx_parse_count(s, 15, &v) || v > WALMART_MAX_EPOCH_MS)
		return false;
	*out = v;
	return true;
}

/*
 * X-Next-Replenishment-Time (epoch ms) is when the token bucket refills.
 * Walmart sends it on every response, so it is a wait only when the call
 * was refused (429) or the bucket is empty (X-Current-Token-Count 0); a
 * time already past is no wait at all.
 */
static void
walmart_throttle(int status, const json_t *headers, int64_t now_ms, NxThrottle *out)
{
	const char *count = nx_header(headers, "x-current-token-count");
	int64_t		at;
	int64_t		left;
	bool		empty = false;

	out->wait_ms = -1;
	if (count != NULL)
	{
		int64_t		n;

		empty = walmart_epoch_ms(count, &n) && n == 0;
	}
	if ((status != 429 && !empty) ||
		!walmart_epoch_ms(nx_header(headers, "x-next-replenishment-time"), &at) ||
		now_ms < 0 || now_ms > WALMART_MAX_EPOCH_MS)
		return;
	left = at - now_ms;			/* both bounded: no overflow */
	if (left > WALMART_BELIEVABLE_MS || left < -WALMART_BELIEVABLE_MS)
		return;
	out->wait_ms = left < 0 ? 0 : left < WALMART_MAX_WAIT_MS ? left : WALMART_MAX_WAIT_MS;
}

const NxAdapter nx_walmart_adapter = {
	.name = "walmart",
	.keys = &nx_walmart_keys,
	.normalize = walmart_normalize,
	.parse_page = walmart_parse_page,
	.classify = walmart_classify,
	.verify_webhook = walmart_verify_webhook,
	.parse_webhook = walmart_parse_webhook,

	.max_page_size = WALMART_MAX_PAGE,
	.lag_seconds = 0,
	.max_days_back = 180,		/* getAllOrders reaches back 180 days */
	.base_urls = walmart_base_urls,
	.token_request = walmart_token_request,
	.list_request = walmart_list_request,
	.detail_request = NULL,		/* list pages carry whole purchase orders */
	.page_orders = NULL,
	.detail_merge = NULL,
	.throttle = walmart_throttle,
};
