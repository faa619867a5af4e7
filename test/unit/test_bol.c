/*-------------------------------------------------------------------------
 *
 * test_bol.c
 *	  The bol.com adapter against the shared fixtures: the 53 order
 *	  details, list pages as detail ids, per-item statuses, money,
 *	  malformed input and the RSA push signature.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "unit.h"

/* ---------- helpers ---------- */

static json_t *
detail(const char *id)
{
	char		path[128];

	snprintf(path, sizeof(path), "bol/order_details/%s.json", id);
	return nx_fixture_json(path);
}

static const json_t *
item_of(const json_t *canonical, size_t i)
{
	return json_array_get(json_object_get(canonical, "items"), i);
}

#define EXPECT_FAIL(order, want) CHECK_NORMALIZE_FAILS(&nx_bol_adapter, (order), (want))

static void
expect_fail_with(const char *file, int line, const char *id, const char *path, json_t *value,
				 const char *want)
{
	json_t	   *o = detail(id);

	nx_set_path(o, path, value);
	nx_check_normalize_fails(file, line, &nx_bol_adapter, o, want);
	json_decref(o);
}
#define EXPECT_FAIL_WITH(id, path, value, want) \
	expect_fail_with(__FILE__, __LINE__, (id), (path), (value), (want))

/* One order item in the detail shape. */
static json_t *
make_item(const char *id, int quantity, int shipped, int cancelled, bool request,
		  const char *method)
{
	json_t	   *item = json_pack("{s:s, s:i, s:i, s:i, s:b, s:f, s:f}",
								 "orderItemId", id, "quantity", quantity,
								 "quantityShipped", shipped, "quantityCancelled", cancelled,
								 "cancellationRequest", request,
								 "unitPrice", 10.0, "totalPrice", 10.0 * quantity);

	if (method)
		json_object_set_new(item, "fulfilment", json_pack("{s:s}", "method", method));
	return item;
}

static json_t *
make_order(json_t *items)
{
	return json_pack("{s:s, s:s, s:o}", "orderId", "1199000001",
					 "orderPlacedDateTime", "2025-07-01T10:00:00+02:00", "orderItems", items);
}

/* ---------- canonical orders ---------- */

NX_TEST(bol_every_detail_file_is_canonical)
{
	json_t	   *want = nx_fixture_json("bol/expected_canonical.json");
	json_t	   *got = json_array();
	size_t		i;
	json_t	   *w;

	CHECK_INT(json_array_size(want), 53);
	json_array_foreach(want, i, w)
	{
		json_t	   *order = detail(nx_json_str(w, "external_order_id"));
		json_t	   *c = order ? nx_normalize_json(&nx_bol_adapter, order) : NULL;

		if (c)
			json_array_append_new(got, c);
		json_decref(order);
	}
	CHECK_INT(json_array_size(got), 53);
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
}

NX_TEST(bol_fixture_orders_keep_the_shipment_address)
{
	json_t	   *order = detail("1147003921");
	NxOrder		o;

	if (NORMALIZE_OK(&nx_bol_adapter, order, &o))
	{
		CHECK(o.warning == NULL);
		CHECK(o.shipping_address != NULL &&
			  json_equal(o.shipping_address, json_object_get(order, "shipmentDetails")));
		CHECK(o.shipping_address != json_object_get(order, "shipmentDetails"));
		/* billing and shipping differ here: the buyer is the billing person */
		CHECK_STR(o.buyer_name, "Zo\xc3\xab Van den Broeck");
		CHECK_STR(o.ship_country, "BE");
	}
	nx_order_free(&o);
	json_decref(order);
}

/* ---------- pages ---------- */

static void
check_ids(const char *file, int line, const NxPage *p, const json_t *page)
{
	const json_t *orders = json_object_get(page, "orders");

	if (p->ndetail_ids != json_array_size(orders))
	{
		nx_test_fail(file, line, "%zu detail ids, want %zu", p->ndetail_ids, json_array_size(orders));
		return;
	}
	for (size_t i = 0; i < p->ndetail_ids; i++)
	{
		const char *want = json_string_value(json_object_get(json_array_get(orders, i), "orderId"));

		if (strcmp(p->detail_ids[i], want) != 0)
			nx_test_fail(file, line, "detail id %zu: got %s, want %s", i, p->detail_ids[i], want);
	}
}
#define CHECK_IDS(p, page) check_ids(__FILE__, __LINE__, (p), (page))

NX_TEST(bol_page1_lists_detail_ids_and_a_next_page)
{
	json_t	   *page = nx_fixture_json("bol/orders_page1.json");
	json_t	   *headers = nx_fixture_headers("bol/orders_page1.headers");
	NxPage		p;
	NxError		err = {{0}};

	nx_page_init(&p);
	CHECK(nx_bol_adapter.parse_page(page, headers, &p, &err) == NX_OK);
	CHECK_INT(p.ndetail_ids, 50);
	CHECK_IDS(&p, page);
	CHECK_INT(p.norders, 0);	/* summaries are not orders */
	CHECK_INT(p.nfailed, 0);
	CHECK_STR(p.next_cursor, "2");
	nx_page_free(&p);

	/* the caller says which page it asked for */
	json_object_set_new(headers, "x-nexus-cursor", json_string("7"));
	nx_page_init(&p);
	CHECK(nx_bol_adapter.parse_page(page, headers, &p, &err) == NX_OK);
	CHECK_STR(p.next_cursor, "8");
	nx_page_free(&p);

	json_object_set_new(headers, "x-nexus-cursor", json_string("seven"));
	nx_page_init(&p);
	CHECK(nx_bol_adapter.parse_page(page, headers, &p, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "x-nexus-cursor") != NULL);
	nx_page_free(&p);
	json_object_set_new(headers, "x-nexus-cursor", json_string("0"));
	nx_page_init(&p);
	CHECK(nx_bol_adapter.parse_page(page, headers, &p, &err) == NX_FAIL);
	nx_page_free(&p);

	json_decref(headers);
	json_decref(page);
}

NX_TEST(bol_short_and_empty_pages_end_the_walk)
{
	json_t	   *page2 = nx_fixture_json("bol/orders_page2.json");
	json_t	   *page3 = nx_fixture_json("bol/orders_page3_empty.json");
	json_t	   *headers = json_pack("{s:s}", "x-nexus-cursor", "2");
	json_t	   *empty_array = json_pack("{s:[]}", "orders");
	NxPage		p;
	NxError		err = {{0}};

	nx_page_init(&p);
	CHECK(nx_bol_adapter.parse_page(page2, headers, &p, &err) == NX_OK);
	CHECK_INT(p.ndetail_ids, 3);
	CHECK_IDS(&p, page2);
	CHECK(p.next_cursor == NULL);
	nx_page_free(&p);

	/* "{ }": no orders key at all */
	CHECK(json_is_object(page3) && json_object_size(page3) == 0);
	json_object_set_new(headers, "x-nexus-cursor", json_string("3"));
	nx_page_init(&p);
	CHECK(nx_bol_adapter.parse_page(page3, headers, &p, &err) == NX_OK);
	CHECK_INT(p.ndetail_ids, 0);
	CHECK_INT(p.nfailed, 0);
	CHECK(p.next_cursor == NULL);
	nx_page_free(&p);

	nx_page_init(&p);
	CHECK(nx_bol_adapter.parse_page(empty_array, NULL, &p, &err) == NX_OK);
	CHECK_INT(p.ndetail_ids, 0);
	CHECK(p.next_cursor == NULL);
	nx_page_free(&p);

	json_decref(empty_array);
	json_decref(headers);
	json_decref(page3);
	json_decref(page2);
}

