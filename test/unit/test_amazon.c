/*-------------------------------------------------------------------------
 *
 * test_amazon.c
 *	  The Amazon SP-API adapter against fixtures/amazon: every order
 *	  (getOrders Order + getOrderItems lines) to its canonical record, the
 *	  two list pages, every documented status, exact money, nulls, bad
 *	  input and the ORDER_CHANGE notification.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "unit.h"

/*
 * What the sync engine hands to normalize: the Order of a list page with
 * an added OrderItems array taken from getOrderItems.
 */
static json_t *
amazon_full_order(const json_t *order)
{
	char		path[128];
	json_t	   *full = json_deep_copy(order);
	json_t	   *items;

	snprintf(path, sizeof(path), "amazon/order_items/%s.json",
			 json_string_value(json_object_get(order, "AmazonOrderId")));
	items = nx_fixture_json(path);
	if (items && full)
		json_object_set(full, "OrderItems", (json_t *) nx_json_path(items, "payload.OrderItems"));
	json_decref(items);
	return full;
}

/* Normalize a JSON text; the canonical JSON, or NULL (test failed). */
static json_t *
amazon_canonical(const char *text)
{
	return nx_normalize_text(&nx_amazon_adapter, text);
}

/* normalize must fail and name the field. */
#define AMAZON_FAILS(text, needle) \
	nx_check_normalize_text_fails(__FILE__, __LINE__, &nx_amazon_adapter, (text), (needle))

NX_TEST(amazon_every_fixture_order_is_canonical)
{
	const char *pages[] = {"amazon/orders_page1.json", "amazon/orders_page2.json"};
	json_t	   *want = nx_fixture_json("amazon/expected_canonical.json");
	json_t	   *got = json_array();

	for (int p = 0; p < 2; p++)
	{
		json_t	   *page = nx_fixture_json(pages[p]);
		size_t		i;
		const json_t *order;

		json_array_foreach(nx_json_path(page, "payload.Orders"), i, order)
		{
			json_t	   *full = amazon_full_order(order);
			json_t	   *c = nx_normalize_json(&nx_amazon_adapter, full);

			if (c)
				json_array_append_new(got, c);
			json_decref(full);
		}
		json_decref(page);
	}
	CHECK_INT(json_array_size(got), 6);
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
}

NX_TEST(amazon_list_pages_and_next_token)
{
	json_t	   *p1 = nx_fixture_json("amazon/orders_page1.json");
	json_t	   *p2 = nx_fixture_json("amazon/orders_page2.json");
	NxPage		page;
	NxError		err = {{0}};

	nx_page_init(&page);
	CHECK(nx_amazon_adapter.parse_page(p1, NULL, &page, &err) == NX_OK);
	CHECK_INT(page.norders, 3);
	CHECK_INT(page.nfailed, 0);
	CHECK_STR(page.next_cursor, json_string_value(nx_json_path(p1, "payload.NextToken")));
	if (page.norders == 3)
	{
		CHECK_STR(page.orders[0].external_order_id, "113-4829175-6638204");
		CHECK_STR(page.orders[1].external_order_id, "114-7730152-0019457");
		CHECK_STR(page.orders[2].external_order_id, "112-9906123-5550871");
		/* list orders have no lines yet: the item sums are unknown, the total is not */
		CHECK_INT(page.orders[0].nitems, 0);
		CHECK(!page.orders[0].subtotal.present);
		CHECK(!page.orders[0].tax_total.present);
		CHECK(page.orders[0].total_amount.present && page.orders[0].total_amount.minor == 6514);
		CHECK_STR(page.orders[2].status, NX_CANCELLED);
		CHECK_STR(page.orders[2].currency, "USD");
	}
	nx_page_free(&page);

	nx_page_init(&page);
	CHECK(nx_amazon_adapter.parse_page(p2, NULL, &page, &err) == NX_OK);
	CHECK_INT(page.norders, 3);
	CHECK(page.next_cursor == NULL);
	if (page.norders == 3)
	{
		CHECK_STR(page.orders[0].currency, "MXN");
		CHECK_STR(page.orders[0].fulfillment_method, NX_FBA);
		CHECK_STR(page.orders[2].status, NX_PENDING);
		CHECK(page.orders[2].shipping_address == NULL);
		CHECK(json_is_object(page.orders[0].shipping_address));
	}
	nx_page_free(&page);
	json_decref(p1);
	json_decref(p2);
}

