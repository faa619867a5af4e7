/*-------------------------------------------------------------------------
 *
 * test_amazon_v2026.c
 *	  The Amazon adapter on Orders API v2026-01-01 payloads, against
 *	  test/fixtures/amazon_v2026 (the searchOrders pages and the getOrder
 *	  response to their canonical records), every fulfillment status, exact
 *	  money, missing includedData sections, bad input; and the v0 fixtures
 *	  still read as before through the same entry points.
 *
 * These fixtures are the repository's own, not ../shared's, so they are
 * found next to the test binary (test/unit/build/unit -> test/fixtures),
 * or in $NEXUS_TEST_FIXTURES.
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"

/* ---------- fixtures ---------- */

static const char *
v26_dir(void)
{
	static char dir[PATH_MAX + 16];
	const char *env = getenv("NEXUS_TEST_FIXTURES");
	char		exe[PATH_MAX];
	ssize_t		n;
	char	   *slash;

	if (env && *env)
		return env;
	if (dir[0])
		return dir;
	/* build/unit of test/unit: two levels up is test/ */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0)
	{
		exe[n] = '\0';
		for (int up = 0; up < 3 && (slash = strrchr(exe, '/')) != NULL; up++)
			*slash = '\0';
		snprintf(dir, sizeof(dir), "%s/fixtures", exe);
	}
	else
		snprintf(dir, sizeof(dir), "../fixtures");
	return dir;
}

static void
v26_path(const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/amazon_v2026/%s", v26_dir(), name);
}

static json_t *
v26_fixture(const char *name)
{
	char		path[PATH_MAX + 64];
	json_error_t jerr;
	json_t	   *j;

	v26_path(name, path, sizeof(path));
	j = json_load_file(path, JSON_DECODE_ANY, &jerr);
	if (j == NULL)
		nx_test_fail(__FILE__, __LINE__, "cannot load fixture %s: %s (line %d)", path, jerr.text,
					 jerr.line);
	return j;
}

json_t *
nx_amazon_v2026_fixture(const char *name)
{
	return v26_fixture(name);
}

