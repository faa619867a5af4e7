/*-------------------------------------------------------------------------
 *
 * test_ebay.c
 *	  The eBay adapter against the shared fixtures: canonical orders,
 *	  getOrders pages, statuses, money, malformed input and the
 *	  Notification API signature.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "unit.h"

#define EBAY_KID "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

/* ---------- helpers ---------- */

/* All five fixture orders, in page order. */
static json_t *
fixture_orders(void)
{
	json_t	   *all = json_array();
	json_t	   *p1 = nx_fixture_json("ebay/orders_page1.json");
	json_t	   *p2 = nx_fixture_json("ebay/orders_page2.json");

	json_array_extend(all, json_object_get(p1, "orders"));
	json_array_extend(all, json_object_get(p2, "orders"));
	json_decref(p1);
	json_decref(p2);
	return all;
}

/* A copy of one fixture order by id. */
static json_t *
fixture_order(const char *id)
{
	json_t	   *all = fixture_orders();
	json_t	   *found = NULL;
	size_t		i;
	json_t	   *o;

	json_array_foreach(all, i, o)
	{
		if (strcmp(json_string_value(json_object_get(o, "orderId")), id) == 0)
			found = json_deep_copy(o);
	}
	json_decref(all);
	if (found == NULL)
		nx_test_fail(__FILE__, __LINE__, "no fixture order %s", id);
	return found;
}

/* The expected canonical records for the given ids (NULL-terminated). */
static json_t *
expected_for(const char *const *ids)
{
	json_t	   *want = nx_fixture_json("ebay/expected_canonical.json");
	json_t	   *out = json_array();

	for (int k = 0; ids[k]; k++)
	{
		size_t		i;
		json_t	   *o;

		json_array_foreach(want, i, o)
		{
			if (strcmp(json_string_value(json_object_get(o, "external_order_id")), ids[k]) == 0)
				json_array_append(out, o);
		}
	}
	json_decref(want);
	return out;
}

/* Normalize and expect NX_FAIL with an error naming the field. */
#define EXPECT_FAIL(order, want) CHECK_NORMALIZE_FAILS(&nx_ebay_adapter, (order), (want))

/* Mutate a copy of a fixture order at path, and expect the error to name want. */
static void
expect_fail_with(const char *file, int line, const char *id, const char *path, json_t *value,
				 const char *want)
{
	json_t	   *o = fixture_order(id);

	nx_set_path(o, path, value);
	nx_check_normalize_fails(file, line, &nx_ebay_adapter, o, want);
	json_decref(o);
}
#define EXPECT_FAIL_WITH(id, path, value, want) \
	expect_fail_with(__FILE__, __LINE__, (id), (path), (value), (want))

typedef struct Webhook
{
	char	   *body;
	size_t		body_len;
	json_t	   *headers;
	char	   *pem;			/* test_public_key.pem */
	char	   *one_line_pem;	/* as getPublicKey returns it */
	char	   *signature_header;	/* the fixture's X-EBAY-SIGNATURE */
	NxTestKey	keys;
	NxWebhookInput in;
} Webhook;

static void
webhook_load(Webhook *w)
{
	json_t	   *resp = nx_fixture_json("ebay/public_key_response.json");

	memset(w, 0, sizeof(*w));
	nx_fixture_webhook("ebay/webhook_order_confirmation", &w->in, &w->body, &w->headers);
	w->body_len = w->in.body_len;
	w->pem = nx_fixture_bytes("ebay/test_public_key.pem", NULL);
	w->one_line_pem = nx_strdup(json_string_value(json_object_get(resp, "key")));
	w->signature_header = nx_strdup(nx_header(w->headers, "x-ebay-signature"));
	json_decref(resp);
	CHECK(w->body != NULL && w->pem != NULL && w->one_line_pem != NULL);
	w->keys.key_id = EBAY_KID;
	w->keys.pem = w->one_line_pem;
	w->in.public_key = nx_test_key_lookup;
	w->in.ctx = &w->keys;
	w->in.now = 1741701739;
}

static void
webhook_free(Webhook *w)
{
	free(w->body);
	free(w->pem);
	free(w->one_line_pem);
	free(w->signature_header);
	json_decref(w->headers);
}

static int
verify(const Webhook *w, NxError *err)
{
	memset(err, 0, sizeof(*err));
	return nx_ebay_adapter.verify_webhook(&w->in, err);
}

#define CHECK_VERIFY_FAILS(w, want) CHECK_WEBHOOK_FAILS(&nx_ebay_adapter, &(w)->in, (want))

/* Replace X-EBAY-SIGNATURE with base64 of the given envelope JSON text. */
static void
set_envelope(Webhook *w, const char *envelope_json)
{
	char		header[2048];

	nx_base64_encode((const unsigned char *) envelope_json, strlen(envelope_json), header,
					 sizeof(header));
	json_object_set_new(w->headers, "x-ebay-signature", json_string(header));
}

/* The fixture's envelope, decoded. */
static json_t *
fixture_envelope(const Webhook *w)
{
	unsigned char buf[1024];
	int			n = nx_base64_decode(w->signature_header, buf, sizeof(buf));
	json_error_t jerr;

	CHECK(n > 0);
	return json_loadb((const char *) buf, n > 0 ? (size_t) n : 0, 0, &jerr);
}

static void
set_envelope_json(Webhook *w, const json_t *env)
{
	char	   *text = json_dumps(env, JSON_COMPACT);

	set_envelope(w, text);
	free(text);
}

/* ---------- canonical orders ---------- */

NX_TEST(ebay_every_fixture_order_is_canonical)
{
	json_t	   *orders = fixture_orders();
	json_t	   *want = nx_fixture_json("ebay/expected_canonical.json");
	json_t	   *got = json_array();

	CHECK_INT(json_array_size(orders), 5);
	nx_normalize_each(&nx_ebay_adapter, orders, got);
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
	json_decref(orders);
}

NX_TEST(ebay_fixture_orders_have_no_warning_and_keep_the_ship_to)
{
	json_t	   *orders = fixture_orders();
	size_t		i;
	json_t	   *o;

	json_array_foreach(orders, i, o)
	{
		const json_t *ship_to = nx_json_path(json_array_get(json_object_get(o, "fulfillmentStartInstructions"), 0),
											 "shippingStep.shipTo");
		NxOrder		n;

		CHECK(ship_to != NULL);
		if (NORMALIZE_OK(&nx_ebay_adapter, o, &n))
		{
			CHECK(n.warning == NULL);
			CHECK(n.shipping_address != NULL && json_equal(n.shipping_address, (json_t *) ship_to));
			/* a copy: the order's JSON may be freed before the row is written */
			CHECK(n.shipping_address != ship_to);
		}
		nx_order_free(&n);
	}
	json_decref(orders);
}

