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

/* ---------- sync requests (doc/sync_protocol.md) ---------- */

#define AMAZON_NA "https://sellingpartnerapi-na.amazon.com"
#define AMAZON_UA "nexus/0.2.0"
/* 2025-03-09T00:00:00Z, the LastUpdatedAfter of the fixture pages */
#define AMAZON_SINCE INT64_C(1741478400)

/* What a cursor output holds before the call: the call must overwrite it. */
static char amazon_unset[] = "unset";

static json_t *
amazon_credentials(void)
{
	return json_pack("{s:s,s:s,s:s}", "lwa_client_id", "amzn1.application-oa2-client.x",
					 "lwa_client_secret", "S&=+ /", "refresh_token", "Atzr|refresh");
}

static NxSyncContext
amazon_ctx(const json_t *credentials)
{
	NxSyncContext ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.credentials = credentials;
	ctx.region = "ATVPDKIKX0DER";
	ctx.api_base = AMAZON_NA;
	ctx.auth_base = "https://api.amazon.com";
	ctx.access_token = "Atza|token";
	ctx.user_agent = AMAZON_UA;
	ctx.now = 1741768800;
	return ctx;
}

NX_TEST(amazon_sync_settings)
{
	CHECK_SYNC_SHAPE(&nx_amazon_adapter, .max_page_size = 100, .lag_seconds = 120,
					 .token_request = true, .detail_request = true, .page_orders = true,
					 .detail_merge = true);
}

