/*-------------------------------------------------------------------------
 *
 * ebay.c
 *	  The eBay adapter: Sell Fulfillment API orders (getOrders / getOrder)
 *	  and Notification API pushes.
 *
 * What is peculiar about eBay, and what we chose:
 *
 * - getOrders returns full orders, so parse_page normalizes every order of
 *   the page.  Pagination is offset/limit; we follow the "next" href as the
 *   cursor and stop on a missing "next" or an empty "orders" array (the
 *   page after the last one still answers, with "orders": []).
 *
 * - Money is {value, currency} with value a decimal string that has no
 *   fixed number of decimals ("45.2", "1397.1", "0.0").  It is parsed as
 *   text, never through a double.  Every amount of an order is in the
 *   seller's currency (the buyer's one travels in convertedFrom* fields),
 *   so an amount in another currency than the order's is an error rather
 *   than something to add up silently.
 *
 * - pricingSummary gives the figures directly: subtotal = priceSubtotal,
 *   shipping = deliveryCost, total = total.  Discounts come negative
 *   (priceDiscount, deliveryDiscount); discount_total is their magnitude.
 *   Tax is pricingSummary.tax, else the sum of the lines' Collect-and-Remit
 *   taxes, else null: EU orders carry VAT-inclusive prices and no tax.
 *
 * - The status is three fields: orderFulfillmentStatus, orderPaymentStatus
 *   and cancelStatus.cancelState, kept raw as "FULFILLMENT/PAYMENT/CANCEL".
 *   Cancellation wins, then the payment outcome (refunded, pending, failed),
 *   then fulfilment.  eBay has no delivered state in this API.  A value we
 *   do not know maps the order to pending with a warning, unless a known
 *   field already decided (a cancelled order stays cancelled).
 *
 * - Buyer name and e-mail come from buyer.buyerRegistrationAddress, field
 *   by field falling back to the first ship-to; the registration address
 *   is absent in some orders and the ship-to may have no e-mail.
 *   eBay orders are always seller-fulfilled (FBM): ebaySupportedFulfillment
 *   means the seller ships to an eBay hub (Global Shipping, Authenticity
 *   Guarantee), not that eBay fulfils.
 *
 * - Webhooks: X-EBAY-SIGNATURE is base64 of {alg, kid, signature, digest};
 *   signature is a DER ECDSA signature (SHA-1) over the raw body bytes.
 *   eBay's Node SDK re-serialises the parsed body instead; we verify the
 *   bytes received, which is what was signed.  getPublicKey returns the
 *   PEM on one line, which OpenSSL does not read, so the key is rewrapped.
 *   ORDER_CONFIRMATION carries ids only: the event id is notificationId,
 *   and the order must be re-fetched.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"

#define EBAY_MAX_QUANTITY INT64_C(2147483647)

/* ---------- field readers that name the field in their errors ---------- */

/*
 * The string at obj.key.  Absent or JSON null is NULL (an error when
 * required); any other type is an error.
 */
static int
get_string(const json_t *obj, const char *key, const char *where, bool required,
		   const char **out, NxError *err)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? nx_fail(err, "%s: missing", where) : NX_OK;
	if (!json_is_string(v))
		return nx_fail(err, "%s: expected a string", where);
	*out = json_string_value(v);
	return NX_OK;
}

/* An optional non-empty string: "" counts as absent (eBay blanks some fields). */
static int
get_text(const json_t *obj, const char *key, const char *where, const char **out, NxError *err)
{
	if (get_string(obj, key, where, false, out, err) != NX_OK)
		return NX_FAIL;
	if (*out && **out == '\0')
		*out = NULL;
	return NX_OK;
}

static int
get_object(const json_t *obj, const char *key, const char *where, bool required,
		   const json_t **out, NxError *err)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? nx_fail(err, "%s: missing", where) : NX_OK;
	if (!json_is_object(v))
		return nx_fail(err, "%s: expected an object", where);
	*out = v;
	return NX_OK;
}

static int
get_array(const json_t *obj, const char *key, const char *where, bool required,
		  const json_t **out, NxError *err)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? nx_fail(err, "%s: missing", where) : NX_OK;
	if (!json_is_array(v))
		return nx_fail(err, "%s: expected an array", where);
	*out = v;
	return NX_OK;
}

