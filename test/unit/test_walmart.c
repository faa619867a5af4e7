/*-------------------------------------------------------------------------
 *
 * test_walmart.c
 *	  The Walmart Orders v3 adapter against fixtures/walmart: every PO to
 *	  its canonical record, the pages and the Canada file, line status
 *	  aggregation and refunds, exact money, nulls, bad input, and the
 *	  HMAC-signed ORDER_UPDATES notification.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "unit.h"

#define WM_SECRET "wm_fixture_client_secret_3b9f1d7e5a2c4b6d8f0e1a3c5b7d9f2e"

/*
 * A one-line PO with the given line fields spliced in (charges, statuses,
 * quantity, refund), so each test states only what it is about.
 */
static char *
walmart_po(const char *top, const char *line)
{
	return nx_sprintf(
		"{\"purchaseOrderId\": \"P-1\", \"customerOrderId\": \"C-1\", \"orderDate\": 1741543200000%s%s,"
		" \"orderLines\": {\"orderLine\": [{\"lineNumber\": \"1\","
		"  \"item\": {\"productName\": \"Thing\", \"sku\": \"SKU-1\"}%s%s}]}}",
		*top ? ", " : "", top, *line ? ", " : "", line);
}

#define WM_CHARGE(amount) \
	"\"charges\": {\"charge\": [{\"chargeType\": \"PRODUCT\", \"chargeAmount\": {\"currency\": \"USD\", \"amount\": " amount "}}]}"
#define WM_QTY(q) "\"orderLineQuantity\": {\"unitOfMeasurement\": \"EACH\", \"amount\": " q "}"
#define WM_STATUS(s) "\"orderLineStatuses\": {\"orderLineStatus\": [{\"status\": \"" s "\"}]}"

/* normalize built text; the canonical JSON or NULL (test failed) */
#define WALMART_CANONICAL(text) nx_normalize_built(&nx_walmart_adapter, (text))
#define WALMART_FAILS(text, needle) \
	nx_check_normalize_built_fails(__FILE__, __LINE__, &nx_walmart_adapter, (text), (needle))

NX_TEST(walmart_every_fixture_order_is_canonical)
{
	const char *files[] = {"walmart/orders_page1.json", "walmart/orders_page2.json",
	"walmart/orders_ca_market.json"};
	json_t	   *want = nx_fixture_json("walmart/expected_canonical.json");
	json_t	   *got = json_array();

	for (size_t f = 0; f < 3; f++)
		nx_fixture_normalize_each(&nx_walmart_adapter, files[f], "list.elements.order", got);
	CHECK_INT(json_array_size(got), 6);
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
}

NX_TEST(walmart_pages_and_next_cursor)
{
	json_t	   *p1 = nx_fixture_json("walmart/orders_page1.json");
	json_t	   *p2 = nx_fixture_json("walmart/orders_page2.json");
	json_t	   *ca = nx_fixture_json("walmart/orders_ca_market.json");
	json_t	   *want = nx_fixture_json("walmart/expected_canonical.json");
	json_t	   *got = json_array();
	json_t	   *pages[] = {p1, p2, ca};
	NxPage		page;
	NxError		err = {{0}};

	for (size_t p = 0; p < 3; p++)
	{
		nx_page_init(&page);
		CHECK(nx_walmart_adapter.parse_page(pages[p], NULL, &page, &err) == NX_OK);
		CHECK_INT(page.norders, p == 0 ? 3 : p == 1 ? 2 : 1);
		CHECK_INT(page.nfailed, 0);
		if (p == 0)
			CHECK_STR(page.next_cursor, nx_json_str(p1, "list.meta.nextCursor"));
		else
			CHECK(page.next_cursor == NULL);
		nx_append_page_orders(got, &page);
		nx_page_free(&page);
	}
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
	json_decref(p1);
	json_decref(p2);
	json_decref(ca);
}

NX_TEST(walmart_page_shapes)
{
	const char *bad[] = {"[]", "{}", "{\"list\": []}", "{\"elements\": {\"order\": []}}"};
	json_t	   *doc;
	NxPage		page;
	NxError		err = {{0}};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		doc = nx_parse_json(bad[i]);
		CHECK_PAGE_FAILS(&nx_walmart_adapter, doc, NULL, "list");
		json_decref(doc);
	}
	doc = nx_parse_json("{\"list\": {\"meta\": {\"nextCursor\": null}, \"elements\": {\"order\": {}}}}");
	CHECK_PAGE_FAILS(&nx_walmart_adapter, doc, NULL, "list.elements.order");
	json_decref(doc);

	doc = nx_parse_json("{\"list\": {\"meta\": {\"nextCursor\": 3}, \"elements\": {\"order\": []}}}");
	CHECK_PAGE_FAILS(&nx_walmart_adapter, doc, NULL, "nextCursor");
	json_decref(doc);

	/* an empty result: no elements, no cursor */
	doc = nx_parse_json("{\"list\": {\"meta\": {\"totalCount\": 0, \"nextCursor\": null}, \"elements\": {}}}");
	nx_page_init(&page);
	CHECK(nx_walmart_adapter.parse_page(doc, NULL, &page, &err) == NX_OK);
	CHECK_INT(page.norders, 0);
	CHECK(page.next_cursor == NULL);
	nx_page_free(&page);
	json_decref(doc);
}

NX_TEST(walmart_page_keeps_going_past_a_bad_order)
{
	char	   *good = walmart_po("", WM_QTY("\"1\"") ", " WM_CHARGE("5") ", " WM_STATUS("Created"));
	char	   *text = nx_sprintf(
		"{\"list\": {\"meta\": {\"nextCursor\": \"?next=1\"}, \"elements\": {\"order\": ["
		"%s, {\"purchaseOrderId\": \"P-BAD\", \"orderDate\": \"then\"}, {\"orderLines\": 1}]}}}", good);
	json_t	   *doc = nx_parse_json(text);
	NxPage		page;
	NxError		err = {{0}};

	nx_page_init(&page);
	CHECK(nx_walmart_adapter.parse_page(doc, NULL, &page, &err) == NX_OK);
	CHECK_INT(page.norders, 1);
	CHECK_INT(page.nfailed, 2);
	CHECK_STR(page.next_cursor, "?next=1");
	if (page.nfailed == 2)
	{
		CHECK_STR(page.failed[0].external_order_id, "P-BAD");
		CHECK(strstr(page.failed[0].error, "orderDate") != NULL);
		CHECK(page.failed[1].external_order_id == NULL);
		CHECK(strstr(page.failed[1].error, "purchaseOrderId") != NULL);
	}
	nx_page_free(&page);
	json_decref(doc);
	free(text);
	free(good);
}