NX_TEST(amazon_page_keeps_going_past_a_bad_order)
{
	json_t	   *doc = nx_parse_json(
		"{\"payload\": {\"Orders\": ["
		" {\"AmazonOrderId\": \"A-1\", \"OrderStatus\": \"Shipped\"},"
		" {\"AmazonOrderId\": \"A-2\", \"OrderStatus\": \"Shipped\", \"PurchaseDate\": \"soon\"},"
		" {\"OrderStatus\": \"Shipped\"},"
		" {\"AmazonOrderId\": \"A-4\", \"OrderStatus\": \"Unshipped\"}],"
		" \"NextToken\": \"tok\"}}");
	NxPage		page;
	NxError		err = {{0}};

	nx_page_init(&page);
	CHECK(nx_amazon_adapter.parse_page(doc, NULL, &page, &err) == NX_OK);
	CHECK_INT(page.norders, 2);
	CHECK_INT(page.nfailed, 2);
	CHECK_STR(page.next_cursor, "tok");
	if (page.nfailed == 2)
	{
		CHECK_STR(page.failed[0].external_order_id, "A-2");
		CHECK(strstr(page.failed[0].error, "PurchaseDate") != NULL);
		CHECK(page.failed[1].external_order_id == NULL);
		CHECK(strstr(page.failed[1].error, "AmazonOrderId") != NULL);
	}
	if (page.norders == 2)
		CHECK_STR(page.orders[1].external_order_id, "A-4");
	nx_page_free(&page);
	json_decref(doc);
}

NX_TEST(amazon_page_rejects_other_shapes)
{
	const char *bad[] = {
		"[]", "{}", "{\"payload\": {}}", "{\"payload\": {\"Orders\": {}}}",
		"{\"Orders\": []}", "\"payload\"",
	};
	json_t	   *doc;
	NxPage		page;
	NxError		err = {{0}};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		doc = nx_parse_json(bad[i]);
		CHECK_PAGE_FAILS(&nx_amazon_adapter, doc, NULL, "getOrders");
		json_decref(doc);
	}
	/* an SP-API error document says what went wrong */
	doc = nx_parse_json("{\"errors\": [{\"code\": \"InvalidInput\", \"message\": \"bad MarketplaceIds\"}]}");
	CHECK_PAGE_FAILS(&nx_amazon_adapter, doc, NULL, "InvalidInput");
	json_decref(doc);
	/* an empty NextToken would restart the listing: it ends it */
	doc = nx_parse_json("{\"payload\": {\"Orders\": [], \"NextToken\": \"\"}}");
	nx_page_init(&page);
	CHECK(nx_amazon_adapter.parse_page(doc, NULL, &page, &err) == NX_OK);
	CHECK(page.next_cursor == NULL);
	nx_page_free(&page);
	json_decref(doc);
	/* a NextToken that is not a string */
	doc = nx_parse_json("{\"payload\": {\"Orders\": [], \"NextToken\": 5}}");
	CHECK_PAGE_FAILS(&nx_amazon_adapter, doc, NULL, "NextToken");
	json_decref(doc);
}