/* An id sent as a string or a number, malloc'd; missing or empty is an error. */
static int
get_id(const json_t *obj, const char *key, const char *where, char **out, NxError *err)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return nx_fail(err, "%s: missing", where);
	if (!json_is_string(v) && !json_is_integer(v))
		return nx_fail(err, "%s: expected a string", where);
	if (json_is_string(v) && json_string_value(v)[0] == '\0')
		return nx_fail(err, "%s: empty", where);
	*out = nx_json_id(obj, key);
	if (*out == NULL)
		return nx_fail(err, "%s: out of memory", where);
	return NX_OK;
}

/* An optional ISO 8601 timestamp at obj.key, converted to UTC seconds. */
static int
get_time(const json_t *obj, const char *key, const char *where, bool *has, int64_t *out,
		 NxError *err)
{
	const char *text;

	*has = false;
	if (get_string(obj, key, where, false, &text, err) != NX_OK)
		return NX_FAIL;
	if (text == NULL)
		return NX_OK;
	if (nx_time_parse(text, out, err, where) != NX_OK)
		return NX_FAIL;
	*has = true;
	return NX_OK;
}

/* A line quantity: a JSON integer from 1 to what order_items can hold. */
static int
get_quantity(const json_t *obj, const char *key, const char *where, int64_t *out, NxError *err)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return nx_fail(err, "%s: missing", where);
	if (!json_is_integer(v))
		return nx_fail(err, "%s: expected an integer", where);
	*out = json_integer_value(v);
	if (*out < 1 || *out > EBAY_MAX_QUANTITY)
		return nx_fail(err, "%s: %lld is not a valid quantity", where, (long long) *out);
	return NX_OK;
}

/* strdup into *dst, failing only when out of memory. */
static int
dup_into(char **dst, const char *s, NxError *err)
{
	*dst = NULL;
	if (s == NULL)
		return NX_OK;
	*dst = nx_strdup(s);
	return *dst ? NX_OK : nx_fail(err, "out of memory");
}

/* ---------- money ---------- */

/*
 * acc += v, refusing sums beyond what an amount may hold: a payload with
 * thousands of huge lines must fail, not overflow.
 */
static int
money_accumulate(NxMoney *acc, NxMoney v, const char *where, NxError *err)
{
	NxMoney		sum = nx_money_add(*acc, v);

	if (sum.minor > NX_MONEY_MAX_MINOR || sum.minor < -NX_MONEY_MAX_MINOR)
		return nx_fail(err, "%s: the sum is too large", where);
	*acc = sum;
	return NX_OK;
}

static NxMoney
money_abs(NxMoney m)
{
	if (m.minor < 0)
		m.minor = -m.minor;
	return m;
}

/*
 * An eBay Amount {value, currency} at obj.key into *out at the order's
 * exponent.  Absent (or JSON null) is an absent amount.
 */
static int
ebay_amount(const json_t *obj, const char *prefix, const char *key, const NxOrder *o,
			NxMoney *out, NxError *err)
{
	char		where[160];
	const json_t *amount = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	const json_t *value;
	const char *currency;

	out->present = false;
	out->minor = 0;
	snprintf(where, sizeof(where), "%s%s", prefix, key);
	if (amount == NULL || json_is_null(amount))
		return NX_OK;
	if (!json_is_object(amount))
		return nx_fail(err, "%s: expected an amount object {value, currency}", where);

	snprintf(where, sizeof(where), "%s%s.currency", prefix, key);
	if (get_string(amount, "currency", where, false, &currency, err) != NX_OK)
		return NX_FAIL;
	if (currency && strcmp(currency, o->currency) != 0)
		return nx_fail(err, "%s: \"%.16s\" differs from the order currency %s", where,
					   currency, o->currency);

	snprintf(where, sizeof(where), "%s%s.value", prefix, key);
	value = json_object_get(amount, "value");
	if (value == NULL || json_is_null(value))
		return nx_fail(err, "%s: missing", where);
	return nx_money_from_json(value, o->exponent, out, err, where);
}