/* ---------- pages ---------- */

NX_TEST(ebay_page1_normalizes_every_order_and_follows_next)
{
	json_t	   *page = nx_fixture_json("ebay/orders_page1.json");
	const char *const ids[] = {"03-12744-58812", "24-12801-33107", "11-12790-04410", NULL};
	json_t	   *want = expected_for(ids);
	NxPage		p;
	NxError		err = {{0}};
	json_t	   *got;

	nx_page_init(&p);
	CHECK(nx_ebay_adapter.parse_page(page, NULL, &p, &err) == NX_OK);
	CHECK_INT(p.norders, 3);
	CHECK_INT(p.nfailed, 0);
	CHECK_INT(p.ndetail_ids, 0);
	CHECK_STR(p.next_cursor, json_string_value(json_object_get(page, "next")));
	CHECK(p.next_cursor && strstr(p.next_cursor, "offset=3") != NULL);
	got = json_array();
	nx_append_page_orders(got, &p);
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
	nx_page_free(&p);
	json_decref(page);
}

NX_TEST(ebay_page2_is_the_last_page)
{
	json_t	   *page = nx_fixture_json("ebay/orders_page2.json");
	const char *const ids[] = {"17-12755-99013", "09-12766-40251", NULL};
	json_t	   *want = expected_for(ids);
	NxPage		p;
	NxError		err = {{0}};
	json_t	   *got;

	nx_page_init(&p);
	CHECK(nx_ebay_adapter.parse_page(page, NULL, &p, &err) == NX_OK);
	CHECK_INT(p.norders, 2);
	CHECK_INT(p.nfailed, 0);
	CHECK(p.next_cursor == NULL);	/* prev only */
	got = json_array();
	nx_append_page_orders(got, &p);
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
	nx_page_free(&p);
	json_decref(page);
}

NX_TEST(ebay_empty_page_ends_the_walk)
{
	json_t	   *page = nx_fixture_json("ebay/orders_page3_empty.json");
	NxPage		p;
	NxError		err = {{0}};

	nx_page_init(&p);
	CHECK(nx_ebay_adapter.parse_page(page, NULL, &p, &err) == NX_OK);
	CHECK_INT(p.norders, 0);
	CHECK_INT(p.nfailed, 0);
	CHECK(p.next_cursor == NULL);
	nx_page_free(&p);

	/* even when eBay still offers a next link on an empty page */
	json_object_set_new(page, "next", json_string("https://api.ebay.com/sell/fulfillment/v1/order?offset=9"));
	nx_page_init(&p);
	CHECK(nx_ebay_adapter.parse_page(page, NULL, &p, &err) == NX_OK);
	CHECK(p.next_cursor == NULL);
	nx_page_free(&p);
	json_decref(page);

	/* nothing matched: eBay may leave orders out */
	page = json_pack("{s:i, s:i}", "total", 0, "limit", 50);
	nx_page_init(&p);
	CHECK(nx_ebay_adapter.parse_page(page, NULL, &p, &err) == NX_OK);
	CHECK_INT(p.norders, 0);
	CHECK(p.next_cursor == NULL);
	nx_page_free(&p);
	json_decref(page);
}

NX_TEST(ebay_page_bad_order_fails_alone)
{
	json_t	   *page = nx_fixture_json("ebay/orders_page1.json");
	NxPage		p;
	NxError		err = {{0}};

	nx_set_path(page, "orders.1.lineItems.0.quantity", json_string("many"));
	nx_set_path(page, "orders.2.orderId", NULL);
	nx_page_init(&p);
	CHECK(nx_ebay_adapter.parse_page(page, NULL, &p, &err) == NX_OK);
	CHECK_INT(p.norders, 1);
	CHECK_STR(p.orders[0].external_order_id, "03-12744-58812");
	CHECK_INT(p.nfailed, 2);
	if (p.nfailed == 2)
	{
		CHECK_STR(p.failed[0].external_order_id, "24-12801-33107");
		CHECK(strstr(p.failed[0].error, "lineItems[0].quantity") != NULL);
		CHECK(p.failed[1].external_order_id == NULL);
		CHECK(strstr(p.failed[1].error, "orderId") != NULL);
	}
	CHECK(p.next_cursor != NULL);
	nx_page_free(&p);
	json_decref(page);
}

NX_TEST(ebay_page_rejects_what_is_not_a_page)
{
	const char *bodies[] = {
		"[]", "\"orders\"", "{\"errors\": [{\"errorId\": 1001}]}", "{\"orders\": {}}",
		"{\"orders\": [], \"next\": 3}", NULL
	};
	const char *want[] = {"getOrders", "getOrders", "orders", "orders: expected an array", "next"};

	for (int i = 0; bodies[i]; i++)
	{
		json_t	   *page = nx_parse_json(bodies[i]);

		CHECK_PAGE_FAILS(&nx_ebay_adapter, page, NULL, want[i]);
		json_decref(page);
	}
}

/* ---------- statuses ---------- */

typedef struct StatusCase
{
	const char *fulfillment;
	const char *payment;
	const char *cancel;			/* NULL: no cancelStatus at all */
	const char *want;
	const char *unknown;		/* raw value the warning must quote, or NULL */
} StatusCase;

