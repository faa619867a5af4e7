/*-------------------------------------------------------------------------
 *
 * test_zalando.c
 *	  The Zalando zDirect adapter against fixtures/zalando: JSON:API pages
 *	  and single-order documents to canonical records, line status
 *	  aggregation, exact money, nulls and bad input.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "unit.h"

/*
 * A one-order document: order attributes spliced in after the defaults,
 * one OrderItem with the given item attributes, and one OrderLine per
 * entry of lines ("status:amount").
 */
static char *
zalando_order_text(const char *order_attrs, const char *item_attrs, const char *const *lines,
				   size_t nlines)
{
	char	   *refs = nx_strdup("");
	char	   *included = nx_strdup("");
	char	   *doc;

	for (size_t k = 0; k < nlines; k++)
	{
		const char *colon = strchr(lines[k], ':');
		char	   *r = nx_sprintf("%s%s{\"type\": \"OrderLine\", \"id\": \"L%zu\"}", refs,
								   k ? ", " : "", k);
		char	   *inc = nx_sprintf("%s, {\"type\": \"OrderLine\", \"id\": \"L%zu\", \"attributes\": "
									 "{\"order_line_id\": \"L%zu\", \"status\": \"%.*s\", "
									 "\"price\": {\"amount\": %s, \"currency\": \"EUR\"}}}",
									 included, k, k, (int) (colon - lines[k]), lines[k], colon + 1);

		free(refs);
		free(included);
		refs = r;
		included = inc;
	}
	doc = nx_sprintf(
		"{\"data\": {\"type\": \"Order\", \"id\": \"O-1\", \"attributes\": {"
		"\"order_id\": \"O-1\", \"order_number\": \"104\", \"status\": \"approved\","
		" \"order_lines_price_currency\": \"EUR\"%s%s},"
		" \"relationships\": {\"order_items\": {\"data\": [{\"type\": \"OrderItem\", \"id\": \"I-1\"}]}}},"
		" \"included\": [{\"type\": \"OrderItem\", \"id\": \"I-1\", \"attributes\": "
		"{\"order_item_id\": \"I-1\", \"external_id\": \"SKU-1\", \"description\": \"Thing\"%s%s},"
		" \"relationships\": {\"order_lines\": {\"data\": [%s]}}}%s]}",
		*order_attrs ? ", " : "", order_attrs, *item_attrs ? ", " : "", item_attrs, refs, included);
	free(refs);
	free(included);
	return doc;
}

/* Each order of a list page as its own single-order document. */
static json_t *
zalando_single(const json_t *page, size_t i)
{
	return json_pack("{s:O, s:O}", "data", json_array_get(json_object_get(page, "data"), i),
					 "included", json_object_get(page, "included"));
}

/* normalize built text; the canonical JSON or NULL (test failed) */
#define ZALANDO_CANONICAL(text) nx_normalize_built(&nx_zalando_adapter, (text))
#define ZALANDO_FAILS(text, needle) \
	nx_check_normalize_built_fails(__FILE__, __LINE__, &nx_zalando_adapter, (text), (needle))

NX_TEST(zalando_every_fixture_order_is_canonical)
{
	const char *files[] = {"zalando/orders_page1.json", "zalando/orders_page2.json"};
	json_t	   *want = nx_fixture_json("zalando/expected_canonical.json");
	json_t	   *got = json_array();

	for (size_t f = 0; f < 2; f++)
	{
		json_t	   *page = nx_fixture_json(files[f]);

		for (size_t i = 0; i < json_array_size(json_object_get(page, "data")); i++)
		{
			json_t	   *doc = zalando_single(page, i);
			json_t	   *c = nx_normalize_json(&nx_zalando_adapter, doc);

			if (c)
				json_array_append_new(got, c);
			json_decref(doc);
		}
		json_decref(page);
	}
	CHECK_INT(json_array_size(got), 5);
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
}

NX_TEST(zalando_pages_and_links_next)
{
	const char *files[] = {"zalando/orders_page1.json", "zalando/orders_page2.json",
	"zalando/orders_page3_empty.json"};
	json_t	   *want = nx_fixture_json("zalando/expected_canonical.json");
	json_t	   *got = json_array();

	for (size_t f = 0; f < 3; f++)
	{
		json_t	   *doc = nx_fixture_json(files[f]);
		NxPage		page;
		NxError		err = {{0}};

		nx_page_init(&page);
		CHECK(nx_zalando_adapter.parse_page(doc, NULL, &page, &err) == NX_OK);
		CHECK_INT(page.norders, f == 0 ? 3 : f == 1 ? 2 : 0);
		CHECK_INT(page.nfailed, 0);
		if (f == 0)
			CHECK_STR(page.next_cursor, nx_json_str(doc, "links.next"));
		else
			CHECK(page.next_cursor == NULL);
		nx_append_page_orders(got, &page);
		nx_page_free(&page);
		json_decref(doc);
	}
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
}

