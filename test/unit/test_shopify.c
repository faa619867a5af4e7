/*-------------------------------------------------------------------------
 *
 * test_shopify.c
 *	  The Shopify adapter against the shared fixtures (fixtures/shopify),
 *	  plus hand-made orders for the statuses, fallbacks and bad input the
 *	  fixtures do not cover.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "unit.h"

#define SHOPIFY_SECRET "shpss_fixture_only_5e1c9a7b3d2f4e6a8b0c1d3e5f7a9b2c"
#define PAGE1_CURSOR "eyJsYXN0X2lkIjo1ODAxMjM0NTY3MDAzLCJsYXN0X3ZhbHVlIjoiMjAyNS0wMy0xMCAxNDo0NDoxMy4wMDAwMDAiLCJkaXJlY3Rpb24iOiJuZXh0In0"

static const NxAdapter *shopify = &nx_shopify_adapter;

/* A small valid order; tests change one thing in it. */
static json_t *
sample_order(void)
{
	json_error_t jerr;
	json_t	   *o = json_loads(
							   "{\"id\": 42, \"name\": \"#42\", \"currency\": \"EUR\","
							   " \"presentment_currency\": \"EUR\","
							   " \"financial_status\": \"paid\", \"fulfillment_status\": null,"
							   " \"cancelled_at\": null,"
							   " \"created_at\": \"2025-03-09T19:45:12+01:00\","
							   " \"updated_at\": \"2025-03-10T00:30:00+01:00\","
							   " \"email\": \"a@example.de\", \"contact_email\": \"c@example.de\","
							   " \"customer\": {\"first_name\": \"Ana\", \"last_name\": \"Lima\"},"
							   " \"billing_address\": {\"name\": \"Billing Name\", \"country_code\": \"DE\"},"
							   " \"shipping_address\": {\"name\": \"Shipping Name\", \"country_code\": \"AT\"},"
							   " \"total_line_items_price\": \"20.00\", \"total_tax\": \"3.19\","
							   " \"total_discounts\": \"0.00\", \"total_price\": \"24.90\","
							   " \"total_shipping_price_set\": {\"shop_money\": {\"amount\": \"4.90\", \"currency_code\": \"EUR\"},"
							   "   \"presentment_money\": {\"amount\": \"5.10\", \"currency_code\": \"CHF\"}},"
							   " \"fulfillments\": [],"
							   " \"line_items\": [{\"id\": 7, \"sku\": \"S-1\", \"name\": \"Thing - Red\","
							   "   \"title\": \"Thing\", \"variant_title\": \"Red\", \"quantity\": 2,"
							   "   \"price\": \"10.00\", \"fulfillment_service\": \"manual\", \"requires_shipping\": true}]}",
							   0, &jerr);

	if (o == NULL)
		nx_test_fail(__FILE__, __LINE__, "sample order: %s", jerr.text);
	return o;
}

/* The canonical JSON of every order of the two list pages. */
static json_t *
all_fixture_orders(void)
{
	json_t	   *got = json_array();

	nx_fixture_normalize_each(shopify, "shopify/orders_page1.json", "orders", got);
	nx_fixture_normalize_each(shopify, "shopify/orders_page2.json", "orders", got);
	return got;
}

NX_TEST(shopify_fixture_orders_match_expected)
{
	json_t	   *got = all_fixture_orders();
	json_t	   *want = nx_fixture_json("shopify/expected_canonical.json");

	CHECK_INT(json_array_size(got), 5);
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
}

/* Parse a fixture page with its headers; the orders' JSON is appended to into. */
static void
parse_fixture_page(const char *name, NxPage *p, json_t *into)
{
	char		path[128];
	json_t	   *page;
	json_t	   *headers;
	NxError		err = {{0}};

	snprintf(path, sizeof(path), "shopify/%s.json", name);
	page = nx_fixture_json(path);
	snprintf(path, sizeof(path), "shopify/%s.headers", name);
	headers = nx_fixture_headers(path);
	nx_page_init(p);
	if (shopify->parse_page(page, headers, p, &err) != NX_OK)
		nx_test_fail(__FILE__, __LINE__, "parse_page %s: %s", name, err.msg);
	nx_append_page_orders(into, p);
	json_decref(page);
	json_decref(headers);
}

NX_TEST(shopify_pages_parse_with_link_cursor)
{
	NxPage		p1;
	NxPage		p2;
	json_t	   *got = json_array();
	json_t	   *want = nx_fixture_json("shopify/expected_canonical.json");

	parse_fixture_page("orders_page1", &p1, got);
	CHECK_INT(p1.norders, 3);
	CHECK_INT(p1.nfailed, 0);
	CHECK_INT(p1.ndetail_ids, 0);
	CHECK_STR(p1.next_cursor, PAGE1_CURSOR);

	/* the last page has only rel="previous": the walk ends */
	parse_fixture_page("orders_page2", &p2, got);
	CHECK_INT(p2.norders, 2);
	CHECK_INT(p2.nfailed, 0);
	CHECK(p2.next_cursor == NULL);

	CHECK_CANONICAL(got, want);
	nx_page_free(&p1);
	nx_page_free(&p2);
	json_decref(got);
	json_decref(want);
}

/* next_cursor for a Link header value (NULL header: none), or "ERR". */
static char *
cursor_for(const char *link)
{
	json_t	   *page = json_pack("{s:[]}", "orders");
	json_t	   *headers = link ? json_pack("{s:s}", "link", link) : NULL;
	NxPage		p;
	NxError		err;
	char	   *out;

	nx_page_init(&p);
	if (shopify->parse_page(page, headers, &p, &err) != NX_OK)
		out = strdup("ERR");
	else
		out = p.next_cursor ? strdup(p.next_cursor) : NULL;
	nx_page_free(&p);
	json_decref(page);
	json_decref(headers);
	return out;
}