/* classify a PO given its line fields; checks status and raw string */
static void
walmart_check_classify(const char *file, int line, char *text, const char *want_status,
					   const char *want_raw, const char *want_fulfillment)
{
	json_t	   *doc = nx_parse_json(text);

	nx_check_classify(file, line, &nx_walmart_adapter, doc, want_status, want_raw,
					  want_fulfillment);
	json_decref(doc);
	free(text);
}
#define WALMART_CLASSIFY(text, status, raw, ful) \
	walmart_check_classify(__FILE__, __LINE__, (text), (status), (raw), (ful))

NX_TEST(walmart_classify_every_line_status)
{
	WALMART_CLASSIFY(walmart_po("", WM_STATUS("Created")), NX_CONFIRMED, "Created", NX_FBM);
	WALMART_CLASSIFY(walmart_po("", WM_STATUS("Acknowledged")), NX_PROCESSING, "Acknowledged", NX_FBM);
	WALMART_CLASSIFY(walmart_po("", WM_STATUS("Shipped")), NX_SHIPPED, "Shipped", NX_FBM);
	WALMART_CLASSIFY(walmart_po("", WM_STATUS("Delivered")), NX_DELIVERED, "Delivered", NX_FBM);
	WALMART_CLASSIFY(walmart_po("", WM_STATUS("Cancelled")), NX_CANCELLED, "Cancelled", NX_FBM);
	WALMART_CLASSIFY(walmart_po("", WM_STATUS("Teleported")), NX_PENDING, "Teleported", NX_FBM);
	/* Walmart Fulfillment Services */
	WALMART_CLASSIFY(walmart_po("\"shipNode\": {\"type\": \"WFSFulfilled\"}", WM_STATUS("Shipped")),
					 NX_SHIPPED, "Shipped", NX_FBA);
	WALMART_CLASSIFY(walmart_po("\"shipNode\": {\"type\": \"SellerFulfilled\"}", WM_STATUS("Shipped")),
					 NX_SHIPPED, "Shipped", NX_FBM);
	/* one line split by quantity: 2 shipped, 1 cancelled */
	WALMART_CLASSIFY(walmart_po("", "\"orderLineStatuses\": {\"orderLineStatus\": ["
								"{\"status\": \"Shipped\"}, {\"status\": \"Cancelled\"}]}"),
					 NX_SHIPPED, "Shipped,Cancelled", NX_FBM);
	/* the fixture's refunded PO */
	{
		json_t	   *page = nx_fixture_json("walmart/orders_page2.json");
		char	   *text = json_dumps(json_array_get(nx_json_path(page, "list.elements.order"), 0), 0);

		WALMART_CLASSIFY(text, NX_REFUNDED, "Shipped", NX_FBM);
		json_decref(page);
	}
}

NX_TEST(walmart_refunds_and_aggregation)
{
	const char *refund_full =
		"\"refund\": {\"refundCharges\": {\"refundCharge\": [{\"refundReason\": \"x\", \"charge\": "
		"{\"chargeType\": \"PRODUCT\", \"chargeAmount\": {\"currency\": \"USD\", \"amount\": -10.0}}}]}}";
	const char *refund_part =
		"\"refund\": {\"refundCharges\": {\"refundCharge\": [{\"charge\": "
		"{\"chargeType\": \"PRODUCT\", \"chargeAmount\": {\"currency\": \"USD\", \"amount\": -9.99}}}]}}";
	char	   *line;

	line = nx_sprintf("%s, %s, %s", WM_CHARGE("10"), WM_STATUS("Delivered"), refund_full);
	WALMART_CLASSIFY(walmart_po("", line), NX_REFUNDED, "Delivered", NX_FBM);
	free(line);
	/* a partial refund leaves the line as it was */
	line = nx_sprintf("%s, %s, %s", WM_CHARGE("10"), WM_STATUS("Delivered"), refund_part);
	WALMART_CLASSIFY(walmart_po("", line), NX_DELIVERED, "Delivered", NX_FBM);
	free(line);
	/* a cancelled line that was paid back stays cancelled */
	line = nx_sprintf("%s, %s, %s", WM_CHARGE("10"), WM_STATUS("Cancelled"), refund_full);
	WALMART_CLASSIFY(walmart_po("", line), NX_CANCELLED, "Cancelled", NX_FBM);
	free(line);

	/* two lines: shipped and still open is processing; delivered + shipped is shipped */
	WALMART_CLASSIFY(nx_strdup(
		"{\"purchaseOrderId\": \"P-2\", \"orderLines\": {\"orderLine\": ["
		"{\"lineNumber\": \"1\", " WM_STATUS("Shipped") "},"
		"{\"lineNumber\": \"2\", " WM_STATUS("Created") "}]}}"),
					 NX_PROCESSING, "Shipped,Created", NX_FBM);
	WALMART_CLASSIFY(nx_strdup(
		"{\"purchaseOrderId\": \"P-3\", \"orderLines\": {\"orderLine\": ["
		"{\"lineNumber\": \"1\", " WM_STATUS("Delivered") "},"
		"{\"lineNumber\": \"2\", " WM_STATUS("Shipped") "},"
		"{\"lineNumber\": \"3\", " WM_STATUS("Delivered") "}]}}"),
					 NX_SHIPPED, "Delivered,Shipped", NX_FBM);
}

NX_TEST(walmart_unknown_status_warns_with_the_raw_value)
{
	json_t	   *c;
	json_t	   *doc = nx_parse_json("{\"purchaseOrderId\": \"P-9\", \"orderLines\": {\"orderLine\": ["
									"{\"lineNumber\": \"1\", \"orderLineQuantity\": {\"amount\": \"1\"}, "
									WM_STATUS("Teleported") "}]}}");
	NxOrder		o;
	NxError		err = {{0}};

	nx_order_init(&o, "walmart");
	CHECK(nx_walmart_adapter.normalize(doc, &o, &err) == NX_OK);
	CHECK_STR(o.status, NX_PENDING);
	CHECK_STR(o.marketplace_status, "Teleported");
	CHECK(o.warning != NULL && strstr(o.warning, "\"Teleported\"") != NULL);
	nx_order_free(&o);
	json_decref(doc);

	/* a known status: no warning */
	c = WALMART_CANONICAL(walmart_po("", WM_QTY("\"1\"") ", " WM_STATUS("Created")));
	CHECK(c != NULL);
	json_decref(c);
	doc = nx_parse_json("{\"purchaseOrderId\": \"P-9\", \"orderLines\": {\"orderLine\": ["
						"{\"lineNumber\": \"1\", \"orderLineQuantity\": {\"amount\": \"1\"}, "
						WM_STATUS("Created") "}]}}");
	nx_order_init(&o, "walmart");
	CHECK(nx_walmart_adapter.normalize(doc, &o, &err) == NX_OK);
	CHECK(o.warning == NULL);
	nx_order_free(&o);
	json_decref(doc);
}