NX_TEST(zalando_empty_page_ends_the_walk)
{
	json_t	   *doc = nx_parse_json("{\"links\": {\"next\": \"https://x.test/orders?page[number]=9\"}, \"data\": []}");
	NxPage		page;
	NxError		err = {{0}};

	nx_page_init(&page);
	CHECK(nx_zalando_adapter.parse_page(doc, NULL, &page, &err) == NX_OK);
	CHECK_INT(page.norders, 0);
	CHECK(page.next_cursor == NULL);
	nx_page_free(&page);
	json_decref(doc);
}

NX_TEST(zalando_page_shapes)
{
	const char *bad[] = {"[]", "{}", "{\"data\": {}}", "{\"data\": null}", "\"data\""};
	json_t	   *doc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		doc = nx_parse_json(bad[i]);
		CHECK_PAGE_FAILS(&nx_zalando_adapter, doc, NULL, "data");
		json_decref(doc);
	}
	/* the 429 body says why */
	doc = nx_fixture_json("zalando/throttled_429.json");
	CHECK_PAGE_FAILS(&nx_zalando_adapter, doc, NULL, "Rate limit exceeded");
	json_decref(doc);

	doc = nx_parse_json("{\"data\": [], \"included\": {}}");
	CHECK_PAGE_FAILS(&nx_zalando_adapter, doc, NULL, "included");
	json_decref(doc);

	doc = nx_parse_json("{\"data\": [], \"links\": {\"next\": 1}}");
	CHECK_PAGE_FAILS(&nx_zalando_adapter, doc, NULL, "links.next");
	json_decref(doc);
}

NX_TEST(zalando_page_keeps_going_past_a_bad_order)
{
	json_t	   *doc = nx_fixture_json("zalando/orders_page1.json");
	json_t	   *second = json_array_get(json_object_get(doc, "data"), 1);
	NxPage		page;
	NxError		err = {{0}};

	/* the second order's item is missing from included */
	json_object_set_new(json_array_get(nx_json_path(second, "relationships.order_items.data"), 0),
						"id", json_string("no-such-item"));
	json_array_append_new(json_object_get(doc, "data"), json_string("not an order"));
	nx_page_init(&page);
	CHECK(nx_zalando_adapter.parse_page(doc, NULL, &page, &err) == NX_OK);
	CHECK_INT(page.norders, 2);
	CHECK_INT(page.nfailed, 2);
	CHECK(page.next_cursor != NULL);
	if (page.nfailed == 2)
	{
		CHECK_STR(page.failed[0].external_order_id, "fe316061-ab64-50f2-9e8c-cf810fcc321a");
		CHECK(strstr(page.failed[0].error, "order_items[0]") != NULL);
		CHECK(strstr(page.failed[0].error, "no-such-item") != NULL);
		CHECK(page.failed[1].external_order_id == NULL);
	}
	if (page.norders == 2)
	{
		CHECK_STR(page.orders[0].external_order_id, "b1d96985-b2a6-55d5-a957-0ca622d6d3b1");
		CHECK_STR(page.orders[1].external_order_id, "dc8387bf-3c5a-50b9-a6db-14c99c7d2bee");
	}
	nx_page_free(&page);
	json_decref(doc);
}

static void
zalando_check_classify(const char *file, int line, char *text, const char *want_status,
					   const char *want_raw, const char *want_fulfillment, const char *warning)
{
	json_t	   *doc = nx_parse_json(text);
	NxOrder		o;

	if (doc == NULL)
	{
		free(text);
		return;
	}
	nx_check_classify(file, line, &nx_zalando_adapter, doc, want_status, want_raw,
					  want_fulfillment);
	/* normalize agrees and warns about unknown values */
	if (nx_normalize_ok(file, line, &nx_zalando_adapter, doc, &o))
	{
		if (strcmp(o.status, want_status) != 0)
			nx_test_fail(file, line, "normalize status %s, want %s", o.status, want_status);
		else if ((warning == NULL) != (o.warning == NULL) ||
				 (warning && strstr(o.warning, warning) == NULL))
			nx_test_fail(file, line, "warning \"%s\", want one naming \"%s\"",
						 o.warning ? o.warning : "(none)", warning ? warning : "(none)");
	}
	nx_order_free(&o);
	json_decref(doc);
	free(text);
}
#define ZALANDO_CLASSIFY(text, status, raw, ful, warning) \
	zalando_check_classify(__FILE__, __LINE__, (text), (status), (raw), (ful), (warning))