NX_TEST(bol_pages_cover_every_detail_file)
{
	json_t	   *want = nx_fixture_json("bol/expected_canonical.json");
	const char *pages[] = {"bol/orders_page1.json", "bol/orders_page2.json"};
	size_t		found = 0;

	for (int k = 0; k < 2; k++)
	{
		json_t	   *page = nx_fixture_json(pages[k]);
		NxPage		p;
		NxError		err = {{0}};

		nx_page_init(&p);
		CHECK(nx_bol_adapter.parse_page(page, NULL, &p, &err) == NX_OK);
		for (size_t i = 0; i < p.ndetail_ids; i++)
		{
			size_t		j;
			json_t	   *w;

			json_array_foreach(want, j, w)
			{
				if (strcmp(nx_json_str(w, "external_order_id"), p.detail_ids[i]) == 0)
					found++;
			}
		}
		nx_page_free(&p);
		json_decref(page);
	}
	CHECK_INT(found, 53);
	json_decref(want);
}

NX_TEST(bol_page_summary_without_id_fails_alone)
{
	json_t	   *page = nx_fixture_json("bol/orders_page1.json");
	NxPage		p;
	NxError		err = {{0}};

	nx_set_path(page, "orders.3.orderId", NULL);
	nx_set_path(page, "orders.4", json_string("x"));
	nx_page_init(&p);
	CHECK(nx_bol_adapter.parse_page(page, NULL, &p, &err) == NX_OK);
	CHECK_INT(p.ndetail_ids, 48);
	CHECK_INT(p.nfailed, 2);
	if (p.nfailed == 2)
	{
		CHECK(strstr(p.failed[0].error, "orders[3].orderId: missing") != NULL);
		CHECK(strstr(p.failed[1].error, "orders[4]") != NULL);
	}
	CHECK_STR(p.next_cursor, "2");	/* the page was still full */
	nx_page_free(&p);
	json_decref(page);
}

NX_TEST(bol_page_rejects_what_is_not_a_page)
{
	const char *bodies[] = {
		"[]", "null", "\"{ }\"",
		"{\"type\": \"https://api.bol.com/problems\", \"title\": \"Not Found\", \"status\": 404}",
		"{\"orders\": {}}", "{\"orders\": null}", NULL
	};
	const char *want[] = {
		"page", "page", "page", "orders: missing", "orders: expected an array",
		"orders: expected an array"
	};

	for (int i = 0; bodies[i]; i++)
	{
		json_t	   *page = nx_parse_json(bodies[i]);

		CHECK_PAGE_FAILS(&nx_bol_adapter, page, NULL, want[i]);
		json_decref(page);
	}
}

/* ---------- statuses ---------- */

typedef struct LineCase
{
	int			quantity;
	int			shipped;
	int			cancelled;
	bool		request;
	const char *method;
} LineCase;

typedef struct StatusCase
{
	LineCase	lines[3];
	int			nlines;
	const char *want;
	const char *fulfillment;
	const char *raw;
	const char *warning;		/* substring of the warning, or NULL for none */
} StatusCase;