NX_TEST(shopify_link_header_variants)
{
	const struct
	{
		const char *link;
		const char *want;
	}			cases[] = {
		{NULL, NULL},
		{"<https://s.myshopify.com/admin/api/2024-10/orders.json?limit=3&page_info=abc>; rel=\"previous\"", NULL},
		{"<https://s/orders.json?page_info=prev1&limit=3>; rel=\"previous\", "
		"<https://s/orders.json?limit=3&page_info=next2>; rel=\"next\"", "next2"},
		{"<https://s/orders.json?page_info=n3>; rel=next", "n3"},
		{"<https://s/orders.json?page_info=n4&fields=id>;rel=\"NEXT\"", "n4"},
		{"<https://s/orders.json?limit=3>; rel=\"next\"", "ERR"},	/* no page_info */
		{"https://s/orders.json?page_info=x; rel=\"next\"", "ERR"}, /* no <...> */
		{"<https://s/orders.json?page_info=x", "ERR"},
		{"", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *got = cursor_for(cases[i].link);

		if ((got == NULL) != (cases[i].want == NULL) || (got && strcmp(got, cases[i].want) != 0))
			nx_test_fail(__FILE__, __LINE__, "link %s: got %s, want %s",
						 cases[i].link ? cases[i].link : "(none)", got ? got : "(null)",
						 cases[i].want ? cases[i].want : "(null)");
		free(got);
	}
}

NX_TEST(shopify_page_keeps_going_past_a_bad_order)
{
	json_t	   *good = sample_order();
	json_t	   *bad = sample_order();
	json_t	   *page = json_pack("{s:[O,O,O,i]}", "orders", good, bad, good, 5);
	NxPage		p;
	NxError		err = {{0}};

	json_object_set_new(bad, "id", json_integer(99));
	json_object_set_new(bad, "total_price", json_string("12,50"));
	nx_page_init(&p);
	CHECK(shopify->parse_page(page, NULL, &p, &err) == NX_OK);
	CHECK_INT(p.norders, 2);
	CHECK_INT(p.nfailed, 2);
	if (p.nfailed == 2)
	{
		CHECK_STR(p.failed[0].external_order_id, "99");
		CHECK(strstr(p.failed[0].error, "total_price") != NULL);
		CHECK(p.failed[1].external_order_id == NULL);	/* not even an object */
		CHECK(strstr(p.failed[1].error, "order") != NULL);
	}
	CHECK(p.next_cursor == NULL);
	nx_page_free(&p);
	json_decref(page);
	json_decref(good);
	json_decref(bad);
}

NX_TEST(shopify_page_rejects_other_shapes)
{
	const char *docs[] = {"[]", "{}", "{\"orders\": {}}", "{\"order\": {\"id\": 1}}", "\"orders\"",
	"{\"orders\": null}"};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
	{
		json_error_t jerr;
		json_t	   *j = json_loads(docs[i], JSON_DECODE_ANY, &jerr);
		NxPage		p;
		NxError		err = {{0}};

		nx_page_init(&p);
		if (shopify->parse_page(j, NULL, &p, &err) != NX_FAIL)
			nx_test_fail(__FILE__, __LINE__, "page %s accepted", docs[i]);
		else if (strstr(err.msg, "orders") == NULL)
			nx_test_fail(__FILE__, __LINE__, "page %s: error \"%s\" does not name orders",
						 docs[i], err.msg);
		nx_page_free(&p);
		json_decref(j);
	}
}

/* classify a sample order with these raw fields; NULL leaves a field null. */
static void
check_classify(const char *financial, const char *fulfillment, const char *cancelled_at,
			   const char *shipment, const char *want_status, const char *want_raw, int line)
{
	json_t	   *j = sample_order();

	json_object_set_new(j, "financial_status", financial ? json_string(financial) : json_null());
	json_object_set_new(j, "fulfillment_status", fulfillment ? json_string(fulfillment) : json_null());
	json_object_set_new(j, "cancelled_at", cancelled_at ? json_string(cancelled_at) : json_null());
	if (shipment)
		json_object_set_new(j, "fulfillments",
							json_pack("[{s:s,s:s},{s:s,s:s}]", "status", "success",
									  "shipment_status", "delivered", "status", "success",
									  "shipment_status", shipment));
	nx_check_classify(__FILE__, line, shopify, j, want_status, want_raw, NX_FBM);
	json_decref(j);
}

NX_TEST(shopify_classify_every_documented_status)
{
	const char *t = "2025-03-10T15:44:12+01:00";

	/* unpaid */
	check_classify("pending", NULL, NULL, NULL, NX_PENDING, "pending/null", __LINE__);
	check_classify("partially_paid", NULL, NULL, NULL, NX_PENDING, "partially_paid/null", __LINE__);
	check_classify(NULL, NULL, NULL, NULL, NX_PENDING, "null/null", __LINE__);
	/* paid or authorized: fulfilment decides */
	check_classify("paid", NULL, NULL, NULL, NX_CONFIRMED, "paid/null", __LINE__);
	check_classify("authorized", NULL, NULL, NULL, NX_CONFIRMED, "authorized/null", __LINE__);
	check_classify("partially_refunded", NULL, NULL, NULL, NX_CONFIRMED,
				   "partially_refunded/null", __LINE__);
	check_classify("paid", "partial", NULL, NULL, NX_PROCESSING, "paid/partial", __LINE__);
	check_classify("paid", "fulfilled", NULL, NULL, NX_SHIPPED, "paid/fulfilled", __LINE__);
	check_classify("paid", "fulfilled", NULL, "in_transit", NX_SHIPPED, "paid/fulfilled", __LINE__);
	check_classify("paid", "fulfilled", NULL, "delivered", NX_DELIVERED, "paid/fulfilled", __LINE__);
	check_classify("partially_refunded", "fulfilled", NULL, "delivered", NX_DELIVERED,
				   "partially_refunded/fulfilled", __LINE__);
	check_classify("paid", "restocked", NULL, NULL, NX_CANCELLED, "paid/restocked", __LINE__);
	/* refunds, with or without a return */
	check_classify("refunded", NULL, NULL, NULL, NX_REFUNDED, "refunded/null", __LINE__);
	check_classify("refunded", "fulfilled", NULL, "delivered", NX_REFUNDED, "refunded/fulfilled",
				   __LINE__);
	/* cancellation wins over everything */
	check_classify("voided", NULL, NULL, NULL, NX_CANCELLED, "voided/null", __LINE__);
	check_classify("expired", NULL, NULL, NULL, NX_CANCELLED, "expired/null", __LINE__);
	check_classify("paid", NULL, t, NULL, NX_CANCELLED, "paid/null", __LINE__);
	check_classify("refunded", NULL, t, NULL, NX_CANCELLED, "refunded/null", __LINE__);
	/* unknown values: pending, raw kept */
	check_classify("chargeback_pending", NULL, NULL, NULL, NX_PENDING, "chargeback_pending/null",
				   __LINE__);
	check_classify("paid", "teleported", NULL, NULL, NX_PENDING, "paid/teleported", __LINE__);
}

NX_TEST(shopify_delivered_needs_every_successful_fulfillment)
{
	json_t	   *j = sample_order();
	const char *status;
	const char *fulfil;
	char	   *raw = NULL;
	NxError		err;

	json_object_set_new(j, "fulfillment_status", json_string("fulfilled"));
	/* a cancelled fulfillment does not hold delivery back */
	json_object_set_new(j, "fulfillments",
						json_pack("[{s:s,s:s},{s:s,s:n}]", "status", "success", "shipment_status",
								  "delivered", "status", "cancelled", "shipment_status"));
	CHECK(shopify->classify(j, &status, &fulfil, &raw, &err) == NX_OK);
	CHECK_STR(status, NX_DELIVERED);
	free(raw);
	/* no successful fulfillment at all: shipped, not delivered */
	json_object_set_new(j, "fulfillments", json_pack("[{s:s,s:s}]", "status", "failure",
													 "shipment_status", "delivered"));
	CHECK(shopify->classify(j, &status, &fulfil, &raw, &err) == NX_OK);
	CHECK_STR(status, NX_SHIPPED);
	free(raw);
	json_object_set_new(j, "fulfillments", json_string("nope"));
	raw = NULL;
	CHECK(shopify->classify(j, &status, &fulfil, &raw, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "fulfillments") != NULL);
	CHECK(raw == NULL);
	json_decref(j);
	j = json_array();
	CHECK(shopify->classify(j, &status, &fulfil, &raw, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "order") != NULL);
	json_decref(j);
}

NX_TEST(shopify_unknown_status_is_pending_with_warning)
{
	json_t	   *j = sample_order();
	NxOrder		o;
	NxError		err;

	json_object_set_new(j, "financial_status", json_string("chargeback_pending"));
	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	CHECK_STR(o.status, NX_PENDING);
	CHECK_STR(o.marketplace_status, "chargeback_pending/null");
	CHECK(o.warning != NULL && strstr(o.warning, "\"chargeback_pending\"") != NULL);
	CHECK(o.warning != NULL && strstr(o.warning, "financial_status") != NULL);
	nx_order_free(&o);

	json_object_set_new(j, "financial_status", json_string("paid"));
	json_object_set_new(j, "fulfillment_status", json_string("beamed"));
	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	CHECK_STR(o.status, NX_PENDING);
	CHECK(o.warning != NULL && strstr(o.warning, "\"beamed\"") != NULL);
	nx_order_free(&o);

	/* a known status leaves no warning */
	json_object_set_new(j, "fulfillment_status", json_null());
	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	CHECK_STR(o.status, NX_CONFIRMED);
	CHECK(o.warning == NULL);
	nx_order_free(&o);
	json_decref(j);
}

NX_TEST(shopify_fulfillment_network_is_fbs)
{
	json_t	   *j = sample_order();
	json_t	   *lines = json_object_get(j, "line_items");
	json_t	   *digital = json_pack("{s:i,s:s,s:i,s:s,s:s,s:b}", "id", 8, "name", "E-Book",
									"quantity", 1, "price", "5.00", "fulfillment_service", "manual",
									"requires_shipping", 0);
	NxOrder		o;
	NxError		err;

	json_object_set_new(json_array_get(lines, 0), "fulfillment_service",
						json_string("shopify-fulfillment-network"));
	json_array_append_new(lines, digital);
	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	CHECK_STR(o.fulfillment_method, NX_FBS);	/* the digital line does not ship */
	nx_order_free(&o);

	/* one physical line shipped by the merchant: not the network's order */
	json_object_set_new(digital, "requires_shipping", json_true());
	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	CHECK_STR(o.fulfillment_method, NX_FBM);
	nx_order_free(&o);
	json_decref(j);
}

NX_TEST(shopify_money_is_exact_in_shop_currency)
{
	json_t	   *page = nx_fixture_json("shopify/orders_page1.json");
	json_t	   *page2 = nx_fixture_json("shopify/orders_page2.json");
	NxOrder		o;
	NxError		err;
	char		buf[48];

	/* #1003: Swiss buyer paying CHF in a EUR shop */
	CHECK(nx_normalize(shopify, json_array_get(json_object_get(page, "orders"), 2), &o, &err) == NX_OK);
	CHECK_STR(o.external_order_id, "5801234567003");
	CHECK_STR(o.currency, "EUR");
	nx_money_format(o.total_amount, o.exponent, buf, sizeof(buf));
	CHECK_STR(buf, "48.90");	/* not the 46.02 CHF presentment total */
	nx_money_format(o.shipping_total, o.exponent, buf, sizeof(buf));
	CHECK_STR(buf, "9.90");		/* not 9.32 CHF */
	nx_order_free(&o);

	/* #1005: 1 200 pegs at 0.15 */
	CHECK(nx_normalize(shopify, json_array_get(json_object_get(page2, "orders"), 1), &o, &err) == NX_OK);
	CHECK_INT(o.nitems, 1);
	if (o.nitems == 1)
	{
		CHECK_INT(o.items[0].quantity, 1200);
		CHECK_INT(o.items[0].unit_price.minor, 15);
		CHECK_INT(o.items[0].line_total.minor, 18000);
	}
	CHECK_INT(o.subtotal.minor, 18000);
	CHECK_INT(o.total_amount.minor, 18000);
	nx_order_free(&o);
	json_decref(page);
	json_decref(page2);
}

NX_TEST(shopify_money_strings_and_numbers)
{
	json_t	   *j = sample_order();
	json_t	   *line = json_array_get(json_object_get(j, "line_items"), 0);
	NxOrder		o;
	NxError		err;
	json_t	   *c;

	json_object_set_new(j, "total_price", json_string("24.9"));	/* short decimals */
	json_object_set_new(j, "total_tax", json_string("3.185"));	/* half up */
	json_object_set_new(line, "price", json_real(10.1));	/* a number, read exactly */
	json_object_set_new(j, "total_line_items_price", json_null());	/* summed from lines */
	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	c = nx_order_to_json(&o);
	CHECK_STR(json_string_value(json_object_get(c, "total_amount")), "24.90");
	CHECK_STR(json_string_value(json_object_get(c, "tax_total")), "3.19");
	CHECK_STR(json_string_value(json_object_get(c, "subtotal")), "20.20");
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(c, "items"), 0),
												"unit_price")), "10.10");
	json_decref(c);
	nx_order_free(&o);

	/* JPY has no decimals */
	json_object_set_new(j, "currency", json_string("JPY"));
	json_object_set_new(line, "price", json_string("1200"));
	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	c = nx_order_to_json(&o);
	CHECK_STR(json_string_value(json_object_get(c, "subtotal")), "2400");
	CHECK_STR(json_string_value(json_object_get(c, "total_amount")), "25");
	json_decref(c);
	nx_order_free(&o);
	json_decref(j);
}