NX_TEST(amazon_base_urls_follow_the_marketplace)
{
	const char *const cases[][2] = {
		{"ATVPDKIKX0DER", AMAZON_NA},
		{"A2Q3Y263D00KWC", AMAZON_NA},
		{"A1VC38T7YXB528", "https://sellingpartnerapi-fe.amazon.com"},
		{"A19VAU5U5O7RUS", "https://sellingpartnerapi-fe.amazon.com"},
		{"A1PA6795UKMFR9", "https://sellingpartnerapi-eu.amazon.com"},
		{"A21TJRUUN4KGV", "https://sellingpartnerapi-eu.amazon.com"},
		{NULL, "https://sellingpartnerapi-eu.amazon.com"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_BASE_URLS(&nx_amazon_adapter, NULL, cases[i][0], cases[i][1],
						"https://api.amazon.com");
}

NX_TEST(amazon_token_request_is_the_lwa_refresh_grant)
{
	json_t	   *cred = amazon_credentials();
	NxSyncContext ctx = amazon_ctx(cred);
	NxRequest	r;
	NxError		err = {{0}};

	ctx.access_token = NULL;	/* none yet: that is why a token is requested */
	CHECK(nx_amazon_adapter.token_request(&ctx, &r, &err) == NX_OK);
	CHECK_REQUEST_ANY_ORDER(&r, "POST", "https://api.amazon.com/auth/o2/token",
							"grant_type=refresh_token&refresh_token=Atzr%7Crefresh"
							"&client_id=amzn1.application-oa2-client.x"
							"&client_secret=S%26%3D%2B%20%2F",
							"User-Agent: nexus/0.2.0", "Accept: application/json",
							"Content-Type: application/x-www-form-urlencoded");
	nx_request_free(&r);
	json_decref(cred);
}

NX_TEST(amazon_token_request_needs_every_credential)
{
	const char *keys[] = {"lwa_client_id", "lwa_client_secret", "refresh_token"};

	for (int i = 0; i < 3; i++)
	{
		json_t	   *cred = amazon_credentials();
		NxSyncContext ctx = amazon_ctx(cred);
		NxRequest	r;
		NxError		err = {{0}};

		json_object_set_new(cred, keys[i], json_string(""));
		CHECK_REQUEST_FAILS(nx_amazon_adapter.token_request(&ctx, &r, &err), &r, &err, keys[i]);
		json_object_del(cred, keys[i]);
		CHECK_REQUEST_FAILS(nx_amazon_adapter.token_request(&ctx, &r, &err), &r, &err, keys[i]);
		json_decref(cred);
	}
}

NX_TEST(amazon_list_first_page)
{
	NxSyncContext ctx = amazon_ctx(NULL);
	NxRequest	r;
	NxError		err = {{0}};

	CHECK(nx_amazon_adapter.list_request(&ctx, AMAZON_SINCE, NULL, &r, &err) == NX_OK);
	CHECK_REQUEST_ANY_ORDER(&r, "GET", AMAZON_NA "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER"
							"&LastUpdatedAfter=2025-03-09T00:00:00Z&MaxResultsPerPage=100", NULL,
							"User-Agent: nexus/0.2.0", "Accept: application/json",
							"x-amz-access-token: Atza|token");
	nx_request_free(&r);
}

NX_TEST(amazon_list_page_size_is_clamped)
{
	const int	asked[] = {3, 100, 101, 500, -1, 0};
	const char *want[] = {"3", "100", "100", "100", "100", "100"};

	for (int i = 0; i < 6; i++)
	{
		NxSyncContext ctx = amazon_ctx(NULL);
		NxRequest	r;
		NxError		err = {{0}};
		char		url[256];

		ctx.page_size = asked[i];
		snprintf(url, sizeof(url), AMAZON_NA "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER"
				 "&LastUpdatedAfter=2025-03-10T08:12:45Z&MaxResultsPerPage=%s", want[i]);
		CHECK(nx_amazon_adapter.list_request(&ctx, INT64_C(1741594365), NULL, &r, &err) == NX_OK);
		CHECK_STR(r.url, url);
		nx_request_free(&r);
	}
}

NX_TEST(amazon_list_next_page_from_the_fixture_token)
{
	char	   *cursor = FIXTURE_NEXT_CURSOR(&nx_amazon_adapter, "amazon/orders_page1.json");
	NxSyncContext ctx = amazon_ctx(NULL);
	NxRequest	r;
	NxError		err = {{0}};

	if (cursor)
	{
		/* the token overrides the other filters: only MarketplaceIds goes along */
		CHECK(nx_amazon_adapter.list_request(&ctx, AMAZON_SINCE, cursor, &r, &err) == NX_OK);
		CHECK_STR(r.url, AMAZON_NA "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&NextToken="
				  "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4gTmV4dFRva2VuIGV4YW1wbGUgZm9yIGZpeHR1cmVzIG9ubHk%3D");
		CHECK_HEADERS_ANY_ORDER(&r, "User-Agent: nexus/0.2.0", "Accept: application/json",
								"x-amz-access-token: Atza|token");
		nx_request_free(&r);
	}
	free(cursor);

	/* a token is opaque: whatever it holds is percent-encoded */
	CHECK(nx_amazon_adapter.list_request(&ctx, AMAZON_SINCE, "a+b/c=&d e", &r, &err) == NX_OK);
	CHECK_STR(r.url, AMAZON_NA "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER"
			  "&NextToken=a%2Bb%2Fc%3D%26d%20e");
	nx_request_free(&r);
}

NX_TEST(amazon_list_refuses_what_it_cannot_send)
{
	NxSyncContext ctx = amazon_ctx(NULL);

	ctx.region = NULL;
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, AMAZON_SINCE, NULL, "region: missing");
	ctx = amazon_ctx(NULL);
	ctx.access_token = NULL;
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, AMAZON_SINCE, NULL, "access token: missing");
	ctx = amazon_ctx(NULL);
	ctx.access_token = "Atza|x\r\nX-Evil: 1";
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, AMAZON_SINCE, NULL, "access token");
	ctx = amazon_ctx(NULL);
	ctx.user_agent = NULL;
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, AMAZON_SINCE, NULL, "user_agent: missing");
	ctx = amazon_ctx(NULL);
	ctx.api_base = NULL;
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, AMAZON_SINCE, NULL, "api_base: missing");
	ctx = amazon_ctx(NULL);
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, -1, NULL, "since");
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, INT64_C(253402300800), NULL, "since");
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, AMAZON_SINCE, "", "cursor");
}

NX_TEST(amazon_detail_request_fetches_order_items)
{
	NxSyncContext ctx = amazon_ctx(NULL);
	NxRequest	r;
	NxError		err = {{0}};

	CHECK(nx_amazon_adapter.detail_request(&ctx, "113-4829175-6638204", NULL, &r, &err) == NX_OK);
	CHECK_REQUEST_ANY_ORDER(&r, "GET", AMAZON_NA "/orders/v0/orders/113-4829175-6638204/orderItems",
							NULL, "User-Agent: nexus/0.2.0", "Accept: application/json",
							"x-amz-access-token: Atza|token");
	nx_request_free(&r);

	CHECK(nx_amazon_adapter.detail_request(&ctx, "113-4829175-6638204", "tok+2/=", &r,
										   &err) == NX_OK);
	CHECK_STR(r.url, AMAZON_NA "/orders/v0/orders/113-4829175-6638204/orderItems"
			  "?NextToken=tok%2B2%2F%3D");
	nx_request_free(&r);
}