NX_TEST(ebay_classify_every_documented_status)
{
	static const StatusCase cases[] = {
		{"NOT_STARTED", "PAID", "NONE_REQUESTED", NX_CONFIRMED, NULL},
		{"IN_PROGRESS", "PAID", "NONE_REQUESTED", NX_PROCESSING, NULL},
		{"FULFILLED", "PAID", "NONE_REQUESTED", NX_SHIPPED, NULL},
		{"NOT_STARTED", "PENDING", "NONE_REQUESTED", NX_PENDING, NULL},
		{"NOT_STARTED", "FAILED", "NONE_REQUESTED", NX_CANCELLED, NULL},
		{"FULFILLED", "FULLY_REFUNDED", "NONE_REQUESTED", NX_REFUNDED, NULL},
		{"NOT_STARTED", "FULLY_REFUNDED", "NONE_REQUESTED", NX_REFUNDED, NULL},
		{"FULFILLED", "PARTIALLY_REFUNDED", "NONE_REQUESTED", NX_SHIPPED, NULL},
		{"NOT_STARTED", "PAID", "IN_PROGRESS", NX_CONFIRMED, NULL},
		{"NOT_STARTED", "FULLY_REFUNDED", "CANCELED", NX_CANCELLED, NULL},
		{"IN_PROGRESS", "PAID", "CANCELED", NX_CANCELLED, NULL},
		{"FULFILLED", "PAID", NULL, NX_SHIPPED, NULL},
		/* values eBay does not document: pending, with the raw value in a warning */
		{"ON_HOLD", "PAID", "NONE_REQUESTED", NX_PENDING, "ON_HOLD"},
		{"FULFILLED", "DISPUTED", "NONE_REQUESTED", NX_PENDING, "DISPUTED"},
		{"FULFILLED", "PAID", "CANCEL_PENDING", NX_PENDING, "CANCEL_PENDING"},
		/* a known cancellation still decides; the unknown value is reported */
		{"MYSTERY", "PAID", "CANCELED", NX_CANCELLED, "MYSTERY"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		const StatusCase *c = &cases[i];
		json_t	   *order = fixture_order("24-12801-33107");
		const char *status = NULL;
		const char *fulfillment = NULL;
		char	   *raw = NULL;
		char		want_raw[128];
		NxError		err = {{0}};
		NxOrder		o;

		nx_set_path(order, "orderFulfillmentStatus", json_string(c->fulfillment));
		nx_set_path(order, "orderPaymentStatus", json_string(c->payment));
		if (c->cancel)
			nx_set_path(order, "cancelStatus.cancelState", json_string(c->cancel));
		else
			nx_set_path(order, "cancelStatus", NULL);
		snprintf(want_raw, sizeof(want_raw), "%s/%s/%s", c->fulfillment, c->payment,
				 c->cancel ? c->cancel : "NONE_REQUESTED");

		CHECK(nx_ebay_adapter.classify(order, &status, &fulfillment, &raw, &err) == NX_OK);
		CHECK_STR(status, c->want);
		CHECK_STR(fulfillment, NX_FBM);
		CHECK_STR(raw, want_raw);
		free(raw);

		if (NORMALIZE_OK(&nx_ebay_adapter, order, &o))
		{
			CHECK_STR(o.status, c->want);
			CHECK_STR(o.marketplace_status, want_raw);
			if (c->unknown)
				CHECK(o.warning != NULL && strstr(o.warning, c->unknown) != NULL);
			else
				CHECK(o.warning == NULL);
		}
		nx_order_free(&o);
		json_decref(order);
	}
}

NX_TEST(ebay_classify_needs_the_status_fields)
{
	json_t	   *order = fixture_order("24-12801-33107");
	const char *status;
	const char *fulfillment;
	char	   *raw = (char *) "untouched";
	NxError		err = {{0}};

	nx_set_path(order, "orderPaymentStatus", NULL);
	CHECK(nx_ebay_adapter.classify(order, &status, &fulfillment, &raw, &err) == NX_FAIL);
	CHECK(raw == NULL);
	CHECK(strstr(err.msg, "orderPaymentStatus") != NULL);
	nx_set_path(order, "orderPaymentStatus", json_string("PAID"));
	nx_set_path(order, "orderFulfillmentStatus", json_integer(3));
	CHECK(nx_ebay_adapter.classify(order, &status, &fulfillment, &raw, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "orderFulfillmentStatus") != NULL);
	CHECK(nx_ebay_adapter.classify(json_null(), &status, &fulfillment, &raw, &err) == NX_FAIL);
	json_decref(order);
}

/* ---------- money, optional fields, names, quantities ---------- */

NX_TEST(ebay_money_is_exact)
{
	json_t	   *order = fixture_order("03-12744-58812");
	json_t	   *c;

	/* the fixture's own: "45.2", "38.7", negative discounts */
	c = nx_normalize_json(&nx_ebay_adapter, order);
	CHECK_STR(nx_json_str(c, "subtotal"), "45.20");
	CHECK_STR(nx_json_str(c, "discount_total"), "8.82");
	CHECK_STR(nx_json_str(c, "shipping_total"), "4.95");
	CHECK_STR(nx_json_str(c, "total_amount"), "41.33");
	CHECK(json_is_null(json_object_get(c, "tax_total")));
	CHECK_STR(nx_json_str(json_array_get(json_object_get(c, "items"), 0), "line_total"), "38.70");
	CHECK_STR(nx_json_str(json_array_get(json_object_get(c, "items"), 0), "unit_price"), "12.90");
	json_decref(c);

	/* more decimals than the currency: half up; a bare integer; a JSON number */
	nx_set_path(order, "pricingSummary.priceSubtotal.value", json_string("45.205"));
	nx_set_path(order, "pricingSummary.priceDiscount.value", json_string("-0.1"));
	nx_set_path(order, "pricingSummary.deliveryDiscount", NULL);
	nx_set_path(order, "pricingSummary.deliveryCost.value", json_string("5"));
	nx_set_path(order, "pricingSummary.total.value", json_real(50.1));
	nx_set_path(order, "lineItems.1.lineItemCost.value", json_string("0.005"));
	c = nx_normalize_json(&nx_ebay_adapter, order);
	CHECK_STR(nx_json_str(c, "subtotal"), "45.21");
	CHECK_STR(nx_json_str(c, "discount_total"), "0.10");
	CHECK_STR(nx_json_str(c, "shipping_total"), "5.00");
	CHECK_STR(nx_json_str(c, "total_amount"), "50.10");
	CHECK_STR(nx_json_str(json_array_get(json_object_get(c, "items"), 1), "line_total"), "0.01");
	json_decref(c);

	/* a discount sent positive by mistake is still a discount */
	nx_set_path(order, "pricingSummary.priceDiscount.value", json_string("2.5"));
	c = nx_normalize_json(&nx_ebay_adapter, order);
	CHECK_STR(nx_json_str(c, "discount_total"), "2.50");
	json_decref(c);
	json_decref(order);
}

NX_TEST(ebay_tax_falls_back_to_collect_and_remit)
{
	json_t	   *order = fixture_order("24-12801-33107");
	json_t	   *c;

	nx_set_path(order, "pricingSummary.tax", NULL);
	c = nx_normalize_json(&nx_ebay_adapter, order);
	CHECK_STR(nx_json_str(c, "tax_total"), "3.76");
	json_decref(c);

	/* no tax anywhere: null, not 0.00 */
	nx_set_path(order, "lineItems.0.ebayCollectAndRemitTaxes", NULL);
	c = nx_normalize_json(&nx_ebay_adapter, order);
	CHECK(json_is_null(json_object_get(c, "tax_total")));
	json_decref(c);
	json_decref(order);
}

NX_TEST(ebay_totals_are_computed_when_missing)
{
	json_t	   *order = fixture_order("09-12766-40251");
	json_t	   *c;

	/* subtotal from the lines; total = subtotal + shipping - discount + tax */
	nx_set_path(order, "pricingSummary.total", NULL);
	nx_set_path(order, "pricingSummary.priceSubtotal", NULL);
	c = nx_normalize_json(&nx_ebay_adapter, order);
	CHECK_STR(nx_json_str(c, "currency"), "USD");
	CHECK_STR(nx_json_str(c, "subtotal"), "1200.00");
	CHECK_STR(nx_json_str(c, "total_amount"), "1397.10");
	json_decref(c);

	/* the currency can come from a line when pricingSummary names none */
	nx_set_path(order, "pricingSummary", json_pack("{}"));
	c = nx_normalize_json(&nx_ebay_adapter, order);
	CHECK_STR(nx_json_str(c, "currency"), "USD");
	CHECK_STR(nx_json_str(c, "subtotal"), "1200.00");
	CHECK_STR(nx_json_str(c, "total_amount"), "1307.15");	/* tax on top */
	CHECK(json_is_null(json_object_get(c, "shipping_total")));
	CHECK_STR(nx_json_str(c, "tax_total"), "107.15");		/* Collect-and-Remit */
	json_decref(c);

	/* no amount names a currency: nothing can be trusted */
	nx_set_path(order, "lineItems.0.lineItemCost", NULL);
	EXPECT_FAIL(order, "currency");
	json_decref(order);
}

NX_TEST(ebay_missing_optional_fields_are_null)
{
	json_t	   *order = fixture_order("09-12766-40251");
	json_t	   *c = nx_normalize_json(&nx_ebay_adapter, order);
	json_t	   *item = json_array_get(json_object_get(c, "items"), 0);
	json_error_t jerr;
	json_t	   *minimal;
	NxOrder		o;

	/* no SKU, no registration address, no ship-to e-mail */
	CHECK(json_is_null(json_object_get(item, "sku")));
	CHECK(json_is_null(json_object_get(c, "buyer_email")));
	CHECK_STR(nx_json_str(c, "buyer_name"), "Acme Fasteners LLC");
	CHECK_STR(nx_json_str(c, "ship_country"), "US");
	json_decref(c);
	json_decref(order);

	/* the least an order can carry */
	minimal = json_loads("{\"orderId\": \"01-00000-00001\", \"orderFulfillmentStatus\": \"NOT_STARTED\","
						 " \"orderPaymentStatus\": \"PAID\","
						 " \"pricingSummary\": {\"total\": {\"value\": \"10.0\", \"currency\": \"USD\"}},"
						 " \"lineItems\": [{\"lineItemId\": \"1\", \"quantity\": 2}]}", 0, &jerr);
	c = nx_normalize_json(&nx_ebay_adapter, minimal);
	CHECK_STR(nx_json_str(c, "total_amount"), "10.00");
	CHECK_STR(nx_json_str(c, "discount_total"), "0.00");
	CHECK_STR(nx_json_str(c, "status"), NX_CONFIRMED);
	CHECK_STR(nx_json_str(c, "marketplace_status"), "NOT_STARTED/PAID/NONE_REQUESTED");
	{
		static const char *const nulls[] = {
			"order_number", "subtotal", "tax_total", "shipping_total", "ordered_at", "updated_at",
			"buyer_email", "buyer_name", "ship_country", NULL
		};

		for (int i = 0; nulls[i]; i++)
			if (!json_is_null(json_object_get(c, nulls[i])))
				nx_test_fail(__FILE__, __LINE__, "%s is not null", nulls[i]);
	}
	item = json_array_get(json_object_get(c, "items"), 0);
	CHECK(json_is_null(json_object_get(item, "sku")));
	CHECK(json_is_null(json_object_get(item, "title")));
	CHECK(json_is_null(json_object_get(item, "unit_price")));
	CHECK(json_is_null(json_object_get(item, "line_total")));
	CHECK_INT(json_integer_value(json_object_get(item, "quantity")), 2);
	json_decref(c);
	if (NORMALIZE_OK(&nx_ebay_adapter, minimal, &o))
		CHECK(o.shipping_address == NULL);
	nx_order_free(&o);

	/* blank strings count as absent */
	nx_set_path(minimal, "buyer", json_pack("{s:{s:s, s:s}}", "buyerRegistrationAddress", "fullName", "",
											"email", ""));
	c = nx_normalize_json(&nx_ebay_adapter, minimal);
	CHECK(json_is_null(json_object_get(c, "buyer_name")));
	CHECK(json_is_null(json_object_get(c, "buyer_email")));
	json_decref(c);
	json_decref(minimal);
}

NX_TEST(ebay_buyer_falls_back_field_by_field)
{
	json_t	   *order = fixture_order("03-12744-58812");
	json_t	   *c;

	nx_set_path(order, "buyer.buyerRegistrationAddress.email", NULL);
	nx_set_path(order, "fulfillmentStartInstructions.0.shippingStep.shipTo.email",
				json_string("relay@members.ebay.com"));
	nx_set_path(order, "fulfillmentStartInstructions.0.shippingStep.shipTo.fullName", json_string("Other Name"));
	c = nx_normalize_json(&nx_ebay_adapter, order);
	CHECK_STR(nx_json_str(c, "buyer_email"), "relay@members.ebay.com");
	CHECK_STR(nx_json_str(c, "buyer_name"), "J\xc3\xbcrgen Gro\xc3\x9f");
	json_decref(c);

	/* an unknown country is kept out, with a warning */
	nx_set_path(order, "fulfillmentStartInstructions.0.shippingStep.shipTo.contactAddress.countryCode",
				json_string("QQ"));
	{
		NxOrder		o;

		if (NORMALIZE_OK(&nx_ebay_adapter, order, &o))
		{
			CHECK_STR(o.ship_country, "");
			CHECK(o.warning && strstr(o.warning, "QQ"));
		}
		nx_order_free(&o);
	}
	json_decref(order);
}

NX_TEST(ebay_non_ascii_is_byte_for_byte)
{
	json_t	   *order = fixture_order("03-12744-58812");
	json_t	   *c = nx_normalize_json(&nx_ebay_adapter, order);
	json_t	   *items = json_object_get(c, "items");

	CHECK_STR(nx_json_str(c, "buyer_name"), "J\xc3\xbcrgen Gro\xc3\x9f");
	CHECK_STR(nx_json_str(json_array_get(items, 0), "title"),
			  "Edelstahlschrauben M6 \xc3\x97 40 mm (100 St\xc3\xbc" "ck)");
	CHECK_STR(nx_json_str(json_array_get(items, 1), "title"), "D\xc3\xbc" "bel 8 mm, 50er-Pack \xe2\x80\x93 grau");
	json_decref(c);
	json_decref(order);

	order = fixture_order("17-12755-99013");
	c = nx_normalize_json(&nx_ebay_adapter, order);
	CHECK_STR(nx_json_str(c, "buyer_name"), "Siobh\xc3\xa1n N\xc3\xad Bhriain");
	json_decref(c);
	json_decref(order);
}

NX_TEST(ebay_huge_quantity)
{
	json_t	   *order = fixture_order("09-12766-40251");
	json_t	   *c = nx_normalize_json(&nx_ebay_adapter, order);
	json_t	   *item = json_array_get(json_object_get(c, "items"), 0);

	CHECK_INT(json_integer_value(json_object_get(item, "quantity")), 10000);
	CHECK_STR(nx_json_str(item, "unit_price"), "0.12");
	CHECK_STR(nx_json_str(item, "line_total"), "1200.00");
	json_decref(c);

	nx_set_path(order, "lineItems.0.quantity", json_integer(2147483647));
	c = nx_normalize_json(&nx_ebay_adapter, order);
	item = json_array_get(json_object_get(c, "items"), 0);
	CHECK_INT(json_integer_value(json_object_get(item, "quantity")), 2147483647);
	CHECK_STR(nx_json_str(item, "unit_price"), "0.00");
	json_decref(c);
	EXPECT_FAIL_WITH("09-12766-40251", "lineItems.0.quantity", json_integer(2147483648LL),
					 "lineItems[0].quantity");
	json_decref(order);
}

/* ---------- malformed input ---------- */

NX_TEST(ebay_malformed_orders_fail_naming_the_field)
{
	const char *id = "24-12801-33107";

	EXPECT_FAIL(json_null(), "order");
	{
		json_t	   *arr = json_array();

		EXPECT_FAIL(arr, "order: expected a JSON object");
		json_decref(arr);
	}
	EXPECT_FAIL_WITH(id, "orderId", NULL, "orderId: missing");
	EXPECT_FAIL_WITH(id, "orderId", json_array(), "orderId: expected a string");
	EXPECT_FAIL_WITH(id, "orderId", json_string(""), "orderId: empty");
	EXPECT_FAIL_WITH(id, "legacyOrderId", json_true(), "legacyOrderId");
	EXPECT_FAIL_WITH(id, "orderFulfillmentStatus", NULL, "orderFulfillmentStatus: missing");
	EXPECT_FAIL_WITH(id, "cancelStatus", json_string("CANCELED"), "cancelStatus: expected an object");
	EXPECT_FAIL_WITH(id, "cancelStatus.cancelState", json_integer(1), "cancelStatus.cancelState");
	EXPECT_FAIL_WITH(id, "creationDate", json_string("yesterday"), "creationDate");
	EXPECT_FAIL_WITH(id, "creationDate", json_string("2025-02-30T10:00:00.000Z"), "creationDate");
	EXPECT_FAIL_WITH(id, "lastModifiedDate", json_integer(1741701761), "lastModifiedDate: expected a string");
	EXPECT_FAIL_WITH(id, "pricingSummary", NULL, "pricingSummary: missing");
	EXPECT_FAIL_WITH(id, "pricingSummary", json_array(), "pricingSummary: expected an object");
	EXPECT_FAIL_WITH(id, "pricingSummary.total", json_string("46.75"),
					 "pricingSummary.total: expected an amount");
	EXPECT_FAIL_WITH(id, "pricingSummary.total.currency", json_string("dollar"),
					 "pricingSummary.total.currency");
	EXPECT_FAIL_WITH(id, "pricingSummary.priceSubtotal.value", json_string("42,99"),
					 "pricingSummary.priceSubtotal.value");
	EXPECT_FAIL_WITH(id, "pricingSummary.priceSubtotal.value", json_string("1e3"),
					 "pricingSummary.priceSubtotal.value");
	EXPECT_FAIL_WITH(id, "pricingSummary.tax.value", json_true(), "pricingSummary.tax.value");
	EXPECT_FAIL_WITH(id, "pricingSummary.tax.value", json_string("99999999999999999999"),
					 "pricingSummary.tax.value");
	EXPECT_FAIL_WITH(id, "pricingSummary.deliveryCost.currency", json_string("EUR"),
					 "pricingSummary.deliveryCost.currency");
	EXPECT_FAIL_WITH(id, "lineItems", NULL, "lineItems: missing");
	EXPECT_FAIL_WITH(id, "lineItems", json_pack("{}"), "lineItems: expected an array");
	EXPECT_FAIL_WITH(id, "lineItems.0", json_string("x"), "lineItems[0]: expected an object");
	EXPECT_FAIL_WITH(id, "lineItems.0.lineItemId", NULL, "lineItems[0].lineItemId: missing");
	EXPECT_FAIL_WITH(id, "lineItems.0.sku", json_integer(42), "lineItems[0].sku");
	EXPECT_FAIL_WITH(id, "lineItems.0.title", json_pack("[]"), "lineItems[0].title");
	EXPECT_FAIL_WITH(id, "lineItems.0.quantity", json_string("three"), "lineItems[0].quantity");
	EXPECT_FAIL_WITH(id, "lineItems.0.quantity", json_real(1.5), "lineItems[0].quantity");
	EXPECT_FAIL_WITH(id, "lineItems.0.quantity", json_integer(0), "lineItems[0].quantity");
	EXPECT_FAIL_WITH(id, "lineItems.0.quantity", json_integer(-1), "lineItems[0].quantity");
	EXPECT_FAIL_WITH(id, "lineItems.0.lineItemCost.value", json_string("abc"),
					 "lineItems[0].lineItemCost.value");
	EXPECT_FAIL_WITH(id, "lineItems.0.lineItemCost.currency", json_string("GBP"),
					 "lineItems[0].lineItemCost.currency");
	EXPECT_FAIL_WITH(id, "lineItems.0.ebayCollectAndRemitTaxes", json_string("x"),
					 "lineItems[0].ebayCollectAndRemitTaxes");
	EXPECT_FAIL_WITH(id, "lineItems.0.ebayCollectAndRemitTaxes.0.amount.value", json_string("x"),
					 "lineItems[0].ebayCollectAndRemitTaxes[0].amount.value");
	EXPECT_FAIL_WITH(id, "buyer", json_string("ava"), "buyer: expected an object");
	EXPECT_FAIL_WITH(id, "buyer.buyerRegistrationAddress.email", json_integer(5),
					 "buyer.buyerRegistrationAddress.email");
	EXPECT_FAIL_WITH(id, "fulfillmentStartInstructions", json_string("x"),
					 "fulfillmentStartInstructions: expected an array");
	EXPECT_FAIL_WITH(id, "fulfillmentStartInstructions.0.shippingStep.shipTo", json_integer(1),
					 "fulfillmentStartInstructions[0].shippingStep.shipTo");
	EXPECT_FAIL_WITH(id, "fulfillmentStartInstructions.0.shippingStep.shipTo.contactAddress.countryCode",
					 json_integer(840), "countryCode");
}

/* ---------- webhooks ---------- */

NX_TEST(ebay_webhook_fixture_verifies)
{
	Webhook		w;
	NxError		err;

	webhook_load(&w);
	/* the key as getPublicKey returns it: PEM on one line */
	CHECK(verify(&w, &err) == NX_OK);
	CHECK_STR(err.msg, "");
	/* and as a normal PEM file */
	w.keys.pem = w.pem;
	CHECK(verify(&w, &err) == NX_OK);
	webhook_free(&w);
}

NX_TEST(ebay_webhook_rejects_changed_body)
{
	Webhook		w;
	char	   *p;

	webhook_load(&w);
	p = strstr(w.body, "24-12801-33107");
	CHECK(p != NULL);
	if (p)
	{
		p[13] = '8';
		CHECK_VERIFY_FAILS(&w, "signature does not match");
		p[13] = '7';
	}
	/* one byte short, one byte of trailing newline more */
	w.in.body_len = w.body_len - 1;
	CHECK_VERIFY_FAILS(&w, "signature does not match");
	webhook_free(&w);
}

NX_TEST(ebay_webhook_rejects_changed_signature)
{
	Webhook		w;
	json_t	   *env;
	unsigned char der[256];
	int			n;
	char		b64[512];

	webhook_load(&w);
	env = fixture_envelope(&w);
	CHECK(json_is_object(env));
	/* flip one bit of the DER signature's s value, keeping valid DER */
	n = nx_base64_decode(json_string_value(json_object_get(env, "signature")), der, sizeof(der));
	CHECK(n > 10);
	if (n > 10)
	{
		der[n - 1] ^= 1;
		nx_base64_encode(der, (size_t) n, b64, sizeof(b64));
		json_object_set_new(env, "signature", json_string(b64));
		set_envelope_json(&w, env);
		CHECK_VERIFY_FAILS(&w, "signature does not match");
		/* truncated DER */
		nx_base64_encode(der, (size_t) n - 8, b64, sizeof(b64));
		json_object_set_new(env, "signature", json_string(b64));
		set_envelope_json(&w, env);
		CHECK_VERIFY_FAILS(&w, "signature does not match");
	}
	/* a signature that is not base64 */
	json_object_set_new(env, "signature", json_string("%%%"));
	set_envelope_json(&w, env);
	CHECK_VERIFY_FAILS(&w, "signature: not base64");
	json_decref(env);
	webhook_free(&w);
}

NX_TEST(ebay_webhook_rejects_a_different_key)
{
	Webhook		w;
	char	   *rsa = nx_fixture_bytes("bol/test_public_key.pem", NULL);
	static const char other_ec[] =
		"-----BEGIN PUBLIC KEY-----\n"
		"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE3pYFEb+H2GapzjhySGOJhebn6swQ\n"
		"XY1zK2B9D+emqYlesFjlsPRKd8ZeMBukvNNkiTTCO4SohQBHSxS/vDF3tQ==\n"
		"-----END PUBLIC KEY-----\n";

	webhook_load(&w);
	w.keys.pem = other_ec;
	CHECK_VERIFY_FAILS(&w, "signature does not match");
	w.keys.pem = rsa;			/* an RSA key cannot check an ECDSA signature */
	CHECK_VERIFY_FAILS(&w, "X-EBAY-SIGNATURE");
	free(rsa);
	webhook_free(&w);
}

NX_TEST(ebay_webhook_rejects_bad_headers_and_keys)
{
	Webhook		w;
	json_t	   *env;
	NxError		err;

	webhook_load(&w);
	env = fixture_envelope(&w);

	/* unknown key id: the lookup knows another one */
	w.keys.key_id = "ffffffff-0000-0000-0000-000000000000";
	CHECK_VERIFY_FAILS(&w, "unknown key id \"" EBAY_KID "\"");
	w.keys.key_id = EBAY_KID;
	w.in.public_key = NULL;
	CHECK_VERIFY_FAILS(&w, "unknown key id");
	w.in.public_key = nx_test_key_lookup;

	/* a key that is not a key */
	w.keys.pem = "not a key at all!";
	CHECK_VERIFY_FAILS(&w, "not a PEM public key");
	w.keys.pem = "-----BEGIN PUBLIC KEY-----AAAA-----END PUBLIC KEY-----";
	CHECK_VERIFY_FAILS(&w, "X-EBAY-SIGNATURE");
	w.keys.pem = w.one_line_pem;
	CHECK(verify(&w, &err) == NX_OK);

	/* missing and garbled headers */
	json_object_del(w.headers, "x-ebay-signature");
	CHECK_VERIFY_FAILS(&w, "X-EBAY-SIGNATURE header: missing");
	json_object_set_new(w.headers, "x-ebay-signature", json_string(""));
	CHECK_VERIFY_FAILS(&w, "X-EBAY-SIGNATURE header: missing");
	json_object_set_new(w.headers, "x-ebay-signature", json_string("!!not base64!!"));
	CHECK_VERIFY_FAILS(&w, "not base64");
	set_envelope(&w, "hello");
	CHECK_VERIFY_FAILS(&w, "not a base64 JSON object");
	set_envelope(&w, "[1, 2]");
	CHECK_VERIFY_FAILS(&w, "not a base64 JSON object");
	w.in.headers = NULL;
	CHECK_VERIFY_FAILS(&w, "X-EBAY-SIGNATURE header: missing");
	w.in.headers = w.headers;

	/* envelope fields */
	json_object_del(env, "kid");
	set_envelope_json(&w, env);
	CHECK_VERIFY_FAILS(&w, "kid: missing");
	json_object_set_new(env, "kid", json_integer(7));
	set_envelope_json(&w, env);
	CHECK_VERIFY_FAILS(&w, "kid: expected a string");
	json_object_set_new(env, "kid", json_string(EBAY_KID));
	json_object_del(env, "signature");
	set_envelope_json(&w, env);
	CHECK_VERIFY_FAILS(&w, "signature: missing");
	json_decref(env);
	env = fixture_envelope(&w);
	json_object_set_new(env, "alg", json_string("rsa"));
	set_envelope_json(&w, env);
	CHECK_VERIFY_FAILS(&w, "alg");
	json_object_set_new(env, "alg", json_string("ECDSA"));
	json_object_set_new(env, "digest", json_string("MD5"));
	set_envelope_json(&w, env);
	CHECK_VERIFY_FAILS(&w, "digest");
	/* the right signature checked with the wrong digest does not match */
	json_object_set_new(env, "digest", json_string("SHA256"));
	set_envelope_json(&w, env);
	CHECK_VERIFY_FAILS(&w, "signature does not match");
	/* upper or lower case alg and no digest (SHA-1 is eBay's default) verify */
	json_object_del(env, "digest");
	set_envelope_json(&w, env);
	CHECK(verify(&w, &err) == NX_OK);

	json_decref(env);
	webhook_free(&w);
}

NX_TEST(ebay_parse_webhook_gives_event_and_order)
{
	json_t	   *body = nx_fixture_json("ebay/webhook_order_confirmation.json");
	json_t	   *expect = nx_fixture_json("ebay/expected_notification.json");
	NxWebhookEvent ev;
	NxError		err = {{0}};

	memset(&ev, 0, sizeof(ev));
	CHECK(nx_ebay_adapter.parse_webhook(body, NULL, &ev, &err) == NX_OK);
	CHECK_STR(ev.event_id, json_string_value(json_object_get(expect, "dedupe_key")));
	CHECK_STR(ev.order_id, json_string_value(json_object_get(expect, "external_id")));
	CHECK_STR(ev.topic, "ORDER_CONFIRMATION");
	CHECK(ev.order == NULL);	/* ids only: re-fetch */
	nx_webhook_event_free(&ev);

	/* a topic without an order (account deletion) */
	nx_set_path(body, "notification.data", json_pack("{s:s}", "username", "someone"));
	nx_set_path(body, "metadata.topic", json_string("MARKETPLACE_ACCOUNT_DELETION"));
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_ebay_adapter.parse_webhook(body, NULL, &ev, &err) == NX_OK);
	CHECK(ev.order_id == NULL);
	CHECK_STR(ev.topic, "MARKETPLACE_ACCOUNT_DELETION");
	nx_webhook_event_free(&ev);

	/* no notification id: no replay protection, so no event */
	nx_set_path(body, "notification.notificationId", NULL);
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_ebay_adapter.parse_webhook(body, NULL, &ev, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "notification.notificationId") != NULL);
	nx_webhook_event_free(&ev);

	nx_set_path(body, "notification", json_string("x"));
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_ebay_adapter.parse_webhook(body, NULL, &ev, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "notification") != NULL);
	nx_webhook_event_free(&ev);

	memset(&ev, 0, sizeof(ev));
	CHECK(nx_ebay_adapter.parse_webhook(json_null(), NULL, &ev, &err) == NX_FAIL);
	nx_webhook_event_free(&ev);
	json_decref(body);
	json_decref(expect);
}