NX_TEST(shopify_missing_optional_fields_are_null)
{
	json_t	   *page = nx_fixture_json("shopify/orders_page1.json");
	json_t	   *j = sample_order();
	NxOrder		o;
	NxError		err;
	json_t	   *c;

	/* #1002: digital, no e-mail, no customer, no shipping address */
	CHECK(nx_normalize(shopify, json_array_get(json_object_get(page, "orders"), 1), &o, &err) == NX_OK);
	CHECK_STR(o.order_number, "#1002");
	CHECK(o.buyer_email == NULL);
	CHECK(o.shipping_address == NULL);
	CHECK_STR(o.ship_country, "");
	CHECK_STR(o.buyer_name, "Hannah \xc3\x96zt\xc3\xbcrk");	/* from billing */
	nx_order_free(&o);

	/* a stripped order: only the required parts */
	json_decref(j);
	j = json_pack("{s:s,s:s,s:[{s:i,s:i,s:s}]}", "id", "77", "currency", "EUR", "line_items",
				  "id", 1, "quantity", 1, "price", "1.00");
	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	c = nx_order_to_json(&o);
	CHECK(json_is_null(json_object_get(c, "order_number")));
	CHECK(json_is_null(json_object_get(c, "tax_total")));
	CHECK(json_is_null(json_object_get(c, "shipping_total")));
	CHECK(json_is_null(json_object_get(c, "discount_total")));
	CHECK(json_is_null(json_object_get(c, "total_amount")));
	CHECK(json_is_null(json_object_get(c, "ordered_at")));
	CHECK(json_is_null(json_object_get(c, "buyer_name")));
	CHECK(json_is_null(json_object_get(c, "ship_country")));
	CHECK_STR(json_string_value(json_object_get(c, "subtotal")), "1.00");
	CHECK_STR(json_string_value(json_object_get(c, "status")), NX_PENDING);
	CHECK_STR(json_string_value(json_object_get(c, "marketplace_status")), "null/null");
	CHECK(json_is_null(json_object_get(json_array_get(json_object_get(c, "items"), 0), "sku")));
	CHECK(json_is_null(json_object_get(json_array_get(json_object_get(c, "items"), 0), "title")));
	json_decref(c);
	nx_order_free(&o);
	json_decref(j);
	json_decref(page);
}