NX_TEST(walmart_money_is_exact)
{
	json_t	   *page = nx_fixture_json("walmart/orders_page2.json");
	json_t	   *c = nx_normalize_json(&nx_walmart_adapter,
									  json_array_get(nx_json_path(page, "list.elements.order"), 1));
	json_t	   *it;

	/* 5 000 straws at 0.05: 250.0 as a JSON number */
	CHECK(c != NULL);
	it = json_array_get(json_object_get(c, "items"), 0);
	CHECK_INT(json_integer_value(json_object_get(it, "quantity")), 5000);
	CHECK_STR(nx_json_str(it, "unit_price"), "0.05");
	CHECK_STR(nx_json_str(it, "line_total"), "250.00");
	CHECK_STR(nx_json_str(c, "total_amount"), "342.80");
	json_decref(c);
	json_decref(page);

	/* amounts that are not exact in binary, numbers and strings alike */
	c = WALMART_CANONICAL(walmart_po("", WM_QTY("\"3\"") ", " WM_STATUS("Created") ", "
									 "\"charges\": {\"charge\": ["
									 "{\"chargeType\": \"PRODUCT\", \"chargeAmount\": {\"currency\": \"USD\", \"amount\": 0.1},"
									 " \"tax\": {\"taxAmount\": {\"currency\": \"USD\", \"amount\": 0.005}}},"
									 "{\"chargeType\": \"PRODUCT\", \"chargeAmount\": {\"currency\": \"USD\", \"amount\": \"0.2\"}},"
									 "{\"chargeType\": \"SHIPPING\", \"chargeAmount\": {\"currency\": \"USD\", \"amount\": 2.675}},"
									 "{\"chargeType\": \"FEE\", \"chargeAmount\": {\"currency\": \"USD\", \"amount\": 1.0}}]}"));
	CHECK(c != NULL);
	if (c)
	{
		it = json_array_get(json_object_get(c, "items"), 0);
		CHECK_STR(nx_json_str(it, "line_total"), "0.30");
		CHECK_STR(nx_json_str(it, "unit_price"), "0.10");
		CHECK_STR(nx_json_str(c, "tax_total"), "0.01");
		CHECK_STR(nx_json_str(c, "shipping_total"), "2.68");
		CHECK_STR(nx_json_str(c, "total_amount"), "2.99");
		CHECK(json_is_null(json_object_get(c, "discount_total")));
	}
	json_decref(c);
}

NX_TEST(walmart_missing_optional_fields_are_null)
{
	json_t	   *c = WALMART_CANONICAL(nx_strdup(
		"{\"purchaseOrderId\": \"P-5\", \"orderLines\": {\"orderLine\": ["
		"{\"lineNumber\": 7, \"orderLineQuantity\": {\"amount\": 2}, " WM_STATUS("Created") "}]}}"));
	const char *nulls[] = {"order_number", "currency", "subtotal", "tax_total", "shipping_total",
	"discount_total", "total_amount", "ordered_at", "updated_at", "buyer_email", "buyer_name",
	"ship_country"};

	CHECK(c != NULL);
	if (c)
	{
		json_t	   *it = json_array_get(json_object_get(c, "items"), 0);

		for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
			if (!json_is_null(json_object_get(c, nulls[i])))
				nx_test_fail(__FILE__, __LINE__, "%s is not null", nulls[i]);
		CHECK_STR(nx_json_str(it, "external_item_id"), "P-5-7");
		CHECK(json_is_null(json_object_get(it, "sku")));
		CHECK(json_is_null(json_object_get(it, "title")));
		CHECK(json_is_null(json_object_get(it, "line_total")));
		CHECK_INT(json_integer_value(json_object_get(it, "quantity")), 2);
	}
	json_decref(c);
}

NX_TEST(walmart_non_ascii_and_countries)
{
	json_t	   *page = nx_fixture_json("walmart/orders_page1.json");
	json_t	   *ca = nx_fixture_json("walmart/orders_ca_market.json");
	NxOrder		o;
	NxError		err = {{0}};
	json_t	   *c;

	nx_order_init(&o, "walmart");
	CHECK(nx_walmart_adapter.normalize(json_array_get(nx_json_path(page, "list.elements.order"), 0),
									   &o, &err) == NX_OK);
	CHECK_STR(o.buyer_name, "Ren\xc3\xa9" "e Dubois");
	CHECK_STR(o.ship_country, "US");
	CHECK_STR(nx_json_str(o.shipping_address, "city"), "Sparks");
	nx_order_free(&o);

	nx_order_init(&o, "walmart");
	CHECK(nx_walmart_adapter.normalize(json_array_get(nx_json_path(ca, "list.elements.order"), 0),
									   &o, &err) == NX_OK);
	CHECK_STR(o.buyer_name, "\xc3\x89tienne Tremblay");
	CHECK_STR(o.ship_country, "CA");
	CHECK_STR(o.currency, "CAD");
	nx_order_free(&o);

	/* an unknown country is a warning and a null, not a failure */
	c = WALMART_CANONICAL(walmart_po("\"shippingInfo\": {\"postalAddress\": {\"country\": \"ZZZ\"}}",
									 WM_QTY("\"1\"") ", " WM_STATUS("Created")));
	CHECK(c != NULL && json_is_null(json_object_get(c, "ship_country")));
	json_decref(c);
	json_decref(ca);
	json_decref(page);
}