/*
 * The order's currency: the one named by pricingSummary's amounts (total
 * first), else by the first line's lineItemCost.  Every amount of the
 * order is then checked against it.
 */
static int
ebay_currency(const json_t *order, const json_t *summary, NxOrder *o, NxError *err)
{
	static const char *const keys[] = {
		"total", "priceSubtotal", "deliveryCost", "tax", "priceDiscount", "deliveryDiscount"
	};
	const json_t *first_line = json_array_get(json_object_get(order, "lineItems"), 0);
	const json_t *amount = NULL;
	char		where[96];
	const char *code = NULL;

	for (size_t i = 0; i <= sizeof(keys) / sizeof(keys[0]) && code == NULL; i++)
	{
		if (i < sizeof(keys) / sizeof(keys[0]))
		{
			amount = json_object_get(summary, keys[i]);
			snprintf(where, sizeof(where), "pricingSummary.%s.currency", keys[i]);
		}
		else
		{
			amount = json_is_object(first_line) ? json_object_get(first_line, "lineItemCost") : NULL;
			snprintf(where, sizeof(where), "lineItems[0].lineItemCost.currency");
		}
		if (json_is_object(amount) &&
			get_string(amount, "currency", where, false, &code, err) != NX_OK)
			return NX_FAIL;
	}
	if (code == NULL)
		return nx_fail(err, "pricingSummary.total.currency: missing (no amount names a currency)");
	if (nx_order_set_currency(o, code, NULL) != NX_OK)
		return nx_fail(err, "%s: \"%.16s\" is not an ISO 4217 code", where, code);
	return NX_OK;
}

/* ---------- status ---------- */

static const char *const fulfillment_states[] = {"NOT_STARTED", "IN_PROGRESS", "FULFILLED", NULL};
static const char *const payment_states[] = {
	"PENDING", "FAILED", "PAID", "PARTIALLY_REFUNDED", "FULLY_REFUNDED", NULL
};
static const char *const cancel_states[] = {"NONE_REQUESTED", "IN_PROGRESS", "CANCELED", NULL};

static bool
is_one_of(const char *value, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(value, list[i]) == 0)
			return true;
	return false;
}

/*
 * Canonical status and the raw "FULFILLMENT/PAYMENT/CANCEL" of an order.
 * unknown receives a warning naming the first value we do not know, or
 * stays empty.  On failure *raw is NULL.
 */
static int
ebay_status(const json_t *order, const char **status, char **raw, char *unknown,
			size_t unknown_size, NxError *err)
{
	const char *ful;
	const char *pay;
	const char *cancel = NULL;
	const json_t *cancel_status;
	bool		ful_known;
	bool		pay_known;
	bool		cancel_known;

	*raw = NULL;
	unknown[0] = '\0';
	if (get_string(order, "orderFulfillmentStatus", "orderFulfillmentStatus", true, &ful, err) != NX_OK ||
		get_string(order, "orderPaymentStatus", "orderPaymentStatus", true, &pay, err) != NX_OK ||
		get_object(order, "cancelStatus", "cancelStatus", false, &cancel_status, err) != NX_OK ||
		get_string(cancel_status, "cancelState", "cancelStatus.cancelState", false, &cancel, err) != NX_OK)
		return NX_FAIL;
	/* getOrders always sends cancelStatus; without one nothing was asked */
	if (cancel == NULL)
		cancel = "NONE_REQUESTED";

	cancel_known = is_one_of(cancel, cancel_states);
	pay_known = is_one_of(pay, payment_states);
	ful_known = is_one_of(ful, fulfillment_states);
	if (!cancel_known)
		snprintf(unknown, unknown_size, "unknown eBay cancelState \"%.100s\"", cancel);
	else if (!pay_known)
		snprintf(unknown, unknown_size, "unknown eBay orderPaymentStatus \"%.100s\"", pay);
	else if (!ful_known)
		snprintf(unknown, unknown_size, "unknown eBay orderFulfillmentStatus \"%.100s\"", ful);

	if (strcmp(cancel, "CANCELED") == 0)
		*status = NX_CANCELLED;
	else if (!cancel_known || !pay_known)
		*status = NX_PENDING;
	else if (strcmp(pay, "FULLY_REFUNDED") == 0)
		*status = NX_REFUNDED;
	else if (strcmp(pay, "PENDING") == 0)
		*status = NX_PENDING;
	else if (strcmp(pay, "FAILED") == 0)
		*status = NX_CANCELLED;
	else if (!ful_known)
		*status = NX_PENDING;
	else if (strcmp(ful, "NOT_STARTED") == 0)
		*status = NX_CONFIRMED;
	else if (strcmp(ful, "IN_PROGRESS") == 0)
		*status = NX_PROCESSING;
	else
		*status = NX_SHIPPED;

	*raw = nx_sprintf("%s/%s/%s", ful, pay, cancel);
	return *raw ? NX_OK : nx_fail(err, "out of memory");
}