/* ---------- sync requests (doc/sync_protocol.md) ---------- */

#define EBAY_API "https://api.ebay.com"
/* 2025-03-10T08:12:45Z */
#define EBAY_SINCE INT64_C(1741594365)
#define EBAY_NOW_MS INT64_C(1741768800000)

static json_t *
ebay_credentials(void)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "client_id", "ebay-id", "client_secret", "EBAY-SECRET",
					 "refresh_token", "v^1.1#r", "dev_id", "dev");
}

static NxSyncContext
ebay_ctx(const json_t *credentials)
{
	NxSyncContext ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.credentials = credentials;
	ctx.region = "77";
	ctx.api_base = EBAY_API;
	ctx.auth_base = EBAY_API;
	ctx.access_token = "v^1.1#i^1#token";
	ctx.user_agent = "nexus/0.2.0";
	ctx.now = 1741768800;
	return ctx;
}

NX_TEST(ebay_sync_settings)
{
	/* getOrders has whole orders: no detail requests */
	CHECK_SYNC_SHAPE(&nx_ebay_adapter, .max_page_size = 200, .max_days_back = 90,
					 .token_request = true);
}

NX_TEST(ebay_base_urls)
{
	CHECK_BASE_URLS(&nx_ebay_adapter, NULL, "77", EBAY_API, EBAY_API);
}