NX_TEST(walmart_huge_quantities)
{
	json_t	   *c = WALMART_CANONICAL(walmart_po("", WM_QTY("\"2147483647\"") ", " WM_CHARGE("999999999999.99")
												 ", " WM_STATUS("Created")));

	CHECK(c != NULL);
	if (c)
	{
		json_t	   *it = json_array_get(json_object_get(c, "items"), 0);

		CHECK_INT(json_integer_value(json_object_get(it, "quantity")), 2147483647);
		CHECK_STR(nx_json_str(it, "unit_price"), "465.66");
	}
	json_decref(c);
	WALMART_FAILS(walmart_po("", WM_QTY("\"2147483648\"") ", " WM_STATUS("Created")),
				  "orderLines.orderLine[0].orderLineQuantity.amount");
	WALMART_FAILS(walmart_po("", WM_QTY("\"99999999999999999999\"") ", " WM_STATUS("Created")),
				  "orderLines.orderLine[0].orderLineQuantity.amount");
	WALMART_FAILS(walmart_po("", WM_QTY("\"-1\"") ", " WM_STATUS("Created")),
				  "orderLines.orderLine[0].orderLineQuantity.amount");
}

NX_TEST(walmart_malformed_input_names_the_field)
{
	NxOrder		o;
	NxError		err = {{0}};

	nx_order_init(&o, "walmart");
	CHECK(nx_walmart_adapter.normalize(json_null(), &o, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "purchase order") != NULL);
	nx_order_free(&o);

	WALMART_FAILS(nx_strdup("[]"), "purchase order");
	WALMART_FAILS(nx_strdup("{\"orderLines\": {\"orderLine\": []}}"), "purchaseOrderId");
	WALMART_FAILS(nx_strdup("{\"purchaseOrderId\": 108828362790115}"), "purchaseOrderId");
	WALMART_FAILS(nx_strdup("{\"purchaseOrderId\": \"P-1\"}"), "orderLines.orderLine");
	WALMART_FAILS(nx_strdup("{\"purchaseOrderId\": \"P-1\", \"orderLines\": {\"orderLine\": {}}}"),
				  "orderLines.orderLine");
	WALMART_FAILS(nx_strdup("{\"purchaseOrderId\": \"P-1\", \"orderLines\": {\"orderLine\": [3]}}"),
				  "orderLines.orderLine[0]");
	WALMART_FAILS(walmart_po("\"customerOrderId\": 5", WM_STATUS("Created")), "customerOrderId");
	WALMART_FAILS(walmart_po("\"customerEmailId\": true", WM_STATUS("Created")), "customerEmailId");
	WALMART_FAILS(nx_strdup("{\"purchaseOrderId\": \"P-1\", \"orderDate\": \"yesterday\"}"), "orderDate");
	WALMART_FAILS(nx_strdup("{\"purchaseOrderId\": \"P-1\", \"orderDate\": 1741543200000.5}"), "orderDate");
	WALMART_FAILS(nx_strdup("{\"purchaseOrderId\": \"P-1\", \"orderDate\": -1}"), "orderDate");
	WALMART_FAILS(nx_strdup("{\"purchaseOrderId\": \"P-1\", \"orderDate\": 9223372036854775807}"),
				  "orderDate");
	WALMART_FAILS(walmart_po("", WM_QTY("\"2.5\"") ", " WM_STATUS("Created")),
				  "orderLines.orderLine[0].orderLineQuantity.amount");
	WALMART_FAILS(walmart_po("", WM_QTY("true") ", " WM_STATUS("Created")),
				  "orderLines.orderLine[0].orderLineQuantity.amount");
	WALMART_FAILS(walmart_po("", WM_STATUS("Created")), "orderLines.orderLine[0].orderLineQuantity");
	WALMART_FAILS(walmart_po("", WM_QTY("\"1\"") ", " WM_CHARGE("\"abc\"") ", " WM_STATUS("Created")),
				  "orderLines.orderLine[0].charges.charge[0].chargeAmount.amount");
	WALMART_FAILS(walmart_po("", WM_QTY("\"1\"") ", " WM_CHARGE("{}") ", " WM_STATUS("Created")),
				  "orderLines.orderLine[0].charges.charge[0].chargeAmount.amount");
	WALMART_FAILS(walmart_po("", WM_QTY("\"1\"") ", \"charges\": {\"charge\": [{\"chargeType\": \"PRODUCT\"}]}, "
							 WM_STATUS("Created")),
				  "orderLines.orderLine[0].charges.charge[0].chargeAmount");
	WALMART_FAILS(walmart_po("", WM_QTY("\"1\"") ", \"charges\": {\"charge\": {}}, " WM_STATUS("Created")),
				  "orderLines.orderLine[0].charges.charge");
	WALMART_FAILS(walmart_po("", WM_QTY("\"1\"") ", \"charges\": {\"charge\": ["
							 "{\"chargeType\": \"PRODUCT\", \"chargeAmount\": {\"currency\": \"USD\", \"amount\": 1}},"
							 "{\"chargeType\": \"SHIPPING\", \"chargeAmount\": {\"currency\": \"CAD\", \"amount\": 1}}]}, "
							 WM_STATUS("Created")),
				  "orderLines.orderLine[0].charges.charge[1].chargeAmount.currency");
	WALMART_FAILS(walmart_po("", WM_QTY("\"1\"") ", \"charges\": {\"charge\": ["
							 "{\"chargeType\": \"PRODUCT\", \"chargeAmount\": {\"currency\": \"usd\", \"amount\": 1}}]}, "
							 WM_STATUS("Created")),
				  "currency");
	WALMART_FAILS(walmart_po("", WM_QTY("\"1\"")), "orderLines.orderLine[0].orderLineStatuses");
	WALMART_FAILS(walmart_po("", WM_QTY("\"1\"") ", \"orderLineStatuses\": {\"orderLineStatus\": [{}]}"),
				  "orderLines.orderLine[0].orderLineStatuses.orderLineStatus[0].status");
	WALMART_FAILS(walmart_po("", WM_QTY("\"1\"") ", \"orderLineStatuses\": {\"orderLineStatus\": [{\"status\": 4}]}"),
				  "orderLines.orderLine[0].orderLineStatuses.orderLineStatus[0].status");
	WALMART_FAILS(walmart_po("", WM_QTY("\"1\"") ", \"statusDate\": \"2025-13-01T00:00:00Z\", " WM_STATUS("Created")),
				  "orderLines.orderLine[0].statusDate");
	WALMART_FAILS(walmart_po("", WM_QTY("\"1\"") ", \"item\": {\"sku\": 12}, " WM_STATUS("Created")),
				  "orderLines.orderLine[0].item.sku");
	WALMART_FAILS(walmart_po("\"shippingInfo\": {\"postalAddress\": \"Reno\"}", WM_STATUS("Created")),
				  "shippingInfo.postalAddress");
	WALMART_FAILS(walmart_po("", WM_QTY("\"1\"") ", " WM_STATUS("Created") ", \"refund\": "
							 "{\"refundCharges\": {\"refundCharge\": [{\"charge\": {\"chargeType\": \"PRODUCT\","
							 " \"chargeAmount\": {\"currency\": \"USD\", \"amount\": \"-x\"}}}]}}"),
				  "orderLines.orderLine[0].refund.refundCharges.refundCharge[0].charge.chargeAmount.amount");
}