NX_TEST(amazon_classify_every_documented_status)
{
	static const struct
	{
		const char *raw;
		const char *want;
	}			cases[] =
	{
		{"Pending", NX_PENDING}, {"PendingAvailability", NX_PENDING},
		{"Unshipped", NX_CONFIRMED}, {"PartiallyShipped", NX_PROCESSING},
		{"Shipped", NX_SHIPPED}, {"InvoiceUnconfirmed", NX_SHIPPED},
		{"Canceled", NX_CANCELLED}, {"Unfulfillable", NX_CANCELLED},
		{"Delivered", NX_PENDING},	/* not an Orders v0 state */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		json_t	   *order = json_pack("{s:s, s:s, s:s}", "AmazonOrderId", "X-1",
									  "OrderStatus", cases[i].raw, "FulfillmentChannel",
									  i % 2 ? "AFN" : "MFN");
		const char *status = NULL;
		const char *fulfillment = NULL;
		char	   *raw = NULL;
		NxError		err = {{0}};

		CHECK(nx_amazon_adapter.classify(order, &status, &fulfillment, &raw, &err) == NX_OK);
		CHECK_STR(status, cases[i].want);
		CHECK_STR(fulfillment, i % 2 ? NX_FBA : NX_FBM);
		CHECK_STR(raw, cases[i].raw);
		free(raw);
		json_decref(order);
	}
}

NX_TEST(amazon_unknown_status_is_pending_with_a_warning)
{
	json_t	   *doc = nx_parse_json("{\"AmazonOrderId\": \"X-2\", \"OrderStatus\": \"OnTheMoon\"}");
	NxOrder		o;
	NxError		err = {{0}};
	const char *status;
	const char *fulfillment;
	char	   *raw = NULL;

	nx_order_init(&o, "amazon");
	CHECK(nx_amazon_adapter.normalize(doc, &o, &err) == NX_OK);
	CHECK_STR(o.status, NX_PENDING);
	CHECK_STR(o.marketplace_status, "OnTheMoon");
	CHECK(o.warning != NULL && strstr(o.warning, "\"OnTheMoon\"") != NULL);
	nx_order_free(&o);

	CHECK(nx_amazon_adapter.classify(doc, &status, &fulfillment, &raw, &err) == NX_OK);
	CHECK_STR(status, NX_PENDING);
	CHECK_STR(raw, "OnTheMoon");
	free(raw);
	CHECK(nx_amazon_adapter.classify(json_null(), &status, &fulfillment, &raw, &err) == NX_FAIL);
	json_decref(doc);

	/* a known status gives no warning */
	doc = nx_parse_json("{\"AmazonOrderId\": \"X-3\", \"OrderStatus\": \"Shipped\"}");
	nx_order_init(&o, "amazon");
	CHECK(nx_amazon_adapter.normalize(doc, &o, &err) == NX_OK);
	CHECK(o.warning == NULL);
	nx_order_free(&o);
	json_decref(doc);
}

NX_TEST(amazon_money_is_exact)
{
	json_t	   *c = amazon_canonical(
		"{\"AmazonOrderId\": \"M-1\", \"OrderStatus\": \"Shipped\","
		" \"OrderTotal\": {\"CurrencyCode\": \"USD\", \"Amount\": \"0.30\"},"
		" \"OrderItems\": ["
		"  {\"OrderItemId\": \"1\", \"QuantityOrdered\": 3,"
		"   \"ItemPrice\": {\"CurrencyCode\": \"USD\", \"Amount\": 0.1},"
		"   \"ItemTax\": {\"CurrencyCode\": \"USD\", \"Amount\": \"0.005\"}},"
		"  {\"OrderItemId\": \"2\", \"QuantityOrdered\": 1,"
		"   \"ItemPrice\": {\"CurrencyCode\": \"USD\", \"Amount\": \"0.2\"},"
		"   \"ShippingPrice\": {\"Amount\": \"1999.999\"}}]}");

	CHECK(c != NULL);
	if (c)
	{
		CHECK_STR(nx_json_str(c, "subtotal"), "0.30");
		CHECK_STR(nx_json_str(c, "tax_total"), "0.01");	/* half-up */
		CHECK_STR(nx_json_str(c, "shipping_total"), "2000.00");
		CHECK_STR(nx_json_str(c, "total_amount"), "0.30");
		CHECK_STR(nx_json_str(json_array_get(json_object_get(c, "items"), 0), "unit_price"), "0.03");
		CHECK_STR(nx_json_str(json_array_get(json_object_get(c, "items"), 0), "line_total"), "0.10");
	}
	json_decref(c);

	/* JPY has no minor unit */
	c = amazon_canonical(
		"{\"AmazonOrderId\": \"J-1\", \"OrderStatus\": \"Shipped\", \"MarketplaceId\": \"A1VC38T7YXB528\","
		" \"OrderTotal\": {\"CurrencyCode\": \"JPY\", \"Amount\": \"1299\"}}");
	CHECK(c != NULL);
	if (c)
	{
		CHECK_STR(nx_json_str(c, "currency"), "JPY");
		CHECK_STR(nx_json_str(c, "total_amount"), "1299");
	}
	json_decref(c);
}