NX_TEST(zalando_classify_every_status)
{
	const char *initial[] = {"initial:10"};
	const char *reserved[] = {"reserved:10", "reserved:10"};
	const char *shipped[] = {"shipped:10"};
	const char *returned[] = {"returned:10"};
	const char *canceled[] = {"canceled:10", "canceled:10"};
	const char *partial[] = {"reserved:10", "shipped:10", "reserved:10"};
	const char *mixed_return[] = {"returned:10", "canceled:10"};
	const char *unknown[] = {"lost:10", "shipped:10"};

	/* order status initial: not approved, pending whatever the lines */
	ZALANDO_CLASSIFY(zalando_order_text("\"status\": \"initial\"", "", initial, 1),
					 NX_PENDING, "initial:initialx1", NX_FBM, NULL);
	ZALANDO_CLASSIFY(zalando_order_text("", "", initial, 1),
					 NX_CONFIRMED, "approved:initialx1", NX_FBM, NULL);
	ZALANDO_CLASSIFY(zalando_order_text("", "", reserved, 2),
					 NX_PROCESSING, "approved:reservedx2", NX_FBM, NULL);
	ZALANDO_CLASSIFY(zalando_order_text("\"status\": \"fulfilled\"", "", shipped, 1),
					 NX_SHIPPED, "fulfilled:shippedx1", NX_FBM, NULL);
	ZALANDO_CLASSIFY(zalando_order_text("\"status\": \"fulfilled\"", "", returned, 1),
					 NX_RETURN_RECEIVED, "fulfilled:returnedx1", NX_FBM, NULL);
	ZALANDO_CLASSIFY(zalando_order_text("\"status\": \"fulfilled\"", "", canceled, 2),
					 NX_CANCELLED, "fulfilled:canceledx2", NX_FBM, NULL);
	ZALANDO_CLASSIFY(zalando_order_text("", "", partial, 3),
					 NX_PROCESSING, "approved:reservedx2,shippedx1", NX_FBM, NULL);
	ZALANDO_CLASSIFY(zalando_order_text("\"status\": \"fulfilled\"", "", mixed_return, 2),
					 NX_RETURN_RECEIVED, "fulfilled:returnedx1,canceledx1", NX_FBM, NULL);
	/* Zalando Fulfillment Solutions */
	ZALANDO_CLASSIFY(zalando_order_text("\"order_type\": \"ZalandoFulfilled\"", "", shipped, 1),
					 NX_SHIPPED, "approved:shippedx1", NX_FBA, NULL);
	ZALANDO_CLASSIFY(zalando_order_text("\"order_type\": \"PartnerFulfilled\"", "", shipped, 1),
					 NX_SHIPPED, "approved:shippedx1", NX_FBM, NULL);
	/* unknown values: pending (for the line), a warning with the raw value */
	ZALANDO_CLASSIFY(zalando_order_text("", "", unknown, 2),
					 NX_PROCESSING, "approved:lostx1,shippedx1", NX_FBM, "\"lost\"");
	ZALANDO_CLASSIFY(zalando_order_text("\"status\": \"vanished\"", "", shipped, 1),
					 NX_PENDING, "vanished:shippedx1", NX_FBM, "\"vanished\"");
}

NX_TEST(zalando_money_is_exact)
{
	const char *tenths[] = {"shipped:0.1", "shipped:0.1", "shipped:0.1"};
	const char *odd[] = {"shipped:2.675"};
	json_t	   *page = nx_fixture_json("zalando/orders_page1.json");
	json_t	   *doc = zalando_single(page, 0);
	json_t	   *c = nx_normalize_json(&nx_zalando_adapter, doc);

	/* 40 lines at 4.99 make 199.6, as order_lines_price_amount says */
	CHECK(c != NULL);
	CHECK_STR(nx_json_str(c, "subtotal"), "199.60");
	CHECK_STR(nx_json_str(json_array_get(json_object_get(c, "items"), 0), "unit_price"), "4.99");
	json_decref(c);
	json_decref(doc);
	json_decref(page);

	c = ZALANDO_CANONICAL(zalando_order_text("\"shipping_costs\": {\"amount\": 4.9, \"currency\": \"EUR\"}",
											 "", tenths, 3));
	CHECK(c != NULL);
	if (c)
	{
		CHECK_STR(nx_json_str(c, "subtotal"), "0.30");
		CHECK_STR(nx_json_str(c, "shipping_total"), "4.90");
		CHECK_STR(nx_json_str(c, "total_amount"), "5.20");
		CHECK(json_is_null(json_object_get(c, "tax_total")));
		CHECK(json_is_null(json_object_get(c, "discount_total")));
	}
	json_decref(c);
	c = ZALANDO_CANONICAL(zalando_order_text("", "", odd, 1));
	CHECK(c != NULL && strcmp(nx_json_str(c, "subtotal"), "2.68") == 0);
	json_decref(c);
	/* a price written as a string is read the same */
	c = ZALANDO_CANONICAL(zalando_order_text("", "", (const char *[]) {"shipped:\"12.5\""}, 1));
	CHECK(c != NULL && strcmp(nx_json_str(c, "subtotal"), "12.50") == 0);
	json_decref(c);
}