NX_TEST(walmart_get_order_response_is_unwrapped)
{
	json_t	   *page = nx_fixture_json("walmart/orders_page1.json");
	json_t	   *wrapped = json_pack("{s:O}", "order",
									json_array_get(nx_json_path(page, "list.elements.order"), 1));
	json_t	   *c = nx_normalize_json(&nx_walmart_adapter, wrapped);

	CHECK(c != NULL);
	CHECK_STR(nx_json_str(c, "external_order_id"), "108828362790222");
	json_decref(c);
	json_decref(wrapped);
	json_decref(page);
}

/* verify a webhook with the fixture headers, one of them replaced */
static int
walmart_verify(const char *body, size_t len, const char *signature, const char *secret,
			   NxError *err)
{
	json_t	   *headers = nx_fixture_headers("walmart/webhook_order_updates.headers");
	NxWebhookInput in;
	int			rc;

	if (signature)
		json_object_set_new(headers, "x-walmart-signature", json_string(signature));
	else
		json_object_del(headers, "x-walmart-signature");
	memset(&in, 0, sizeof(in));
	in.body = body;
	in.body_len = len;
	in.headers = headers;
	in.secret = secret;
	rc = nx_walmart_adapter.verify_webhook(&in, err);
	json_decref(headers);
	return rc;
}

NX_TEST(walmart_webhook_signature)
{
	size_t		len = 0;
	char	   *body = nx_fixture_bytes("walmart/webhook_order_updates.json", &len);
	json_t	   *headers = nx_fixture_headers("walmart/webhook_order_updates.headers");
	json_t	   *want = nx_fixture_json("walmart/expected_webhook.json");
	const char *b64 = nx_json_str(want, "expected_signature_base64");
	const char *hex = nx_json_str(want, "expected_signature_hex");
	NxError		err = {{0}};
	char		flipped[80];

	CHECK(body != NULL && b64 != NULL && hex != NULL);
	if (body == NULL || b64 == NULL || hex == NULL)
		goto out;
	/* the header as delivered */
	CHECK_STR(nx_header(headers, "x-walmart-signature"), b64);
	CHECK(walmart_verify(body, len, b64, WM_SECRET, &err) == NX_OK);
	/* the encoding is undocumented: hex is accepted too */
	CHECK(walmart_verify(body, len, hex, WM_SECRET, &err) == NX_OK);

	/* one body byte changed */
	body[len / 2] ^= 1;
	CHECK(walmart_verify(body, len, b64, WM_SECRET, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "does not match") != NULL);
	body[len / 2] ^= 1;
	/* a body cut short */
	CHECK(walmart_verify(body, len - 1, b64, WM_SECRET, &err) == NX_FAIL);
	/* one signature character changed */
	snprintf(flipped, sizeof(flipped), "%s", b64);
	flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
	CHECK(walmart_verify(body, len, flipped, WM_SECRET, &err) == NX_FAIL);
	snprintf(flipped, sizeof(flipped), "%s", hex);
	flipped[63] = flipped[63] == '0' ? '1' : '0';
	CHECK(walmart_verify(body, len, flipped, WM_SECRET, &err) == NX_FAIL);
	/* wrong secret, no secret */
	CHECK(walmart_verify(body, len, b64, WM_SECRET "x", &err) == NX_FAIL);
	CHECK(walmart_verify(body, len, b64, NULL, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "secret") != NULL);
	CHECK(walmart_verify(body, len, b64, "", &err) == NX_FAIL);
	/* missing or malformed header */
	CHECK(walmart_verify(body, len, NULL, WM_SECRET, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "x-walmart-signature") != NULL);
	CHECK(walmart_verify(body, len, "", WM_SECRET, &err) == NX_FAIL);
	CHECK(walmart_verify(body, len, "not base64!", WM_SECRET, &err) == NX_FAIL);
	CHECK(walmart_verify(body, len, "c2hvcnQ=", WM_SECRET, &err) == NX_FAIL);
	/* an empty body is signed like any other */
	CHECK(walmart_verify(NULL, 0, b64, WM_SECRET, &err) == NX_FAIL);
out:
	json_decref(want);
	json_decref(headers);
	free(body);
}

NX_TEST(walmart_webhook_event)
{
	json_t	   *body = nx_fixture_json("walmart/webhook_order_updates.json");
	json_t	   *want = nx_fixture_json("walmart/expected_webhook.json");
	json_t	   *page = nx_fixture_json("walmart/orders_page1.json");
	json_t	   *full;
	NxWebhookEvent ev;
	NxError		err = {{0}};

	memset(&ev, 0, sizeof(ev));
	CHECK(nx_walmart_adapter.parse_webhook(body, NULL, &ev, &err) == NX_OK);
	CHECK_STR(ev.event_id, nx_json_str(want, "dedupe_key"));
	CHECK_STR(ev.order_id, nx_json_str(want, "external_id"));
	CHECK_STR(ev.topic, "ORDER_UPDATES/PO_CREATED");
	/* a PO summary without charges is no order: re-fetch it */
	CHECK(ev.order == NULL);
	nx_webhook_event_free(&ev);

	/* a payload that carries a full PO hands it on */
	full = json_deep_copy(body);
	json_object_set(json_object_get(full, "payload"), "order",
					json_array_get(nx_json_path(page, "list.elements.order"), 1));
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_walmart_adapter.parse_webhook(full, NULL, &ev, &err) == NX_OK);
	CHECK(json_is_object(ev.order));
	CHECK_STR(nx_json_str(ev.order, "purchaseOrderId"), "108828362790222");
	nx_webhook_event_free(&ev);
	json_decref(full);

	/* no event id: nothing to drop replays by */
	json_object_del(json_object_get(body, "source"), "eventId");
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_walmart_adapter.parse_webhook(body, NULL, &ev, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "source.eventId") != NULL);
	nx_webhook_event_free(&ev);
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_walmart_adapter.parse_webhook(json_null(), NULL, &ev, &err) == NX_FAIL);
	nx_webhook_event_free(&ev);

	json_decref(page);
	json_decref(want);
	json_decref(body);
}