NX_TEST(amazon_missing_optional_fields_are_null)
{
	json_t	   *c = amazon_canonical("{\"AmazonOrderId\": \"N-1\", \"OrderStatus\": \"Pending\"}");
	const char *nulls[] = {"currency", "subtotal", "tax_total", "shipping_total", "discount_total",
	"total_amount", "ordered_at", "updated_at", "buyer_email", "buyer_name", "ship_country"};

	CHECK(c != NULL);
	if (c)
	{
		for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
			if (!json_is_null(json_object_get(c, nulls[i])))
				nx_test_fail(__FILE__, __LINE__, "%s is not null", nulls[i]);
		CHECK_STR(nx_json_str(c, "fulfillment_method"), NX_FBM);
		CHECK_INT(json_array_size(json_object_get(c, "items")), 0);
	}
	json_decref(c);

	/* no amount at all: the marketplace still names the currency */
	c = amazon_canonical(
		"{\"AmazonOrderId\": \"N-2\", \"OrderStatus\": \"Canceled\", \"MarketplaceId\": \"A1F83G8C2ARO7P\","
		" \"BuyerInfo\": {}, \"ShippingAddress\": null, \"OrderItems\": []}");
	CHECK(c != NULL);
	if (c)
	{
		CHECK_STR(nx_json_str(c, "currency"), "GBP");
		CHECK(json_is_null(json_object_get(c, "subtotal")));
		CHECK(json_is_null(json_object_get(c, "buyer_email")));
	}
	json_decref(c);

	/* an item without SKU or title */
	c = amazon_canonical(
		"{\"AmazonOrderId\": \"N-3\", \"OrderStatus\": \"Pending\","
		" \"OrderItems\": [{\"OrderItemId\": \"9\", \"QuantityOrdered\": 1}]}");
	CHECK(c != NULL);
	if (c)
	{
		json_t	   *it = json_array_get(json_object_get(c, "items"), 0);

		CHECK(json_is_null(json_object_get(it, "sku")));
		CHECK(json_is_null(json_object_get(it, "title")));
		CHECK(json_is_null(json_object_get(it, "unit_price")));
	}
	json_decref(c);
}

NX_TEST(amazon_non_ascii_names_are_kept_byte_for_byte)
{
	json_t	   *page = nx_fixture_json("amazon/orders_page1.json");
	json_t	   *full = amazon_full_order(json_array_get(nx_json_path(page, "payload.Orders"), 0));
	NxOrder		o;
	NxError		err = {{0}};

	nx_order_init(&o, "amazon");
	CHECK(nx_amazon_adapter.normalize(full, &o, &err) == NX_OK);
	CHECK_STR(o.buyer_name, "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m");
	CHECK(o.nitems == 2 && strcmp(o.items[0].title, "Ceramic Mug 350 ml \xe2\x80\x93 Ocean Blue") == 0);
	CHECK_STR(nx_json_str(o.shipping_address, "City"), "Seattle");
	nx_order_free(&o);
	json_decref(full);
	json_decref(page);
}