NX_TEST(amazon_detail_request_keeps_the_id_in_its_segment)
{
	NxSyncContext ctx = amazon_ctx(NULL);
	NxRequest	r;
	NxError		err = {{0}};

	CHECK(nx_amazon_adapter.detail_request(&ctx, "../x", NULL, &r, &err) == NX_OK);
	CHECK_STR(r.url, AMAZON_NA "/orders/v0/orders/..%2Fx/orderItems");
	nx_request_free(&r);
	CHECK(nx_amazon_adapter.detail_request(&ctx, "a?b#c d", NULL, &r, &err) == NX_OK);
	CHECK_STR(r.url, AMAZON_NA "/orders/v0/orders/a%3Fb%23c%20d/orderItems");
	nx_request_free(&r);
	CHECK_REQUEST_FAILS(nx_amazon_adapter.detail_request(&ctx, "..", NULL, &r, &err), &r, &err,
						"order id");
	CHECK_REQUEST_FAILS(nx_amazon_adapter.detail_request(&ctx, ".", NULL, &r, &err), &r, &err,
						"order id");
	CHECK_REQUEST_FAILS(nx_amazon_adapter.detail_request(&ctx, "", NULL, &r, &err), &r, &err,
						"order id: missing");
	CHECK_REQUEST_FAILS(nx_amazon_adapter.detail_request(&ctx, NULL, NULL, &r, &err), &r, &err,
						"order id: missing");
}

NX_TEST(amazon_page_orders_maps_ids_in_page_order)
{
	json_t	   *p1 = nx_fixture_json("amazon/orders_page1.json");
	json_t	   *orders = NULL;
	NxError		err = {{0}};
	const char *want[] = {"113-4829175-6638204", "114-7730152-0019457", "112-9906123-5550871"};
	const char *key;
	json_t	   *value;
	size_t		n = 0;

	CHECK(nx_amazon_adapter.page_orders(p1, &orders, &err) == NX_OK);
	CHECK(json_is_object(orders));
	CHECK_INT(json_object_size(orders), 3);
	json_object_foreach(orders, key, value)
	{
		const json_t *original = json_array_get(nx_json_path(p1, "payload.Orders"), n);

		if (n < 3)
			CHECK_STR(key, want[n]);
		CHECK(json_equal(value, original));
		/* a copy: merging items must leave the caller's page alone */
		CHECK(value != original);
		n++;
	}
	CHECK_INT(n, 3);
	json_decref(orders);
	json_decref(p1);
}

NX_TEST(amazon_page_orders_skips_orders_without_id)
{
	json_t	   *page = nx_parse_json("{\"payload\": {\"Orders\": ["
									 "{\"AmazonOrderId\": \"A\"}, {\"OrderStatus\": \"Shipped\"},"
									 "{\"AmazonOrderId\": \"\"}, 7, {\"AmazonOrderId\": \"B\"},"
									 "{\"AmazonOrderId\": \"A\", \"again\": true}]}}");
	json_t	   *orders = NULL;
	NxError		err = {{0}};

	CHECK(nx_amazon_adapter.page_orders(page, &orders, &err) == NX_OK);
	CHECK_INT(json_object_size(orders), 2);
	CHECK(json_object_get(orders, "B") != NULL);
	/* a repeated id keeps its first order */
	CHECK(json_object_get(json_object_get(orders, "A"), "again") == NULL);
	json_decref(orders);
	json_decref(page);

	page = nx_parse_json("{\"errors\": [{\"code\": \"Unauthorized\", \"message\": \"no\"}]}");
	orders = (json_t *) page;	/* must be reset on failure */
	CHECK(nx_amazon_adapter.page_orders(page, &orders, &err) == NX_FAIL);
	CHECK(orders == NULL);
	CHECK(strstr(err.msg, "payload.Orders") != NULL);
	json_decref(page);
}

/* Merge the fixture's getOrderItems response of every order in orders. */
static void
amazon_merge_fixture_items(json_t *orders)
{
	const char *id;
	json_t	   *order;

	json_object_foreach(orders, id, order)
	{
		char		path[128];
		json_t	   *items;
		char	   *next = amazon_unset;
		NxError		err = {{0}};

		snprintf(path, sizeof(path), "amazon/order_items/%s.json", id);
		items = nx_fixture_json(path);
		CHECK(nx_amazon_adapter.detail_merge(&order, items, &next, &err) == NX_OK);
		CHECK(next == NULL);
		CHECK(order == json_object_get(orders, id));
		if (next != amazon_unset)
			free(next);
		json_decref(items);
	}
}