NX_TEST(zalando_missing_optional_fields_are_null)
{
	const char *one[] = {"initial:749.0"};
	json_t	   *c = ZALANDO_CANONICAL(zalando_order_text("\"status\": \"initial\"", "", one, 1));
	const char *nulls[] = {"tax_total", "shipping_total", "discount_total", "ordered_at",
	"updated_at", "buyer_email", "buyer_name", "ship_country"};

	CHECK(c != NULL);
	if (c)
	{
		for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
			if (!json_is_null(json_object_get(c, nulls[i])))
				nx_test_fail(__FILE__, __LINE__, "%s is not null", nulls[i]);
		CHECK_STR(nx_json_str(c, "total_amount"), "749.00");
		/* no quantity_initial: one piece per line */
		CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(c, "items"), 0),
													 "quantity")), 1);
	}
	json_decref(c);

	/* the fixture's PLN order has no e-mail and no shipping costs */
	{
		json_t	   *page = nx_fixture_json("zalando/orders_page2.json");
		json_t	   *doc = zalando_single(page, 0);
		NxOrder		o;
		NxError		err = {{0}};

		nx_order_init(&o, "zalando");
		CHECK(nx_zalando_adapter.normalize(doc, &o, &err) == NX_OK);
		CHECK(o.buyer_email == NULL);
		CHECK(!o.shipping_total.present);
		CHECK_STR(o.currency, "PLN");
		CHECK_STR(o.buyer_name, "\xc5\x81ukasz Wi\xc5\x9bniewski");
		CHECK_STR(nx_json_str(o.shipping_address, "city"), "\xc5\x81\xc3\xb3" "d\xc5\xba");
		nx_order_free(&o);
		json_decref(doc);
		json_decref(page);
	}

	/* without a currency attribute, the lines name it */
	c = ZALANDO_CANONICAL(zalando_order_text("\"order_lines_price_currency\": null", "", one, 1));
	CHECK(c != NULL && strcmp(nx_json_str(c, "currency"), "EUR") == 0);
	json_decref(c);
	/* only a shipping address: its name is the buyer's */
	c = ZALANDO_CANONICAL(zalando_order_text(
		"\"shipping_address\": {\"first_name\": \"Zo\xc3\xab\", \"country_code\": \"ch\"}", "", one, 1));
	CHECK(c != NULL);
	if (c)
	{
		CHECK_STR(nx_json_str(c, "buyer_name"), "Zo\xc3\xab");
		CHECK_STR(nx_json_str(c, "ship_country"), "CH");
	}
	json_decref(c);
}

NX_TEST(zalando_non_ascii_names_are_kept_byte_for_byte)
{
	json_t	   *page = nx_fixture_json("zalando/orders_page1.json");
	json_t	   *doc = zalando_single(page, 0);
	NxOrder		o;
	NxError		err = {{0}};

	nx_order_init(&o, "zalando");
	CHECK(nx_zalando_adapter.normalize(doc, &o, &err) == NX_OK);
	CHECK_STR(o.buyer_name, "Grzegorz Brz\xc4\x99" "czyszczykiewicz");
	CHECK(o.nitems == 1 && strcmp(o.items[0].title,
								  "Bambus-Socken \xe2\x80\x93 Schwarz, 39\xe2\x80\x93" "42") == 0);
	/* the Packstation address is kept whole */
	CHECK_STR(nx_json_str(o.shipping_address, "address_type"), "PACK_STATION");
	CHECK_STR(nx_json_str(o.shipping_address, "service_point_details.service_point_id"), "112");
	nx_order_free(&o);
	json_decref(doc);
	json_decref(page);
}

NX_TEST(zalando_huge_quantities)
{
	const char *one[] = {"reserved:999999999999.99"};
	json_t	   *c = ZALANDO_CANONICAL(zalando_order_text("", "\"quantity_initial\": 2147483647", one, 1));

	CHECK(c != NULL);
	if (c)
	{
		json_t	   *it = json_array_get(json_object_get(c, "items"), 0);

		CHECK_INT(json_integer_value(json_object_get(it, "quantity")), 2147483647);
		CHECK_STR(nx_json_str(it, "unit_price"), "465.66");
	}
	json_decref(c);
	ZALANDO_FAILS(zalando_order_text("", "\"quantity_initial\": 2147483648", one, 1),
				  "order_items[0].attributes.quantity_initial");
	ZALANDO_FAILS(zalando_order_text("", "\"quantity_initial\": -2", one, 1),
				  "order_items[0].attributes.quantity_initial");
	ZALANDO_FAILS(zalando_order_text("", "\"quantity_initial\": \"40\"", one, 1),
				  "order_items[0].attributes.quantity_initial");
}

NX_TEST(zalando_lower_case_types)
{
	const char *one[] = {"shipped:10"};
	char	   *text = zalando_order_text("", "", one, 1);
	char	   *p;
	json_t	   *c;

	/* "Order" -> "order", "OrderItem" -> "orderitem", ... */
	while ((p = strstr(text, "\"Order")) != NULL)
		p[1] = 'o';
	while ((p = strstr(text, "\"orderItem")) != NULL)
		p[6] = 'i';
	while ((p = strstr(text, "\"orderLine")) != NULL)
		p[6] = 'l';
	c = ZALANDO_CANONICAL(text);
	CHECK(c != NULL && json_array_size(json_object_get(c, "items")) == 1);
	json_decref(c);
}