static char *
v26_bytes(const char *name, size_t *len)
{
	char		path[PATH_MAX + 64];
	FILE	   *f;
	char	   *buf = NULL;
	long		n;

	v26_path(name, path, sizeof(path));
	if ((f = fopen(path, "rb")) == NULL)
	{
		nx_test_fail(__FILE__, __LINE__, "cannot read fixture %s", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
		(buf = malloc(n + 1)) != NULL && fread(buf, 1, n, f) == (size_t) n)
	{
		buf[n] = '\0';
		*len = (size_t) n;
	}
	else
	{
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* parse_page must succeed; the page is left for inspection (the caller frees it). */
static bool
v26_page(const json_t *doc, NxPage *page)
{
	NxError		err = {{0}};

	nx_page_init(page);
	if (nx_amazon_adapter.parse_page(doc, NULL, page, &err) != NX_OK)
	{
		nx_test_fail(__FILE__, __LINE__, "parse_page failed: %s", err.msg);
		return false;
	}
	return true;
}

/* The canonical orders of both searchOrders pages and the getOrder response. */
static json_t *
v26_all_canonical(void)
{
	const char *pages[] = {"orders_page1.json", "orders_page2.json"};
	json_t	   *got = json_array();
	json_t	   *one;

	for (int i = 0; i < 2; i++)
	{
		json_t	   *doc = v26_fixture(pages[i]);
		NxPage		page;

		if (doc && v26_page(doc, &page))
		{
			CHECK_INT(page.nfailed, 0);
			nx_append_page_orders(got, &page);
			nx_page_free(&page);
		}
		json_decref(doc);
	}
	one = v26_fixture("get_order.json");
	if (one)
	{
		json_t	   *c = nx_normalize_json(&nx_amazon_adapter, one);

		if (c)
			json_array_append_new(got, c);
	}
	json_decref(one);
	return got;
}

/* ---------- a small valid order to vary ---------- */

static json_t *
v26_base(void)
{
	return nx_parse_json(
		"{\"orderId\": \"T-1\", \"createdTime\": \"2026-02-01T10:00:00Z\","
		" \"lastUpdatedTime\": \"2026-02-01T11:00:00Z\","
		" \"salesChannel\": {\"channelName\": \"AMAZON\", \"marketplaceId\": \"ATVPDKIKX0DER\"},"
		" \"fulfillment\": {\"fulfillmentStatus\": \"UNSHIPPED\", \"fulfilledBy\": \"MERCHANT\"},"
		" \"orderItems\": [{\"orderItemId\": \"1\", \"quantityOrdered\": 1,"
		"   \"product\": {\"sellerSku\": \"S-1\", \"title\": \"Thing\"}}]}");
}

/* The base order with member path set to the JSON text value (NULL: deleted). */
static json_t *
v26_with(const char *path, const char *value)
{
	json_t	   *doc = v26_base();

	nx_set_path(doc, path, value ? nx_parse_json(value) : NULL);
	return doc;
}

/* Normalize the base order with path set to value; the canonical JSON or NULL. */
static json_t *
v26_canonical_with(const char *path, const char *value)
{
	json_t	   *doc = v26_with(path, value);
	json_t	   *c = nx_normalize_json(&nx_amazon_adapter, doc);

	json_decref(doc);
	return c;
}

/* The base order with path set to value must fail naming want. */
static void
v26_check_fails(const char *file, int line, const char *path, const char *value,
				const char *want)
{
	json_t	   *doc = v26_with(path, value);
	NxOrder		o;
	NxError		err = {{0}};
	int			rc = nx_normalize(&nx_amazon_adapter, doc, &o, &err);

	CHECK_AT(file, line, rc == NX_FAIL, "%s = %s: normalize succeeded, want an error naming \"%s\"",
			 path, value ? value : "(deleted)", want);
	if (rc == NX_FAIL)
		CHECK_AT(file, line, strstr(err.msg, want) != NULL, "%s = %s: error \"%s\" does not name \"%s\"",
				 path, value ? value : "(deleted)", err.msg, want);
	nx_order_free(&o);
	json_decref(doc);
}
#define V26_FAILS(path, value, want) v26_check_fails(__FILE__, __LINE__, (path), (value), (want))

/* One item whose proceeds breakdowns are the JSON array text; its order's canonical JSON. */
static json_t *
v26_with_breakdowns(const char *breakdowns)
{
	char		text[2048];

	snprintf(text, sizeof(text), "{\"breakdowns\": %s}", breakdowns);
	return v26_canonical_with("orderItems.0.proceeds", text);
}

static const char *
v26_item_str(const json_t *c, size_t i, const char *key)
{
	return nx_json_str(json_array_get(json_object_get(c, "items"), i), key);
}

/* ---------- the fixtures ---------- */

NX_TEST(amazon_v2026_every_fixture_order_is_canonical)
{
	json_t	   *want = v26_fixture("expected_canonical.json");
	json_t	   *got = v26_all_canonical();

	CHECK_INT(json_array_size(want), 7);
	CHECK_INT(json_array_size(got), 7);
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
}

NX_TEST(amazon_v2026_page_orders_normalize_one_by_one_the_same)
{
	const char *pages[] = {"orders_page1.json", "orders_page2.json"};
	json_t	   *want = v26_fixture("expected_canonical.json");
	json_t	   *got = json_array();
	json_t	   *one = v26_fixture("get_order.json");
	json_t	   *bare = json_array();

	for (int i = 0; i < 2; i++)
	{
		json_t	   *doc = v26_fixture(pages[i]);

		nx_normalize_each(&nx_amazon_adapter, json_object_get(doc, "orders"), got);
		json_decref(doc);
	}
	/* getOrder's Order unwrapped by hand reads the same as the response */
	json_array_append(bare, json_object_get(one, "order"));
	nx_normalize_each(&nx_amazon_adapter, bare, got);
	CHECK_INT(json_array_size(got), 7);
	CHECK_CANONICAL(got, want);
	json_decref(bare);
	json_decref(one);
	json_decref(got);
	json_decref(want);
}

NX_TEST(amazon_v2026_pages_and_next_token)
{
	json_t	   *p1 = v26_fixture("orders_page1.json");
	json_t	   *p2 = v26_fixture("orders_page2.json");
	NxPage		page;

	if (p1 && v26_page(p1, &page))
	{
		CHECK_INT(page.norders, 3);
		CHECK_INT(page.nfailed, 0);
		CHECK_INT(page.ndetail_ids, 0);
		CHECK_STR(page.next_cursor, nx_json_str(p1, "pagination.nextToken"));
		if (page.norders == 3)
		{
			/* items come inline: a list order is complete */
			CHECK_INT(page.orders[0].nitems, 2);
			CHECK(page.orders[0].subtotal.present && page.orders[0].subtotal.minor == 3799);
			CHECK(page.orders[0].warning == NULL);
		}
		nx_page_free(&page);
	}
	if (p2 && v26_page(p2, &page))
	{
		CHECK_INT(page.norders, 3);
		CHECK(page.next_cursor == NULL);
		nx_page_free(&page);
	}
	json_decref(p1);
	json_decref(p2);
}

NX_TEST(amazon_v2026_shipping_address_is_the_delivery_address_kept_whole)
{
	json_t	   *doc = v26_fixture("get_order.json");
	NxOrder		o;

	if (doc && NORMALIZE_OK(&nx_amazon_adapter, doc, &o))
	{
		CHECK(o.shipping_address != NULL &&
			  json_equal(o.shipping_address, nx_json_path(doc, "order.recipient.deliveryAddress")));
		CHECK_STR(o.ship_country, "US");
		CHECK(o.warning == NULL);
	}
	nx_order_free(&o);
	json_decref(doc);
}

NX_TEST(amazon_v2026_non_ascii_names_are_kept_byte_for_byte)
{
	json_t	   *p1 = v26_fixture("orders_page1.json");
	json_t	   *one = v26_fixture("get_order.json");
	NxPage		page;
	NxOrder		o;

	if (p1 && v26_page(p1, &page))
	{
		if (page.norders == 3)
		{
			CHECK_STR(page.orders[0].buyer_name, "Ma\xc3\xab" "lle Okonkwo-Brandt");
			CHECK_STR(page.orders[2].buyer_name, "J\xc3\xbcrgen Wei\xc3\x9f-\xc3\x96zt\xc3\xbcrk");
			CHECK_STR(page.orders[2].items[1].title,
					  "Silikon-Deckel f\xc3\xbcr Thermoskanne (2 St\xc3\xbc" "ck)");
			CHECK_STR(nx_json_str(page.orders[2].shipping_address, "city"), "D\xc3\xbcsseldorf");
		}
		nx_page_free(&page);
	}
	if (one && NORMALIZE_OK(&nx_amazon_adapter, one, &o))
		CHECK_STR(o.buyer_name, "Tom\xc3\xa1s Ruiz-Ib\xc3\xa1\xc3\xb1" "ez");
	nx_order_free(&o);
	json_decref(one);
	json_decref(p1);
}

/* A document loaded with the amazon key set reads exactly as the whole document. */
NX_TEST(amazon_v2026_key_set_reads_the_fixtures_the_same)
{
	const char *files[] = {"orders_page1.json", "orders_page2.json", "get_order.json"};

	for (int f = 0; f < 3; f++)
	{
		size_t		len = 0;
		char	   *bytes = v26_bytes(files[f], &len);
		json_error_t jerr;
		json_t	   *full;
		json_t	   *part;
		json_t	   *outs[2] = {NULL, NULL};

		if (bytes == NULL)
			continue;
		full = nx_json_loadb(bytes, len, &jerr);
		part = nx_json_loadb_keys(bytes, len, &nx_amazon_keys, &jerr);
		CHECK(full != NULL && part != NULL);
		for (int k = 0; k < 2 && full && part; k++)
		{
			const json_t *doc = k ? part : full;
			NxPage		page;
			NxOrder		o;
			NxError		err = {{0}};

			outs[k] = json_array();
			nx_page_init(&page);
			if (nx_amazon_adapter.parse_page(doc, NULL, &page, &err) == NX_OK)
				for (size_t i = 0; i < page.norders; i++)
				{
					json_t	   *c = nx_order_to_json(&page.orders[i]);

					json_object_set(c, "shipping_address", page.orders[i].shipping_address ?
									page.orders[i].shipping_address : json_null());
					json_array_append_new(outs[k], c);
				}
			nx_page_free(&page);
			nx_order_init(&o, "amazon");
			if (nx_amazon_adapter.normalize(doc, &o, &err) == NX_OK)
			{
				json_t	   *c = nx_order_to_json(&o);

				json_object_set(c, "shipping_address", o.shipping_address ? o.shipping_address : json_null());
				json_array_append_new(outs[k], c);
			}
			nx_order_free(&o);
		}
		if (outs[0] && outs[1])
		{
			CHECK(json_array_size(outs[0]) > 0);
			CHECK_AT(__FILE__, __LINE__, json_equal(outs[0], outs[1]),
					 "%s: the filtered load reads differently", files[f]);
		}
		json_decref(outs[0]);
		json_decref(outs[1]);
		json_decref(full);
		json_decref(part);
		free(bytes);
	}
}

/* ---------- statuses ---------- */

NX_TEST(amazon_v2026_every_fulfillment_status)
{
	static const struct
	{
		const char *raw;
		const char *want;
	}			cases[] =
	{
		{"PENDING_AVAILABILITY", NX_PENDING}, {"PENDING", NX_PENDING},
		{"UNSHIPPED", NX_CONFIRMED}, {"PARTIALLY_SHIPPED", NX_PROCESSING},
		{"SHIPPED", NX_SHIPPED}, {"CANCELLED", NX_CANCELLED}, {"UNFULFILLABLE", NX_CANCELLED},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		json_t	   *doc = v26_base();
		json_t	   *wrapped;
		NxOrder		o;

		json_object_set_new(json_object_get(doc, "fulfillment"), "fulfillmentStatus",
							json_string(cases[i].raw));
		json_object_set_new(json_object_get(doc, "fulfillment"), "fulfilledBy",
							json_string(i % 2 ? "AMAZON" : "MERCHANT"));
		if (NORMALIZE_OK(&nx_amazon_adapter, doc, &o))
		{
			CHECK_STR(o.status, cases[i].want);
			CHECK_STR(o.marketplace_status, cases[i].raw);
			CHECK_STR(o.fulfillment_method, i % 2 ? NX_FBA : NX_FBM);
			CHECK(o.warning == NULL);
		}
		nx_order_free(&o);
		nx_check_classify(__FILE__, __LINE__, &nx_amazon_adapter, doc, cases[i].want,
						  cases[i].raw, i % 2 ? NX_FBA : NX_FBM);
		/* the same through getOrder's wrapper */
		wrapped = json_pack("{s:O}", "order", doc);
		nx_check_classify(__FILE__, __LINE__, &nx_amazon_adapter, wrapped, cases[i].want,
						  cases[i].raw, i % 2 ? NX_FBA : NX_FBM);
		json_decref(wrapped);
		json_decref(doc);
	}
}

/* The status of the base order with these fulfillment status and packages. */
static void
v26_check_packages(const char *file, int line, const char *raw, const char *packages,
				   const char *want)
{
	json_t	   *doc = v26_with("packages", packages);
	NxOrder		o;

	json_object_set_new(json_object_get(doc, "fulfillment"), "fulfillmentStatus", json_string(raw));
	if (nx_normalize_ok(file, line, &nx_amazon_adapter, doc, &o))
	{
		CHECK_AT(file, line, strcmp(o.status, want) == 0, "%s with %s: got %s, want %s", raw,
				 packages, o.status, want);
		CHECK_AT(file, line, strcmp(o.marketplace_status, raw) == 0,
				 "marketplace_status %s, want %s", o.marketplace_status, raw);
	}
	nx_order_free(&o);
	json_decref(doc);
}
#define V26_PACKAGES(raw, packages, want) \
	v26_check_packages(__FILE__, __LINE__, (raw), (packages), (want))

NX_TEST(amazon_v2026_delivered_when_every_package_is)
{
	V26_PACKAGES("SHIPPED", "[{\"packageStatus\": {\"status\": \"DELIVERED\"}}]", NX_DELIVERED);
	V26_PACKAGES("SHIPPED", "[{\"packageStatus\": {\"status\": \"DELIVERED\"}},"
				 " {\"packageStatus\": {\"status\": \"DELIVERED\", \"detailedStatus\": \"DELIVERED\"}}]",
				 NX_DELIVERED);
	V26_PACKAGES("SHIPPED", "[{\"packageStatus\": {\"status\": \"DELIVERED\"}},"
				 " {\"packageStatus\": {\"status\": \"IN_TRANSIT\"}}]", NX_SHIPPED);
	V26_PACKAGES("SHIPPED", "[{\"packageStatus\": {\"status\": \"DELIVERED\"}},"
				 " {\"packageReferenceId\": \"2\"}]", NX_SHIPPED);
	V26_PACKAGES("SHIPPED", "[]", NX_SHIPPED);
	V26_PACKAGES("SHIPPED", "null", NX_SHIPPED);
	V26_PACKAGES("SHIPPED", "[{\"packageStatus\": {\"status\": \"UNDELIVERABLE\"}}]", NX_SHIPPED);
	/* the order's own status comes first: only a shipped order can be delivered */
	V26_PACKAGES("PARTIALLY_SHIPPED", "[{\"packageStatus\": {\"status\": \"DELIVERED\"}}]",
				 NX_PROCESSING);
	V26_PACKAGES("CANCELLED", "[{\"packageStatus\": {\"status\": \"DELIVERED\"}}]", NX_CANCELLED);
	V26_PACKAGES("delivered", "[{\"packageStatus\": {\"status\": \"DELIVERED\"}}]", NX_PENDING);
}

NX_TEST(amazon_v2026_unknown_status_is_pending_with_a_warning)
{
	json_t	   *doc = v26_with("fulfillment.fulfillmentStatus", "\"IN_ORBIT\"");
	NxOrder		o;

	if (NORMALIZE_OK(&nx_amazon_adapter, doc, &o))
	{
		CHECK_STR(o.status, NX_PENDING);
		CHECK_STR(o.marketplace_status, "IN_ORBIT");
		CHECK(o.warning != NULL && strstr(o.warning, "\"IN_ORBIT\"") != NULL);
	}
	nx_order_free(&o);
	nx_check_classify(__FILE__, __LINE__, &nx_amazon_adapter, doc, NX_PENDING, "IN_ORBIT", NX_FBM);
	json_decref(doc);

	/* v0's spelling is not a v2026 status */
	doc = v26_with("fulfillment.fulfillmentStatus", "\"Shipped\"");
	if (NORMALIZE_OK(&nx_amazon_adapter, doc, &o))
		CHECK(o.warning != NULL && strstr(o.warning, "\"Shipped\"") != NULL);
	nx_order_free(&o);
	json_decref(doc);

	/* an unknown fulfilledBy is FBM, with a warning */
	doc = v26_with("fulfillment.fulfilledBy", "\"DRONE\"");
	if (NORMALIZE_OK(&nx_amazon_adapter, doc, &o))
	{
		CHECK_STR(o.fulfillment_method, NX_FBM);
		CHECK(o.warning != NULL && strstr(o.warning, "\"DRONE\"") != NULL);
	}
	nx_order_free(&o);
	json_decref(doc);

	/* no fulfilledBy: FBM, and nothing to warn about */
	doc = v26_with("fulfillment.fulfilledBy", NULL);
	if (NORMALIZE_OK(&nx_amazon_adapter, doc, &o))
	{
		CHECK_STR(o.fulfillment_method, NX_FBM);
		CHECK(o.warning == NULL);
	}
	nx_order_free(&o);
	json_decref(doc);
}

/* ---------- money ---------- */

NX_TEST(amazon_v2026_money_is_exact_and_half_up)
{
	json_t	   *c = v26_with_breakdowns(
		"[{\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"0.1\", \"currencyCode\": \"USD\"}},"
		" {\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"0.2\", \"currencyCode\": \"USD\"}},"
		" {\"type\": \"TAX\", \"subtotal\": {\"amount\": \"0.005\", \"currencyCode\": \"USD\"}},"
		" {\"type\": \"SHIPPING\", \"subtotal\": {\"amount\": \"1999.999\", \"currencyCode\": \"USD\"}}]");

	if (c)
	{
		/* two ITEM entries are one line total; never a binary float */
		CHECK_STR(nx_json_str(c, "subtotal"), "0.30");
		CHECK_STR(v26_item_str(c, 0, "line_total"), "0.30");
		CHECK_STR(v26_item_str(c, 0, "unit_price"), "0.30");
		CHECK_STR(nx_json_str(c, "tax_total"), "0.01");
		CHECK_STR(nx_json_str(c, "shipping_total"), "2000.00");
		CHECK(json_is_null(json_object_get(c, "discount_total")));
		CHECK(json_is_null(json_object_get(c, "total_amount")));
		CHECK_STR(nx_json_str(c, "currency"), "USD");
	}
	json_decref(c);

	/* the unit price as given, at the currency's exponent, half-up */
	c = v26_canonical_with("orderItems.0.product.price",
						   "{\"unitPrice\": {\"amount\": \"8.335\", \"currencyCode\": \"USD\"}}");
	if (c)
		CHECK_STR(v26_item_str(c, 0, "unit_price"), "8.34");
	json_decref(c);

	/* no unit price: the line total over the quantity, half-up (25.00 / 3) */
	{
		json_t	   *doc = v26_with("orderItems.0.proceeds",
								   "{\"breakdowns\": [{\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"25.00\", \"currencyCode\": \"USD\"}}]}");

		nx_set_path(doc, "orderItems.0.quantityOrdered", json_integer(3));
		c = nx_normalize_json(&nx_amazon_adapter, doc);
		if (c)
		{
			CHECK_STR(v26_item_str(c, 0, "unit_price"), "8.33");
			CHECK_STR(v26_item_str(c, 0, "line_total"), "25.00");
		}
		json_decref(c);
		/* quantity 0 (nothing left to ship): no unit price to derive */
		nx_set_path(doc, "orderItems.0.quantityOrdered", json_integer(0));
		c = nx_normalize_json(&nx_amazon_adapter, doc);
		if (c)
		{
			CHECK(json_is_null(json_object_get(json_array_get(json_object_get(c, "items"), 0),
											   "unit_price")));
			CHECK_STR(v26_item_str(c, 0, "line_total"), "25.00");
		}
		json_decref(c);
		json_decref(doc);
	}

	/* a JSON number where the model writes a string is read exactly too */
	c = v26_with_breakdowns("[{\"type\": \"ITEM\", \"subtotal\": {\"amount\": 19.99, \"currencyCode\": \"USD\"}}]");
	if (c)
		CHECK_STR(nx_json_str(c, "subtotal"), "19.99");
	json_decref(c);
}

NX_TEST(amazon_v2026_money_follows_the_currency_exponent)
{
	json_t	   *doc = v26_with("proceeds", "{\"grandTotal\": {\"amount\": \"1299.5\", \"currencyCode\": \"JPY\"}}");
	json_t	   *c;

	nx_set_path(doc, "salesChannel.marketplaceId", json_string("A1VC38T7YXB528"));
	nx_set_path(doc, "orderItems.0.proceeds",
				nx_parse_json("{\"breakdowns\": [{\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"1299.5\", \"currencyCode\": \"JPY\"}}]}"));
	c = nx_normalize_json(&nx_amazon_adapter, doc);
	if (c)
	{
		CHECK_STR(nx_json_str(c, "currency"), "JPY");
		CHECK_STR(nx_json_str(c, "total_amount"), "1300");
		CHECK_STR(nx_json_str(c, "subtotal"), "1300");
	}
	json_decref(c);
	json_decref(doc);

	c = v26_canonical_with("proceeds", "{\"grandTotal\": {\"amount\": \"12.3456\", \"currencyCode\": \"KWD\"}}");
	if (c)
		CHECK_STR(nx_json_str(c, "total_amount"), "12.346");
	json_decref(c);
}

NX_TEST(amazon_v2026_discounts_are_positive_whatever_their_sign)
{
	const char *const signs[] = {"-3.20", "3.20"};

	for (int i = 0; i < 2; i++)
	{
		char		text[512];
		json_t	   *c;

		snprintf(text, sizeof(text),
				 "[{\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"32.00\", \"currencyCode\": \"USD\"}},"
				 " {\"type\": \"DISCOUNT\", \"subtotal\": {\"amount\": \"%s\", \"currencyCode\": \"USD\"}},"
				 " {\"type\": \"DISCOUNT\", \"subtotal\": {\"amount\": \"-0.80\", \"currencyCode\": \"USD\"}}]",
				 signs[i]);
		c = v26_with_breakdowns(text);
		if (c)
		{
			CHECK_STR(nx_json_str(c, "discount_total"), "4.00");
			/* the line total is before the discount */
			CHECK_STR(nx_json_str(c, "subtotal"), "32.00");
		}
		json_decref(c);
	}
}

NX_TEST(amazon_v2026_figures_left_out_are_null_not_zero)
{
	/* GIFT_WRAP, COD_FEE, OTHER have no canonical field; grandTotal stays as stated */
	json_t	   *doc = v26_with("proceeds", "{\"grandTotal\": {\"amount\": \"13.49\", \"currencyCode\": \"USD\"}}");
	json_t	   *c;

	nx_set_path(doc, "orderItems.0.proceeds", nx_parse_json(
		"{\"proceedsTotal\": {\"amount\": \"13.49\", \"currencyCode\": \"USD\"}, \"breakdowns\": ["
		" {\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"10.00\", \"currencyCode\": \"USD\"}},"
		" {\"type\": \"GIFT_WRAP\", \"subtotal\": {\"amount\": \"2.49\", \"currencyCode\": \"USD\"}},"
		" {\"type\": \"COD_FEE\", \"subtotal\": {\"amount\": \"0.50\", \"currencyCode\": \"USD\"}},"
		" {\"type\": \"OTHER\", \"subtotal\": {\"amount\": \"0.50\", \"currencyCode\": \"USD\"}},"
		" {\"type\": \"SOMETHING_NEW\", \"subtotal\": {\"amount\": \"9.99\", \"currencyCode\": \"USD\"}}]}"));
	c = nx_normalize_json(&nx_amazon_adapter, doc);
	if (c)
	{
		CHECK_STR(nx_json_str(c, "subtotal"), "10.00");
		CHECK_STR(nx_json_str(c, "total_amount"), "13.49");
		CHECK(json_is_null(json_object_get(c, "tax_total")));
		CHECK(json_is_null(json_object_get(c, "shipping_total")));
		CHECK(json_is_null(json_object_get(c, "discount_total")));
	}
	json_decref(c);
	json_decref(doc);

	/* stated zeros stay zeros */
	c = v26_with_breakdowns("[{\"type\": \"TAX\", \"subtotal\": {\"amount\": \"0.00\", \"currencyCode\": \"USD\"}},"
							" {\"type\": \"SHIPPING\", \"subtotal\": {\"amount\": \"0\", \"currencyCode\": \"USD\"}}]");
	if (c)
	{
		CHECK_STR(nx_json_str(c, "tax_total"), "0.00");
		CHECK_STR(nx_json_str(c, "shipping_total"), "0.00");
		CHECK(json_is_null(json_object_get(c, "subtotal")));
		CHECK(json_is_null(json_object_get(json_array_get(json_object_get(c, "items"), 0),
										   "line_total")));
	}
	json_decref(c);

	/* the order-level breakdowns aggregate the items' and are not counted again */
	doc = v26_with("proceeds", "{\"grandTotal\": {\"amount\": \"11.00\", \"currencyCode\": \"USD\"},"
				   " \"breakdowns\": [{\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"10.00\", \"currencyCode\": \"USD\"}},"
				   "  {\"type\": \"TAX\", \"subtotal\": {\"amount\": \"1.00\", \"currencyCode\": \"USD\"}},"
				   "  {\"type\": \"DELIVERY_TIP\", \"status\": \"PENDING\", \"subtotal\": {\"amount\": \"2.00\", \"currencyCode\": \"USD\"}}]}");
	nx_set_path(doc, "orderItems.0.proceeds", nx_parse_json(
		"{\"breakdowns\": [{\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"10.00\", \"currencyCode\": \"USD\"}},"
		" {\"type\": \"TAX\", \"subtotal\": {\"amount\": \"1.00\", \"currencyCode\": \"USD\"}}]}"));
	c = nx_normalize_json(&nx_amazon_adapter, doc);
	if (c)
	{
		CHECK_STR(nx_json_str(c, "subtotal"), "10.00");
		CHECK_STR(nx_json_str(c, "tax_total"), "1.00");
		CHECK_STR(nx_json_str(c, "total_amount"), "11.00");
	}
	json_decref(c);
	json_decref(doc);
}

NX_TEST(amazon_v2026_currency_comes_from_the_total_an_amount_or_the_marketplace)
{
	json_t	   *c;
	json_t	   *doc;

	/* nothing priced: the marketplace's one currency */
	doc = v26_with("salesChannel.marketplaceId", "\"A1F83G8C2ARO7P\"");
	c = nx_normalize_json(&nx_amazon_adapter, doc);
	if (c)
	{
		CHECK_STR(nx_json_str(c, "currency"), "GBP");
		CHECK(json_is_null(json_object_get(c, "total_amount")));
	}
	json_decref(c);
	json_decref(doc);

	/* an unknown marketplace and no amount: no currency */
	c = v26_canonical_with("salesChannel", NULL);
	if (c)
		CHECK(json_is_null(json_object_get(c, "currency")));
	json_decref(c);

	/* a unit price is enough to name it */
	doc = v26_with("salesChannel", NULL);
	nx_set_path(doc, "orderItems.0.product.price",
				nx_parse_json("{\"unitPrice\": {\"amount\": \"5.00\", \"currencyCode\": \"SEK\"}}"));
	c = nx_normalize_json(&nx_amazon_adapter, doc);
	if (c)
	{
		CHECK_STR(nx_json_str(c, "currency"), "SEK");
		CHECK_STR(v26_item_str(c, 0, "unit_price"), "5.00");
	}
	json_decref(c);
	json_decref(doc);

	/* amounts in two currencies cannot be summed */
	doc = v26_with("proceeds", "{\"grandTotal\": {\"amount\": \"10.00\", \"currencyCode\": \"USD\"}}");
	nx_set_path(doc, "orderItems.0.proceeds", nx_parse_json(
		"{\"breakdowns\": [{\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"10.00\", \"currencyCode\": \"EUR\"}}]}"));
	CHECK_NORMALIZE_FAILS(&nx_amazon_adapter, doc, "orderItems[0].proceeds.breakdowns[0].subtotal.currencyCode");
	json_decref(doc);
	V26_FAILS("proceeds", "{\"grandTotal\": {\"amount\": \"1\", \"currencyCode\": \"dollars\"}}",
			  "proceeds.grandTotal.currencyCode");
}

/* ---------- missing sections ---------- */

NX_TEST(amazon_v2026_missing_included_data_gives_nulls)
{
	const char *nulls[] = {"subtotal", "tax_total", "shipping_total", "discount_total",
	"total_amount", "buyer_email", "buyer_name", "ship_country"};
	json_t	   *c;
	json_t	   *doc;
	NxOrder		o;

	doc = v26_base();
	if (doc && NORMALIZE_OK(&nx_amazon_adapter, doc, &o))
	{
		json_t	   *j = nx_order_to_json(&o);

		for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
			CHECK_AT(__FILE__, __LINE__, json_is_null(json_object_get(j, nulls[i])),
					 "%s is not null", nulls[i]);
		CHECK_STR(nx_json_str(j, "currency"), "USD");
		CHECK_STR(nx_json_str(j, "ordered_at"), "2026-02-01T10:00:00Z");
		CHECK_STR(nx_json_str(j, "updated_at"), "2026-02-01T11:00:00Z");
		CHECK(o.shipping_address == NULL);
		CHECK_INT(o.nitems, 1);
		if (o.nitems == 1)
		{
			CHECK_STR(o.items[0].sku, "S-1");
			CHECK(!o.items[0].unit_price.present && !o.items[0].line_total.present);
		}
		json_decref(j);
	}
	nx_order_free(&o);
	json_decref(doc);

	/* empty sections, and nulls, read as absent ones */
	doc = v26_with("buyer", "{}");
	nx_set_path(doc, "recipient", nx_parse_json("{}"));
	nx_set_path(doc, "proceeds", nx_parse_json("{}"));
	nx_set_path(doc, "packages", json_null());
	nx_set_path(doc, "orderItems.0.proceeds", nx_parse_json("{\"breakdowns\": []}"));
	nx_set_path(doc, "orderItems.0.product", json_null());
	c = nx_normalize_json(&nx_amazon_adapter, doc);
	if (c)
	{
		CHECK(json_is_null(json_object_get(c, "buyer_name")));
		CHECK(json_is_null(json_object_get(c, "ship_country")));
		CHECK(json_is_null(json_object_get(c, "subtotal")));
		CHECK(json_is_null(json_object_get(json_array_get(json_object_get(c, "items"), 0), "sku")));
	}
	json_decref(c);
	json_decref(doc);

	/* a recipient without a country keeps the address, country unknown */
	doc = v26_with("recipient", "{\"deliveryAddress\": {\"city\": \"Reno\"}}");
	if (NORMALIZE_OK(&nx_amazon_adapter, doc, &o))
	{
		CHECK(o.ship_country[0] == '\0');
		CHECK_STR(nx_json_str(o.shipping_address, "city"), "Reno");
		CHECK(o.warning == NULL);
	}
	nx_order_free(&o);
	json_decref(doc);

	/* an unknown country code is a warning, not an error */
	doc = v26_with("recipient", "{\"deliveryAddress\": {\"countryCode\": \"XQ\"}}");
	if (NORMALIZE_OK(&nx_amazon_adapter, doc, &o))
	{
		CHECK(o.ship_country[0] == '\0');
		CHECK(o.warning != NULL && strstr(o.warning, "recipient.deliveryAddress.countryCode") != NULL);
	}
	nx_order_free(&o);
	json_decref(doc);

	/* no items at all is a valid (empty) list */
	c = v26_canonical_with("orderItems", "[]");
	if (c)
		CHECK_INT(json_array_size(json_object_get(c, "items")), 0);
	json_decref(c);
}

NX_TEST(amazon_v2026_what_the_model_requires_is_required)
{
	V26_FAILS("orderId", NULL, "orderId: missing");
	V26_FAILS("orderId", "\"\"", "orderId: missing");
	V26_FAILS("createdTime", NULL, "createdTime: missing");
	V26_FAILS("lastUpdatedTime", NULL, "lastUpdatedTime: missing");
	V26_FAILS("orderItems", NULL, "orderItems: missing");
	/* the status only comes with includedData=FULFILLMENT */
	V26_FAILS("fulfillment", NULL, "fulfillment: missing");
	V26_FAILS("fulfillment.fulfillmentStatus", NULL, "fulfillment.fulfillmentStatus: missing");
	V26_FAILS("orderItems.0.orderItemId", NULL, "orderItems[0].orderItemId: missing");
	V26_FAILS("orderItems.0.quantityOrdered", NULL, "orderItems[0].quantityOrdered: missing");
	V26_FAILS("orderItems.0.proceeds", "{\"breakdowns\": [{\"subtotal\": {\"amount\": \"1\", \"currencyCode\": \"USD\"}}]}",
			  "orderItems[0].proceeds.breakdowns[0].type: missing");
	V26_FAILS("orderItems.0.proceeds", "{\"breakdowns\": [{\"type\": \"ITEM\"}]}",
			  "orderItems[0].proceeds.breakdowns[0].subtotal: missing");
	V26_FAILS("orderItems.0.proceeds", "{\"breakdowns\": [{\"type\": \"ITEM\", \"subtotal\": {\"currencyCode\": \"USD\"}}]}",
			  "orderItems[0].proceeds.breakdowns[0].subtotal.amount: missing");
	V26_FAILS("proceeds", "{\"grandTotal\": {\"currencyCode\": \"USD\"}}", "proceeds.grandTotal.amount: missing");
}

/* ---------- bad input ---------- */

NX_TEST(amazon_v2026_wrong_types_name_the_field)
{
	static const struct
	{
		const char *path;
		const char *value;
		const char *want;
	}			cases[] =
	{
		{"orderId", "113", "orderId"},
		{"createdTime", "1770000000", "createdTime"},
		{"lastUpdatedTime", "\"2026-02-30T00:00:00Z\"", "lastUpdatedTime"},
		{"salesChannel", "\"AMAZON\"", "salesChannel"},
		{"salesChannel.marketplaceId", "7", "salesChannel.marketplaceId"},
		{"fulfillment", "[]", "fulfillment"},
		{"fulfillment.fulfillmentStatus", "3", "fulfillment.fulfillmentStatus"},
		{"fulfillment.fulfilledBy", "true", "fulfillment.fulfilledBy"},
		{"buyer", "\"x\"", "buyer"},
		{"buyer", "{\"buyerEmail\": 7}", "buyer.buyerEmail"},
		{"buyer", "{\"buyerName\": []}", "buyer.buyerName"},
		{"recipient", "[]", "recipient"},
		{"recipient", "{\"deliveryAddress\": \"1 Main St\"}", "recipient.deliveryAddress"},
		{"recipient", "{\"deliveryAddress\": {\"countryCode\": 1}}", "recipient.deliveryAddress.countryCode"},
		{"proceeds", "7", "proceeds"},
		{"proceeds", "{\"grandTotal\": \"65.14\"}", "proceeds.grandTotal"},
		{"proceeds", "{\"grandTotal\": {\"amount\": \"12,50\", \"currencyCode\": \"USD\"}}", "proceeds.grandTotal.amount"},
		{"proceeds", "{\"grandTotal\": {\"amount\": true, \"currencyCode\": \"USD\"}}", "proceeds.grandTotal.amount"},
		{"proceeds", "{\"grandTotal\": {\"amount\": \"1\", \"currencyCode\": 840}}", "proceeds.grandTotal.currencyCode"},
		{"packages", "{}", "packages"},
		{"packages", "[7]", "packages[0]"},
		{"packages", "[{\"packageStatus\": \"DELIVERED\"}]", "packages[0].packageStatus"},
		{"packages", "[{\"packageStatus\": {\"status\": 1}}]", "packages[0].packageStatus.status"},
		{"orderItems", "{}", "orderItems"},
		{"orderItems", "[7]", "orderItems[0]"},
		{"orderItems.0.orderItemId", "1", "orderItems[0].orderItemId"},
		{"orderItems.0.quantityOrdered", "\"2\"", "orderItems[0].quantityOrdered"},
		{"orderItems.0.quantityOrdered", "1.5", "orderItems[0].quantityOrdered"},
		{"orderItems.0.product", "[]", "orderItems[0].product"},
		{"orderItems.0.product.sellerSku", "5", "orderItems[0].product.sellerSku"},
		{"orderItems.0.product.title", "{}", "orderItems[0].product.title"},
		{"orderItems.0.product.price", "\"9.99\"", "orderItems[0].product.price"},
		{"orderItems.0.product.price", "{\"unitPrice\": \"9.99\"}", "orderItems[0].product.price.unitPrice"},
		{"orderItems.0.product.price", "{\"unitPrice\": {\"amount\": [], \"currencyCode\": \"USD\"}}",
		"orderItems[0].product.price.unitPrice.amount"},
		{"orderItems.0.proceeds", "[]", "orderItems[0].proceeds"},
		{"orderItems.0.proceeds", "{\"breakdowns\": {}}", "orderItems[0].proceeds.breakdowns"},
		{"orderItems.0.proceeds", "{\"breakdowns\": [\"ITEM\"]}", "orderItems[0].proceeds.breakdowns[0]"},
		{"orderItems.0.proceeds", "{\"breakdowns\": [{\"type\": 1, \"subtotal\": {\"amount\": \"1\"}}]}",
		"orderItems[0].proceeds.breakdowns[0].type"},
		{"orderItems.0.proceeds", "{\"breakdowns\": [{\"type\": \"TAX\", \"subtotal\": \"1.00\"}]}",
		"orderItems[0].proceeds.breakdowns[0].subtotal"},
		{"orderItems.0.proceeds", "{\"breakdowns\": [{\"type\": \"TAX\", \"subtotal\": {\"amount\": \"1e3\"}}]}",
		"orderItems[0].proceeds.breakdowns[0].subtotal.amount"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		V26_FAILS(cases[i].path, cases[i].value, cases[i].want);
}

NX_TEST(amazon_v2026_malformed_documents_are_refused)
{
	static const char *const not_orders[] = {"[]", "\"order\"", "7", "null"};
	size_t		len = 0;
	char	   *bytes = v26_bytes("get_order.json", &len);
	json_error_t jerr;
	const char *status = NULL;
	const char *fulfillment = NULL;
	char	   *raw = NULL;
	NxError		err = {{0}};

	for (size_t i = 0; i < sizeof(not_orders) / sizeof(not_orders[0]); i++)
		nx_check_normalize_text_fails(__FILE__, __LINE__, &nx_amazon_adapter, not_orders[i],
									  "Order object");
	/* getOrder's wrapper around something that is not an Order */
	nx_check_normalize_text_fails(__FILE__, __LINE__, &nx_amazon_adapter, "{\"order\": []}", "order");
	nx_check_normalize_text_fails(__FILE__, __LINE__, &nx_amazon_adapter, "{\"order\": null}", "order");
	nx_check_normalize_text_fails(__FILE__, __LINE__, &nx_amazon_adapter, "{\"orderItems\": []}",
								  "orderId: missing");
	CHECK(nx_amazon_adapter.classify(json_null(), &status, &fulfillment, &raw, &err) == NX_FAIL);
	CHECK(raw == NULL);

	/* truncated or broken text never reaches the adapter: the loaders say where */
	if (bytes)
	{
		CHECK(nx_json_loadb(bytes, len / 2, &jerr) == NULL);
		CHECK(jerr.line > 1);
		CHECK(nx_json_loadb_keys(bytes, len - 3, &nx_amazon_keys, &jerr) == NULL);
		bytes[len / 3] = '\x01';
		CHECK(nx_json_loadb_keys(bytes, len, &nx_amazon_keys, &jerr) == NULL);
		free(bytes);
	}
}

NX_TEST(amazon_v2026_huge_quantities_and_amounts)
{
	json_t	   *doc = v26_with("orderItems.0.quantityOrdered", "2147483647");
	json_t	   *c;

	nx_set_path(doc, "orderItems.0.proceeds", nx_parse_json(
		"{\"breakdowns\": [{\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"999999999999.99\", \"currencyCode\": \"USD\"}}]}"));
	c = nx_normalize_json(&nx_amazon_adapter, doc);
	if (c)
	{
		json_t	   *it = json_array_get(json_object_get(c, "items"), 0);

		CHECK_INT(json_integer_value(json_object_get(it, "quantity")), 2147483647);
		CHECK_STR(nx_json_str(it, "unit_price"), "465.66");
		CHECK_STR(nx_json_str(c, "subtotal"), "999999999999.99");
	}
	json_decref(c);
	json_decref(doc);

	V26_FAILS("orderItems.0.quantityOrdered", "2147483648", "orderItems[0].quantityOrdered");
	V26_FAILS("orderItems.0.quantityOrdered", "-1", "orderItems[0].quantityOrdered");
	V26_FAILS("orderItems.0.quantityOrdered", "9223372036854775807", "orderItems[0].quantityOrdered");
	V26_FAILS("orderItems.0.proceeds",
			  "{\"breakdowns\": [{\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"99999999999999999\", \"currencyCode\": \"USD\"}}]}",
			  "orderItems[0].proceeds.breakdowns[0].subtotal.amount");

	/* sums past what numeric(14,2) and then some can hold fail rather than wrap */
	doc = v26_base();
	for (int i = 0; i < 3; i++)
	{
		char		path[32];

		snprintf(path, sizeof(path), "orderItems.%d", i);
		nx_set_path(doc, path, nx_parse_json(
			"{\"orderItemId\": \"9\", \"quantityOrdered\": 1, \"proceeds\": {\"breakdowns\": ["
			" {\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"9999999999999.99\", \"currencyCode\": \"USD\"}},"
			" {\"type\": \"ITEM\", \"subtotal\": {\"amount\": \"-1\", \"currencyCode\": \"USD\"}}]}}"));
	}
	CHECK_NORMALIZE_FAILS(&nx_amazon_adapter, doc, "too large");
	json_decref(doc);
}

/* ---------- pages ---------- */

NX_TEST(amazon_v2026_page_keeps_going_past_a_bad_order)
{
	json_t	   *doc = nx_parse_json(
		"{\"orders\": ["
		" {\"orderId\": \"B-1\", \"createdTime\": \"2026-02-01T10:00:00Z\", \"lastUpdatedTime\": \"2026-02-01T10:00:00Z\","
		"  \"fulfillment\": {\"fulfillmentStatus\": \"SHIPPED\"}, \"orderItems\": []},"
		" {\"orderId\": \"B-2\", \"createdTime\": \"soon\", \"lastUpdatedTime\": \"2026-02-01T10:00:00Z\","
		"  \"fulfillment\": {\"fulfillmentStatus\": \"SHIPPED\"}, \"orderItems\": []},"
		" {\"createdTime\": \"2026-02-01T10:00:00Z\", \"orderItems\": []},"
		" {\"orderId\": \"B-4\", \"createdTime\": \"2026-02-01T10:00:00Z\", \"lastUpdatedTime\": \"2026-02-01T10:00:00Z\","
		"  \"orderItems\": []}],"
		" \"pagination\": {\"nextToken\": \"tok/2+=\"}}");
	NxPage		page;

	if (doc && v26_page(doc, &page))
	{
		CHECK_INT(page.norders, 1);
		CHECK_INT(page.nfailed, 3);
		CHECK_STR(page.next_cursor, "tok/2+=");
		if (page.nfailed == 3)
		{
			CHECK_STR(page.failed[0].external_order_id, "B-2");
			CHECK(strstr(page.failed[0].error, "createdTime") != NULL);
			CHECK(page.failed[1].external_order_id == NULL);
			CHECK(strstr(page.failed[1].error, "orderId") != NULL);
			CHECK_STR(page.failed[2].external_order_id, "B-4");
			CHECK(strstr(page.failed[2].error, "fulfillment") != NULL);
		}
		nx_page_free(&page);
	}
	json_decref(doc);
}

NX_TEST(amazon_v2026_page_shapes)
{
	json_t	   *doc;
	NxPage		page;

	/* the last page: no pagination, or an empty token (which would restart the listing) */
	doc = nx_parse_json("{\"orders\": [], \"createdBefore\": \"2026-02-05T00:00:00Z\"}");
	if (doc && v26_page(doc, &page))
	{
		CHECK_INT(page.norders, 0);
		CHECK(page.next_cursor == NULL);
		nx_page_free(&page);
	}
	json_decref(doc);
	doc = nx_parse_json("{\"orders\": [], \"pagination\": {\"nextToken\": \"\"}}");
	if (doc && v26_page(doc, &page))
	{
		CHECK(page.next_cursor == NULL);
		nx_page_free(&page);
	}
	json_decref(doc);
	doc = nx_parse_json("{\"orders\": [], \"pagination\": {}}");
	if (doc && v26_page(doc, &page))
	{
		CHECK(page.next_cursor == NULL);
		nx_page_free(&page);
	}
	json_decref(doc);

	doc = nx_parse_json("{\"orders\": {}, \"pagination\": {\"nextToken\": \"x\"}}");
	CHECK_PAGE_FAILS(&nx_amazon_adapter, doc, NULL, "searchOrders");
	json_decref(doc);
	doc = nx_parse_json("{\"orders\": null}");
	CHECK_PAGE_FAILS(&nx_amazon_adapter, doc, NULL, "searchOrders");
	json_decref(doc);
	doc = nx_parse_json("{\"orders\": [], \"pagination\": {\"nextToken\": 5}}");
	CHECK_PAGE_FAILS(&nx_amazon_adapter, doc, NULL, "pagination.nextToken");
	json_decref(doc);
	doc = nx_parse_json("{\"orders\": [], \"pagination\": \"next\"}");
	CHECK_PAGE_FAILS(&nx_amazon_adapter, doc, NULL, "pagination");
	json_decref(doc);

	/* getOrder's response is one order, not a page: ingest then reads it as an order */
	doc = v26_fixture("get_order.json");
	CHECK_PAGE_FAILS(&nx_amazon_adapter, doc, NULL, "getOrders");
	json_decref(doc);
}

/* ---------- v0 beside v2026 ---------- */

NX_TEST(amazon_v2026_v0_fixtures_read_as_before)
{
	const char *pages[] = {"amazon/orders_page1.json", "amazon/orders_page2.json"};
	json_t	   *want = nx_fixture_json("amazon/expected_canonical.json");
	json_t	   *got = json_array();

	for (int p = 0; p < 2; p++)
	{
		json_t	   *page = nx_fixture_json(pages[p]);
		NxPage		parsed;
		size_t		i;
		const json_t *order;

		if (page && v26_page(page, &parsed))
		{
			CHECK_INT(parsed.norders, 3);
			CHECK_INT(parsed.nfailed, 0);
			CHECK((parsed.next_cursor != NULL) == (p == 0));
			nx_page_free(&parsed);
		}
		json_array_foreach(nx_json_path(page, "payload.Orders"), i, order)
		{
			char		path[128];
			json_t	   *full = json_deep_copy(order);
			json_t	   *items;

			snprintf(path, sizeof(path), "amazon/order_items/%s.json",
					 json_string_value(json_object_get(order, "AmazonOrderId")));
			items = nx_fixture_json(path);
			json_object_set(full, "OrderItems", (json_t *) nx_json_path(items, "payload.OrderItems"));
			json_array_append_new(got, nx_normalize_json(&nx_amazon_adapter, full));
			json_decref(items);
			json_decref(full);
		}
		json_decref(page);
	}
	CHECK_INT(json_array_size(got), 6);
	CHECK_CANONICAL(got, want);
	json_decref(got);
	json_decref(want);
}

NX_TEST(amazon_v2026_shape_decides_the_version)
{
	json_t	   *doc;
	NxOrder		o;

	/* AmazonOrderId is v0's, whatever else the object has */
	doc = nx_parse_json("{\"AmazonOrderId\": \"V0-1\", \"OrderStatus\": \"Shipped\", \"orderId\": \"x\","
						" \"orderItems\": 5}");
	if (NORMALIZE_OK(&nx_amazon_adapter, doc, &o))
	{
		CHECK_STR(o.external_order_id, "V0-1");
		CHECK_STR(o.marketplace_status, "Shipped");
	}
	nx_order_free(&o);
	json_decref(doc);

	/* neither: v0's errors, as before */
	nx_check_normalize_text_fails(__FILE__, __LINE__, &nx_amazon_adapter,
								  "{\"OrderStatus\": \"Shipped\"}", "AmazonOrderId");
	/* a v0 page is never read as v2026, nor the other way round */
	doc = nx_parse_json("{\"payload\": {\"Orders\": []}, \"orders\": {}}");
	{
		NxPage		page;

		if (v26_page(doc, &page))
			nx_page_free(&page);
	}
	json_decref(doc);
}