NX_TEST(shopify_buyer_fallbacks)
{
	json_t	   *j = sample_order();
	json_t	   *line = json_array_get(json_object_get(j, "line_items"), 0);
	NxOrder		o;
	NxError		err;

	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	CHECK_STR(o.buyer_email, "a@example.de");
	CHECK_STR(o.buyer_name, "Ana Lima");
	CHECK_STR(o.ship_country, "AT");
	CHECK(json_is_object(o.shipping_address));
	CHECK_STR(nx_json_str(o.shipping_address, "name"), "Shipping Name");
	nx_order_free(&o);

	json_object_set_new(j, "email", json_string(""));
	json_object_set_new(j, "customer", json_null());
	json_object_set_new(line, "sku", json_string(""));	/* "" is no SKU */
	json_object_del(line, "name");	/* title and variant */
	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	CHECK_STR(o.buyer_email, "c@example.de");
	CHECK_STR(o.buyer_name, "Billing Name");
	CHECK(o.nitems == 1 && o.items[0].sku == NULL);
	CHECK(o.nitems == 1 && strcmp(o.items[0].title, "Thing - Red") == 0);
	nx_order_free(&o);

	json_object_del(j, "contact_email");
	json_object_set_new(j, "billing_address", json_null());
	json_object_set_new(line, "variant_title", json_null());
	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	CHECK(o.buyer_email == NULL);
	CHECK_STR(o.buyer_name, "Shipping Name");
	CHECK(o.nitems == 1 && strcmp(o.items[0].title, "Thing") == 0);
	nx_order_free(&o);

	/* an address without a name: built from its parts */
	json_object_set_new(j, "shipping_address",
						json_pack("{s:s,s:s,s:s}", "first_name", "Zo\xc3\xab", "last_name",
								  "M\xc3\xbcller", "country_code", "ch"));
	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	CHECK_STR(o.buyer_name, "Zo\xc3\xab M\xc3\xbcller");
	CHECK_STR(o.ship_country, "CH");
	nx_order_free(&o);
	json_decref(j);
}

NX_TEST(shopify_times_to_utc)
{
	json_t	   *j = sample_order();
	NxOrder		o;
	NxError		err;
	char		buf[32];

	CHECK(nx_normalize(shopify, j, &o, &err) == NX_OK);
	nx_time_format(o.ordered_at, buf, sizeof(buf));
	CHECK_STR(buf, "2025-03-09T18:45:12Z");
	nx_time_format(o.updated_at, buf, sizeof(buf));
	CHECK_STR(buf, "2025-03-09T23:30:00Z");	/* the day changes */
	nx_order_free(&o);
	json_decref(j);
}

NX_TEST(shopify_non_ascii_names_byte_for_byte)
{
	json_t	   *page2 = nx_fixture_json("shopify/orders_page2.json");
	json_t	   *page1 = nx_fixture_json("shopify/orders_page1.json");
	NxOrder		o;
	NxError		err;

	CHECK(nx_normalize(shopify, json_array_get(json_object_get(page2, "orders"), 1), &o, &err) == NX_OK);
	CHECK_STR(o.buyer_name, "\xc3\x87" "a\xc4\x9f" "la Y\xc4\xb1ld\xc4\xb1z");	/* Çağla Yıldız */
	CHECK(o.nitems == 1 && strcmp(o.items[0].title, "Holzw\xc3\xa4scheklammer (einzeln)") == 0);
	nx_order_free(&o);
	CHECK(nx_normalize(shopify, json_array_get(json_object_get(page1, "orders"), 0), &o, &err) == NX_OK);
	CHECK_STR(o.buyer_name, "Sofie B\xc3\xa4" "cker");
	nx_order_free(&o);
	json_decref(page1);
	json_decref(page2);
}