NX_TEST(zalando_malformed_input_names_the_field)
{
	const char *one[] = {"shipped:10"};
	NxOrder		o;
	NxError		err = {{0}};

	CHECK(nx_zalando_adapter.verify_webhook == NULL);
	CHECK(nx_zalando_adapter.parse_webhook == NULL);
	nx_order_init(&o, "zalando");
	CHECK(nx_zalando_adapter.normalize(json_null(), &o, &err) == NX_FAIL);
	CHECK(strstr(err.msg, "JSON:API document") != NULL);
	nx_order_free(&o);

	ZALANDO_FAILS(nx_strdup("{}"), "data");
	ZALANDO_FAILS(nx_strdup("{\"data\": []}"), "data");
	ZALANDO_FAILS(nx_strdup("{\"data\": {\"type\": \"Order\"}}"), "attributes");
	ZALANDO_FAILS(nx_strdup("{\"data\": {\"type\": \"OrderItem\", \"attributes\": {}}}"), "type");
	ZALANDO_FAILS(nx_strdup("{\"data\": {\"type\": \"Order\", \"attributes\": {\"status\": \"approved\"}}}"),
				  "attributes.order_id");
	ZALANDO_FAILS(nx_strdup("{\"data\": {\"type\": \"Order\", \"id\": 5, \"attributes\": {}}}"), "id");
	ZALANDO_FAILS(zalando_order_text("\"order_id\": 12", "", one, 1), "attributes.order_id");
	ZALANDO_FAILS(zalando_order_text("\"status\": null", "", one, 1), "attributes.status");
	ZALANDO_FAILS(zalando_order_text("\"status\": 3", "", one, 1), "attributes.status");
	ZALANDO_FAILS(zalando_order_text("\"order_number\": 104", "", one, 1), "attributes.order_number");
	ZALANDO_FAILS(zalando_order_text("\"order_date\": \"2025-03-05\"", "", one, 1), "attributes.order_date");
	ZALANDO_FAILS(zalando_order_text("\"modified_at\": 1741594365", "", one, 1), "attributes.modified_at");
	ZALANDO_FAILS(zalando_order_text("\"order_lines_price_currency\": \"Euro\"", "", one, 1),
				  "attributes.order_lines_price_currency");
	ZALANDO_FAILS(zalando_order_text("\"order_lines_price_currency\": \"PLN\"", "", one, 1),
				  "order_items[0].order_lines[0].attributes.price.currency");
	ZALANDO_FAILS(zalando_order_text("\"shipping_costs\": 4.9", "", one, 1), "attributes.shipping_costs");
	ZALANDO_FAILS(zalando_order_text("\"shipping_costs\": {\"amount\": \"free\"}", "", one, 1),
				  "attributes.shipping_costs.amount");
	ZALANDO_FAILS(zalando_order_text("\"customer_email\": 1", "", one, 1), "attributes.customer_email");
	ZALANDO_FAILS(zalando_order_text("\"billing_address\": []", "", one, 1), "attributes.billing_address");
	ZALANDO_FAILS(zalando_order_text("\"billing_address\": {\"last_name\": 7}", "", one, 1),
				  "attributes.billing_address.last_name");
	ZALANDO_FAILS(zalando_order_text("", "\"description\": {}", one, 1), "order_items[0].attributes.description");
	ZALANDO_FAILS(zalando_order_text("", "", (const char *[]) {"shipped:\"abc\""}, 1),
				  "order_items[0].order_lines[0].attributes.price.amount");
	ZALANDO_FAILS(zalando_order_text("", "", (const char *[]) {"shipped:[1]"}, 1),
				  "order_items[0].order_lines[0].attributes.price.amount");
	ZALANDO_FAILS(zalando_order_text("", "", (const char *[]) {"shipped:null"}, 1),
				  "order_items[0].order_lines[0].attributes.price.amount");
	/* no lines at all */
	ZALANDO_FAILS(zalando_order_text("", "", one, 0), "order lines");
	/* a line that is not in included, an item that is not */
	{
		char	   *text = zalando_order_text("", "", one, 1);
		char	   *p = strstr(text, "\"id\": \"L0\"");

		p[8] = 'X';
		ZALANDO_FAILS(text, "order_items[0].order_lines[0]: OrderLine \"LX\" is not in included");
		text = zalando_order_text("", "", one, 1);
		p = strstr(text, "\"id\": \"I-1\"");
		p[8] = 'X';
		ZALANDO_FAILS(text, "order_items[0]: OrderItem \"IX1\" is not in included");
	}
	/* no relationships: the document was fetched without include */
	ZALANDO_FAILS(nx_strdup("{\"data\": {\"type\": \"Order\", \"attributes\": {\"order_id\": \"O\", \"status\": \"approved\"}}}"),
				  "relationships.order_items");
	ZALANDO_FAILS(nx_strdup("{\"data\": {\"type\": \"Order\", \"attributes\": {\"order_id\": \"O\", \"status\": \"approved\"},"
							" \"relationships\": {\"order_items\": {\"data\": [{\"id\": \"I\"}]}}},"
							" \"included\": [{\"type\": \"OrderItem\", \"id\": \"I\", \"attributes\": {}}]}"),
				  "order_items[0].relationships.order_lines");
	ZALANDO_FAILS(nx_strdup("{\"data\": {\"type\": \"Order\", \"attributes\": {\"order_id\": \"O\", \"status\": \"approved\"},"
							" \"relationships\": {\"order_items\": {\"data\": {}}}}}"),
				  "relationships.order_items.data");
	ZALANDO_FAILS(nx_strdup("{\"data\": {\"type\": \"Order\", \"attributes\": {\"order_id\": \"O\", \"status\": \"approved\"},"
							" \"relationships\": {\"order_items\": {\"data\": [5]}}}}"),
				  "order_items[0]");
	ZALANDO_FAILS(nx_strdup("{\"data\": {\"type\": \"Order\", \"attributes\": {\"order_id\": \"O\", \"status\": \"approved\"},"
							" \"relationships\": {\"order_items\": {\"data\": []}}}, \"included\": 3}"),
				  "included");
}