NX_TEST(amazon_huge_quantities)
{
	json_t	   *c = amazon_canonical(
		"{\"AmazonOrderId\": \"Q-1\", \"OrderStatus\": \"Unshipped\","
		" \"OrderItems\": [{\"OrderItemId\": \"1\", \"QuantityOrdered\": 2147483647,"
		"   \"ItemPrice\": {\"CurrencyCode\": \"USD\", \"Amount\": \"999999999999.99\"}}]}");

	CHECK(c != NULL);
	if (c)
	{
		json_t	   *it = json_array_get(json_object_get(c, "items"), 0);

		CHECK_INT(json_integer_value(json_object_get(it, "quantity")), 2147483647);
		CHECK_STR(nx_json_str(it, "unit_price"), "465.66");
		CHECK_STR(nx_json_str(c, "subtotal"), "999999999999.99");
	}
	json_decref(c);
	AMAZON_FAILS("{\"AmazonOrderId\": \"Q-2\", \"OrderStatus\": \"Unshipped\","
				 " \"OrderItems\": [{\"OrderItemId\": \"1\", \"QuantityOrdered\": 2147483648}]}",
				 "OrderItems[0].QuantityOrdered");
	AMAZON_FAILS("{\"AmazonOrderId\": \"Q-3\", \"OrderStatus\": \"Unshipped\","
				 " \"OrderItems\": [{\"OrderItemId\": \"1\", \"QuantityOrdered\": -1}]}",
				 "OrderItems[0].QuantityOrdered");
}

NX_TEST(amazon_malformed_input_names_the_field)
{
	NxOrder		o;
	NxError		err = {{0}};

	nx_order_init(&o, "amazon");
	CHECK(nx_amazon_adapter.normalize(json_null(), &o, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "Order object") != NULL);
	nx_order_free(&o);

	AMAZON_FAILS("[1, 2]", "Order object");
	AMAZON_FAILS("{\"OrderStatus\": \"Shipped\"}", "AmazonOrderId");
	AMAZON_FAILS("{\"AmazonOrderId\": \"\", \"OrderStatus\": \"Shipped\"}", "AmazonOrderId");
	AMAZON_FAILS("{\"AmazonOrderId\": 1134829175, \"OrderStatus\": \"Shipped\"}", "AmazonOrderId");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\"}", "OrderStatus");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": 3}", "OrderStatus");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\", \"FulfillmentChannel\": []}",
				 "FulfillmentChannel");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\", \"PurchaseDate\": \"2025-02-30T00:00:00Z\"}",
				 "PurchaseDate");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\", \"LastUpdateDate\": 1741594365}",
				 "LastUpdateDate");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\","
				 " \"OrderTotal\": {\"CurrencyCode\": \"USD\", \"Amount\": \"12,50\"}}", "OrderTotal.Amount");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\","
				 " \"OrderTotal\": {\"CurrencyCode\": \"USD\"}}", "OrderTotal.Amount");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\", \"OrderTotal\": \"65.14\"}",
				 "OrderTotal");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\","
				 " \"OrderTotal\": {\"CurrencyCode\": \"dollars\", \"Amount\": \"1\"}}",
				 "OrderTotal.CurrencyCode");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\", \"BuyerInfo\": \"x\"}",
				 "BuyerInfo");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\", \"BuyerInfo\": {\"BuyerEmail\": 7}}",
				 "BuyerInfo.BuyerEmail");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\", \"ShippingAddress\": {\"CountryCode\": 1}}",
				 "ShippingAddress.CountryCode");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\", \"OrderItems\": {}}",
				 "OrderItems");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\", \"OrderItems\": [7]}",
				 "OrderItems[0]");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\", \"OrderItems\": [{\"QuantityOrdered\": 1}]}",
				 "OrderItems[0].OrderItemId");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\","
				 " \"OrderItems\": [{\"OrderItemId\": \"1\", \"QuantityOrdered\": \"2\"}]}",
				 "OrderItems[0].QuantityOrdered");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\","
				 " \"OrderItems\": [{\"OrderItemId\": \"1\", \"QuantityOrdered\": 1.5}]}",
				 "OrderItems[0].QuantityOrdered");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\","
				 " \"OrderItems\": [{\"OrderItemId\": \"1\"}]}",
				 "OrderItems[0].QuantityOrdered");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\","
				 " \"OrderItems\": [{\"OrderItemId\": \"1\", \"QuantityOrdered\": 1, \"Title\": 5}]}",
				 "OrderItems[0].Title");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\","
				 " \"OrderItems\": [{\"OrderItemId\": \"1\", \"QuantityOrdered\": 1,"
				 "   \"ItemTax\": {\"CurrencyCode\": \"USD\", \"Amount\": true}}]}",
				 "OrderItems[0].ItemTax.Amount");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\","
				 " \"OrderTotal\": {\"CurrencyCode\": \"USD\", \"Amount\": \"10.00\"},"
				 " \"OrderItems\": [{\"OrderItemId\": \"1\", \"QuantityOrdered\": 1,"
				 "   \"ItemPrice\": {\"CurrencyCode\": \"EUR\", \"Amount\": \"10.00\"}}]}",
				 "OrderItems[0].ItemPrice.CurrencyCode");
	AMAZON_FAILS("{\"AmazonOrderId\": \"B-1\", \"OrderStatus\": \"Shipped\","
				 " \"OrderItems\": [{\"OrderItemId\": \"1\", \"QuantityOrdered\": 1,"
				 "   \"ItemPrice\": {\"CurrencyCode\": \"USD\", \"Amount\": \"99999999999999999\"}}]}",
				 "OrderItems[0].ItemPrice.Amount");
}