/* ---------- one order ---------- */

/* The first ship-to, fulfillmentStartInstructions[0].shippingStep.shipTo, or NULL. */
static int
ebay_ship_to(const json_t *order, const json_t **ship_to, NxError *err)
{
	const json_t *instructions;
	const json_t *first;
	const json_t *step;

	*ship_to = NULL;
	if (get_array(order, "fulfillmentStartInstructions", "fulfillmentStartInstructions", false,
				  &instructions, err) != NX_OK)
		return NX_FAIL;
	first = json_array_get(instructions, 0);
	if (first == NULL || json_is_null(first))
		return NX_OK;
	if (!json_is_object(first))
		return nx_fail(err, "fulfillmentStartInstructions[0]: expected an object");
	if (get_object(first, "shippingStep", "fulfillmentStartInstructions[0].shippingStep", false,
				   &step, err) != NX_OK ||
		get_object(step, "shipTo", "fulfillmentStartInstructions[0].shippingStep.shipTo", false,
				   ship_to, err) != NX_OK)
		return NX_FAIL;
	return NX_OK;
}

static int
ebay_buyer(const json_t *order, NxOrder *o, NxError *err)
{
	const json_t *buyer;
	const json_t *reg = NULL;
	const json_t *ship_to;
	const json_t *address = NULL;
	const char *name = NULL;
	const char *email = NULL;
	const char *country = NULL;

	if (get_object(order, "buyer", "buyer", false, &buyer, err) != NX_OK ||
		get_object(buyer, "buyerRegistrationAddress", "buyer.buyerRegistrationAddress", false,
				   &reg, err) != NX_OK ||
		get_text(reg, "fullName", "buyer.buyerRegistrationAddress.fullName", &name, err) != NX_OK ||
		get_text(reg, "email", "buyer.buyerRegistrationAddress.email", &email, err) != NX_OK ||
		ebay_ship_to(order, &ship_to, err) != NX_OK)
		return NX_FAIL;

	if (ship_to)
	{
		const char *ship_name;
		const char *ship_email;

		if (get_text(ship_to, "fullName", "fulfillmentStartInstructions[0].shippingStep.shipTo.fullName",
					 &ship_name, err) != NX_OK ||
			get_text(ship_to, "email", "fulfillmentStartInstructions[0].shippingStep.shipTo.email",
					 &ship_email, err) != NX_OK ||
			get_object(ship_to, "contactAddress",
					   "fulfillmentStartInstructions[0].shippingStep.shipTo.contactAddress", false,
					   &address, err) != NX_OK ||
			get_text(address, "countryCode",
					 "fulfillmentStartInstructions[0].shippingStep.shipTo.contactAddress.countryCode",
					 &country, err) != NX_OK)
			return NX_FAIL;
		if (name == NULL)
			name = ship_name;
		if (email == NULL)
			email = ship_email;
		o->shipping_address = json_deep_copy(ship_to);
		if (o->shipping_address == NULL)
			return nx_fail(err, "out of memory");
	}
	if (dup_into(&o->buyer_name, name, err) != NX_OK ||
		dup_into(&o->buyer_email, email, err) != NX_OK)
		return NX_FAIL;
	if (country)
	{
		const char *alpha2 = nx_country_alpha2(country);

		if (alpha2)
			memcpy(o->ship_country, alpha2, 3);
		else
			nx_order_warn(o, "unknown eBay ship-to country code \"%.20s\"", country);
	}
	return NX_OK;
}