NX_TEST(bol_classify_every_item_state)
{
	static const StatusCase cases[] = {
		/* one item: nothing shipped, partly, fully; cancelled, requested */
		{{{1, 0, 0, false, "FBR"}}, 1, NX_CONFIRMED, NX_FBM, "L0:q1/s0/c0", NULL},
		{{{3, 1, 0, false, "FBR"}}, 1, NX_PROCESSING, NX_FBM, "L0:q3/s1/c0", NULL},
		{{{2, 2, 0, false, "FBR"}}, 1, NX_SHIPPED, NX_FBM, "L0:q2/s2/c0", NULL},
		{{{1, 0, 1, true, "FBR"}}, 1, NX_CANCELLED, NX_FBM, "L0:q1/s0/c1/cr", NULL},
		{{{2, 0, 2, false, "FBR"}}, 1, NX_CANCELLED, NX_FBM, "L0:q2/s0/c2", NULL},
		{{{1, 0, 0, true, "FBR"}}, 1, NX_CONFIRMED, NX_FBM, "L0:q1/s0/c0/cr", NULL},
		{{{3, 1, 1, false, "FBR"}}, 1, NX_PROCESSING, NX_FBM, "L0:q3/s1/c1", NULL},
		{{{3, 2, 1, false, "FBR"}}, 1, NX_SHIPPED, NX_FBM, "L0:q3/s2/c1", NULL},
		{{{500, 500, 0, false, "FBR"}}, 1, NX_SHIPPED, NX_FBM, "L0:q500/s500/c0", NULL},
		/* Fulfilment by bol, and its old name */
		{{{1, 1, 0, false, "FBB"}}, 1, NX_SHIPPED, NX_FBA, "L0:q1/s1/c0", NULL},
		{{{1, 0, 0, false, "LVB"}}, 1, NX_CONFIRMED, NX_FBA, "L0:q1/s0/c0", NULL},
		{{{1, 0, 0, false, NULL}}, 1, NX_CONFIRMED, NX_FBM, "L0:q1/s0/c0", NULL},
		/* several items: the aggregate */
		{{{1, 1, 0, false, "FBR"}, {1, 0, 0, false, "FBR"}}, 2, NX_PROCESSING, NX_FBM,
		"L0:q1/s1/c0;L1:q1/s0/c0", NULL},
		{{{1, 1, 0, false, "FBR"}, {1, 0, 1, false, "FBR"}}, 2, NX_SHIPPED, NX_FBM,
		"L0:q1/s1/c0;L1:q1/s0/c1", NULL},
		{{{1, 0, 1, false, "FBR"}, {2, 0, 2, true, "FBR"}}, 2, NX_CANCELLED, NX_FBM,
		"L0:q1/s0/c1;L1:q2/s0/c2/cr", NULL},
		/* no line fully shipped: the least advanced (fixtures/README.md rule 5) */
		{{{1, 0, 0, false, "FBR"}, {2, 1, 0, false, "FBR"}, {1, 0, 0, false, "FBR"}}, 3,
		NX_CONFIRMED, NX_FBM, "L0:q1/s0/c0;L1:q2/s1/c0;L2:q1/s0/c0", NULL},
		{{{2, 2, 0, false, "FBR"}, {2, 1, 0, false, "FBR"}}, 2,
		NX_PROCESSING, NX_FBM, "L0:q2/s2/c0;L1:q2/s1/c0", NULL},
		{{{1, 1, 0, false, "FBB"}, {1, 1, 0, false, "FBR"}}, 2, NX_SHIPPED, NX_FBM,
		"L0:q1/s1/c0;L1:q1/s1/c0", NULL},
		{{{1, 1, 0, false, "FBB"}, {1, 1, 0, false, "FBB"}}, 2, NX_SHIPPED, NX_FBA,
		"L0:q1/s1/c0;L1:q1/s1/c0", NULL},
		/* states bol does not produce: pending with a warning quoting the raw state */
		{{{1, 1, 1, false, "FBR"}}, 1, NX_PENDING, NX_FBM, "L0:q1/s1/c1", "q1/s1/c1"},
		{{{2, 3, 0, false, "FBR"}}, 1, NX_PENDING, NX_FBM, "L0:q2/s3/c0", "q2/s3/c0"},
		{{{1, 0, 0, false, "XYZ"}}, 1, NX_CONFIRMED, NX_FBM, "L0:q1/s0/c0", "\"XYZ\""},
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
	{
		const StatusCase *c = &cases[k];
		json_t	   *items = json_array();
		json_t	   *order;
		const char *status = NULL;
		const char *fulfillment = NULL;
		char	   *raw = NULL;
		NxError		err = {{0}};
		NxOrder		o;

		for (int i = 0; i < c->nlines; i++)
		{
			char		id[16];
			const LineCase *l = &c->lines[i];

			snprintf(id, sizeof(id), "L%d", i);
			json_array_append_new(items, make_item(id, l->quantity, l->shipped, l->cancelled,
												   l->request, l->method));
		}
		order = make_order(items);
		CHECK(nx_bol_adapter.classify(order, &status, &fulfillment, &raw, &err) == NX_OK);
		CHECK_STR(status, c->want);
		CHECK_STR(fulfillment, c->fulfillment);
		CHECK_STR(raw, c->raw);
		free(raw);

		if (NORMALIZE_OK(&nx_bol_adapter, order, &o))
		{
			CHECK_STR(o.status, c->want);
			CHECK_STR(o.fulfillment_method, c->fulfillment);
			CHECK_STR(o.marketplace_status, c->raw);
			if (c->warning)
			{
				if (o.warning == NULL || strstr(o.warning, c->warning) == NULL)
					nx_test_fail(__FILE__, __LINE__, "case %zu: warning \"%s\" does not quote %s", k,
								 o.warning ? o.warning : "(none)", c->warning);
			}
			else
				CHECK(o.warning == NULL);
		}
		nx_order_free(&o);
		json_decref(order);
	}
}

NX_TEST(bol_classify_reads_list_summaries_too)
{
	json_t	   *page = nx_fixture_json("bol/orders_page1.json");
	const json_t *summary = json_array_get(json_object_get(page, "orders"), 0);
	const char *status;
	const char *fulfillment;
	char	   *raw = NULL;
	NxError		err = {{0}};

	CHECK(nx_bol_adapter.classify(summary, &status, &fulfillment, &raw, &err) == NX_OK);
	CHECK_STR(status, NX_SHIPPED);
	CHECK_STR(fulfillment, NX_FBM);
	CHECK_STR(raw, "3500100001:q2/s2/c0;3500100002:q1/s1/c0");
	free(raw);

	nx_set_path((json_t *) summary, "orderItems.0.fulfilmentMethod", json_string("FBB"));
	nx_set_path((json_t *) summary, "orderItems.1.fulfilmentMethod", json_string("FBB"));
	CHECK(nx_bol_adapter.classify(summary, &status, &fulfillment, &raw, &err) == NX_OK);
	CHECK_STR(fulfillment, NX_FBA);
	free(raw);

	raw = (char *) "untouched";
	nx_set_path((json_t *) summary, "orderItems.1.quantityShipped", NULL);
	CHECK(nx_bol_adapter.classify(summary, &status, &fulfillment, &raw, &err) == NX_FAIL);
	CHECK(raw == NULL);
	CHECK(strstr(err.msg, "orderItems[1].quantityShipped: missing") != NULL);
	CHECK(nx_bol_adapter.classify(json_null(), &status, &fulfillment, &raw, &err) == NX_FAIL);
	json_decref(page);
}

/* ---------- money, optional fields, names, quantities ---------- */

NX_TEST(bol_money_is_exact)
{
	json_t	   *order = detail("A2K8J4P0Q1");
	json_t	   *c = nx_normalize_json(&nx_bol_adapter, order);
	json_t	   *items;

	/* 12.49 x 2, a 2.5 discount, totals after discount */
	CHECK_STR(nx_json_str(c, "currency"), "EUR");
	CHECK_STR(nx_json_str(item_of(c, 0), "line_total"), "24.98");
	CHECK_STR(nx_json_str(item_of(c, 0), "unit_price"), "12.49");
	CHECK_STR(nx_json_str(c, "subtotal"), "59.93");
	CHECK_STR(nx_json_str(c, "discount_total"), "2.50");
	CHECK_STR(nx_json_str(c, "total_amount"), "57.43");
	CHECK(json_is_null(json_object_get(c, "tax_total")));
	CHECK(json_is_null(json_object_get(c, "shipping_total")));
	json_decref(c);
	json_decref(order);

	/* numbers that are not exact in binary, and sub-cent prices */
	items = json_array();
	json_array_append_new(items, json_pack("{s:s, s:i, s:i, s:i, s:f, s:f}", "orderItemId", "a",
										   "quantity", 3, "quantityShipped", 0, "quantityCancelled", 0,
										   "unitPrice", 0.1, "totalPrice", 0.3));
	json_array_append_new(items, json_pack("{s:s, s:i, s:i, s:i, s:f}", "orderItemId", "b",
										   "quantity", 3, "quantityShipped", 0, "quantityCancelled", 0,
										   "unitPrice", 19.99));
	json_array_append_new(items, json_pack("{s:s, s:i, s:i, s:i, s:f}", "orderItemId", "c",
										   "quantity", 1, "quantityShipped", 0, "quantityCancelled", 0,
										   "unitPrice", 1.005));
	json_array_append_new(items, json_pack("{s:s, s:i, s:i, s:i, s:f}", "orderItemId", "d",
										   "quantity", 500, "quantityShipped", 0, "quantityCancelled", 0,
										   "unitPrice", 0.095));
	json_array_append_new(items, json_pack("{s:s, s:i, s:i, s:i, s:i, s:s}", "orderItemId", "e",
										   "quantity", 2, "quantityShipped", 0, "quantityCancelled", 0,
										   "unitPrice", 25, "totalPrice", "49.5"));
	order = make_order(items);
	c = nx_normalize_json(&nx_bol_adapter, order);
	CHECK_STR(nx_json_str(item_of(c, 0), "line_total"), "0.30");
	CHECK_STR(nx_json_str(item_of(c, 0), "unit_price"), "0.10");
	CHECK_STR(nx_json_str(item_of(c, 1), "line_total"), "59.97");
	CHECK_STR(nx_json_str(item_of(c, 2), "line_total"), "1.01");	/* half up */
	CHECK_STR(nx_json_str(item_of(c, 3), "line_total"), "47.50");	/* 0.095 x 500, rounded once */
	CHECK_STR(nx_json_str(item_of(c, 3), "unit_price"), "0.10");
	CHECK_STR(nx_json_str(item_of(c, 4), "line_total"), "50.00");
	CHECK_STR(nx_json_str(c, "subtotal"), "158.78");
	CHECK_STR(nx_json_str(c, "discount_total"), "0.00");
	/* totalPrice where given, else the line: 0.30 + 59.97 + 1.01 + 47.50 + 49.50 */
	CHECK_STR(nx_json_str(c, "total_amount"), "158.28");
	json_decref(c);
	json_decref(order);
}

NX_TEST(bol_discount_without_total_price)
{
	json_t	   *order = detail("A2K8J4P0Q1");
	json_t	   *c;

	nx_set_path(order, "orderItems.0.totalPrice", NULL);
	nx_set_path(order, "orderItems.0.discounts.1", json_pack("{s:s, s:f}", "title", "extra", "amount", 0.5));
	c = nx_normalize_json(&nx_bol_adapter, order);
	CHECK_STR(nx_json_str(c, "discount_total"), "3.00");
	/* 24.98 - 3.00 + 34.95 */
	CHECK_STR(nx_json_str(c, "total_amount"), "56.93");
	json_decref(c);
	json_decref(order);
}

NX_TEST(bol_missing_optional_fields_are_null)
{
	json_t	   *order = detail("1147003925");
	json_t	   *c = nx_normalize_json(&nx_bol_adapter, order);
	json_t	   *bare;
	NxOrder		o;

	/* no billingDetails: the customer comes from shipmentDetails */
	CHECK(json_object_get(order, "billingDetails") == NULL);
	CHECK_STR(nx_json_str(c, "buyer_name"), "Joris Peeters");
	CHECK_STR(nx_json_str(c, "buyer_email"), "6y5t4r3e2w1q0p9o8i7u6y5t4r3e@verkopen.bol.com");
	CHECK_STR(nx_json_str(c, "ship_country"), "BE");
	json_decref(c);

	/* billing without an e-mail, a company without a person */
	nx_set_path(order, "billingDetails", json_pack("{s:s, s:s}", "company", "Peeters BV", "countryCode", "BE"));
	c = nx_normalize_json(&nx_bol_adapter, order);
	CHECK_STR(nx_json_str(c, "buyer_name"), "Peeters BV");
	CHECK_STR(nx_json_str(c, "buyer_email"), "6y5t4r3e2w1q0p9o8i7u6y5t4r3e@verkopen.bol.com");
	json_decref(c);
	json_decref(order);

	/* nothing but ids and counts */
	bare = json_pack("{s:s, s:[{s:s, s:i, s:i, s:i}]}", "orderId", "1", "orderItems",
					 "orderItemId", "2", "quantity", 1, "quantityShipped", 0, "quantityCancelled", 0);
	c = nx_normalize_json(&nx_bol_adapter, bare);
	{
		static const char *const nulls[] = {
			"subtotal", "tax_total", "shipping_total", "total_amount", "ordered_at", "updated_at",
			"buyer_email", "buyer_name", "ship_country", NULL
		};
		static const char *const item_nulls[] = {"sku", "title", "unit_price", "line_total", NULL};

		for (int i = 0; nulls[i]; i++)
			if (!json_is_null(json_object_get(c, nulls[i])))
				nx_test_fail(__FILE__, __LINE__, "%s is not null", nulls[i]);
		for (int i = 0; item_nulls[i]; i++)
			if (!json_is_null(json_object_get(item_of(c, 0), item_nulls[i])))
				nx_test_fail(__FILE__, __LINE__, "item %s is not null", item_nulls[i]);
	}
	CHECK_STR(nx_json_str(c, "discount_total"), "0.00");
	CHECK_STR(nx_json_str(c, "status"), NX_CONFIRMED);
	CHECK_STR(nx_json_str(c, "order_number"), "1");
	json_decref(c);
	if (NORMALIZE_OK(&nx_bol_adapter, bare, &o))
		CHECK(o.shipping_address == NULL);
	nx_order_free(&o);

	/* ids sent as numbers are still ids */
	nx_set_path(bare, "orderId", json_integer(1147999999));
	nx_set_path(bare, "orderItems.0.orderItemId", json_integer(3500999999LL));
	c = nx_normalize_json(&nx_bol_adapter, bare);
	CHECK_STR(nx_json_str(c, "external_order_id"), "1147999999");
	CHECK_STR(nx_json_str(item_of(c, 0), "external_item_id"), "3500999999");
	CHECK_STR(nx_json_str(c, "marketplace_status"), "3500999999:q1/s0/c0");
	json_decref(c);

	/* an unknown country is kept out, with a warning */
	nx_set_path(bare, "shipmentDetails", json_pack("{s:s}", "countryCode", "ZZ"));
	if (NORMALIZE_OK(&nx_bol_adapter, bare, &o))
	{
		CHECK_STR(o.ship_country, "");
		CHECK(o.warning && strstr(o.warning, "\"ZZ\""));
	}
	nx_order_free(&o);
	json_decref(bare);
}

NX_TEST(bol_times_become_utc)
{
	json_t	   *order = detail("A2K8J4P0Q1");
	json_t	   *c;

	/* summer time, and the latest of several item changes */
	nx_set_path(order, "orderPlacedDateTime", json_string("2025-07-01T00:30:00+02:00"));
	nx_set_path(order, "orderItems.1.latestChangedDateTime", json_string("2025-07-02T09:15:59.999+02:00"));
	c = nx_normalize_json(&nx_bol_adapter, order);
	CHECK_STR(nx_json_str(c, "ordered_at"), "2025-06-30T22:30:00Z");
	CHECK_STR(nx_json_str(c, "updated_at"), "2025-07-02T07:15:59Z");
	json_decref(c);
	json_decref(order);
}

NX_TEST(bol_non_ascii_is_byte_for_byte)
{
	json_t	   *order = detail("1147003921");
	json_t	   *c = nx_normalize_json(&nx_bol_adapter, order);

	CHECK_STR(nx_json_str(c, "buyer_name"), "Zo\xc3\xab Van den Broeck");
	CHECK_STR(nx_json_str(item_of(c, 0), "title"), "Wollen plaid 130 \xc3\x97 170 cm \xe2\x80\x93 Heide");
	json_decref(c);
	json_decref(order);

	order = detail("A2K8J4P0Q1");
	c = nx_normalize_json(&nx_bol_adapter, order);
	CHECK_STR(nx_json_str(item_of(c, 1), "title"), "Emaille mok 350 ml \xe2\x80\x93 Cr\xc3\xa8me");
	json_decref(c);
	json_decref(order);
}

NX_TEST(bol_huge_quantity)
{
	json_t	   *order = detail("1147003924");
	json_t	   *c = nx_normalize_json(&nx_bol_adapter, order);

	CHECK_INT(json_integer_value(json_object_get(item_of(c, 0), "quantity")), 500);
	CHECK_STR(nx_json_str(item_of(c, 0), "unit_price"), "0.09");
	CHECK_STR(nx_json_str(item_of(c, 0), "line_total"), "45.00");
	CHECK_STR(nx_json_str(c, "marketplace_status"), "3500100007:q500/s500/c0");
	json_decref(c);

	/* the largest count order_items holds, at a price the product cannot hold */
	nx_set_path(order, "orderItems.0.quantity", json_integer(2147483647));
	nx_set_path(order, "orderItems.0.quantityShipped", json_integer(2147483647));
	c = nx_normalize_json(&nx_bol_adapter, order);
	CHECK_STR(nx_json_str(item_of(c, 0), "line_total"), "193273528.23");
	json_decref(c);
	nx_set_path(order, "orderItems.0.unitPrice", json_real(999999.99));
	EXPECT_FAIL(order, "orderItems[0].unitPrice");
	json_decref(order);
	EXPECT_FAIL_WITH("1147003924", "orderItems.0.quantity", json_integer(2147483648LL),
					 "orderItems[0].quantity");
}

/* ---------- malformed input ---------- */

NX_TEST(bol_malformed_orders_fail_naming_the_field)
{
	const char *id = "A2K8J4P0Q1";

	EXPECT_FAIL(json_null(), "order: expected a JSON object");
	EXPECT_FAIL_WITH(id, "orderId", NULL, "orderId: missing");
	EXPECT_FAIL_WITH(id, "orderId", json_pack("{}"), "orderId: expected a string");
	EXPECT_FAIL_WITH(id, "orderId", json_string(""), "orderId: empty");
	EXPECT_FAIL_WITH(id, "orderPlacedDateTime", json_string("2025-13-01T00:00:00+01:00"),
					 "orderPlacedDateTime");
	EXPECT_FAIL_WITH(id, "orderPlacedDateTime", json_string("12-03-2025 10:41"), "orderPlacedDateTime");
	EXPECT_FAIL_WITH(id, "orderPlacedDateTime", json_integer(1741772467), "orderPlacedDateTime");
	EXPECT_FAIL_WITH(id, "orderItems", NULL, "orderItems: missing");
	EXPECT_FAIL_WITH(id, "orderItems", json_array(), "orderItems: no items");
	EXPECT_FAIL_WITH(id, "orderItems", json_string("x"), "orderItems: expected an array");
	EXPECT_FAIL_WITH(id, "orderItems.0", json_integer(5), "orderItems[0]: expected an object");
	EXPECT_FAIL_WITH(id, "orderItems.1.orderItemId", NULL, "orderItems[1].orderItemId: missing");
	EXPECT_FAIL_WITH(id, "orderItems.0.quantity", json_string("two"), "orderItems[0].quantity");
	EXPECT_FAIL_WITH(id, "orderItems.0.quantity", json_integer(-1), "orderItems[0].quantity");
	EXPECT_FAIL_WITH(id, "orderItems.0.quantity", json_integer(0), "orderItems[0].quantity");
	EXPECT_FAIL_WITH(id, "orderItems.0.quantityShipped", NULL, "orderItems[0].quantityShipped: missing");
	EXPECT_FAIL_WITH(id, "orderItems.0.quantityCancelled", json_integer(-2), "orderItems[0].quantityCancelled");
	EXPECT_FAIL_WITH(id, "orderItems.0.cancellationRequest", json_string("yes"),
					 "orderItems[0].cancellationRequest");
	EXPECT_FAIL_WITH(id, "orderItems.0.fulfilment", json_string("FBR"), "orderItems[0].fulfilment");
	EXPECT_FAIL_WITH(id, "orderItems.0.fulfilment.method", json_integer(1), "orderItems[0].fulfilment.method");
	EXPECT_FAIL_WITH(id, "orderItems.0.unitPrice", json_string("abc"), "orderItems[0].unitPrice");
	EXPECT_FAIL_WITH(id, "orderItems.0.unitPrice", json_pack("{}"), "orderItems[0].unitPrice");
	EXPECT_FAIL_WITH(id, "orderItems.0.unitPrice", json_true(), "orderItems[0].unitPrice");
	EXPECT_FAIL_WITH(id, "orderItems.0.unitPrice", json_real(1e20), "orderItems[0].unitPrice");
	EXPECT_FAIL_WITH(id, "orderItems.1.totalPrice", json_pack("[i]", 1), "orderItems[1].totalPrice");
	EXPECT_FAIL_WITH(id, "orderItems.0.discounts", json_string("x"), "orderItems[0].discounts");
	EXPECT_FAIL_WITH(id, "orderItems.0.discounts.0", json_real(2.5), "orderItems[0].discounts[0]");
	EXPECT_FAIL_WITH(id, "orderItems.0.discounts.0.amount", json_string("2,50"),
					 "orderItems[0].discounts[0].amount");
	EXPECT_FAIL_WITH(id, "orderItems.0.offer", json_string("x"), "orderItems[0].offer");
	EXPECT_FAIL_WITH(id, "orderItems.0.offer.reference", json_integer(7), "orderItems[0].offer.reference");
	EXPECT_FAIL_WITH(id, "orderItems.1.product.title", json_false(), "orderItems[1].product.title");
	EXPECT_FAIL_WITH(id, "orderItems.1.latestChangedDateTime", json_string("noon"),
					 "orderItems[1].latestChangedDateTime");
	EXPECT_FAIL_WITH(id, "billingDetails", json_string("x"), "billingDetails: expected an object");
	EXPECT_FAIL_WITH(id, "billingDetails.surname", json_integer(1), "billingDetails.surname");
	EXPECT_FAIL_WITH(id, "shipmentDetails", json_array(), "shipmentDetails: expected an object");
	EXPECT_FAIL_WITH(id, "shipmentDetails.countryCode", json_integer(31), "shipmentDetails.countryCode");
	EXPECT_FAIL_WITH(id, "shipmentDetails.email", json_integer(31), "shipmentDetails.email");
}

/* ---------- webhooks ---------- */

typedef struct Webhook
{
	char	   *body;
	size_t		body_len;
	json_t	   *headers;
	char	   *pem;
	char	   *der_b64;		/* as the signature-keys endpoint lists it */
	char	   *signature;		/* the fixture header's base64 signature */
	NxTestKey	keys;
	NxWebhookInput in;
} Webhook;

static void
webhook_load(Webhook *w)
{
	json_t	   *resp = nx_fixture_json("bol/signature_keys_response.json");
	const char *header;
	const char *sig;

	memset(w, 0, sizeof(*w));
	nx_fixture_webhook("bol/webhook_order_created", &w->in, &w->body, &w->headers);
	w->body_len = w->in.body_len;
	w->pem = nx_fixture_bytes("bol/test_public_key.pem", NULL);
	w->der_b64 = nx_strdup(nx_json_str(json_array_get(json_object_get(resp, "signatureKeys"), 0),
									   "publicKey"));
	json_decref(resp);
	header = nx_header(w->headers, "signature");
	sig = header ? strstr(header, "signature=") : NULL;
	w->signature = nx_strdup(sig ? sig + strlen("signature=") : "");
	CHECK(w->body && w->pem && w->der_b64 && sig);
	w->keys.key_id = "0";
	w->keys.pem = w->pem;
	w->in.public_key = nx_test_key_lookup;
	w->in.ctx = &w->keys;
	w->in.now = 1741769920;
}

static void
webhook_free(Webhook *w)
{
	free(w->body);
	free(w->pem);
	free(w->der_b64);
	free(w->signature);
	json_decref(w->headers);
}

static int
verify(const Webhook *w, NxError *err)
{
	memset(err, 0, sizeof(*err));
	return nx_bol_adapter.verify_webhook(&w->in, err);
}

#define CHECK_VERIFY_FAILS(w, want) CHECK_WEBHOOK_FAILS(&nx_bol_adapter, &(w)->in, (want))

/* Replace the Signature header with a printf-built value. */
static void
set_signature_header(Webhook *w, const char *before, const char *signature, const char *after)
{
	char	   *value = nx_sprintf("%s%s%s", before, signature, after);

	json_object_set_new(w->headers, "signature", json_string(value));
	free(value);
}

NX_TEST(bol_webhook_fixture_verifies)
{
	Webhook		w;
	NxError		err;

	webhook_load(&w);
	CHECK(verify(&w, &err) == NX_OK);
	/* the key exactly as GET /retailer/subscriptions/signature-keys lists it */
	w.keys.pem = w.der_b64;
	CHECK(verify(&w, &err) == NX_OK);
	/* other parameter orders, cases and quoting */
	set_signature_header(&w, "signature=\"", w.signature, "\", KEYID=\"0\"");
	CHECK(verify(&w, &err) == NX_OK);
	set_signature_header(&w, "keyId=\"0\",algorithm=RSA-SHA256,headers=\"(request-target)\",signature=",
						 w.signature, "");
	CHECK(verify(&w, &err) == NX_OK);
	webhook_free(&w);
}

NX_TEST(bol_webhook_rejects_changed_body_and_signature)
{
	Webhook		w;
	char	   *p;
	unsigned char raw[512];
	int			n;
	char		b64[1024];

	webhook_load(&w);
	p = strstr(w.body, "1147003921");
	CHECK(p != NULL);
	if (p)
	{
		p[9] = '2';
		CHECK_VERIFY_FAILS(&w, "signature does not match");
		p[9] = '1';
	}
	w.in.body_len = w.body_len - 1;
	CHECK_VERIFY_FAILS(&w, "signature does not match");
	w.in.body_len = w.body_len;

	n = nx_base64_decode(w.signature, raw, sizeof(raw));
	CHECK_INT(n, 256);
	if (n == 256)
	{
		raw[100] ^= 0x40;
		nx_base64_encode(raw, (size_t) n, b64, sizeof(b64));
		set_signature_header(&w, "keyId=0, algorithm=\"rsa-sha256\", signature=", b64, "");
		CHECK_VERIFY_FAILS(&w, "signature does not match");
		nx_base64_encode(raw, 128, b64, sizeof(b64));
		set_signature_header(&w, "keyId=0, algorithm=\"rsa-sha256\", signature=", b64, "");
		CHECK_VERIFY_FAILS(&w, "signature does not match");
	}
	set_signature_header(&w, "keyId=0, algorithm=\"rsa-sha256\", signature=", "***", "");
	CHECK_VERIFY_FAILS(&w, "not base64");
	webhook_free(&w);
}

NX_TEST(bol_webhook_rejects_bad_headers_and_keys)
{
	Webhook		w;
	char	   *ec = nx_fixture_bytes("ebay/test_public_key.pem", NULL);

	webhook_load(&w);

	/* unknown key id */
	set_signature_header(&w, "keyId=7, algorithm=\"rsa-sha256\", signature=", w.signature, "");
	CHECK_VERIFY_FAILS(&w, "unknown keyId \"7\"");
	set_signature_header(&w, "keyId=0, algorithm=\"rsa-sha256\", signature=", w.signature, "");
	w.in.public_key = NULL;
	CHECK_VERIFY_FAILS(&w, "unknown keyId");
	w.in.public_key = nx_test_key_lookup;

	/* keys that cannot check it */
	w.keys.pem = ec;
	CHECK_VERIFY_FAILS(&w, "Signature header");
	w.keys.pem = "{not a key}";
	CHECK_VERIFY_FAILS(&w, "not a public key");
	w.keys.pem = w.pem;

	/* missing and garbled headers */
	json_object_del(w.headers, "signature");
	CHECK_VERIFY_FAILS(&w, "Signature header: missing");
	w.in.headers = NULL;
	CHECK_VERIFY_FAILS(&w, "Signature header: missing");
	w.in.headers = w.headers;
	set_signature_header(&w, "algorithm=\"rsa-sha256\", signature=", w.signature, "");
	CHECK_VERIFY_FAILS(&w, "no keyId");
	set_signature_header(&w, "keyId=0, algorithm=\"rsa-sha256\"", "", "");
	CHECK_VERIFY_FAILS(&w, "no signature");
	set_signature_header(&w, "keyId=0, algorithm=\"rsa-sha1\", signature=", w.signature, "");
	CHECK_VERIFY_FAILS(&w, "algorithm");
	set_signature_header(&w, "keyId=0, algorithm=\"rsa-sha256, signature=", w.signature, "");
	CHECK_VERIFY_FAILS(&w, "unterminated");
	set_signature_header(&w, "keyId, signature=", w.signature, "");
	CHECK_VERIFY_FAILS(&w, "no value");
	/* a bare signature carries no key id */
	set_signature_header(&w, "", w.signature, "");
	CHECK_VERIFY_FAILS(&w, "Signature header");

	free(ec);
	webhook_free(&w);
}

NX_TEST(bol_parse_webhook_gives_event_and_order)
{
	json_t	   *body = nx_fixture_json("bol/webhook_order_created.json");
	json_t	   *expect = nx_fixture_json("bol/expected_webhook.json");
	NxWebhookEvent ev;
	NxError		err = {{0}};

	memset(&ev, 0, sizeof(ev));
	CHECK(nx_bol_adapter.parse_webhook(body, NULL, &ev, &err) == NX_OK);
	/* no message id: resource, type, resourceId and timestamp make the key */
	CHECK_STR(ev.event_id, "ORDER:ORDER_CREATED:1147003921:2025-03-12T09:58:40+01:00");
	CHECK_STR(ev.order_id, json_string_value(json_object_get(expect, "external_id")));
	CHECK_STR(ev.topic, "ORDER_CREATED");
	CHECK(ev.order == NULL);
	nx_webhook_event_free(&ev);

	/* another resource names no order; numeric ids are ids */
	nx_set_path(body, "event.resource", json_string("PROCESS_STATUS"));
	nx_set_path(body, "event.type", json_string("SUCCESS"));
	nx_set_path(body, "event.resourceId", json_integer(1234567));
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_bol_adapter.parse_webhook(body, NULL, &ev, &err) == NX_OK);
	CHECK(ev.order_id == NULL);
	CHECK_STR(ev.event_id, "PROCESS_STATUS:SUCCESS:1234567:2025-03-12T09:58:40+01:00");
	nx_webhook_event_free(&ev);

	nx_set_path(body, "timestamp", NULL);
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_bol_adapter.parse_webhook(body, NULL, &ev, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "timestamp") != NULL);
	nx_webhook_event_free(&ev);

	nx_set_path(body, "timestamp", json_string("2025-03-12T09:58:40+01:00"));
	nx_set_path(body, "event.resourceId", NULL);
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_bol_adapter.parse_webhook(body, NULL, &ev, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "event.resourceId") != NULL);
	nx_webhook_event_free(&ev);

	nx_set_path(body, "event", json_string("ORDER"));
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_bol_adapter.parse_webhook(body, NULL, &ev, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "event: expected an object") != NULL);
	nx_webhook_event_free(&ev);

	memset(&ev, 0, sizeof(ev));
	CHECK(nx_bol_adapter.parse_webhook(json_null(), NULL, &ev, &err) == NX_FAIL);
	nx_webhook_event_free(&ev);
	json_decref(body);
	json_decref(expect);
}