NX_TEST(amazon_order_change_notification)
{
	json_t	   *body = nx_fixture_json("amazon/notification_order_change.sqs_body.json");
	json_t	   *want = nx_fixture_json("amazon/expected_notification.json");
	json_t	   *receive = nx_fixture_json("amazon/notification_order_change.sqs_receive.json");
	json_t	   *inner;
	NxWebhookEvent ev;
	NxError		err = {{0}};

	CHECK(nx_amazon_adapter.verify_webhook == NULL);
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_amazon_adapter.parse_webhook(body, NULL, &ev, &err) == NX_OK);
	CHECK_STR(ev.event_id, nx_json_str(want, "dedupe_key"));
	CHECK_STR(ev.order_id, nx_json_str(want, "external_id"));
	CHECK_STR(ev.topic, "ORDER_CHANGE");
	CHECK(ev.order == NULL);
	nx_webhook_event_free(&ev);

	/* the SQS ReceiveMessage Body is the same notification */
	inner = json_loads(nx_json_str(json_array_get(json_object_get(receive, "Messages"), 0), "Body"),
					   0, NULL);
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_amazon_adapter.parse_webhook(inner, NULL, &ev, &err) == NX_OK);
	CHECK_STR(ev.event_id, "1b0a2c3d-0000-4000-8000-00000000abcd");
	nx_webhook_event_free(&ev);
	json_decref(inner);

	/* no NotificationId: nothing to dedupe on */
	json_object_del(json_object_get(body, "NotificationMetadata"), "NotificationId");
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_amazon_adapter.parse_webhook(body, NULL, &ev, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "NotificationId") != NULL);
	nx_webhook_event_free(&ev);
	memset(&ev, 0, sizeof(ev));
	CHECK(nx_amazon_adapter.parse_webhook(json_null(), NULL, &ev, &err) == NX_FAIL);
	nx_webhook_event_free(&ev);

	json_decref(receive);
	json_decref(want);
	json_decref(body);
}
