/*-------------------------------------------------------------------------
 *
 * test_amazon_v2026_sync.c
 *	  The sync requests of an Amazon connection whose config says
 *	  orders_api "2026-01-01": searchOrders on the first and next pages,
 *	  hostile cursors, bad settings, and what the engine gets from a
 *	  searchOrders page (whole orders, no per-order request); and v0 left
 *	  as it was when the setting is absent or "v0".
 *
 *-------------------------------------------------------------------------
 */
#include "unit.h"

#define V26_NA "https://sellingpartnerapi-na.amazon.com"
#define V26_UA "nexus/0.2.0"
/* 2025-03-09T00:00:00Z */
#define V26_SINCE INT64_C(1741478400)
#define V26_LIST V26_NA "/orders/2026-01-01/orders?lastUpdatedAfter=2025-03-09T00:00:00Z" \
	"&marketplaceIds=ATVPDKIKX0DER&includedData=BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,PACKAGES"
#define V0_LIST V26_NA "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER"

static NxSyncContext
v26_ctx(const json_t *config)
{
	NxSyncContext ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.config = config;
	ctx.region = "ATVPDKIKX0DER";
	ctx.api_base = V26_NA;
	ctx.auth_base = "https://api.amazon.com";
	ctx.access_token = "Atza|token";
	ctx.user_agent = V26_UA;
	ctx.now = 1741768800;
	return ctx;
}

static json_t *
v26_config(void)
{
	return nx_parse_json("{\"orders_api\": \"2026-01-01\"}");
}

/* The URL list_request builds, malloc'd; NULL after a failed check. */
static char *
v26_list_url(const NxSyncContext *ctx, int64_t since, const char *cursor)
{
	NxRequest	r;
	NxError		err = {{0}};
	char	   *url = NULL;

	if (nx_amazon_adapter.list_request(ctx, since, cursor, &r, &err) != NX_OK)
		nx_test_fail(__FILE__, __LINE__, "list_request failed: %s", err.msg);
	else
	{
		url = r.url;
		r.url = NULL;
		nx_request_free(&r);
	}
	return url;
}

NX_TEST(amazon_v2026_sync_first_page_is_search_orders)
{
	json_t	   *config = v26_config();
	NxSyncContext ctx = v26_ctx(config);
	NxRequest	r;
	NxError		err = {{0}};

	CHECK(nx_amazon_adapter.list_request(&ctx, V26_SINCE, NULL, &r, &err) == NX_OK);
	CHECK_REQUEST(&r, "GET", V26_LIST "&maxResultsPerPage=100", NULL,
				  "User-Agent: nexus/0.2.0", "Accept: application/json",
				  "x-amz-access-token: Atza|token");
	nx_request_free(&r);
	json_decref(config);
}

NX_TEST(amazon_v2026_sync_page_size_is_the_runs_up_to_100)
{
	const int	asked[] = {1, 3, 100, 101, 500, -1, 0};
	const char *want[] = {"1", "3", "100", "100", "100", "100", "100"};
	json_t	   *config = v26_config();

	for (int i = 0; i < 7; i++)
	{
		NxSyncContext ctx = v26_ctx(config);
		char		url[512];
		char	   *got;

		ctx.page_size = asked[i];
		snprintf(url, sizeof(url), V26_LIST "&maxResultsPerPage=%s", want[i]);
		got = v26_list_url(&ctx, V26_SINCE, NULL);
		CHECK_STR(got, url);
		free(got);
	}
	json_decref(config);
}