/*
 * The line items.  *remit_tax collects the lines' Collect-and-Remit taxes,
 * the tax figure when pricingSummary has none.
 */
static int
ebay_items(const json_t *order, NxOrder *o, NxMoney *remit_tax, NxError *err)
{
	const json_t *lines;
	size_t		i;
	const json_t *line;

	if (get_array(order, "lineItems", "lineItems", true, &lines, err) != NX_OK)
		return NX_FAIL;
	json_array_foreach(lines, i, line)
	{
		char		prefix[48];
		char		where[128];
		NxItem	   *it;
		const char *sku;
		const char *title;
		const json_t *taxes;
		size_t		k;
		const json_t *tax;

		snprintf(prefix, sizeof(prefix), "lineItems[%zu].", i);
		if (!json_is_object(line))
			return nx_fail(err, "lineItems[%zu]: expected an object", i);
		if ((it = nx_order_add_item(o)) == NULL)
			return nx_fail(err, "out of memory");

		snprintf(where, sizeof(where), "%slineItemId", prefix);
		if (get_id(line, "lineItemId", where, &it->external_item_id, err) != NX_OK)
			return NX_FAIL;
		snprintf(where, sizeof(where), "%ssku", prefix);
		if (get_text(line, "sku", where, &sku, err) != NX_OK ||
			dup_into(&it->sku, sku, err) != NX_OK)
			return NX_FAIL;
		snprintf(where, sizeof(where), "%stitle", prefix);
		if (get_string(line, "title", where, false, &title, err) != NX_OK ||
			dup_into(&it->title, title, err) != NX_OK)
			return NX_FAIL;
		snprintf(where, sizeof(where), "%squantity", prefix);
		if (get_quantity(line, "quantity", where, &it->quantity, err) != NX_OK)
			return NX_FAIL;

		/* lineItemCost is the line before discounts, as ordered */
		if (ebay_amount(line, prefix, "lineItemCost", o, &it->line_total, err) != NX_OK)
			return NX_FAIL;
		it->unit_price = nx_money_div(it->line_total, it->quantity);

		snprintf(where, sizeof(where), "%sebayCollectAndRemitTaxes", prefix);
		if (get_array(line, "ebayCollectAndRemitTaxes", where, false, &taxes, err) != NX_OK)
			return NX_FAIL;
		json_array_foreach(taxes, k, tax)
		{
			char		tax_prefix[96];
			NxMoney		amount;

			snprintf(tax_prefix, sizeof(tax_prefix), "%sebayCollectAndRemitTaxes[%zu].", prefix, k);
			if (!json_is_object(tax))
				return nx_fail(err, "%sebayCollectAndRemitTaxes[%zu]: expected an object", prefix, k);
			if (ebay_amount(tax, tax_prefix, "amount", o, &amount, err) != NX_OK ||
				money_accumulate(remit_tax, amount, "ebayCollectAndRemitTaxes", err) != NX_OK)
				return NX_FAIL;
		}
	}
	return NX_OK;
}