NX_TEST(ebay_token_request_is_the_refresh_grant)
{
	json_t	   *cred = ebay_credentials();
	NxSyncContext ctx = ebay_ctx(cred);
	NxRequest	r;
	NxError		err = {{0}};

	ctx.access_token = NULL;
	CHECK(nx_ebay_adapter.token_request(&ctx, &r, &err) == NX_OK);
	/* base64("ebay-id:EBAY-SECRET") */
	CHECK_REQUEST_ANY_ORDER(&r, "POST", "https://api.ebay.com/identity/v1/oauth2/token",
							"grant_type=refresh_token&refresh_token=v%5E1.1%23r&scope="
							"https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.fulfillment",
							"User-Agent: nexus/0.2.0", "Accept: application/json",
							"Authorization: Basic ZWJheS1pZDpFQkFZLVNFQ1JFVA==",
							"Content-Type: application/x-www-form-urlencoded");
	nx_request_free(&r);

	/* a test or sandbox auth_base is used as given */
	ctx.auth_base = "http://127.0.0.1:9000/ebay";
	CHECK(nx_ebay_adapter.token_request(&ctx, &r, &err) == NX_OK);
	CHECK_STR(r.url, "http://127.0.0.1:9000/ebay/identity/v1/oauth2/token");
	nx_request_free(&r);
	json_decref(cred);
}