/* ---------- sync requests ---------- */

static const NxAdapter *zalando = &nx_zalando_adapter;

#define ZAL_BASE "https://api.merchants.zalando.com"
#define ZAL_MERCHANT "bad85fa1-6522-5c04-a20d-9f4903f33bde"
/* 2025-03-09T00:00:00Z, the fixture walk's last_updated_after */
#define ZAL_SINCE INT64_C(1741478400)

static json_t *
zal_credentials(void)
{
	return json_pack("{s:s,s:s,s:s}", "client_id", "z-id", "client_secret", "ZALANDO-SECRET",
					 "merchant_id", ZAL_MERCHANT);
}

static NxSyncContext
zal_context(const json_t *credentials)
{
	NxSyncContext ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.credentials = credentials;
	ctx.api_base = ZAL_BASE;
	ctx.auth_base = ZAL_BASE;
	ctx.access_token = "zal-token";
	ctx.user_agent = "nexus/0.2.0";
	return ctx;
}

NX_TEST(zalando_sync_vtable)
{
	CHECK_SYNC_SHAPE(zalando, .max_page_size = 100, .token_request = true);
	CHECK_BASE_URLS(zalando, NULL, NULL, ZAL_BASE, ZAL_BASE);
}

NX_TEST(zalando_token_request)
{
	json_t	   *cred = zal_credentials();
	NxSyncContext ctx = zal_context(cred);
	NxRequest	r;
	NxError		err = {{0}};

	ctx.access_token = NULL;	/* not needed to get one */
	CHECK(zalando->token_request(&ctx, &r, &err) == NX_OK);
	CHECK_REQUEST(&r, "POST", ZAL_BASE "/auth/token", "grant_type=client_credentials",
				  "User-Agent: nexus/0.2.0",
				  "Accept: application/vnd.api+json",
				  "Authorization: Basic ei1pZDpaQUxBTkRPLVNFQ1JFVA==",	/* z-id:ZALANDO-SECRET */
				  "Content-Type: application/x-www-form-urlencoded");
	nx_request_free(&r);

	ctx.auth_base = "http://127.0.0.1:8082/zalando";
	CHECK(zalando->token_request(&ctx, &r, &err) == NX_OK);
	CHECK_STR(r.url, "http://127.0.0.1:8082/zalando/auth/token");
	nx_request_free(&r);

	ctx.auth_base = NULL;
	CHECK_REQUEST_FAILS(zalando->token_request(&ctx, &r, &err), &r, &err, "auth_base: missing");
	ctx.auth_base = ZAL_BASE;
	json_object_del(cred, "client_secret");
	CHECK_REQUEST_FAILS(zalando->token_request(&ctx, &r, &err), &r, &err,
						"credentials.client_secret: missing");
	json_object_set_new(cred, "client_id", json_string(""));
	CHECK_REQUEST_FAILS(zalando->token_request(&ctx, &r, &err), &r, &err,
						"credentials.client_id: empty");
	ctx.credentials = NULL;
	CHECK_REQUEST_FAILS(zalando->token_request(&ctx, &r, &err), &r, &err,
						"credentials.client_id: missing");
	json_decref(cred);
}