/* ---------- sync requests ---------- */

static const NxAdapter *walmart = &nx_walmart_adapter;

#define WM_BASE "https://marketplace.walmartapis.com"
/* 2025-03-01T00:00:00Z, the fixture walk's lastModifiedStartDate */
#define WM_SINCE INT64_C(1740787200)
#define WM_NOW_MS INT64_C(1741780000000)

static json_t *
wm_credentials(void)
{
	return json_pack("{s:s,s:s}", "client_id", "w-id", "client_secret", "WALMART-SECRET");
}

static NxSyncContext
wm_context(const json_t *credentials)
{
	NxSyncContext ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.credentials = credentials;
	ctx.api_base = WM_BASE;
	ctx.auth_base = WM_BASE;
	ctx.access_token = "wm-token";
	ctx.user_agent = "nexus/0.2.0";
	return ctx;
}

NX_TEST(walmart_sync_vtable)
{
	CHECK_SYNC_SHAPE(walmart, .max_page_size = 200, .max_days_back = 180, .token_request = true);
	CHECK_BASE_URLS(walmart, NULL, "US", WM_BASE, WM_BASE);
}

NX_TEST(walmart_token_request)
{
	json_t	   *cred = wm_credentials();
	NxSyncContext ctx = wm_context(cred);
	NxRequest	r;
	NxRequest	r2;
	NxError		err = {{0}};

	ctx.access_token = NULL;	/* not needed to get one */
	CHECK(walmart->token_request(&ctx, &r, &err) == NX_OK);
	CHECK_REQUEST(&r, "POST", WM_BASE "/v3/token", "grant_type=client_credentials",
				  "User-Agent: nexus/0.2.0",
				  "Accept: application/json",
				  "WM_SVC.NAME: Walmart Marketplace",
				  "WM_QOS.CORRELATION_ID: *",
				  "Authorization: Basic dy1pZDpXQUxNQVJULVNFQ1JFVA==",	/* w-id:WALMART-SECRET */
				  "Content-Type: application/x-www-form-urlencoded");
	CHECK(nx_is_uuid_v4(nx_request_header_value(&r, "WM_QOS.CORRELATION_ID")));

	/* every request has a correlation id of its own */
	CHECK(walmart->token_request(&ctx, &r2, &err) == NX_OK);
	CHECK(nx_is_uuid_v4(nx_request_header_value(&r2, "WM_QOS.CORRELATION_ID")));
	CHECK(strcmp(nx_request_header_value(&r, "WM_QOS.CORRELATION_ID"),
				 nx_request_header_value(&r2, "WM_QOS.CORRELATION_ID")) != 0);
	nx_request_free(&r);
	nx_request_free(&r2);

	ctx.auth_base = NULL;
	CHECK_REQUEST_FAILS(walmart->token_request(&ctx, &r, &err), &r, &err, "auth_base: missing");
	ctx.auth_base = WM_BASE;
	json_object_set_new(cred, "client_secret", json_integer(7));
	CHECK_REQUEST_FAILS(walmart->token_request(&ctx, &r, &err), &r, &err,
						"credentials.client_secret: expected a string");
	json_object_del(cred, "client_id");
	CHECK_REQUEST_FAILS(walmart->token_request(&ctx, &r, &err), &r, &err,
						"credentials.client_id: missing");
	json_decref(cred);
}

NX_TEST(walmart_list_request_first_page)
{
	json_t	   *cred = wm_credentials();
	NxSyncContext ctx = wm_context(cred);
	NxRequest	r;
	NxError		err = {{0}};

	CHECK(walmart->list_request(&ctx, WM_SINCE, NULL, &r, &err) == NX_OK);
	CHECK_REQUEST(&r, "GET",
				  WM_BASE "/v3/orders?lastModifiedStartDate=2025-03-01T00:00:00Z&limit=200"
				  "&productInfo=false", NULL,
				  "User-Agent: nexus/0.2.0",
				  "Accept: application/json",
				  "WM_SVC.NAME: Walmart Marketplace",
				  "WM_QOS.CORRELATION_ID: *",
				  "WM_SEC.ACCESS_TOKEN: wm-token");
	CHECK(nx_is_uuid_v4(nx_request_header_value(&r, "WM_QOS.CORRELATION_ID")));
	nx_request_free(&r);

	ctx.page_size = 3;
	CHECK(walmart->list_request(&ctx, WM_SINCE, NULL, &r, &err) == NX_OK);
	CHECK(strstr(r.url, "&limit=3&") != NULL);
	nx_request_free(&r);
	ctx.page_size = 1000;
	CHECK(walmart->list_request(&ctx, WM_SINCE, NULL, &r, &err) == NX_OK);
	CHECK(strstr(r.url, "&limit=200&") != NULL);
	nx_request_free(&r);
	ctx.page_size = 0;

	ctx.access_token = NULL;
	CHECK_LIST_FAILS(walmart, &ctx, WM_SINCE, NULL, "access_token: missing");
	ctx.access_token = "wm\r\ntoken";
	CHECK_LIST_FAILS(walmart, &ctx, WM_SINCE, NULL, "access_token: contains a line break");
	ctx.access_token = "wm-token";
	ctx.user_agent = NULL;
	CHECK_LIST_FAILS(walmart, &ctx, WM_SINCE, NULL, "user_agent: missing");
	ctx.user_agent = "nexus/0.2.0";
	CHECK_LIST_FAILS(walmart, &ctx, INT64_MIN, NULL, "since: ");
	ctx.api_base = NULL;
	CHECK_LIST_FAILS(walmart, &ctx, WM_SINCE, NULL, "api_base: missing");
	json_decref(cred);
}

/* list.meta.nextCursor of page 1 is appended to /v3/orders as it is. */
NX_TEST(walmart_list_request_next_page_from_fixture)
{
	json_t	   *cred = wm_credentials();
	NxSyncContext ctx = wm_context(cred);
	char	   *cursor = FIXTURE_NEXT_CURSOR(walmart, "walmart/orders_page1.json");
	NxRequest	r;
	NxError		err = {{0}};

	CHECK(walmart->list_request(&ctx, WM_SINCE, cursor, &r, &err) == NX_OK);
	CHECK_REQUEST(&r, "GET",
				  WM_BASE "/v3/orders?limit=3&hasMoreElements=true&soIndex=5&poIndex=3"
				  "&partnerId=10001234567&sellerId=101234"
				  "&lastModifiedStartDate=2025-03-01T00:00:00.000Z"
				  "&lastModifiedEndDate=2025-03-12T21:00:00.000Z", NULL,
				  "User-Agent: nexus/0.2.0",
				  "Accept: application/json",
				  "WM_SVC.NAME: Walmart Marketplace",
				  "WM_QOS.CORRELATION_ID: *",
				  "WM_SEC.ACCESS_TOKEN: wm-token");
	nx_request_free(&r);
	free(cursor);
	json_decref(cred);
}