NX_TEST(ebay_token_request_needs_every_credential)
{
	const char *keys[] = {"client_id", "client_secret", "refresh_token"};

	for (int i = 0; i < 3; i++)
	{
		json_t	   *cred = ebay_credentials();
		NxSyncContext ctx = ebay_ctx(cred);
		NxRequest	r;
		NxError		err = {{0}};

		json_object_del(cred, keys[i]);
		CHECK_REQUEST_FAILS(nx_ebay_adapter.token_request(&ctx, &r, &err), &r, &err, keys[i]);
		json_decref(cred);
	}
}

NX_TEST(ebay_list_first_page)
{
	NxSyncContext ctx = ebay_ctx(NULL);
	NxRequest	r;
	NxError		err = {{0}};

	CHECK(nx_ebay_adapter.list_request(&ctx, EBAY_SINCE, NULL, &r, &err) == NX_OK);
	CHECK_REQUEST_ANY_ORDER(&r, "GET", EBAY_API "/sell/fulfillment/v1/order?filter=lastmodifieddate:"
							"%5B2025-03-10T08:12:45.000Z..%5D&limit=200&offset=0", NULL,
							"User-Agent: nexus/0.2.0", "Accept: application/json",
							"Authorization: Bearer v^1.1#i^1#token");
	nx_request_free(&r);

	ctx.page_size = 3;
	CHECK(nx_ebay_adapter.list_request(&ctx, INT64_C(1741564800), NULL, &r, &err) == NX_OK);
	CHECK_STR(r.url, EBAY_API "/sell/fulfillment/v1/order?filter=lastmodifieddate:"
			  "%5B2025-03-10T00:00:00.000Z..%5D&limit=3&offset=0");
	nx_request_free(&r);

	ctx.page_size = 201;
	CHECK(nx_ebay_adapter.list_request(&ctx, EBAY_SINCE, NULL, &r, &err) == NX_OK);
	CHECK(r.url && strstr(r.url, "&limit=200&") != NULL);
	nx_request_free(&r);
}