NX_TEST(zalando_list_request_first_page)
{
	json_t	   *cred = zal_credentials();
	NxSyncContext ctx = zal_context(cred);
	NxRequest	r;
	NxError		err = {{0}};

	CHECK(zalando->list_request(&ctx, ZAL_SINCE, NULL, &r, &err) == NX_OK);
	CHECK_REQUEST(&r, "GET",
				  ZAL_BASE "/merchants/" ZAL_MERCHANT "/orders?include=order_items,order_lines"
				  "&last_updated_after=2025-03-09T00:00:00Z&page%5Bnumber%5D=0&page%5Bsize%5D=100",
				  NULL,
				  "User-Agent: nexus/0.2.0",
				  "Accept: application/vnd.api+json",
				  "Authorization: Bearer zal-token");
	nx_request_free(&r);

	ctx.page_size = 3;
	CHECK(zalando->list_request(&ctx, ZAL_SINCE, NULL, &r, &err) == NX_OK);
	CHECK(strstr(r.url, "&page%5Bsize%5D=3") != NULL);
	nx_request_free(&r);
	ctx.page_size = 101;
	CHECK(zalando->list_request(&ctx, ZAL_SINCE, NULL, &r, &err) == NX_OK);
	CHECK(strstr(r.url, "&page%5Bsize%5D=100") != NULL);
	nx_request_free(&r);
	ctx.page_size = 0;

	/* the merchant id is one path segment, whatever it holds */
	json_object_set_new(cred, "merchant_id", json_string("m 1/../\xc3\xbc?x"));
	CHECK(zalando->list_request(&ctx, ZAL_SINCE, NULL, &r, &err) == NX_OK);
	CHECK(strncmp(r.url, ZAL_BASE "/merchants/m%201%2F..%2F%C3%BC%3Fx/orders?", 62) == 0);
	nx_request_free(&r);

	json_object_set_new(cred, "merchant_id", json_string(""));
	CHECK_LIST_FAILS(zalando, &ctx, ZAL_SINCE, NULL, "credentials.merchant_id: empty");
	json_object_del(cred, "merchant_id");
	CHECK_LIST_FAILS(zalando, &ctx, ZAL_SINCE, NULL, "credentials.merchant_id: missing");
	json_object_set_new(cred, "merchant_id", json_string(ZAL_MERCHANT));

	ctx.access_token = NULL;
	CHECK_LIST_FAILS(zalando, &ctx, ZAL_SINCE, NULL, "access_token: missing");
	ctx.access_token = "tok\nX-Evil: 1";
	CHECK_LIST_FAILS(zalando, &ctx, ZAL_SINCE, NULL, "access_token: contains a line break");
	ctx.access_token = "zal-token";
	ctx.user_agent = "";
	CHECK_LIST_FAILS(zalando, &ctx, ZAL_SINCE, NULL, "user_agent: missing");
	ctx.user_agent = "nexus/0.2.0";
	CHECK_LIST_FAILS(zalando, &ctx, -86400, NULL, "since: -86400 is out of range");
	ctx.api_base = NULL;
	CHECK_LIST_FAILS(zalando, &ctx, ZAL_SINCE, NULL, "api_base: missing");
	json_decref(cred);
}

/* The links.next of page 1 is requested as is, with the same headers. */
NX_TEST(zalando_list_request_next_page_from_fixture)
{
	json_t	   *cred = zal_credentials();
	NxSyncContext ctx = zal_context(cred);
	char	   *cursor = FIXTURE_NEXT_CURSOR(zalando, "zalando/orders_page1.json");
	json_t	   *doc2 = nx_fixture_json("zalando/orders_page2.json");
	NxRequest	r;
	NxError		err = {{0}};

	CHECK(zalando->list_request(&ctx, ZAL_SINCE, cursor, &r, &err) == NX_OK);
	CHECK_REQUEST(&r, "GET",
				  ZAL_BASE "/merchants/" ZAL_MERCHANT "/orders?include=order_items,order_lines"
				  "&last_updated_after=2025-03-09T00:00:00Z&sort=modified_at&page[number]=1&page[size]=3",
				  NULL,
				  "User-Agent: nexus/0.2.0",
				  "Accept: application/vnd.api+json",
				  "Authorization: Bearer zal-token");
	/* and it is the page that came next */
	CHECK_STR(r.url, nx_json_str(doc2, "links.self"));
	nx_request_free(&r);
	free(cursor);
	json_decref(doc2);
	json_decref(cred);
}