NX_TEST(shopify_malformed_input_names_the_field)
{
	json_t	   *j;
	json_t	   *line;
	json_error_t jerr;

	j = json_loads("[1,2]", 0, &jerr);
	CHECK_NORMALIZE_FAILS(shopify, j, "order");
	json_decref(j);
	j = json_string("order");
	CHECK_NORMALIZE_FAILS(shopify, j, "order");
	json_decref(j);

#define MUTATE(key, value, want) \
	do { \
		j = sample_order(); \
		json_object_set_new(j, key, value); \
		CHECK_NORMALIZE_FAILS(shopify, j, want); \
		json_decref(j); \
	} while (0)

	j = sample_order();
	json_object_del(j, "id");
	CHECK_NORMALIZE_FAILS(shopify, j, "id: missing");
	json_decref(j);
	MUTATE("id", json_true(), "id:");
	MUTATE("id", json_real(1.5), "id:");
	MUTATE("id", json_string(""), "id:");
	MUTATE("name", json_integer(5), "name");
	MUTATE("currency", json_null(), "currency");
	MUTATE("currency", json_string("euro"), "currency");
	MUTATE("currency", json_integer(978), "currency");
	MUTATE("created_at", json_string("yesterday"), "created_at");
	MUTATE("updated_at", json_string("2025-02-30T10:00:00+01:00"), "updated_at");
	MUTATE("updated_at", json_integer(1741594365), "updated_at");
	MUTATE("cancelled_at", json_string("soon"), "cancelled_at");
	MUTATE("financial_status", json_integer(1), "financial_status");
	MUTATE("fulfillment_status", json_false(), "fulfillment_status");
	MUTATE("total_price", json_string("12,50"), "total_price");
	MUTATE("total_tax", json_string("1e3"), "total_tax");
	MUTATE("total_discounts", nx_json_new_object(), "total_discounts");
	MUTATE("total_line_items_price", json_string("99999999999999999999"), "total_line_items_price");
	MUTATE("total_shipping_price_set",
		   json_pack("{s:{s:s}}", "shop_money", "amount", "free"),
		   "total_shipping_price_set.shop_money.amount");
	MUTATE("email", json_integer(3), "email");
	MUTATE("shipping_address", json_string("Berlin"), "shipping_address");
	MUTATE("line_items", json_null(), "line_items");
	MUTATE("line_items", nx_json_new_object(), "line_items");
	MUTATE("line_items", json_pack("[i]", 3), "line_items[0]");

#define MUTATE_LINE(key, value, want) \
	do { \
		j = sample_order(); \
		line = json_array_get(json_object_get(j, "line_items"), 0); \
		json_object_set_new(line, key, value); \
		CHECK_NORMALIZE_FAILS(shopify, j, want); \
		json_decref(j); \
	} while (0)

	MUTATE_LINE("id", json_null(), "line_items[0].id");
	MUTATE_LINE("quantity", json_string("2"), "line_items[0].quantity");
	MUTATE_LINE("quantity", json_integer(-1), "line_items[0].quantity");
	MUTATE_LINE("quantity", json_integer(INT64_MAX), "line_items[0].quantity");
	MUTATE_LINE("price", json_string("ten"), "line_items[0].price");
	/* price x quantity past the largest amount */
	j = sample_order();
	line = json_array_get(json_object_get(j, "line_items"), 0);
	json_object_set_new(line, "quantity", json_integer(1000000000));
	json_object_set_new(line, "price", json_string("1000000.00"));
	CHECK_NORMALIZE_FAILS(shopify, j, "line_items[0].price");
	json_decref(j);
	MUTATE_LINE("sku", json_integer(5), "line_items[0].sku");
#undef MUTATE
#undef MUTATE_LINE
}

/* The webhook fixture as an NxWebhookInput (body and headers owned by the caller). */
static void
webhook_input(NxWebhookInput *in, char **body, json_t **headers)
{
	nx_fixture_webhook("shopify/webhook_order_updated", in, body, headers);
	in->secret = SHOPIFY_SECRET;
	in->url = "https://hooks.nexus.example/shopify";
	in->now = 1741771805;
}

NX_TEST(shopify_webhook_fixture_verifies)
{
	NxWebhookInput in;
	char	   *body;
	json_t	   *headers;
	NxError		err = {{0}};

	webhook_input(&in, &body, &headers);
	CHECK_INT(in.body_len, 4669);
	if (shopify->verify_webhook(&in, &err) != NX_OK)
		nx_test_fail(__FILE__, __LINE__, "verify failed: %s", err.msg);
	/* Shopify's signature has no timestamp window: an old delivery still verifies */
	in.now = 0;
	CHECK(shopify->verify_webhook(&in, &err) == NX_OK);
	free(body);
	json_decref(headers);
}

NX_TEST(shopify_webhook_rejects_tampering)
{
	NxWebhookInput in;
	char	   *body;
	json_t	   *headers;
	NxError		err;
	char		sig[64];

	webhook_input(&in, &body, &headers);

	/* one changed body byte */
	body[100] ^= 1;
	CHECK(shopify->verify_webhook(&in, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "does not match") != NULL);
	body[100] ^= 1;
	/* one byte less (a trailing byte dropped) */
	in.body_len--;
	CHECK(shopify->verify_webhook(&in, &err) == NX_FAIL);
	in.body_len++;
	CHECK(shopify->verify_webhook(&in, &err) == NX_OK);

	/* wrong secret, no secret */
	in.secret = "shpss_wrong";
	CHECK(shopify->verify_webhook(&in, &err) == NX_FAIL);
	in.secret = "";
	CHECK(shopify->verify_webhook(&in, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "secret") != NULL);
	in.secret = SHOPIFY_SECRET;

	/* a changed signature character */
	snprintf(sig, sizeof(sig), "%s", nx_header(headers, "x-shopify-hmac-sha256"));
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	CHECK_WEBHOOK_HEADER_FAILS(shopify, &in, "x-shopify-hmac-sha256", sig, "x-shopify-hmac-sha256");

	/* garbled: not base64, too short, hex instead of base64 */
	CHECK_WEBHOOK_HEADER_FAILS(shopify, &in, "x-shopify-hmac-sha256", "not base64!", NULL);
	CHECK_WEBHOOK_HEADER_FAILS(shopify, &in, "x-shopify-hmac-sha256", "DLisBtAZ", NULL);
	CHECK_WEBHOOK_HEADER_FAILS(shopify, &in, "x-shopify-hmac-sha256",
							   "0cb8ac06d0192a94e9e036dbd39ce4fb483f3cfd5499b001cbf2ce3006d06384", NULL);

	/* missing */
	json_object_del(headers, "x-shopify-hmac-sha256");
	CHECK(shopify->verify_webhook(&in, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "x-shopify-hmac-sha256") != NULL);
	CHECK(strstr(err.msg, "missing") != NULL);
	free(body);
	json_decref(headers);
}