NX_TEST(ebay_list_follows_the_fixture_next_link)
{
	char	   *cursor = FIXTURE_NEXT_CURSOR(&nx_ebay_adapter, "ebay/orders_page1.json");
	NxSyncContext ctx = ebay_ctx(NULL);
	NxRequest	r;
	NxError		err = {{0}};

	if (cursor)
	{
		CHECK(nx_ebay_adapter.list_request(&ctx, EBAY_SINCE, cursor, &r, &err) == NX_OK);
		/* as is: eBay's own href, not one rebuilt from since */
		CHECK_STR(r.url, "https://api.ebay.com/sell/fulfillment/v1/order?filter="
				  "lastmodifieddate:%5B2025-03-10T00:00:00.000Z..%5D&limit=3"
				  "&fieldGroups=TAX_BREAKDOWN&offset=3");
		CHECK_HEADERS_ANY_ORDER(&r, "User-Agent: nexus/0.2.0", "Accept: application/json",
								"Authorization: Bearer v^1.1#i^1#token");
		nx_request_free(&r);
	}
	free(cursor);
}

NX_TEST(ebay_list_refuses_next_links_elsewhere)
{
	const char *const outside[] = {
		"https://evil.example/sell/fulfillment/v1/order?offset=3",
		"http://api.ebay.com/sell/fulfillment/v1/order?offset=3",
		"https://api.ebay.com:8443/sell/fulfillment/v1/order?offset=3",
		"https://api.ebay.com.evil.example/sell/fulfillment/v1/order",
		"https://user@api.ebay.com/sell/fulfillment/v1/order",
		"/sell/fulfillment/v1/order?offset=3",
		"",
	};
	const char *const control[] = {
		"https://api.ebay.com/sell/x\r\nX-Evil: 1", "https://api.ebay.com/sell/a b",
	};
	/* below a base with a path, also through dot segments */
	const char *const elsewhere[] = {
		"http://127.0.0.1:9000/other/order?offset=3", "http://127.0.0.1:9000/ebay/../other/order",
		"http://127.0.0.1:9000/ebay/sell/..",
	};
	NxSyncContext ctx = ebay_ctx(NULL);
	NxRequest	r;
	NxError		err = {{0}};

	CHECK_CURSORS_REFUSED(&nx_ebay_adapter, &ctx, EBAY_SINCE, outside,
						  "is not under the API base");
	CHECK_CURSORS_REFUSED(&nx_ebay_adapter, &ctx, EBAY_SINCE, control, "control character");

	/* a base with a path: links below it are followed */
	ctx.api_base = "http://127.0.0.1:9000/ebay";
	CHECK(nx_ebay_adapter.list_request(&ctx, EBAY_SINCE,
									   "http://127.0.0.1:9000/ebay/sell/fulfillment/v1/order?offset=3",
									   &r, &err) == NX_OK);
	CHECK_STR(r.url, "http://127.0.0.1:9000/ebay/sell/fulfillment/v1/order?offset=3");
	nx_request_free(&r);
	CHECK_CURSORS_REFUSED(&nx_ebay_adapter, &ctx, EBAY_SINCE, elsewhere,
						  "is not under the API base");
}