NX_TEST(amazon_page_orders_and_items_merge_to_canonical)
{
	const char *pages[] = {"amazon/orders_page1.json", "amazon/orders_page2.json"};
	json_t	   *want = nx_fixture_json("amazon/expected_canonical.json");
	json_t	   *got = json_array();

	for (int p = 0; p < 2; p++)
	{
		json_t	   *page = nx_fixture_json(pages[p]);
		json_t	   *orders = NULL;
		NxError		err = {{0}};
		const char *id;
		json_t	   *order;

		CHECK(nx_amazon_adapter.page_orders(page, &orders, &err) == NX_OK);
		amazon_merge_fixture_items(orders);
		json_object_foreach(orders, id, order)
		{
			json_t	   *c = nx_normalize_json(&nx_amazon_adapter, order);

			CHECK(json_is_array(json_object_get(order, "OrderItems")));
			if (c)
				json_array_append_new(got, c);
		}
		/* the page itself did not get the items */
		CHECK(json_object_get(json_array_get(nx_json_path(page, "payload.Orders"), 0),
							  "OrderItems") == NULL);
		json_decref(orders);
		json_decref(page);
	}
	CHECK_INT(json_array_size(got), 6);
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
}

NX_TEST(amazon_detail_merge_follows_item_pages)
{
	json_t	   *page = nx_fixture_json("amazon/orders_page1.json");
	json_t	   *items = nx_fixture_json("amazon/order_items/113-4829175-6638204.json");
	json_t	   *want = nx_fixture_json("amazon/expected_canonical.json");
	json_t	   *orders = NULL;
	json_t	   *first = json_deep_copy(items);
	json_t	   *second = json_deep_copy(items);
	json_t	   *order;
	json_t	   *got = json_array();
	char	   *next = NULL;
	NxError		err = {{0}};
	NxSyncContext ctx = amazon_ctx(NULL);
	NxRequest	r;

	/* the two lines of the fixture, one per getOrderItems page */
	json_array_remove(json_object_get(json_object_get(first, "payload"), "OrderItems"), 1);
	json_object_set_new(json_object_get(first, "payload"), "NextToken", json_string("page 2/="));
	json_array_remove(json_object_get(json_object_get(second, "payload"), "OrderItems"), 0);

	CHECK(nx_amazon_adapter.page_orders(page, &orders, &err) == NX_OK);
	order = json_object_get(orders, "113-4829175-6638204");
	CHECK(nx_amazon_adapter.detail_merge(&order, first, &next, &err) == NX_OK);
	CHECK_STR(next, "page 2/=");
	CHECK_INT(json_array_size(json_object_get(order, "OrderItems")), 1);
	CHECK(nx_amazon_adapter.detail_request(&ctx, "113-4829175-6638204", next, &r, &err) == NX_OK);
	CHECK_STR(r.url, AMAZON_NA "/orders/v0/orders/113-4829175-6638204/orderItems"
			  "?NextToken=page%202%2F%3D");
	nx_request_free(&r);
	free(next);
	next = NULL;

	CHECK(nx_amazon_adapter.detail_merge(&order, second, &next, &err) == NX_OK);
	CHECK(next == NULL);
	CHECK_INT(json_array_size(json_object_get(order, "OrderItems")), 2);
	json_array_append_new(got, nx_normalize_json(&nx_amazon_adapter, order));
	/* only that order: the comparison looks up each order of got in want */
	CHECK_INT(json_array_size(got), 1);
	for (size_t i = json_array_size(want); i-- > 0;)
		if (strcmp(nx_json_str(json_array_get(want, i), "external_order_id"),
				   "113-4829175-6638204") != 0)
			json_array_remove(want, i);
	CHECK_CANONICAL(got, want);

	json_decref(got);
	json_decref(want);
	json_decref(first);
	json_decref(second);
	json_decref(orders);
	json_decref(items);
	json_decref(page);
}

/* detail_merge must fail naming want, and leave the order's items as they were. */
static void
amazon_check_merge_fails(const char *file, int line, json_t *order, const char *response,
						 const char *want)
{
	json_t	   *doc = nx_parse_json(response);
	json_t	   *before = order ? json_deep_copy(order) : NULL;
	json_t	   *acc = order;
	char	   *next = NULL;
	NxError		err = {{0}};

	if (nx_amazon_adapter.detail_merge(&acc, doc, &next, &err) != NX_FAIL)
		nx_test_fail(file, line, "detail_merge succeeded, want an error saying \"%s\"", want);
	else if (strstr(err.msg, want) == NULL)
		nx_test_fail(file, line, "error \"%s\" does not say \"%s\"", err.msg, want);
	if (next != NULL)
		nx_test_fail(file, line, "a failed merge gave a next cursor");
	if (acc != order || (order && !json_equal(order, before)))
		nx_test_fail(file, line, "a failed merge changed the order");
	free(next);
	json_decref(before);
	json_decref(doc);
}
#define AMAZON_MERGE_FAILS(order, response, want) \
	amazon_check_merge_fails(__FILE__, __LINE__, (order), (response), (want))