NX_TEST(shopify_webhook_parses_event_and_order)
{
	NxWebhookInput in;
	char	   *raw;
	json_t	   *headers;
	json_t	   *body;
	json_t	   *expected = nx_fixture_json("shopify/expected_webhook.json");
	json_t	   *got = json_array();
	json_t	   *want = json_array();
	NxWebhookEvent ev;
	NxError		err = {{0}};
	json_error_t jerr;

	webhook_input(&in, &raw, &headers);
	body = json_loadb(raw, in.body_len, 0, &jerr);
	memset(&ev, 0, sizeof(ev));
	CHECK(shopify->parse_webhook(body, headers, &ev, &err) == NX_OK);
	CHECK_STR(ev.event_id, "1b3d5f7a-2c4e-4a6b-8d0f-3e5a7c9b1d2f");
	CHECK_STR(ev.topic, "orders/updated");
	CHECK_STR(ev.order_id, "5801234567002");
	CHECK(ev.order != NULL);
	if (ev.order)
	{
		json_t	   *c = nx_normalize_json(shopify, ev.order);

		if (c)
			json_array_append_new(got, c);
	}
	json_array_append(want, json_object_get(expected, "canonical"));
	CHECK_CANONICAL(got, want);
	nx_webhook_event_free(&ev);

	/* without an event id the delivery id dedupes; with neither, fail */
	json_object_del(headers, "x-shopify-event-id");
	CHECK(shopify->parse_webhook(body, headers, &ev, &err) == NX_OK);
	CHECK_STR(ev.event_id, "8c2f5a9e-6d3b-4f1a-9e7c-2b4d6f8a0c1e");
	nx_webhook_event_free(&ev);
	json_object_del(headers, "x-shopify-webhook-id");
	CHECK(shopify->parse_webhook(body, headers, &ev, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "x-shopify-event-id") != NULL);
	nx_webhook_event_free(&ev);

	json_decref(body);
	json_decref(headers);
	json_decref(expected);
	json_decref(got);
	json_decref(want);
	free(raw);
}

NX_TEST(shopify_webhook_other_topics)
{
	json_t	   *headers = json_pack("{s:s,s:s}", "x-shopify-event-id", "e1",
									"x-shopify-topic", "orders/delete");
	json_t	   *del = json_pack("{s:I}", "id", (json_int_t) 5801234567009);
	json_t	   *refund = json_pack("{s:I,s:I,s:[]}", "id", (json_int_t) 99,
								   "order_id", (json_int_t) 5801234567004, "refund_line_items");
	NxWebhookEvent ev;
	NxError		err;

	memset(&ev, 0, sizeof(ev));
	CHECK(shopify->parse_webhook(del, headers, &ev, &err) == NX_OK);
	CHECK_STR(ev.order_id, "5801234567009");
	CHECK(ev.order == NULL);	/* only the id: nothing to upsert */
	nx_webhook_event_free(&ev);

	json_object_set_new(headers, "x-shopify-topic", json_string("refunds/create"));
	CHECK(shopify->parse_webhook(refund, headers, &ev, &err) == NX_OK);
	CHECK_STR(ev.topic, "refunds/create");
	CHECK_STR(ev.order_id, "5801234567004");
	CHECK(ev.order == NULL);
	nx_webhook_event_free(&ev);

	CHECK(shopify->parse_webhook(json_null(), headers, &ev, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "body") != NULL);
	nx_webhook_event_free(&ev);
	json_decref(headers);
	json_decref(del);
	json_decref(refund);
}

/* An id that is empty as a C string ("\u0000...") is no id at all. */
NX_TEST(shopify_nul_id_is_empty)
{
	json_t	   *j = json_pack("{s:s%,s:s}", "id", "\0x", (size_t) 2, "currency", "EUR");

	CHECK(j != NULL);
	CHECK_NORMALIZE_FAILS(shopify, j, "id: empty");
	json_decref(j);
}

/* ---------- sync requests ---------- */

#define SHOP_BASE "https://nexus-demo-de.myshopify.com"
#define SHOP_ORDERS SHOP_BASE "/admin/api/2024-10/orders.json"
/* 2025-03-09T00:00:00+01:00, the fixture's updated_at_min, in UTC */
#define SHOP_SINCE INT64_C(1741474800)

static json_t *
shop_credentials(void)
{
	return json_pack("{s:s,s:s,s:s}", "shop_domain", "nexus-demo-de.myshopify.com",
					 "access_token", "shpat_fixture", "webhook_secret", SHOPIFY_SECRET);
}

static NxSyncContext
shop_context(const json_t *credentials)
{
	NxSyncContext ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.credentials = credentials;
	ctx.api_base = SHOP_BASE;
	ctx.user_agent = "nexus/0.2.0";
	ctx.now = SHOP_SINCE + 86400;
	return ctx;
}

NX_TEST(shopify_sync_vtable)
{
	/* the access token is static: no token request */
	CHECK_SYNC_SHAPE(shopify, .max_page_size = 250, .max_days_back = 60);
}