NX_TEST(ebay_list_refuses_what_it_cannot_send)
{
	NxSyncContext ctx = ebay_ctx(NULL);

	ctx.access_token = NULL;
	CHECK_LIST_FAILS(&nx_ebay_adapter, &ctx, EBAY_SINCE, NULL, "access token: missing");
	ctx = ebay_ctx(NULL);
	ctx.access_token = "t\nX-Evil: 1";
	CHECK_LIST_FAILS(&nx_ebay_adapter, &ctx, EBAY_SINCE, NULL, "access token");
	ctx = ebay_ctx(NULL);
	ctx.user_agent = "";
	CHECK_LIST_FAILS(&nx_ebay_adapter, &ctx, EBAY_SINCE, NULL, "user_agent: missing");
	ctx = ebay_ctx(NULL);
	ctx.api_base = NULL;
	CHECK_LIST_FAILS(&nx_ebay_adapter, &ctx, EBAY_SINCE, NULL, "api_base: missing");
	ctx = ebay_ctx(NULL);
	CHECK_LIST_FAILS(&nx_ebay_adapter, &ctx, INT64_C(-86400), NULL, "since");
	CHECK_LIST_FAILS(&nx_ebay_adapter, &ctx, INT64_MAX, NULL, "since");
}

NX_TEST(ebay_throttle_says_nothing)
{
	/* eBay documents no throttling headers: a 429 means back off */
	CHECK_INT(nx_throttle_wait_on(&nx_ebay_adapter, 429, NULL, EBAY_NOW_MS), -1);
	CHECK_INT(nx_throttle_wait(&nx_ebay_adapter, 429, EBAY_NOW_MS, "retry-after", "30", NULL), -1);
}