/* ---------- sync requests (doc/sync_protocol.md) ---------- */

#define BOL_API "https://api.bol.com"
/* 2025-03-12T10:00:00Z */
#define BOL_SINCE INT64_C(1741773600)
#define BOL_NOW_MS INT64_C(1741773600000)
#define BOL_LIST_HEADERS \
	"User-Agent: nexus/0.2.0", "Accept: application/vnd.retailer.v10+json", \
	"Authorization: Bearer eyJ.bol.token"

static NxSyncContext
bol_ctx(const json_t *credentials)
{
	NxSyncContext ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.credentials = credentials;
	ctx.api_base = BOL_API;
	ctx.auth_base = "https://login.bol.com";
	ctx.access_token = "eyJ.bol.token";
	ctx.user_agent = "nexus/0.2.0";
	ctx.now = 1741773600;
	return ctx;
}

NX_TEST(bol_sync_settings)
{
	CHECK_SYNC_SHAPE(&nx_bol_adapter, .max_page_size = 50, .max_days_back = 90,
					 .token_request = true, .detail_request = true, .detail_merge = true);
}

NX_TEST(bol_base_urls)
{
	CHECK_BASE_URLS(&nx_bol_adapter, NULL, NULL, BOL_API, "https://login.bol.com");
}

NX_TEST(bol_token_request_is_client_credentials)
{
	json_t	   *cred = json_pack("{s:s,s:s}", "client_id", "bol-id", "client_secret", "BOL-SECRET");
	NxSyncContext ctx = bol_ctx(cred);
	NxRequest	r;
	NxError		err = {{0}};

	ctx.access_token = NULL;
	CHECK(nx_bol_adapter.token_request(&ctx, &r, &err) == NX_OK);
	/* base64("bol-id:BOL-SECRET"); no body, so no Content-Type */
	CHECK_REQUEST_ANY_ORDER(&r, "POST", "https://login.bol.com/token?grant_type=client_credentials",
							NULL, "User-Agent: nexus/0.2.0", "Accept: application/json",
							"Authorization: Basic Ym9sLWlkOkJPTC1TRUNSRVQ=");
	nx_request_free(&r);

	json_object_del(cred, "client_secret");
	CHECK_REQUEST_FAILS(nx_bol_adapter.token_request(&ctx, &r, &err), &r, &err,
						"credentials: client_secret: missing");
	json_object_set_new(cred, "client_secret", json_string("s"));
	json_object_set_new(cred, "client_id", json_integer(7));
	CHECK_REQUEST_FAILS(nx_bol_adapter.token_request(&ctx, &r, &err), &r, &err,
						"credentials: client_id: missing");
	ctx.auth_base = NULL;
	CHECK_REQUEST_FAILS(nx_bol_adapter.token_request(&ctx, &r, &err), &r, &err,
						"auth_base: missing");
	json_decref(cred);
}