NX_TEST(amazon_v2026_sync_next_page_repeats_the_filters_with_the_token)
{
	json_t	   *config = v26_config();
	NxSyncContext ctx = v26_ctx(config);
	json_t	   *doc = nx_amazon_v2026_fixture("orders_page1.json");
	NxPage		page;
	NxError		err = {{0}};
	NxRequest	r;
	char	   *got;

	/* the fixture's own nextToken, as parse_page hands it on */
	nx_page_init(&page);
	CHECK(doc != NULL && nx_amazon_adapter.parse_page(doc, NULL, &page, &err) == NX_OK);
	CHECK(page.next_cursor != NULL);
	if (page.next_cursor)
	{
		char		want[1024];
		char	   *enc = nx_url_encode(page.next_cursor);

		snprintf(want, sizeof(want), V26_LIST "&maxResultsPerPage=100&paginationToken=%s", enc);
		CHECK(nx_amazon_adapter.list_request(&ctx, V26_SINCE, page.next_cursor, &r, &err) == NX_OK);
		CHECK_REQUEST(&r, "GET", want, NULL, "User-Agent: nexus/0.2.0",
					  "Accept: application/json", "x-amz-access-token: Atza|token");
		nx_request_free(&r);
		free(enc);
	}
	nx_page_free(&page);
	json_decref(doc);

	/* a token is opaque: whatever it holds is percent-encoded, the page size may change */
	ctx.page_size = 7;
	got = v26_list_url(&ctx, V26_SINCE, "a+b/c=&d e");
	CHECK_STR(got, V26_LIST "&maxResultsPerPage=7&paginationToken=a%2Bb%2Fc%3D%26d%20e");
	free(got);
	json_decref(config);
}

NX_TEST(amazon_v2026_sync_hostile_cursors_stay_one_query_value)
{
	const char *const hostile[][2] = {
		{"x&marketplaceIds=A1PA6795UKMFR9", "x%26marketplaceIds%3DA1PA6795UKMFR9"},
		{"t\r\nX-Evil: 1", "t%0D%0AX-Evil%3A%201"},
		{"t#frag", "t%23frag"},
		{"../../orders/v0/orders?x=", "..%2F..%2Forders%2Fv0%2Forders%3Fx%3D"},
		{"%2F%00", "%252F%2500"},
		{"\xc3\xa9\xff", "%C3%A9%FF"},
	};
	const char *const refused[] = {""};
	json_t	   *config = v26_config();
	NxSyncContext ctx = v26_ctx(config);

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
	{
		char		want[512];
		char	   *got;

		snprintf(want, sizeof(want), V26_LIST "&maxResultsPerPage=100&paginationToken=%s",
				 hostile[i][1]);
		got = v26_list_url(&ctx, V26_SINCE, hostile[i][0]);
		CHECK_STR(got, want);
		free(got);
	}
	/* an empty token would start the listing over */
	CHECK_CURSORS_REFUSED(&nx_amazon_adapter, &ctx, V26_SINCE, refused, "cursor: empty nextToken");
	json_decref(config);
}

NX_TEST(amazon_v2026_sync_refuses_what_it_cannot_send)
{
	json_t	   *config = v26_config();
	NxSyncContext ctx = v26_ctx(config);
	const char *const bad[] = {
		"{\"orders_api\": \"v1\"}", "{\"orders_api\": \"2026-01\"}", "{\"orders_api\": \"\"}",
		"{\"orders_api\": 2026}", "{\"orders_api\": null}", "{\"orders_api\": [\"2026-01-01\"]}",
	};

	ctx.region = NULL;
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, V26_SINCE, NULL, "region: missing");
	ctx = v26_ctx(config);
	ctx.access_token = NULL;
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, V26_SINCE, "tok", "access token: missing");
	ctx = v26_ctx(config);
	/* the filters go with every page, so since is checked on every page */
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, -1, NULL, "since");
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, -1, "tok", "since");
	CHECK_LIST_FAILS(&nx_amazon_adapter, &ctx, INT64_C(253402300800), "tok", "since");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		json_t	   *c = nx_parse_json(bad[i]);
		NxSyncContext bctx = v26_ctx(c);

		CHECK_LIST_FAILS(&nx_amazon_adapter, &bctx, V26_SINCE, NULL, "config.orders_api");
		CHECK_LIST_FAILS(&nx_amazon_adapter, &bctx, V26_SINCE, "tok", "config.orders_api");
		json_decref(c);
	}
	json_decref(config);
}

