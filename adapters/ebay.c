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
 * - Sync: the "next" href is sent as is, but only when it lies under
 *   api_base (same origin, at or below its path, no dot segments;
 *   nx_url_under): the
 *   bearer token goes with it.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"

#define EBAY_MAX_QUANTITY INT64_C(2147483647)

/* ---------- money ---------- */

static NxMoney
money_abs(NxMoney m)
{
	if (m.minor < 0)
		m.minor = -m.minor;
	return m;
}

/*
 * An eBay Amount {value, currency} at obj.key into *out at the order's
 * exponent.  Absent (or JSON null) is an absent amount.  Not
 * nx_json_opt_money: eBay names its amount "value", and a wrong type
 * gets a message that says what an Amount looks like.
 */
static int
ebay_amount(const json_t *obj, const char *prefix, const char *key, const NxOrder *o,
			NxMoney *out, NxError *err)
{
	char		where[160];
	const json_t *amount = json_object_get(obj, key);
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
	if (nx_json_opt_string(amount, "currency", where, &currency, err) != NX_OK)
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
			nx_json_opt_string(amount, "currency", where, &code, err) != NX_OK)
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
	if (nx_json_req_string(order, "orderFulfillmentStatus", NULL, &ful, err) != NX_OK ||
		nx_json_req_string(order, "orderPaymentStatus", NULL, &pay, err) != NX_OK ||
		nx_json_opt_object(order, "cancelStatus", NULL, &cancel_status, err) != NX_OK ||
		nx_json_opt_string(cancel_status, "cancelState", "cancelStatus.", &cancel, err) != NX_OK)
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
	if (nx_json_opt_array(order, "fulfillmentStartInstructions", NULL, &instructions,
						  err) != NX_OK)
		return NX_FAIL;
	first = json_array_get(instructions, 0);
	if (first == NULL || json_is_null(first))
		return NX_OK;
	if (!json_is_object(first))
		return nx_fail(err, "fulfillmentStartInstructions[0]: expected an object");
	if (nx_json_opt_object(first, "shippingStep", "fulfillmentStartInstructions[0].", &step,
						   err) != NX_OK ||
		nx_json_opt_object(step, "shipTo", "fulfillmentStartInstructions[0].shippingStep.",
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

	if (nx_json_opt_object(order, "buyer", NULL, &buyer, err) != NX_OK ||
		nx_json_opt_object(buyer, "buyerRegistrationAddress", "buyer.", &reg, err) != NX_OK ||
		nx_json_opt_text(reg, "fullName", "buyer.buyerRegistrationAddress.", &name, err) != NX_OK ||
		nx_json_opt_text(reg, "email", "buyer.buyerRegistrationAddress.", &email, err) != NX_OK ||
		ebay_ship_to(order, &ship_to, err) != NX_OK)
		return NX_FAIL;

	if (ship_to)
	{
		const char *at = "fulfillmentStartInstructions[0].shippingStep.shipTo.";
		const char *ship_name;
		const char *ship_email;

		if (nx_json_opt_text(ship_to, "fullName", at, &ship_name, err) != NX_OK ||
			nx_json_opt_text(ship_to, "email", at, &ship_email, err) != NX_OK ||
			nx_json_opt_object(ship_to, "contactAddress", at, &address, err) != NX_OK ||
			nx_json_opt_text(address, "countryCode",
							 "fulfillmentStartInstructions[0].shippingStep.shipTo.contactAddress.",
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
	if (nx_set_string(&o->buyer_name, name, err) != NX_OK ||
		nx_set_string(&o->buyer_email, email, err) != NX_OK)
		return NX_FAIL;
	if (!nx_order_set_ship_country(o, country))
		nx_order_warn(o, "unknown eBay ship-to country code \"%.20s\"", country);
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

	if (nx_json_req_array(order, "lineItems", NULL, &lines, err) != NX_OK)
		return NX_FAIL;
	json_array_foreach(lines, i, line)
	{
		char		prefix[48];
		NxItem	   *it;
		const char *sku;
		const json_t *taxes;
		size_t		k;
		const json_t *tax;

		snprintf(prefix, sizeof(prefix), "lineItems[%zu].", i);
		if (!json_is_object(line))
			return nx_fail(err, "lineItems[%zu]: expected an object", i);
		if ((it = nx_order_add_item(o)) == NULL)
			return nx_fail(err, "out of memory");

		if (nx_json_req_id(line, "lineItemId", prefix, &it->external_item_id, err) != NX_OK ||
			nx_json_opt_text(line, "sku", prefix, &sku, err) != NX_OK ||
			nx_set_string(&it->sku, sku, err) != NX_OK ||
			nx_json_opt_strdup(line, "title", prefix, &it->title, err) != NX_OK ||
			nx_json_req_int(line, "quantity", prefix, 1, EBAY_MAX_QUANTITY, &it->quantity,
							err) != NX_OK)
			return NX_FAIL;

		/* lineItemCost is the line before discounts, as ordered */
		if (ebay_amount(line, prefix, "lineItemCost", o, &it->line_total, err) != NX_OK)
			return NX_FAIL;
		it->unit_price = nx_money_div(it->line_total, it->quantity);

		if (nx_json_opt_array(line, "ebayCollectAndRemitTaxes", prefix, &taxes, err) != NX_OK)
			return NX_FAIL;
		json_array_foreach(taxes, k, tax)
		{
			char		tax_prefix[96];
			NxMoney		amount;

			snprintf(tax_prefix, sizeof(tax_prefix), "%sebayCollectAndRemitTaxes[%zu].", prefix, k);
			if (!json_is_object(tax))
				return nx_fail(err, "%sebayCollectAndRemitTaxes[%zu]: expected an object", prefix, k);
			if (ebay_amount(tax, tax_prefix, "amount", o, &amount, err) != NX_OK ||
				nx_money_accumulate(remit_tax, amount, "ebayCollectAndRemitTaxes", err) != NX_OK)
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
	if (nx_json_req_id(order, "orderId", NULL, &o->external_order_id, err) != NX_OK ||
		nx_json_opt_text(order, "legacyOrderId", NULL, &order_number, err) != NX_OK ||
		nx_set_string(&o->order_number, order_number, err) != NX_OK)
		return NX_FAIL;

	if (ebay_status(order, &o->status, &o->marketplace_status, unknown, sizeof(unknown), err) != NX_OK)
		return NX_FAIL;
	if (unknown[0])
		nx_order_warn(o, "%s", unknown);

	if (nx_json_req_object(order, "pricingSummary", NULL, &summary, err) != NX_OK ||
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

	if (nx_json_opt_time(order, "creationDate", NULL, &o->has_ordered_at, &o->ordered_at,
						 err) != NX_OK ||
		nx_json_opt_time(order, "lastModifiedDate", NULL, &o->has_updated_at, &o->updated_at,
						 err) != NX_OK)
		return NX_FAIL;

	if (ebay_items(order, o, &remit_tax, err) != NX_OK ||
		ebay_buyer(order, o, err) != NX_OK)
		return NX_FAIL;

	if (!o->tax_total.present)
		o->tax_total = remit_tax;
	if (!o->subtotal.present && nx_order_sum_lines_checked(o, "lineItems", err) != NX_OK)
		return NX_FAIL;
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
	if (nx_json_opt_string(page, "next", NULL, &next, err) != NX_OK)
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
	if (nx_json_opt_string(envelope, "alg", "X-EBAY-SIGNATURE alg", &alg, err) != NX_OK ||
		nx_json_req_string(envelope, "kid", "X-EBAY-SIGNATURE kid", &kid, err) != NX_OK ||
		nx_json_req_string(envelope, "signature", "X-EBAY-SIGNATURE signature", &signature_b64,
						   err) != NX_OK ||
		nx_json_opt_string(envelope, "digest", "X-EBAY-SIGNATURE digest", &digest_name,
						   err) != NX_OK)
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
	if (nx_pem_rewrap(pem, &pem_fixed) != NX_OK)
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
	if (nx_json_opt_object(body, "metadata", NULL, &metadata, err) != NX_OK ||
		nx_json_opt_string(metadata, "topic", "metadata.", &topic, err) != NX_OK ||
		nx_json_req_object(body, "notification", NULL, &notification, err) != NX_OK ||
		nx_json_req_id(notification, "notificationId", "notification.", &out->event_id,
					   err) != NX_OK ||
		nx_json_opt_object(notification, "data", "notification.", &data, err) != NX_OK ||
		nx_set_string(&out->topic, topic, err) != NX_OK)
		return NX_FAIL;

	/* ORDER_CONFIRMATION names the order; other topics (account deletion) do not */
	if (data && json_object_get(data, "orderId") &&
		nx_json_req_id(data, "orderId", "notification.data.", &out->order_id, err) != NX_OK)
		return NX_FAIL;
	out->order = NULL;			/* ids only: the consumer re-fetches the order */
	return NX_OK;
}

/* ---------- sync requests (doc/sync_protocol.md) ---------- */

#define EBAY_BASE "https://api.ebay.com"
#define EBAY_MAX_PAGE 200
/* getOrders searches the last 90 days only */
#define EBAY_MAX_DAYS_BACK 90
#define EBAY_ACCEPT "application/json"
#define EBAY_SCOPE "https://api.ebay.com/oauth/api_scope/sell.fulfillment"

static int
ebay_base_urls(const json_t *credentials, const char *region, char **api_base, char **auth_base,
			   NxError *err)
{
	(void) credentials;
	(void) region;				/* the site goes in no URL: one host serves them all */
	return nx_base_urls(EBAY_BASE, EBAY_BASE, api_base, auth_base, err);
}

/* The refresh-token grant for the sell.fulfillment scope, form-encoded, malloc'd. */
static char *
ebay_token_body(const char *refresh)
{
	char	   *e_refresh = nx_url_encode(refresh);
	char	   *e_scope = nx_url_encode(EBAY_SCOPE);
	char	   *body = NULL;

	if (e_refresh && e_scope)
		body = nx_sprintf("grant_type=refresh_token&refresh_token=%s&scope=%s", e_refresh,
						  e_scope);
	if (e_refresh)
		memset(e_refresh, 0, strlen(e_refresh));
	free(e_refresh);
	free(e_scope);
	return body;
}

static int
ebay_build_token(const NxSyncContext *ctx, NxRequest *out, NxError *err)
{
	const char *id;
	const char *secret;
	const char *refresh;
	char	   *body;

	if (nx_request_begin(ctx, "POST", ctx->auth_base, "auth_base", EBAY_ACCEPT, out,
						 err) != NX_OK ||
		nx_credential(ctx->credentials, "client_id", NULL, &id, err) != NX_OK ||
		nx_credential(ctx->credentials, "client_secret", NULL, &secret, err) != NX_OK ||
		nx_credential(ctx->credentials, "refresh_token", NULL, &refresh, err) != NX_OK ||
		nx_request_basic(out, id, secret, err) != NX_OK)
		return NX_FAIL;
	if ((out->url = nx_sprintf("%s/identity/v1/oauth2/token", ctx->auth_base)) == NULL ||
		nx_request_header(out, "Content-Type", "application/x-www-form-urlencoded") != NX_OK ||
		(body = ebay_token_body(refresh)) == NULL)
		return nx_fail(err, "token request: out of memory");
	nx_request_set_body(out, body, strlen(body));
	return NX_OK;
}

static int
ebay_token_request(const NxSyncContext *ctx, NxRequest *out, NxError *err)
{
	return nx_request_finish(out, ebay_build_token(ctx, out, err));
}

/* The first page: orders modified since, in the filter's millisecond form. */
static int
ebay_first_url(const NxSyncContext *ctx, int64_t since, char **url, NxError *err)
{
	char		when[32];
	int			n = nx_page_size(ctx, EBAY_MAX_PAGE);

	if (nx_check_since(since, err) != NX_OK)
		return NX_FAIL;
	nx_time_format(since, when, sizeof(when));
	/* "...:SSZ" becomes "...:SS.000Z" */
	*url = nx_sprintf("%s/sell/fulfillment/v1/order?filter=lastmodifieddate:%%5B%.19s.000Z..%%5D"
					  "&limit=%d&offset=0", ctx->api_base, when, n);
	if (*url == NULL)
		return nx_fail(err, "list request: out of memory");
	return NX_OK;
}

/*
 * A next page: eBay's "next" href, as is, but only on the API host: the
 * bearer token goes with it.
 */
static int
ebay_next_url(const NxSyncContext *ctx, const char *cursor, char **url, NxError *err)
{
	for (const unsigned char *p = (const unsigned char *) cursor; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return nx_fail(err, "next link: contains a space or control character");
	if (!nx_url_under(cursor, ctx->api_base))
		return nx_fail(err, "next link \"%.100s\" is not under the API base %.60s", cursor,
					   ctx->api_base);
	if ((*url = nx_strdup(cursor)) == NULL)
		return nx_fail(err, "list request: out of memory");
	return NX_OK;
}

static int
ebay_build_list(const NxSyncContext *ctx, int64_t since, const char *cursor, NxRequest *out,
				NxError *err)
{
	int			rc;

	if (nx_request_begin(ctx, "GET", ctx->api_base, "api_base", EBAY_ACCEPT, out, err) != NX_OK)
		return NX_FAIL;
	rc = cursor == NULL ? ebay_first_url(ctx, since, &out->url, err) :
		ebay_next_url(ctx, cursor, &out->url, err);
	if (rc != NX_OK)
		return NX_FAIL;
	return nx_request_access_token(ctx, "Authorization", "Bearer ", NULL, out, err);
}

static int
ebay_list_request(const NxSyncContext *ctx, int64_t since, const char *cursor, NxRequest *out,
				  NxError *err)
{
	return nx_request_finish(out, ebay_build_list(ctx, since, cursor, out, err));
}

/* ---------- webhook signing keys (doc/sync_protocol.md) ---------- */

/* The Notification API wants an application token, not the seller's: the base scope. */
#define EBAY_APP_SCOPE "https://api.ebay.com/oauth/api_scope"
/* eBay asks clients to cache a key for about an hour. */
#define EBAY_KEY_TTL 3600
/* A key id is a UUID; anything far longer is not one. */
#define EBAY_KEY_ID_MAX 128

static int
ebay_build_app_token(const NxSyncContext *ctx, NxRequest *out, NxError *err)
{
	const char *id;
	const char *secret;
	char	   *scope;
	char	   *body = NULL;

	if (nx_request_begin(ctx, "POST", ctx->auth_base, "auth_base", EBAY_ACCEPT, out,
						 err) != NX_OK ||
		nx_credential(ctx->credentials, "client_id", NULL, &id, err) != NX_OK ||
		nx_credential(ctx->credentials, "client_secret", NULL, &secret, err) != NX_OK ||
		nx_request_basic(out, id, secret, err) != NX_OK)
		return NX_FAIL;
	if ((scope = nx_url_encode(EBAY_APP_SCOPE)) != NULL)
		body = nx_sprintf("grant_type=client_credentials&scope=%s", scope);
	free(scope);
	if (body == NULL ||
		(out->url = nx_sprintf("%s/identity/v1/oauth2/token", ctx->auth_base)) == NULL ||
		nx_request_header(out, "Content-Type", "application/x-www-form-urlencoded") != NX_OK)
	{
		free(body);
		return nx_fail(err, "token request: out of memory");
	}
	nx_request_set_body(out, body, strlen(body));
	return NX_OK;
}

static int
ebay_key_token_request(const NxSyncContext *ctx, NxRequest *out, NxError *err)
{
	return nx_request_finish(out, ebay_build_app_token(ctx, out, err));
}

/* getPublicKey: GET /commerce/notification/v1/public_key/{key id}, the id one path segment. */
static int
ebay_build_key(const NxSyncContext *ctx, const char *key_id, NxRequest *out, NxError *err)
{
	char	   *segment;

	if (nx_request_begin(ctx, "GET", ctx->api_base, "api_base", EBAY_ACCEPT, out, err) != NX_OK ||
		nx_check_segment(key_id, "key id", err) != NX_OK)
		return NX_FAIL;
	if (strlen(key_id) > EBAY_KEY_ID_MAX)
		return nx_fail(err, "key id: longer than %d characters", EBAY_KEY_ID_MAX);
	if ((segment = nx_url_encode(key_id)) != NULL)
		out->url = nx_sprintf("%s/commerce/notification/v1/public_key/%s", ctx->api_base, segment);
	free(segment);
	if (out->url == NULL)
		return nx_fail(err, "key request: out of memory");
	return nx_request_access_token(ctx, "Authorization", "Bearer ", NULL, out, err);
}

static int
ebay_key_request(const NxSyncContext *ctx, const char *key_id, NxRequest *out, NxError *err)
{
	return nx_request_finish(out, ebay_build_key(ctx, key_id, out, err));
}

/*
 * {"key": PEM, "algorithm": "ECDSA", "digest": "SHA1"}: one key, named by
 * the request only.  The PEM comes on one line; it is stored rewrapped.
 * Another algorithm would never verify an ECDSA signature: refused here.
 */
static int
ebay_parse_keys(const char *body, size_t len, const char *key_id, NxWebhookKeys *out,
				NxError *err)
{
	json_error_t jerr;
	json_t	   *doc = nx_json_loadb(body, len, &jerr);
	const char *key;
	const char *algorithm;
	const char *digest;
	char	   *pem = NULL;
	int			rc = NX_FAIL;

	if (key_id == NULL || key_id[0] == '\0')
		nx_fail(err, "key id: missing");
	else if (doc == NULL)
		nx_fail(err, "public key response: not JSON (%s)", jerr.text);
	else if (!json_is_object(doc))
		nx_fail(err, "public key response: expected a JSON object");
	else if (nx_json_req_string(doc, "key", NULL, &key, err) == NX_OK &&
			 nx_json_opt_string(doc, "algorithm", NULL, &algorithm, err) == NX_OK &&
			 nx_json_opt_string(doc, "digest", NULL, &digest, err) == NX_OK)
	{
		if (algorithm && strcasecmp(algorithm, "ECDSA") != 0)
			nx_fail(err, "algorithm: \"%.20s\" is not supported (expected ECDSA)", algorithm);
		else if (digest && ebay_digest(digest) == NULL)
			nx_fail(err, "digest: \"%.20s\" is not supported", digest);
		else if (nx_public_key_pem(key, "EC", "key", &pem, err) == NX_OK)
			rc = nx_webhook_keys_add(out, key_id, pem, err);
	}
	free(pem);
	json_decref(doc);
	return rc;
}

/* A 429 comes without headers that say how long: back off. */
static void
ebay_throttle(int status, const json_t *headers, int64_t now_ms, NxThrottle *out)
{
	(void) status;
	(void) headers;
	(void) now_ms;
	out->wait_ms = -1;
}

const NxAdapter nx_ebay_adapter = {
	.name = "ebay",
	.keys = &nx_ebay_keys,
	.normalize = ebay_normalize,
	.parse_page = ebay_parse_page,
	.classify = ebay_classify,
	.verify_webhook = ebay_verify_webhook,
	.parse_webhook = ebay_parse_webhook,
	.max_page_size = EBAY_MAX_PAGE,
	.lag_seconds = 0,
	.max_days_back = EBAY_MAX_DAYS_BACK,
	.base_urls = ebay_base_urls,
	.token_request = ebay_token_request,
	.list_request = ebay_list_request,
	/* getOrders returns whole orders: nothing to fetch per order */
	.detail_request = NULL,
	.page_orders = NULL,
	.detail_merge = NULL,
	.throttle = ebay_throttle,
	.key_token_request = ebay_key_token_request,
	.key_request = ebay_key_request,
	.parse_keys = ebay_parse_keys,
	.keys_listed = false,
	.key_ttl_seconds = EBAY_KEY_TTL,
};