NX_TEST(walmart_list_request_cursor_must_be_a_query_string)
{
	json_t	   *cred = wm_credentials();
	NxSyncContext ctx = wm_context(cred);
	NxRequest	r;
	NxError		err = {{0}};
	const char *const refused[] = {
		"", "?", "limit=3", "/released?limit=3", "/../token?x=1", "https://evil.example/?a=b",
		"?a=b#frag", "?a=b c", "?a=b\tc", "?a=b\r\nX-Evil: 1", "?a=\xc3\xbc", "?a=\x7f",
		" ?a=b",
	};

	CHECK_CURSORS_REFUSED_SAYING_FIRST(walmart, &ctx, WM_SINCE, refused,
									   "cursor (list.meta.nextCursor): ");
	CHECK_LIST_FAILS(walmart, &ctx, WM_SINCE, "limit=3", "expected a query string beginning with '?'");
	CHECK_LIST_FAILS(walmart, &ctx, WM_SINCE, "?a=b#c", "'#'");

	CHECK(walmart->list_request(&ctx, WM_SINCE, "?a=b", &r, &err) == NX_OK);
	CHECK_STR(r.url, WM_BASE "/v3/orders?a=b");
	nx_request_free(&r);
	ctx.api_base = "http://127.0.0.1:8083/walmart";
	CHECK(walmart->list_request(&ctx, WM_SINCE, "?a=%20&b=[1]", &r, &err) == NX_OK);
	CHECK_STR(r.url, "http://127.0.0.1:8083/walmart/v3/orders?a=%20&b=[1]");
	nx_request_free(&r);
	json_decref(cred);
}

/* Region "ca": the token names the market, the list is /v3/ca/orders. */
NX_TEST(walmart_canada_token_and_first_page)
{
	json_t	   *cred = wm_credentials();
	NxSyncContext ctx = wm_context(cred);
	NxRequest	r;
	NxError		err = {{0}};

	ctx.region = "ca";
	ctx.access_token = NULL;
	CHECK(walmart->token_request(&ctx, &r, &err) == NX_OK);
	CHECK_REQUEST(&r, "POST", WM_BASE "/v3/token", "grant_type=client_credentials",
				  "User-Agent: nexus/0.2.0",
				  "Accept: application/json",
				  "WM_SVC.NAME: Walmart Marketplace",
				  "WM_QOS.CORRELATION_ID: *",
				  "WM_MARKET: ca",
				  "Authorization: Basic dy1pZDpXQUxNQVJULVNFQ1JFVA==",
				  "Content-Type: application/x-www-form-urlencoded");
	nx_request_free(&r);

	ctx.access_token = "wm-token";
	CHECK(walmart->list_request(&ctx, WM_SINCE, NULL, &r, &err) == NX_OK);
	CHECK_REQUEST(&r, "GET",
				  WM_BASE "/v3/ca/orders?lastModifiedStartDate=2025-03-01T00:00:00Z&limit=200"
				  "&productInfo=false", NULL,
				  "User-Agent: nexus/0.2.0",
				  "Accept: application/json",
				  "WM_SVC.NAME: Walmart Marketplace",
				  "WM_QOS.CORRELATION_ID: *",
				  "WM_MARKET: ca",
				  "WM_SEC.ACCESS_TOKEN: wm-token");
	CHECK(nx_is_uuid_v4(nx_request_header_value(&r, "WM_QOS.CORRELATION_ID")));
	nx_request_free(&r);

	/* the seller's channel type, when the credentials carry one */
	json_object_set_new(cred, "consumer_channel_type", json_string("0f3e4dd4-0514"));
	CHECK(walmart->list_request(&ctx, WM_SINCE, NULL, &r, &err) == NX_OK);
	CHECK_STR(nx_request_header_value(&r, "WM_CONSUMER.CHANNEL.TYPE"), "0f3e4dd4-0514");
	CHECK_INT(r.nheaders, 7);
	nx_request_free(&r);
	json_object_set_new(cred, "consumer_channel_type", json_string("a\r\nX-Evil: 1"));
	CHECK_LIST_FAILS(walmart, &ctx, WM_SINCE, NULL, "credentials.consumer_channel_type: contains a line break");
	json_object_del(cred, "consumer_channel_type");

	/* "us" is what NULL always meant: no market header, /v3/orders */
	ctx.region = "us";
	CHECK(walmart->list_request(&ctx, WM_SINCE, NULL, &r, &err) == NX_OK);
	CHECK_STR(r.url, WM_BASE "/v3/orders?lastModifiedStartDate=2025-03-01T00:00:00Z&limit=200"
			  "&productInfo=false");
	CHECK(nx_request_header_value(&r, "WM_MARKET") == NULL);
	CHECK_INT(r.nheaders, 5);
	nx_request_free(&r);

	/* a region the database refuses is never taken for another market */
	ctx.region = "mx";
	CHECK_LIST_FAILS(walmart, &ctx, WM_SINCE, NULL, "region: \"mx\" is not a Walmart region (us or ca)");
	CHECK_REQUEST_FAILS(walmart->token_request(&ctx, &r, &err), &r, &err,
						"region: \"mx\" is not a Walmart region");
	ctx.region = "CA";
	CHECK_LIST_FAILS(walmart, &ctx, WM_SINCE, "?a=b", "region: \"CA\"");
	ctx.region = "";
	CHECK_LIST_FAILS(walmart, &ctx, WM_SINCE, NULL, "region: \"\"");
	json_decref(cred);
}