NX_TEST(amazon_detail_merge_refuses_what_does_not_fit)
{
	json_t	   *order = nx_parse_json("{\"AmazonOrderId\": \"A-1\", \"OrderStatus\": \"Shipped\"}");
	json_t	   *broken = nx_parse_json("{\"AmazonOrderId\": \"A-1\", \"OrderItems\": 5}");

	AMAZON_MERGE_FAILS(NULL, "{\"payload\": {\"OrderItems\": []}}", "page_orders");
	AMAZON_MERGE_FAILS(order, "{\"errors\": [{\"code\": \"InvalidInput\", \"message\": \"bad id\"}]}",
					   "InvalidInput");
	AMAZON_MERGE_FAILS(order, "{\"payload\": {\"OrderItems\": {}}}", "payload.OrderItems");
	AMAZON_MERGE_FAILS(order, "[]", "payload.OrderItems");
	AMAZON_MERGE_FAILS(order, "{\"payload\": {\"AmazonOrderId\": \"B-2\", \"OrderItems\": [{}]}}",
					   "payload.AmazonOrderId");
	AMAZON_MERGE_FAILS(order, "{\"payload\": {\"OrderItems\": [{}], \"NextToken\": 5}}",
					   "payload.NextToken");
	AMAZON_MERGE_FAILS(broken, "{\"payload\": {\"OrderItems\": [{}]}}", "OrderItems: expected");
	json_decref(broken);
	json_decref(order);
}

NX_TEST(amazon_detail_merge_ends_on_an_empty_token)
{
	json_t	   *order = nx_parse_json("{\"AmazonOrderId\": \"A-1\", \"OrderItems\": null}");
	json_t	   *doc = nx_parse_json("{\"payload\": {\"AmazonOrderId\": \"A-1\", "
									"\"OrderItems\": [{\"OrderItemId\": \"1\"}], \"NextToken\": \"\"}}");
	json_t	   *acc = order;
	char	   *next = amazon_unset;
	NxError		err = {{0}};

	CHECK(nx_amazon_adapter.detail_merge(&acc, doc, &next, &err) == NX_OK);
	CHECK(next == NULL);
	if (next != amazon_unset)
		free(next);
	CHECK_INT(json_array_size(json_object_get(order, "OrderItems")), 1);
	/* the response is the caller's: changing the merged order leaves it alone */
	json_object_set_new(json_array_get(json_object_get(order, "OrderItems"), 0), "Mark",
						json_true());
	CHECK(json_object_get(json_array_get(nx_json_path(doc, "payload.OrderItems"), 0),
						  "Mark") == NULL);
	json_decref(doc);
	json_decref(order);
}

NX_TEST(amazon_throttle_reads_the_rate_not_a_wait)
{
	json_t	   *headers = json_pack("{s:s,s:s}", "x-amzn-ratelimit-limit", "0.0167",
									"content-type", "application/json");
	NxThrottle	t = {12345, 0};
	static const char *const garbage[] = {"", "fast", "-1", "0", "1e9", "0.5x", "nan", NULL};

	/* no Retry-After on a 429, and a rate is not a wait: the engine backs off ... */
	nx_amazon_adapter.throttle(429, headers, INT64_C(1741768800000), &t);
	CHECK_INT(t.wait_ms, -1);
	/* ... but paces later requests at the announced rate */
	CHECK(t.rate > 0.0166 && t.rate < 0.0168);
	t.wait_ms = 12345;
	nx_amazon_adapter.throttle(200, NULL, 0, &t);
	CHECK_INT(t.wait_ms, -1);
	CHECK(t.rate == 0);
	for (int i = 0; garbage[i]; i++)
	{
		json_object_set_new(headers, "x-amzn-ratelimit-limit", json_string(garbage[i]));
		t.rate = 5;
		nx_amazon_adapter.throttle(200, headers, 0, &t);
		if (t.rate != 0)
			nx_test_fail(__FILE__, __LINE__, "rate \"%s\" read as %g", garbage[i], t.rate);
	}
	CHECK_INT(nx_amazon_adapter.list_burst, 20);
	CHECK_INT(nx_amazon_adapter.detail_burst, 30);
	json_decref(headers);
}