NX_TEST(shopify_base_urls_from_shop_domain)
{
	json_t	   *cred = shop_credentials();
	char	   *api = (char *) "x";
	char	   *auth = (char *) "x";
	NxError		err = {{0}};
	const char *bad[] = {
		"", "evil.example/x", "user@evil.example", "shop.myshopify.com:8443",
		"https://shop.myshopify.com", "shop.myshopify.com/", "shop..myshopify.com",
		".shop.myshopify.com", "shop.myshopify.com.", "-shop.myshopify.com",
		"shop-.myshopify.com", "shop myshopify.com", "shop.myshopify.com\r\nX: y",
		"sh\xc3\xb6p.myshopify.com", "shop.myshopify.com?x", "shop.myshopify.com#x",
	};

	CHECK_BASE_URLS(shopify, cred, NULL, SHOP_BASE, NULL);
	json_object_set_new(cred, "shop_domain", json_string("Acme-Store-2.myshopify.com"));
	CHECK_BASE_URLS(shopify, cred, NULL, "https://Acme-Store-2.myshopify.com", NULL);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		json_object_set_new(cred, "shop_domain", json_string(bad[i]));
		api = (char *) "x";
		if (shopify->base_urls(cred, NULL, &api, &auth, &err) != NX_FAIL)
			nx_test_fail(__FILE__, __LINE__, "shop_domain \"%s\" accepted", bad[i]);
		CHECK(api == NULL && auth == NULL);
		CHECK(strstr(err.msg, "credentials.shop_domain") != NULL);
	}

	json_object_del(cred, "shop_domain");
	CHECK(shopify->base_urls(cred, NULL, &api, &auth, &err) == NX_FAIL);
	CHECK_STR(err.msg, "credentials.shop_domain: missing");
	CHECK(shopify->base_urls(NULL, NULL, &api, &auth, &err) == NX_FAIL);
	CHECK_STR(err.msg, "credentials.shop_domain: missing");
	json_decref(cred);
}

NX_TEST(shopify_list_request_first_page)
{
	json_t	   *cred = shop_credentials();
	NxSyncContext ctx = shop_context(cred);
	NxRequest	r;
	NxError		err = {{0}};

	CHECK(shopify->list_request(&ctx, SHOP_SINCE, NULL, &r, &err) == NX_OK);
	CHECK_REQUEST(&r, "GET",
				  SHOP_ORDERS "?status=any&updated_at_min=2025-03-08T23:00:00Z&limit=250", NULL,
				  "User-Agent: nexus/0.2.0",
				  "Accept: application/json",
				  "X-Shopify-Access-Token: shpat_fixture");
	nx_request_free(&r);

	/* page size: the context's when it fits, else the largest */
	ctx.page_size = 3;
	CHECK(shopify->list_request(&ctx, 0, NULL, &r, &err) == NX_OK);
	CHECK_STR(r.url, SHOP_ORDERS "?status=any&updated_at_min=1970-01-01T00:00:00Z&limit=3");
	nx_request_free(&r);
	ctx.page_size = 250;
	CHECK(shopify->list_request(&ctx, SHOP_SINCE, NULL, &r, &err) == NX_OK);
	CHECK(strstr(r.url, "&limit=250") != NULL);
	nx_request_free(&r);
	ctx.page_size = 251;
	CHECK(shopify->list_request(&ctx, SHOP_SINCE, NULL, &r, &err) == NX_OK);
	CHECK(strstr(r.url, "&limit=250") != NULL);
	nx_request_free(&r);
	ctx.page_size = -1;
	CHECK(shopify->list_request(&ctx, SHOP_SINCE, NULL, &r, &err) == NX_OK);
	CHECK(strstr(r.url, "&limit=250") != NULL);
	nx_request_free(&r);

	/* a test or proxy api_base is used as given */
	ctx.page_size = 0;
	ctx.api_base = "http://127.0.0.1:8081/shopify";
	CHECK(shopify->list_request(&ctx, INT64_C(253402300799), NULL, &r, &err) == NX_OK);
	CHECK_STR(r.url, "http://127.0.0.1:8081/shopify/admin/api/2024-10/orders.json"
			  "?status=any&updated_at_min=9999-12-31T23:59:59Z&limit=250");
	nx_request_free(&r);
	json_decref(cred);
}

/* The Link of page 1 gives the cursor; its request is the one that fetched page 2. */
NX_TEST(shopify_list_request_next_page_from_fixture)
{
	json_t	   *cred = shop_credentials();
	NxSyncContext ctx = shop_context(cred);
	json_t	   *got = json_array();
	json_t	   *h2 = nx_fixture_headers("shopify/orders_page2.headers");
	NxPage		p1;
	NxRequest	r;
	NxError		err = {{0}};
	char	   *want;

	parse_fixture_page("orders_page1", &p1, got);
	CHECK(p1.next_cursor != NULL);
	ctx.page_size = 3;			/* the fixture walk's */
	CHECK(shopify->list_request(&ctx, SHOP_SINCE, p1.next_cursor, &r, &err) == NX_OK);
	CHECK_REQUEST(&r, "GET", SHOP_ORDERS "?limit=3&page_info=" PAGE1_CURSOR, NULL,
				  "User-Agent: nexus/0.2.0",
				  "Accept: application/json",
				  "X-Shopify-Access-Token: shpat_fixture");
	/* exactly the request recorded with page 2 */
	want = nx_sprintf("GET %s", r.url);
	CHECK_STR(nx_header(h2, "# request"), want);
	free(want);
	nx_request_free(&r);

	nx_page_free(&p1);
	json_decref(h2);
	json_decref(got);
	json_decref(cred);
}