NX_TEST(bol_list_first_page_is_the_fixture_request)
{
	json_t	   *fixture = nx_fixture_headers("bol/orders_page1.headers");
	NxSyncContext ctx = bol_ctx(NULL);
	NxRequest	r;
	NxError		err = {{0}};
	char		line[512];

	/* bol's page size is fixed: asking for another changes nothing */
	ctx.page_size = 10;
	CHECK(nx_bol_adapter.list_request(&ctx, BOL_SINCE, NULL, &r, &err) == NX_OK);
	CHECK_REQUEST_ANY_ORDER(&r, "GET", BOL_API "/retailer/orders?page=1&status=ALL"
							"&fulfilment-method=ALL&latest-change-date=2025-03-12", NULL,
							BOL_LIST_HEADERS);
	/* the fixture's "# request: GET <url>" line */
	snprintf(line, sizeof(line), "%s %s", r.method, r.url ? r.url : "");
	CHECK_STR(line, nx_header(fixture, "# request"));
	nx_request_free(&r);

	/* the date is since's UTC day, also a second before midnight */
	CHECK(nx_bol_adapter.list_request(&ctx, INT64_C(1741737599), NULL, &r, &err) == NX_OK);
	CHECK(r.url && strstr(r.url, "&latest-change-date=2025-03-11") != NULL);
	nx_request_free(&r);
	json_decref(fixture);
}