/* The bearer token goes only where api_base is. */
NX_TEST(zalando_list_request_next_link_must_stay_under_api_base)
{
	json_t	   *cred = zal_credentials();
	NxSyncContext ctx = zal_context(cred);
	NxRequest	r;
	NxError		err = {{0}};
	const char *const refused[] = {
		"https://evil.example/merchants/m/orders?page[number]=1",
		"https://api.merchants.zalando.com.evil.example/merchants/m/orders",
		"https://api.merchants.zalando.com:8443/merchants/m/orders",
		"http://api.merchants.zalando.com/merchants/m/orders",
		"https://api.merchants.zalando.com@evil.example/",
		"https://api.merchants.zalando.com@evil.example/merchants/m/orders",
		"https://user:pw@api.merchants.zalando.com/merchants/m/orders",
		"//evil.example/merchants/m/orders",
		"//api.merchants.zalando.com/merchants/m/orders",
		"/auth/token",
		"/merchantsx/m/orders",
		"merchants/m/orders",
		"?page[number]=1",
		"javascript:alert(1)",
		"https://api.merchants.zalando.com/merchants/m/orders?a=b c",
		"https://api.merchants.zalando.com/merchants/m/orders\r\nX-Evil: 1",
		"https://api.merchants.zalando.com/merchants/m/orders#x",
		"https://api.merchants.zalando.com/merchants/\xc3\xbc",
		"/merchants/m/orders?page[number]=1\tx",
		"",
	};
	/* outside an api_base with a path */
	const char *const outside_path[] = {
		"http://127.0.0.1:8082/other/merchants/m/orders",
		"http://127.0.0.1:8082/zalandox/merchants/m",
		"http://127.0.0.1:8083/zalando/merchants/m",
	};
	const struct
	{
		const char *cursor;
		const char *url;
	}			followed[] = {
		{"https://api.merchants.zalando.com/merchants/m/orders?page[number]=1",
		"https://api.merchants.zalando.com/merchants/m/orders?page[number]=1"},
		/* the same origin, written otherwise */
		{"https://api.merchants.zalando.com:443/merchants/m/orders?page%5Bnumber%5D=1",
		"https://api.merchants.zalando.com:443/merchants/m/orders?page%5Bnumber%5D=1"},
		{"HTTPS://API.Merchants.Zalando.COM/merchants/m/orders",
		"HTTPS://API.Merchants.Zalando.COM/merchants/m/orders"},
		/* a relative link is joined to api_base */
		{"/merchants/m/orders?page%5Bnumber%5D=1",
		"https://api.merchants.zalando.com/merchants/m/orders?page%5Bnumber%5D=1"},
	};

	CHECK_CURSORS_REFUSED_SAYING_FIRST(zalando, &ctx, ZAL_SINCE, refused, "cursor (links.next): ");
	CHECK_LIST_FAILS(zalando, &ctx, ZAL_SINCE, refused[0], "is not under api_base " ZAL_BASE);
	CHECK_LIST_FAILS(zalando, &ctx, ZAL_SINCE, "/auth/token", "a relative link must begin with \"/merchants/\"");

	for (size_t i = 0; i < sizeof(followed) / sizeof(followed[0]); i++)
	{
		CHECK(zalando->list_request(&ctx, ZAL_SINCE, followed[i].cursor, &r, &err) == NX_OK);
		CHECK_STR(r.url, followed[i].url);
		CHECK_INT(r.nheaders, 3);
		nx_request_free(&r);
	}

	/* an api_base with a path (a simulator) fences links in below that path */
	ctx.api_base = "http://127.0.0.1:8082/zalando";
	CHECK(zalando->list_request(&ctx, ZAL_SINCE,
								"http://127.0.0.1:8082/zalando/merchants/m/orders?page[number]=1",
								&r, &err) == NX_OK);
	CHECK_STR(r.url, "http://127.0.0.1:8082/zalando/merchants/m/orders?page[number]=1");
	nx_request_free(&r);
	CHECK(zalando->list_request(&ctx, ZAL_SINCE, "/merchants/m/orders?page[number]=1", &r,
								&err) == NX_OK);
	CHECK_STR(r.url, "http://127.0.0.1:8082/zalando/merchants/m/orders?page[number]=1");
	nx_request_free(&r);
	CHECK_CURSORS_REFUSED(zalando, &ctx, ZAL_SINCE, outside_path, "is not under api_base");
	json_decref(cred);
}

/* wait_ms for a response with one header (NULL: none). */
#define ZAL_WAIT(status, name, value) \
	nx_throttle_wait(zalando, (status), INT64_C(1741780000000), (name), (value), NULL)

NX_TEST(zalando_throttle)
{
	json_t	   *h = nx_fixture_headers("zalando/throttled_429.headers");

	CHECK_INT(nx_throttle_wait_on(zalando, 429, h, INT64_C(1741780000000)), 21000);
	CHECK_INT(nx_throttle_wait_on(zalando, 429, NULL, 0), -1);

	CHECK_INT(ZAL_WAIT(429, NULL, NULL), -1);
	CHECK_INT(ZAL_WAIT(429, "x-rate-limit", "40/min"), -1);	/* a rate, not a wait */
	CHECK_INT(ZAL_WAIT(503, "retry-after", "1"), 1000);
	CHECK_INT(ZAL_WAIT(429, "retry-after", "0"), 0);
	CHECK_INT(ZAL_WAIT(429, "retry-after", "1.5"), 1500);
	CHECK_INT(ZAL_WAIT(429, "retry-after", "3600"), 3600000);
	CHECK_INT(ZAL_WAIT(429, "retry-after", "43200"), 3600000);	/* capped at an hour */
	CHECK_INT(ZAL_WAIT(429, "retry-after", "86400"), 3600000);
	CHECK_INT(ZAL_WAIT(429, "retry-after", "86400.5"), -1);	/* no wait anyone means */
	CHECK_INT(ZAL_WAIT(429, "retry-after", "86401"), -1);
	CHECK_INT(ZAL_WAIT(429, "retry-after", "18446744073709551617"), -1);
	CHECK_INT(ZAL_WAIT(429, "retry-after", "-21"), -1);
	CHECK_INT(ZAL_WAIT(429, "retry-after", ""), -1);
	CHECK_INT(ZAL_WAIT(429, "retry-after", "21 seconds"), -1);
	CHECK_INT(ZAL_WAIT(429, "retry-after", "Fri, 31 Dec 1999 23:59:59 GMT"), -1);
	json_decref(h);
}