/* A Canadian next page appends nextCursor to /v3/ca/orders, never /v3/orders. */
NX_TEST(walmart_canada_next_page)
{
	json_t	   *cred = wm_credentials();
	NxSyncContext ctx = wm_context(cred);
	char	   *cursor = FIXTURE_NEXT_CURSOR(walmart, "walmart/orders_page1.json");
	json_t	   *p1;
	NxPage		page;
	NxRequest	r;
	NxError		err = {{0}};

	ctx.region = "ca";
	CHECK(walmart->list_request(&ctx, WM_SINCE, cursor, &r, &err) == NX_OK);
	CHECK_REQUEST(&r, "GET",
				  WM_BASE "/v3/ca/orders?limit=3&hasMoreElements=true&soIndex=5&poIndex=3"
				  "&partnerId=10001234567&sellerId=101234"
				  "&lastModifiedStartDate=2025-03-01T00:00:00.000Z"
				  "&lastModifiedEndDate=2025-03-12T21:00:00.000Z", NULL,
				  "User-Agent: nexus/0.2.0",
				  "Accept: application/json",
				  "WM_SVC.NAME: Walmart Marketplace",
				  "WM_QOS.CORRELATION_ID: *",
				  "WM_MARKET: ca",
				  "WM_SEC.ACCESS_TOKEN: wm-token");
	nx_request_free(&r);
	free(cursor);

	/* the documented example cursor, trailing '&' and all */
	CHECK(walmart->list_request(&ctx, WM_SINCE, "?limit=10&soIndex=2&poIndex=2&", &r,
								&err) == NX_OK);
	CHECK_STR(r.url, WM_BASE "/v3/ca/orders?limit=10&soIndex=2&poIndex=2&");
	nx_request_free(&r);

	/* the CA fixture is a last page: no cursor to follow */
	p1 = nx_fixture_json("walmart/orders_ca_market.json");
	nx_page_init(&page);
	CHECK(walmart->parse_page(p1, NULL, &page, &err) == NX_OK);
	CHECK(page.next_cursor == NULL);
	CHECK(page.norders == 1);
	nx_page_free(&page);
	json_decref(p1);
	json_decref(cred);
}

/* As for the US: a hostile nextCursor cannot leave /v3/ca/orders. */
NX_TEST(walmart_canada_cursor_cannot_change_the_path)
{
	json_t	   *cred = wm_credentials();
	NxSyncContext ctx = wm_context(cred);
	NxRequest	r;
	NxError		err = {{0}};
	const char *const refused[] = {
		"", "?", "limit=3", "/released?limit=3", "/../token?x=1", "/../../orders?a=b",
		"/%2e%2e/orders?a=b", "https://evil.example/?a=b", "@evil.example/?a=b",
		"?a=b#/../../token", "?a=b c", "?a=b\r\nX-Evil: 1", "?a=\xc3\xbc", " ?a=b",
	};

	ctx.region = "ca";
	CHECK_CURSORS_REFUSED_SAYING_FIRST(walmart, &ctx, WM_SINCE, refused,
									   "cursor (list.meta.nextCursor): ");
	/* what passes stays under the CA path of api_base */
	ctx.api_base = "http://127.0.0.1:8083/walmart";
	CHECK(walmart->list_request(&ctx, WM_SINCE, "?a=/../x&b=%2F", &r, &err) == NX_OK);
	CHECK_STR(r.url, "http://127.0.0.1:8083/walmart/v3/ca/orders?a=/../x&b=%2F");
	CHECK(nx_url_under(r.url, "http://127.0.0.1:8083/walmart/v3/ca/orders"));
	nx_request_free(&r);
	json_decref(cred);
}

/* wait_ms for a response with the headers given as name, value pairs. */
#define WM_WAIT(status, ...) nx_throttle_wait(walmart, (status), WM_NOW_MS, __VA_ARGS__, NULL)

#define REPL "x-next-replenishment-time"

NX_TEST(walmart_throttle)
{
	char		at[32];
	json_t	   *h;

	CHECK_INT(nx_throttle_wait_on(walmart, 429, NULL, WM_NOW_MS), -1);
	CHECK_INT(WM_WAIT(429, NULL), -1);

	snprintf(at, sizeof(at), "%lld", (long long) (WM_NOW_MS + 1500));
	CHECK_INT(WM_WAIT(429, REPL, at), 1500);
	CHECK_INT(WM_WAIT(429, REPL, at, "x-current-token-count", "0"), 1500);
	/* on a good response the refill time is no wait, unless the bucket is empty */
	CHECK_INT(WM_WAIT(200, REPL, at, "x-current-token-count", "17"), -1);
	CHECK_INT(WM_WAIT(200, REPL, at), -1);
	CHECK_INT(WM_WAIT(200, REPL, at, "x-current-token-count", "0"), 1500);
	CHECK_INT(WM_WAIT(200, REPL, at, "x-current-token-count", "zero"), -1);

	/* already past: go now */
	snprintf(at, sizeof(at), "%lld", (long long) (WM_NOW_MS - 250));
	CHECK_INT(WM_WAIT(429, REPL, at), 0);
	snprintf(at, sizeof(at), "%lld", (long long) WM_NOW_MS);
	CHECK_INT(WM_WAIT(429, REPL, at), 0);
	/* capped at an hour */
	snprintf(at, sizeof(at), "%lld", (long long) (WM_NOW_MS + 2 * 3600000));
	CHECK_INT(WM_WAIT(429, REPL, at), 3600000);
	/* further than a day either way: not milliseconds, ignored */
	snprintf(at, sizeof(at), "%lld", (long long) (WM_NOW_MS + 86400001));
	CHECK_INT(WM_WAIT(429, REPL, at), -1);
	snprintf(at, sizeof(at), "%lld", (long long) (WM_NOW_MS / 1000));	/* seconds */
	CHECK_INT(WM_WAIT(429, REPL, at), -1);
	snprintf(at, sizeof(at), "%lld", (long long) (WM_NOW_MS * 1000));	/* microseconds */
	CHECK_INT(WM_WAIT(429, REPL, at), -1);

	CHECK_INT(WM_WAIT(429, REPL, "-1741780001500"), -1);
	CHECK_INT(WM_WAIT(429, REPL, ""), -1);
	CHECK_INT(WM_WAIT(429, REPL, "soon"), -1);
	CHECK_INT(WM_WAIT(429, REPL, "1741780001500.5"), -1);
	CHECK_INT(WM_WAIT(429, REPL, "99999999999999999999999999"), -1);
	CHECK_INT(WM_WAIT(429, REPL, "2025-03-12T12:00:00Z"), -1);
	CHECK_INT(WM_WAIT(429, "retry-after", "5"), -1);	/* not Walmart's */

	/* a clock that makes no sense gives no wait rather than an overflow */
	h = json_pack("{s:s}", REPL, "1741780001500");
	CHECK_INT(nx_throttle_wait_on(walmart, 429, h, INT64_MIN), -1);
	CHECK_INT(nx_throttle_wait_on(walmart, 429, h, INT64_MAX), -1);
	json_decref(h);
}