NX_TEST(bol_list_refuses_bad_cursors_and_context)
{
	const char *const bad[] = {"", "0", "-1", "+2", " 2", "2x", "abc", "1000000",
	"99999999999999999999"};
	NxSyncContext ctx = bol_ctx(NULL);
	NxRequest	r;
	NxError		err = {{0}};

	CHECK_CURSORS_REFUSED(&nx_bol_adapter, &ctx, BOL_SINCE, bad, "cursor");
	CHECK(nx_bol_adapter.list_request(&ctx, BOL_SINCE, "999999", &r, &err) == NX_OK);
	CHECK(r.url && strstr(r.url, "?page=999999&") != NULL);
	nx_request_free(&r);

	ctx.access_token = NULL;
	CHECK_LIST_FAILS(&nx_bol_adapter, &ctx, BOL_SINCE, NULL, "access token: missing");
	ctx = bol_ctx(NULL);
	ctx.user_agent = NULL;
	CHECK_LIST_FAILS(&nx_bol_adapter, &ctx, BOL_SINCE, NULL, "user_agent: missing");
	ctx = bol_ctx(NULL);
	CHECK_LIST_FAILS(&nx_bol_adapter, &ctx, -1, NULL, "since");
}

NX_TEST(bol_detail_request)
{
	NxSyncContext ctx = bol_ctx(NULL);
	NxRequest	r;
	NxError		err = {{0}};

	CHECK(nx_bol_adapter.detail_request(&ctx, "1146990977", NULL, &r, &err) == NX_OK);
	CHECK_REQUEST_ANY_ORDER(&r, "GET", BOL_API "/retailer/orders/1146990977", NULL, BOL_LIST_HEADERS);
	nx_request_free(&r);

	/* an id never leaves its path segment */
	CHECK(nx_bol_adapter.detail_request(&ctx, "../x", NULL, &r, &err) == NX_OK);
	CHECK_STR(r.url, BOL_API "/retailer/orders/..%2Fx");
	nx_request_free(&r);
	CHECK(nx_bol_adapter.detail_request(&ctx, "1?page=2#x", NULL, &r, &err) == NX_OK);
	CHECK_STR(r.url, BOL_API "/retailer/orders/1%3Fpage%3D2%23x");
	nx_request_free(&r);
	CHECK_REQUEST_FAILS(nx_bol_adapter.detail_request(&ctx, "..", NULL, &r, &err), &r, &err,
						"order id");
	CHECK_REQUEST_FAILS(nx_bol_adapter.detail_request(&ctx, "", NULL, &r, &err), &r, &err,
						"order id: missing");
	CHECK_REQUEST_FAILS(nx_bol_adapter.detail_request(&ctx, "1146990977", "2", &r, &err), &r, &err,
						"cursor");
	ctx.access_token = NULL;
	CHECK_REQUEST_FAILS(nx_bol_adapter.detail_request(&ctx, "1146990977", NULL, &r, &err), &r, &err,
						"access token: missing");
}