static int
ebay_normalize(const json_t *order, NxOrder *o, NxError *err)
{
	const char *order_number;
	const json_t *summary;
	char		unknown[NX_ERROR_MAX];
	NxMoney		price_discount;
	NxMoney		delivery_discount;
	NxMoney		remit_tax = {false, 0};

	if (!json_is_object(order))
		return nx_fail(err, "order: expected a JSON object");
	o->marketplace = "ebay";
	o->fulfillment_method = NX_FBM;
	if (get_id(order, "orderId", "orderId", &o->external_order_id, err) != NX_OK ||
		get_text(order, "legacyOrderId", "legacyOrderId", &order_number, err) != NX_OK ||
		dup_into(&o->order_number, order_number, err) != NX_OK)
		return NX_FAIL;

	if (ebay_status(order, &o->status, &o->marketplace_status, unknown, sizeof(unknown), err) != NX_OK)
		return NX_FAIL;
	if (unknown[0])
		nx_order_warn(o, "%s", unknown);

	if (get_object(order, "pricingSummary", "pricingSummary", true, &summary, err) != NX_OK ||
		ebay_currency(order, summary, o, err) != NX_OK ||
		ebay_amount(summary, "pricingSummary.", "priceSubtotal", o, &o->subtotal, err) != NX_OK ||
		ebay_amount(summary, "pricingSummary.", "priceDiscount", o, &price_discount, err) != NX_OK ||
		ebay_amount(summary, "pricingSummary.", "deliveryCost", o, &o->shipping_total, err) != NX_OK ||
		ebay_amount(summary, "pricingSummary.", "deliveryDiscount", o, &delivery_discount, err) != NX_OK ||
		ebay_amount(summary, "pricingSummary.", "tax", o, &o->tax_total, err) != NX_OK ||
		ebay_amount(summary, "pricingSummary.", "total", o, &o->total_amount, err) != NX_OK)
		return NX_FAIL;

	/*
	 * eBay writes discounts as negative amounts; the canonical discount is
	 * positive.  Taking the magnitude also keeps a stray positive value
	 * from turning into a surcharge.  No discount field means none: 0.00.
	 */
	o->discount_total = nx_money_add((NxMoney) {true, 0},
									 nx_money_add(money_abs(price_discount),
												  money_abs(delivery_discount)));

	if (get_time(order, "creationDate", "creationDate", &o->has_ordered_at, &o->ordered_at, err) != NX_OK ||
		get_time(order, "lastModifiedDate", "lastModifiedDate", &o->has_updated_at, &o->updated_at,
				 err) != NX_OK)
		return NX_FAIL;

	if (ebay_items(order, o, &remit_tax, err) != NX_OK ||
		ebay_buyer(order, o, err) != NX_OK)
		return NX_FAIL;

	if (!o->tax_total.present)
		o->tax_total = remit_tax;
	if (!o->subtotal.present)
	{
		/* nx_order_sum_lines without the overflow a hostile payload could cause */
		for (size_t i = 0; i < o->nitems; i++)
			if (money_accumulate(&o->subtotal, o->items[i].line_total, "lineItems", err) != NX_OK)
				return NX_FAIL;
	}
	if (!o->total_amount.present)
	{
		/* tax is on top of eBay prices wherever eBay reports it */
		NxMoney		total = nx_money_sub(nx_money_add(o->subtotal, o->shipping_total),
										 o->discount_total);

		o->total_amount = nx_money_add(total, o->tax_total);
	}
	return NX_OK;
}

static int
ebay_classify(const json_t *order, const char **status, const char **fulfillment,
			  char **marketplace_status, NxError *err)
{
	char		unknown[NX_ERROR_MAX];

	*marketplace_status = NULL;
	if (!json_is_object(order))
		return nx_fail(err, "order: expected a JSON object");
	*fulfillment = NX_FBM;
	return ebay_status(order, status, marketplace_status, unknown, sizeof(unknown), err);
}

/* ---------- a getOrders page ---------- */

static int
ebay_parse_page(const json_t *page, const json_t *headers, NxPage *out, NxError *err)
{
	const json_t *orders;
	const char *next;

	(void) headers;
	if (!json_is_object(page))
		return nx_fail(err, "page: expected a getOrders response object");
	orders = json_object_get(page, "orders");
	if (orders == NULL || json_is_null(orders))
	{
		/* eBay may leave orders out when nothing matches; anything else is not a page */
		if (json_object_get(page, "total") == NULL && json_object_get(page, "href") == NULL)
			return nx_fail(err, "orders: missing (expected a getOrders response)");
		return NX_OK;
	}
	if (!json_is_array(orders))
		return nx_fail(err, "orders: expected an array");
	if (get_string(page, "next", "next", false, &next, err) != NX_OK)
		return NX_FAIL;
	if (nx_page_normalize_each(out, orders, "ebay", ebay_normalize, "orderId") != NX_OK)
		return nx_fail(err, "orders: out of memory");

	/* An empty page ends the walk even if eBay still offers a next link. */
	if (next && *next && json_array_size(orders) > 0)
	{
		out->next_cursor = nx_strdup(next);
		if (out->next_cursor == NULL)
			return nx_fail(err, "next: out of memory");
	}
	return NX_OK;
}