NX_TEST(shopify_list_request_cursor_is_encoded)
{
	json_t	   *cred = shop_credentials();
	NxSyncContext ctx = shop_context(cred);
	NxRequest	r;
	NxError		err = {{0}};
	const struct
	{
		const char *cursor;
		const char *page_info;
	}			cases[] = {
		{"eyJh-_~.9", "eyJh-_~.9"},
		/* what could end the value or the URL is encoded */
		{"a&status=open", "a%26status%3Dopen"},
		{"a b#c\r\n", "a%20b%23c%0D%0A"},
		{"x/y+z=", "x%2Fy%2Bz%3D"},
		{"\xc3\xbc", "%C3%BC"},
		/* an escape already in the Link URL is sent back as it was */
		{"abc%3D%3d", "abc%3D%3d"},
		{"100%", "100%25"},
		{"%zz%4", "%25zz%254"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *want = nx_sprintf(SHOP_ORDERS "?limit=250&page_info=%s", cases[i].page_info);

		CHECK(shopify->list_request(&ctx, SHOP_SINCE, cases[i].cursor, &r, &err) == NX_OK);
		CHECK_STR(r.url, want);
		CHECK_INT(r.nheaders, 3);
		free(want);
		nx_request_free(&r);
	}
	CHECK_LIST_FAILS(shopify, &ctx, SHOP_SINCE, "", "cursor: empty page_info");
	json_decref(cred);
}

NX_TEST(shopify_list_request_failures)
{
	json_t	   *cred = shop_credentials();
	NxSyncContext ctx = shop_context(cred);
	NxRequest	r;
	NxError		err = {{0}};

	json_object_set_new(cred, "access_token", json_string("shpat_x\r\nX-Evil: 1"));
	CHECK_LIST_FAILS(shopify, &ctx, SHOP_SINCE, NULL, "credentials.access_token: contains a line break");
	json_object_set_new(cred, "access_token", json_string(""));
	CHECK_LIST_FAILS(shopify, &ctx, SHOP_SINCE, NULL, "credentials.access_token: missing");
	json_object_set_new(cred, "access_token", json_integer(42));
	CHECK_LIST_FAILS(shopify, &ctx, SHOP_SINCE, "abc", "credentials.access_token: missing");
	json_object_del(cred, "access_token");
	CHECK_LIST_FAILS(shopify, &ctx, SHOP_SINCE, NULL, "credentials.access_token: missing");
	json_object_set_new(cred, "access_token", json_string("shpat_fixture"));

	ctx.user_agent = NULL;
	CHECK_LIST_FAILS(shopify, &ctx, SHOP_SINCE, NULL, "user_agent: missing");
	ctx.user_agent = "nexus/0.2.0";

	CHECK_LIST_FAILS(shopify, &ctx, -1, NULL, "since: -1 is out of range");
	CHECK_LIST_FAILS(shopify, &ctx, INT64_C(253402300800), NULL, "since: 253402300800 is out of range");
	/* since does not matter to a next page */
	CHECK(shopify->list_request(&ctx, -1, "abc", &r, &err) == NX_OK);
	nx_request_free(&r);

	ctx.api_base = NULL;
	CHECK_LIST_FAILS(shopify, &ctx, SHOP_SINCE, NULL, "api_base: missing");
	json_decref(cred);
}

/* wait_ms for one response: status and headers as "name", "value" pairs. */
#define SHOP_WAIT(status, ...) \
	nx_throttle_wait(shopify, (status), INT64_C(1741780000000), __VA_ARGS__, NULL)

NX_TEST(shopify_throttle)
{
	json_t	   *h429 = nx_fixture_headers("shopify/throttled_429.headers");
	json_t	   *h200 = nx_fixture_headers("shopify/orders_page1.headers");
	const struct
	{
		const char *retry_after;
		int64_t		ms;
	}			cases[] = {
		{"2.0", 2000}, {"2", 2000}, {"0", 0}, {"0.5", 500}, {"2.25", 2250},
		{"0.0011", 2},			/* a fraction of a millisecond rounds up */
		{"1.0000", 1000}, {" 3 ", 3000}, {"007", 7000},
		{"3599.999", 3599999}, {"3600", 3600000},
		{"7200", 3600000}, {"86400", 3600000},	/* capped at an hour */
		{"86400.001", -1}, {"86401", -1},	/* past a day: garbage */
		{"99999999999999999999999999", -1},
		{"-1", -1}, {"", -1}, {"abc", -1}, {"2s", -1}, {"1e3", -1}, {"2.", -1},
		{".5", -1}, {"+2", -1}, {"2 3", -1}, {"0x10", -1},
		{"Wed, 21 Oct 2015 07:28:00 GMT", -1},
	};

	/* the fixture: 429, Retry-After 2.0 and a full bucket */
	CHECK_INT(nx_throttle_wait_on(shopify, 429, h429, INT64_C(1741780000000)), 2000);
	CHECK_INT(nx_throttle_wait_on(shopify, 200, h200, INT64_C(1741780000000)), -1);	/* 1/40 */
	CHECK_INT(nx_throttle_wait_on(shopify, 429, NULL, 0), -1);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int64_t		got = SHOP_WAIT(429, "retry-after", cases[i].retry_after);

		if (got != cases[i].ms)
			nx_test_fail(__FILE__, __LINE__, "Retry-After \"%s\": got %lld, want %lld",
						 cases[i].retry_after, (long long) got, (long long) cases[i].ms);
	}

	/* a full bucket without Retry-After waits a second, whatever the status */
	CHECK_INT(SHOP_WAIT(429, "x-shopify-shop-api-call-limit", "40/40"), 1000);
	CHECK_INT(SHOP_WAIT(200, "x-shopify-shop-api-call-limit", "40/40"), 1000);
	CHECK_INT(SHOP_WAIT(200, "x-shopify-shop-api-call-limit", "80/80"), 1000);
	CHECK_INT(SHOP_WAIT(200, "x-shopify-shop-api-call-limit", "41/40"), 1000);
	CHECK_INT(SHOP_WAIT(200, "x-shopify-shop-api-call-limit", "39/40"), -1);
	CHECK_INT(SHOP_WAIT(200, "x-shopify-shop-api-call-limit", "0/0"), -1);
	CHECK_INT(SHOP_WAIT(200, "x-shopify-shop-api-call-limit", "40"), -1);
	CHECK_INT(SHOP_WAIT(200, "x-shopify-shop-api-call-limit", "x/40"), -1);
	CHECK_INT(SHOP_WAIT(200, "x-shopify-shop-api-call-limit", "40/40x"), -1);
	CHECK_INT(SHOP_WAIT(200, "x-shopify-shop-api-call-limit", "-40/-40"), -1);
	CHECK_INT(SHOP_WAIT(200, "x-shopify-shop-api-call-limit", "9999999999/40"), -1);
	/* Retry-After says how long; garbage in it falls back to the bucket */
	CHECK_INT(SHOP_WAIT(429, "retry-after", "5", "x-shopify-shop-api-call-limit", "40/40"), 5000);
	CHECK_INT(SHOP_WAIT(429, "retry-after", "soon", "x-shopify-shop-api-call-limit", "40/40"),
			  1000);

	json_decref(h429);
	json_decref(h200);
}