/* Fetch and merge every detail id of a page into got, checking each request. */
static void
bol_merge_page_details(const NxSyncContext *ctx, const NxPage *p, json_t *got)
{
	for (size_t i = 0; i < p->ndetail_ids; i++)
	{
		NxRequest	r;
		NxError		err = {{0}};
		char		url[128];
		json_t	   *response = detail(p->detail_ids[i]);
		json_t	   *acc = NULL;
		char	   *next = NULL;
		json_t	   *c;

		snprintf(url, sizeof(url), BOL_API "/retailer/orders/%s", p->detail_ids[i]);
		CHECK(nx_bol_adapter.detail_request(ctx, p->detail_ids[i], NULL, &r, &err) == NX_OK);
		CHECK_STR(r.url, url);
		nx_request_free(&r);
		CHECK(nx_bol_adapter.detail_merge(&acc, response, &next, &err) == NX_OK);
		CHECK(next == NULL);
		CHECK(acc == response);
		/* acc is a reference of its own: it outlives the response */
		json_decref(response);
		c = acc ? nx_normalize_json(&nx_bol_adapter, acc) : NULL;
		if (c)
			json_array_append_new(got, c);
		json_decref(acc);
	}
}

NX_TEST(bol_sync_walk_merges_details_to_canonical)
{
	const char *pages[] = {"bol/orders_page1.json", "bol/orders_page2.json"};
	const char *urls[] = {
		BOL_API "/retailer/orders?page=1&status=ALL&fulfilment-method=ALL&latest-change-date=2025-03-12",
		BOL_API "/retailer/orders?page=2&status=ALL&fulfilment-method=ALL&latest-change-date=2025-03-12",
	};
	json_t	   *want = nx_fixture_json("bol/expected_canonical.json");
	json_t	   *got = json_array();
	NxSyncContext ctx = bol_ctx(NULL);
	char	   *cursor = NULL;

	for (int k = 0; k < 2; k++)
	{
		json_t	   *page = nx_fixture_json(pages[k]);
		json_t	   *headers = nx_json_new_object();
		NxRequest	r;
		NxPage		p;
		NxError		err = {{0}};

		CHECK(nx_bol_adapter.list_request(&ctx, BOL_SINCE, cursor, &r, &err) == NX_OK);
		CHECK_STR(r.url, urls[k]);
		nx_request_free(&r);
		/* the engine tells parse_page which page it asked for */
		if (cursor)
			json_object_set_new(headers, "x-nexus-cursor", json_string(cursor));
		nx_page_init(&p);
		CHECK(nx_bol_adapter.parse_page(page, headers, &p, &err) == NX_OK);
		bol_merge_page_details(&ctx, &p, got);
		free(cursor);
		cursor = p.next_cursor;
		p.next_cursor = NULL;
		nx_page_free(&p);
		json_decref(headers);
		json_decref(page);
	}
	CHECK_STR(cursor, NULL);	/* page 2 is short: the last */
	free(cursor);
	CHECK_INT(json_array_size(got), 53);
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
}