NX_TEST(amazon_v2026_sync_v0_unchanged_without_the_setting)
{
	const char *const configs[] = {NULL, "{}", "{\"orders_api\": \"v0\"}",
	"{\"api_base_url\": \"http://127.0.0.1:1/amazon\"}"};

	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
	{
		json_t	   *c = configs[i] ? nx_parse_json(configs[i]) : NULL;
		NxSyncContext ctx = v26_ctx(c);
		NxRequest	r;
		NxError		err = {{0}};
		char	   *got;

		got = v26_list_url(&ctx, V26_SINCE, NULL);
		CHECK_STR(got, V0_LIST "&LastUpdatedAfter=2025-03-09T00:00:00Z&MaxResultsPerPage=100");
		free(got);
		got = v26_list_url(&ctx, V26_SINCE, "a+b");
		CHECK_STR(got, V0_LIST "&NextToken=a%2Bb");
		free(got);
		CHECK(nx_amazon_adapter.detail_request(&ctx, "113-4829175-6638204", NULL, &r, &err) == NX_OK);
		CHECK_STR(r.url, V26_NA "/orders/v0/orders/113-4829175-6638204/orderItems");
		nx_request_free(&r);
		json_decref(c);
	}
}

NX_TEST(amazon_v2026_sync_page_has_whole_orders_and_nothing_to_fetch)
{
	const char *const pages[] = {"orders_page1.json", "orders_page2.json"};

	for (int i = 0; i < 2; i++)
	{
		json_t	   *doc = nx_amazon_v2026_fixture(pages[i]);
		json_t	   *orders = (json_t *) &orders;	/* must be overwritten */
		NxPage		page;
		NxError		err = {{0}};

		if (doc == NULL)
			continue;
		/* no order needs a request of its own */
		CHECK(nx_amazon_adapter.page_orders(doc, &orders, &err) == NX_OK);
		CHECK(orders == NULL);

		nx_page_init(&page);
		CHECK(nx_amazon_adapter.parse_page(doc, NULL, &page, &err) == NX_OK);
		CHECK_INT(page.norders, 3);
		CHECK_INT(page.nfailed, 0);
		CHECK_INT(page.ndetail_ids, 0);
		for (size_t k = 0; k < page.norders; k++)
			CHECK(page.orders[k].nitems > 0);
		if (i == 0)
			CHECK_STR(page.next_cursor, nx_json_str(doc, "pagination.nextToken"));
		else
			CHECK(page.next_cursor == NULL);
		nx_page_free(&page);
		json_decref(doc);
	}
}

NX_TEST(amazon_v2026_sync_empty_and_refused_pages)
{
	json_t	   *orders = NULL;
	NxError		err = {{0}};
	json_t	   *doc = nx_parse_json("{\"orders\": []}");
	NxPage		page;

	/* the last page of a window with nothing changed */
	CHECK(nx_amazon_adapter.page_orders(doc, &orders, &err) == NX_OK);
	CHECK(orders == NULL);
	nx_page_init(&page);
	CHECK(nx_amazon_adapter.parse_page(doc, NULL, &page, &err) == NX_OK);
	CHECK_INT(page.norders, 0);
	CHECK(page.next_cursor == NULL);
	nx_page_free(&page);
	json_decref(doc);

	/* an error document is no page of either version */
	doc = nx_parse_json("{\"errors\": [{\"code\": \"InvalidInput\", \"message\": \"bad\"}]}");
	CHECK(nx_amazon_adapter.page_orders(doc, &orders, &err) == NX_FAIL);
	CHECK(orders == NULL);
	json_decref(doc);

	/* a v0 page still gives its orders to complete */
	doc = nx_parse_json("{\"payload\": {\"Orders\": [{\"AmazonOrderId\": \"1\"}]}}");
	CHECK(nx_amazon_adapter.page_orders(doc, &orders, &err) == NX_OK);
	CHECK(json_is_object(orders) && json_object_size(orders) == 1);
	json_decref(orders);
	json_decref(doc);
}

NX_TEST(amazon_v2026_sync_throttle_paces_search_orders)
{
	json_t	   *h = nx_parse_json("{\"x-amzn-ratelimit-limit\": \"0.0056\"}");
	NxThrottle	th = {123, 0};

	/* searchOrders' usage plan: 0.0056 per second, burst 20 as getOrders */
	nx_amazon_adapter.throttle(200, h, 0, &th);
	CHECK(th.rate > 0.00559 && th.rate < 0.00561);
	CHECK_INT(th.wait_ms, -1);
	CHECK_INT(nx_amazon_adapter.list_burst, 20);
	json_decref(h);
}