/* ---------- webhooks ---------- */

static bool
is_base64_char(char c)
{
	return isalnum((unsigned char) c) || c == '+' || c == '/' || c == '=' || c == '-' || c == '_';
}

/*
 * A PEM public key in the layout OpenSSL reads (64-character lines),
 * from a PEM with or without line breaks (eBay's getPublicKey returns it
 * on one line) or from bare base64 DER.  malloc'd; NULL if it is neither.
 */
static char *
pem_rewrap(const char *key)
{
	const char *begin = strstr(key, "-----BEGIN ");
	const char *body = key;
	const char *end = key + strlen(key);
	char		label[40] = "PUBLIC KEY";
	char	   *b64;
	size_t		blen = 0;
	char	   *out;
	size_t		cap;
	size_t		n;

	if (begin)
	{
		const char *name = begin + strlen("-----BEGIN ");
		const char *name_end = strstr(name, "-----");

		if (name_end == NULL || name_end == name || (size_t) (name_end - name) >= sizeof(label))
			return NULL;
		for (const char *p = name; p < name_end; p++)
			if (!isupper((unsigned char) *p) && *p != ' ')
				return NULL;
		memcpy(label, name, name_end - name);
		label[name_end - name] = '\0';
		body = name_end + 5;
		end = strstr(body, "-----END ");
		if (end == NULL)
			return NULL;
	}
	if ((b64 = malloc(end - body + 1)) == NULL)
		return NULL;
	for (const char *p = body; p < end; p++)
	{
		if (isspace((unsigned char) *p))
			continue;
		if (!is_base64_char(*p))
		{
			free(b64);
			return NULL;
		}
		b64[blen++] = *p;
	}
	if (blen == 0)
	{
		free(b64);
		return NULL;
	}
	cap = 2 * strlen(label) + 40 + blen + blen / 64 + 2;
	if ((out = malloc(cap)) == NULL)
	{
		free(b64);
		return NULL;
	}
	n = (size_t) snprintf(out, cap, "-----BEGIN %s-----\n", label);
	for (size_t i = 0; i < blen; i += 64)
	{
		size_t		chunk = blen - i < 64 ? blen - i : 64;

		memcpy(out + n, b64 + i, chunk);
		n += chunk;
		out[n++] = '\n';
	}
	snprintf(out + n, cap - n, "-----END %s-----\n", label);
	free(b64);
	return out;
}

/* The digest named in the header, as nx_verify_signature spells it. */
static const char *
ebay_digest(const char *name)
{
	if (name == NULL || strcasecmp(name, "SHA1") == 0 || strcasecmp(name, "SHA-1") == 0)
		return "sha1";			/* eBay's only digest; its SDK ignores the field */
	if (strcasecmp(name, "SHA256") == 0 || strcasecmp(name, "SHA-256") == 0)
		return "sha256";
	return NULL;
}