NX_TEST(bol_detail_merge_refuses_what_is_not_an_order)
{
	json_t	   *order = detail("1146990977");
	json_t	   *other = detail("1146991954");
	json_t	   *problem = nx_parse_json("{\"type\": \"https://api.bol.com/problems\", "
										"\"title\": \"Not Found\", \"status\": 404}");
	json_t	   *list = json_array();
	json_t	   *acc = NULL;
	char	   *next = NULL;
	NxError		err = {{0}};

	CHECK(nx_bol_adapter.detail_merge(&acc, problem, &next, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "orderId: missing") != NULL);
	CHECK(acc == NULL);
	CHECK(nx_bol_adapter.detail_merge(&acc, list, &next, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "JSON object") != NULL);
	CHECK(acc == NULL);

	acc = order;
	CHECK(nx_bol_adapter.detail_merge(&acc, other, &next, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "already") != NULL);
	CHECK(acc == order);
	CHECK(next == NULL);
	json_decref(list);
	json_decref(problem);
	json_decref(other);
	json_decref(order);
}

/* The wait a 429 with these headers (NULL: not sent) asks for. */
#define BOL_WAIT(retry_after, remaining, reset) \
	nx_throttle_wait(&nx_bol_adapter, 429, BOL_NOW_MS, "retry-after", (retry_after), \
					 "x-ratelimit-remaining", (remaining), "x-ratelimit-reset", (reset), NULL)

NX_TEST(bol_throttle_reads_the_fixture_429)
{
	json_t	   *h = nx_fixture_headers("bol/throttled_429.headers");
	json_t	   *ok = nx_fixture_headers("bol/orders_page1.headers");

	CHECK_INT(nx_throttle_wait_on(&nx_bol_adapter, 429, h, BOL_NOW_MS), 37000);
	/* a budget left (X-RateLimit-Remaining 23) says nothing */
	CHECK_INT(nx_throttle_wait_on(&nx_bol_adapter, 200, ok, BOL_NOW_MS), -1);
	CHECK_INT(nx_throttle_wait_on(&nx_bol_adapter, 429, NULL, BOL_NOW_MS), -1);
	json_decref(ok);
	json_decref(h);
}

NX_TEST(bol_throttle_signals)
{
	CHECK_INT(BOL_WAIT("5", NULL, NULL), 5000);
	CHECK_INT(BOL_WAIT("0", NULL, NULL), 0);
	CHECK_INT(BOL_WAIT(" 12 ", NULL, NULL), 12000);
	/* a spent budget waits for its reset; one left does not */
	CHECK_INT(BOL_WAIT(NULL, "0", "41"), 41000);
	CHECK_INT(BOL_WAIT(NULL, "1", "41"), -1);
	CHECK_INT(BOL_WAIT(NULL, "0", NULL), -1);
	CHECK_INT(BOL_WAIT(NULL, NULL, "41"), -1);
	/* both: the longer wait */
	CHECK_INT(BOL_WAIT("10", "0", "30"), 30000);
	CHECK_INT(BOL_WAIT("30", "0", "10"), 30000);
	CHECK_INT(BOL_WAIT("30", "0", "junk"), 30000);
	/* at most an hour */
	CHECK_INT(BOL_WAIT("3600", NULL, NULL), 3600000);
	CHECK_INT(BOL_WAIT("86400", NULL, NULL), 3600000);
	CHECK_INT(BOL_WAIT(NULL, "0", "999999999999"), 3600000);
}

NX_TEST(bol_throttle_ignores_garbage)
{
	const char *const garbage[] = {"", "-5", "abc", "1.5", "5s", "+5", "0x10",
		"99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT", " "};

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
	{
		CHECK_INT(BOL_WAIT(garbage[i], NULL, NULL), -1);
		CHECK_INT(BOL_WAIT(NULL, "0", garbage[i]), -1);
		/* a remaining count that is not one spends nothing */
		CHECK_INT(BOL_WAIT(NULL, garbage[i], "41"), -1);
	}
}