static int
ebay_verify_webhook(const NxWebhookInput *in, NxError *err)
{
	const char *header = nx_header(in->headers, "x-ebay-signature");
	size_t		decoded_size;
	unsigned char *decoded = NULL;
	int			decoded_len;
	json_t	   *envelope = NULL;
	json_error_t jerr;
	const char *alg;
	const char *kid;
	const char *signature_b64;
	const char *digest_name;
	const char *digest;
	const char *pem;
	char	   *pem_fixed = NULL;
	unsigned char signature[1024];
	int			signature_len;
	NxError		inner = {{0}};
	int			rc = NX_FAIL;

	if (in->body == NULL)
		return nx_fail(err, "webhook body: missing");
	if (header == NULL || header[0] == '\0')
		return nx_fail(err, "X-EBAY-SIGNATURE header: missing");

	/* base64 of a JSON object {alg, kid, signature, digest} */
	decoded_size = strlen(header) / 4 * 3 + 4;
	if ((decoded = malloc(decoded_size)) == NULL)
		return nx_fail(err, "X-EBAY-SIGNATURE header: out of memory");
	decoded_len = nx_base64_decode(header, decoded, decoded_size);
	if (decoded_len <= 0)
	{
		nx_fail(err, "X-EBAY-SIGNATURE header: not base64");
		goto done;
	}
	envelope = json_loadb((const char *) decoded, (size_t) decoded_len, 0, &jerr);
	if (!json_is_object(envelope))
	{
		nx_fail(err, "X-EBAY-SIGNATURE header: not a base64 JSON object");
		goto done;
	}
	if (get_string(envelope, "alg", "X-EBAY-SIGNATURE alg", false, &alg, err) != NX_OK ||
		get_string(envelope, "kid", "X-EBAY-SIGNATURE kid", true, &kid, err) != NX_OK ||
		get_string(envelope, "signature", "X-EBAY-SIGNATURE signature", true, &signature_b64,
				   err) != NX_OK ||
		get_string(envelope, "digest", "X-EBAY-SIGNATURE digest", false, &digest_name, err) != NX_OK)
		goto done;
	if (alg && strcasecmp(alg, "ecdsa") != 0)
	{
		nx_fail(err, "X-EBAY-SIGNATURE alg: \"%.20s\" is not supported (expected ecdsa)", alg);
		goto done;
	}
	if ((digest = ebay_digest(digest_name)) == NULL)
	{
		nx_fail(err, "X-EBAY-SIGNATURE digest: \"%.20s\" is not supported", digest_name);
		goto done;
	}
	if (kid[0] == '\0')
	{
		nx_fail(err, "X-EBAY-SIGNATURE kid: empty");
		goto done;
	}

	pem = in->public_key ? in->public_key(in->ctx, kid) : NULL;
	if (pem == NULL)
	{
		nx_fail(err, "X-EBAY-SIGNATURE kid: unknown key id \"%.64s\"", kid);
		goto done;
	}
	if ((pem_fixed = pem_rewrap(pem)) == NULL)
	{
		nx_fail(err, "X-EBAY-SIGNATURE kid: the key for \"%.64s\" is not a PEM public key", kid);
		goto done;
	}
	signature_len = nx_base64_decode(signature_b64, signature, sizeof(signature));
	if (signature_len <= 0)
	{
		nx_fail(err, "X-EBAY-SIGNATURE signature: not base64");
		goto done;
	}
	if (nx_verify_signature(pem_fixed, digest, in->body, in->body_len, signature,
							(size_t) signature_len, &inner) != NX_OK)
	{
		nx_fail(err, "X-EBAY-SIGNATURE: %s", inner.msg);
		goto done;
	}
	rc = NX_OK;

done:
	free(decoded);
	free(pem_fixed);
	json_decref(envelope);
	return rc;
}

static int
ebay_parse_webhook(const json_t *body, const json_t *headers, NxWebhookEvent *out, NxError *err)
{
	const json_t *metadata;
	const json_t *notification;
	const json_t *data;
	const char *topic;

	(void) headers;
	if (!json_is_object(body))
		return nx_fail(err, "webhook body: expected a JSON object");
	if (get_object(body, "metadata", "metadata", false, &metadata, err) != NX_OK ||
		get_string(metadata, "topic", "metadata.topic", false, &topic, err) != NX_OK ||
		get_object(body, "notification", "notification", true, &notification, err) != NX_OK ||
		get_id(notification, "notificationId", "notification.notificationId", &out->event_id,
			   err) != NX_OK ||
		get_object(notification, "data", "notification.data", false, &data, err) != NX_OK ||
		dup_into(&out->topic, topic, err) != NX_OK)
		return NX_FAIL;

	/* ORDER_CONFIRMATION names the order; other topics (account deletion) do not */
	if (data && json_object_get(data, "orderId") &&
		get_id(data, "orderId", "notification.data.orderId", &out->order_id, err) != NX_OK)
		return NX_FAIL;
	out->order = NULL;			/* ids only: the consumer re-fetches the order */
	return NX_OK;
}

const NxAdapter nx_ebay_adapter = {
	"ebay",
	ebay_normalize,
	ebay_parse_page,
	ebay_classify,
	ebay_verify_webhook,
	ebay_parse_webhook
};
