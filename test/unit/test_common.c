/*-------------------------------------------------------------------------
 *
 * test_common.c
 *	  The shared helpers: money, time, countries, status aggregation,
 *	  canonical JSON, crypto, and the typed member readers.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "unit.h"

static const char *
fmt_money(const char *text, int exponent)
{
	static char buf[64];
	NxMoney		m;
	NxError		err;

	if (nx_money_parse(text, exponent, &m, &err, "x") != NX_OK)
		return "ERR";
	nx_money_format(m, exponent, buf, sizeof(buf));
	return buf;
}

NX_TEST(money_parse_and_round)
{
	CHECK_STR(fmt_money("12.5", 2), "12.50");
	CHECK_STR(fmt_money("45.2", 2), "45.20");
	CHECK_STR(fmt_money("0.005", 2), "0.01");	/* half up */
	CHECK_STR(fmt_money("0.00499", 2), "0.00");
	CHECK_STR(fmt_money("-3.205", 2), "-3.21");	/* half away from zero */
	CHECK_STR(fmt_money("1299", 2), "1299.00");
	CHECK_STR(fmt_money("1299.5", 0), "1300");	/* JPY */
	CHECK_STR(fmt_money("1.2345", 3), "1.235");	/* KWD */
	CHECK_STR(fmt_money("999999999999.99", 2), "999999999999.99");
	CHECK_STR(fmt_money("", 2), "ERR");
	CHECK_STR(fmt_money("12,50", 2), "ERR");
	CHECK_STR(fmt_money("1e3", 2), "ERR");
	CHECK_STR(fmt_money("abc", 2), "ERR");
	CHECK_STR(fmt_money("99999999999999999999", 2), "ERR");
}

NX_TEST(money_from_json_numbers_exactly)
{
	/* Values that are not exact in binary: the literal is what counts. */
	const char *doc = "[199.6, 12.49, 0.05, 0.1, 1.005, 1999, \"7.10\", null, 123456789012.34, 2.675]";
	const char *want[] = {"199.60", "12.49", "0.05", "0.10", "1.01", "1999.00", "7.10", NULL,
	"123456789012.34", "2.68"};
	json_error_t jerr;
	json_t	   *arr = json_loads(doc, 0, &jerr);
	char		buf[64];

	CHECK(arr != NULL);
	for (size_t i = 0; i < json_array_size(arr); i++)
	{
		NxMoney		m;
		NxError		err;

		CHECK(nx_money_from_json(json_array_get(arr, i), 2, &m, &err, "x") == NX_OK);
		if (want[i] == NULL)
		{
			CHECK(!m.present);
			continue;
		}
		nx_money_format(m, 2, buf, sizeof(buf));
		CHECK_STR(buf, want[i]);
	}
	json_decref(arr);
}

NX_TEST(money_from_json_rejects_wrong_types)
{
	json_t	   *obj = json_pack("{s:s}", "amount", "1.00");
	NxMoney		m;
	NxError		err = {{0}};

	CHECK(nx_money_from_json(obj, 2, &m, &err, "OrderTotal") == NX_FAIL);
	CHECK(strstr(err.msg, "OrderTotal") != NULL);
	CHECK(nx_money_from_json(json_true(), 2, &m, &err, "x") == NX_FAIL);
	json_decref(obj);
}

NX_TEST(money_from_minor_units)
{
	NxMoney		m;
	NxError		err;
	char		buf[64];

	CHECK(nx_money_from_minor(1999, 2, 2, &m, &err, "price") == NX_OK);
	nx_money_format(m, 2, buf, sizeof(buf));
	CHECK_STR(buf, "19.99");
	CHECK(nx_money_from_minor(1999, 2, 0, &m, &err, "price") == NX_OK);
	nx_money_format(m, 0, buf, sizeof(buf));
	CHECK_STR(buf, "20");
}

NX_TEST(money_unit_price_rounding)
{
	NxMoney		line = {true, 2500};
	char		buf[64];

	nx_money_format(nx_money_div(line, 3), 2, buf, sizeof(buf));
	CHECK_STR(buf, "8.33");
	nx_money_format(nx_money_div((NxMoney) {true, 1000}, 3), 2, buf, sizeof(buf));
	CHECK_STR(buf, "3.33");
	nx_money_format(nx_money_div((NxMoney) {true, 5}, 2), 2, buf, sizeof(buf));
	CHECK_STR(buf, "0.03");
	CHECK(!nx_money_div(line, 0).present);
	CHECK(!nx_money_add((NxMoney) {false, 0}, (NxMoney) {false, 0}).present);
	CHECK_INT(nx_money_add((NxMoney) {false, 0}, (NxMoney) {true, 5}).minor, 5);
}

static const char *
fmt_time(const char *text)
{
	static char buf[32];
	int64_t		t;
	NxError		err;

	if (nx_time_parse(text, &t, &err, "t") != NX_OK)
		return "ERR";
	nx_time_format(t, buf, sizeof(buf));
	return buf;
}

NX_TEST(time_formats)
{
	CHECK_STR(fmt_time("2025-03-10T08:12:45Z"), "2025-03-10T08:12:45Z");
	CHECK_STR(fmt_time("2025-03-10T08:12:45.123Z"), "2025-03-10T08:12:45Z");
	CHECK_STR(fmt_time("2025-03-10T09:12:45+01:00"), "2025-03-10T08:12:45Z");
	CHECK_STR(fmt_time("2025-03-10T00:30:00+0200"), "2025-03-09T22:30:00Z");
	CHECK_STR(fmt_time("2025-03-09T20:00:00-05:00"), "2025-03-10T01:00:00Z");
	CHECK_STR(fmt_time("2024-02-29T12:00:00Z"), "2024-02-29T12:00:00Z");
	CHECK_STR(fmt_time("2025-03-10 08:12:45"), "2025-03-10T08:12:45Z");
	CHECK_STR(fmt_time("2025-02-29T12:00:00Z"), "ERR");
	CHECK_STR(fmt_time("2025-13-01T00:00:00Z"), "ERR");
	CHECK_STR(fmt_time("yesterday"), "ERR");
	CHECK_STR(fmt_time("2025-03-10T08:12:45Zjunk"), "ERR");
	CHECK_STR(fmt_time("1969-12-31T23:59:59Z"), "1969-12-31T23:59:59Z");
}

NX_TEST(time_epoch_ms)
{
	char		buf[32];

	nx_time_format(nx_time_from_epoch_ms(1741594365123LL), buf, sizeof(buf));
	CHECK_STR(buf, "2025-03-10T08:12:45Z");
}

NX_TEST(countries)
{
	CHECK_STR(nx_country_alpha2("USA"), "US");
	CHECK_STR(nx_country_alpha2("CAN"), "CA");
	CHECK_STR(nx_country_alpha2("deu"), "DE");
	CHECK_STR(nx_country_alpha2("nl"), "NL");
	CHECK_STR(nx_country_alpha2("GBR"), "GB");
	CHECK(nx_country_alpha2("XYZ") == NULL);
	CHECK(nx_country_alpha2("") == NULL);
	CHECK(nx_country_alpha2(NULL) == NULL);
}

NX_TEST(status_aggregation_rules)
{
	const char *all_cancelled[] = {NX_CANCELLED, NX_CANCELLED};
	const char *refunded[] = {NX_REFUNDED, NX_CANCELLED, NX_REFUNDED};
	const char *returned[] = {NX_RETURN_RECEIVED, NX_REFUNDED};
	const char *mixed[] = {NX_SHIPPED, NX_CONFIRMED};
	const char *least[] = {NX_DELIVERED, NX_SHIPPED, NX_CANCELLED};
	const char *one[] = {NX_PENDING};

	CHECK_STR(nx_status_aggregate(all_cancelled, 2), NX_CANCELLED);
	CHECK_STR(nx_status_aggregate(refunded, 3), NX_REFUNDED);
	CHECK_STR(nx_status_aggregate(returned, 2), NX_RETURN_RECEIVED);
	CHECK_STR(nx_status_aggregate(mixed, 2), NX_PROCESSING);
	CHECK_STR(nx_status_aggregate(least, 3), NX_SHIPPED);
	CHECK_STR(nx_status_aggregate(one, 1), NX_PENDING);
	CHECK(nx_status_aggregate(one, 0) == NULL);
	CHECK_STR(nx_status_canonical("refunded"), NX_REFUNDED);
	CHECK(nx_status_canonical("Refunded") == NULL);
}

NX_TEST(canonical_json_shape)
{
	NxOrder		o;
	NxItem	   *it;
	NxError		err;
	json_t	   *j;
	char	   *s;

	nx_order_init(&o, "bol");
	o.external_order_id = nx_strdup("A1");
	CHECK(nx_order_set_currency(&o, "EUR", &err) == NX_OK);
	CHECK(nx_order_set_currency(&o, "eur", &err) == NX_FAIL);
	it = nx_order_add_item(&o);
	it->quantity = 2;
	it->line_total = (NxMoney) {true, 2498};
	it->unit_price = nx_money_div(it->line_total, 2);
	nx_order_sum_lines(&o);
	j = nx_order_to_json(&o);
	s = json_dumps(j, JSON_COMPACT);
	CHECK_STR(s, "{\"marketplace\":\"bol\",\"external_order_id\":\"A1\",\"order_number\":null,"
			  "\"status\":\"pending\",\"marketplace_status\":null,\"fulfillment_method\":\"FBM\","
			  "\"currency\":\"EUR\",\"subtotal\":\"24.98\",\"tax_total\":null,\"shipping_total\":null,"
			  "\"discount_total\":null,\"total_amount\":null,\"ordered_at\":null,\"updated_at\":null,"
			  "\"buyer_email\":null,\"buyer_name\":null,\"ship_country\":null,\"items\":"
			  "[{\"external_item_id\":null,\"sku\":null,\"title\":null,\"quantity\":2,"
			  "\"unit_price\":\"12.49\",\"line_total\":\"24.98\"}]}");
	free(s);
	json_decref(j);
	nx_order_free(&o);
}

NX_TEST(crypto_hmac_and_base64)
{
	unsigned char mac[32];
	char		b64[64];
	char		hex[80];
	unsigned char back[64];

	/* RFC 4231 test case 2 */
	CHECK(nx_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac) == NX_OK);
	nx_hex_encode(mac, 32, hex, sizeof(hex));
	CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	nx_base64_encode(mac, 32, b64, sizeof(b64));
	CHECK_INT(nx_base64_decode(b64, back, sizeof(back)), 32);
	CHECK(nx_equal_ct(back, mac, 32));
	CHECK_INT(nx_base64_decode("not base64!", back, sizeof(back)), -1);
	CHECK(nx_verify_signature("not a key", "sha256", "x", 1, back, 32, NULL) == NX_FAIL);
}

/* ---------- the typed member readers ---------- */

/* The message a call that must fail left in the test's err, or "(succeeded)". */
#define READER_ERROR(call) \
	((call) == NX_FAIL ? err.msg : "(succeeded)")

NX_TEST(reader_field_names)
{
	json_t	   *obj = nx_parse_json("{\"n\": 5}");
	const char *s;
	NxError		err = {{0}};
	char		buf[NX_ERROR_MAX];

	CHECK_STR(nx_field_name(NULL, "sku", buf, sizeof(buf)), "sku");
	CHECK_STR(nx_field_name("lines[2].", "sku", buf, sizeof(buf)), "lines[2].sku");
	CHECK_STR(nx_field_name("X-SIG kid", "kid", buf, sizeof(buf)), "X-SIG kid");
	CHECK_STR(READER_ERROR(nx_json_opt_string(obj, "n", NULL, &s, &err)), "n: expected a string");
	CHECK_STR(READER_ERROR(nx_json_opt_string(obj, "n", "lines[2].", &s, &err)),
			  "lines[2].n: expected a string");
	CHECK_STR(READER_ERROR(nx_json_opt_string(obj, "n", "the n", &s, &err)),
			  "the n: expected a string");
	json_decref(obj);
}

NX_TEST(reader_types_and_absence)
{
	json_t	   *obj = nx_parse_json("{\"s\": \"x\", \"e\": \"\", \"z\": null, \"o\": {}, \"a\": [1]}");
	const char *s;
	char	   *dup;
	const json_t *v;
	NxError		err = {{0}};

	/* null is absent; absent is NULL unless required */
	CHECK(nx_json_opt_string(obj, "z", NULL, &s, &err) == NX_OK && s == NULL);
	CHECK(nx_json_opt_string(obj, "gone", NULL, &s, &err) == NX_OK && s == NULL);
	CHECK_STR(READER_ERROR(nx_json_req_string(obj, "z", NULL, &s, &err)), "z: missing");
	CHECK(nx_json_req_string(obj, "s", NULL, &s, &err) == NX_OK);
	CHECK_STR(s, "x");
	/* "" is a string, except to the text reader */
	CHECK(nx_json_opt_string(obj, "e", NULL, &s, &err) == NX_OK && s && *s == '\0');
	CHECK(nx_json_opt_text(obj, "e", NULL, &s, &err) == NX_OK && s == NULL);
	CHECK(nx_json_opt_strdup(obj, "s", NULL, &dup, &err) == NX_OK);
	CHECK_STR(dup, "x");
	free(dup);
	CHECK(nx_json_opt_strdup(obj, "z", NULL, &dup, &err) == NX_OK && dup == NULL);
	/* objects and arrays, and a parent that is not an object */
	CHECK(nx_json_opt_object(obj, "o", NULL, &v, &err) == NX_OK && json_is_object(v));
	CHECK_STR(READER_ERROR(nx_json_opt_object(obj, "a", NULL, &v, &err)), "a: expected an object");
	CHECK(nx_json_opt_array(obj, "a", NULL, &v, &err) == NX_OK && json_is_array(v));
	CHECK_STR(READER_ERROR(nx_json_req_array(obj, "o", "doc.", &v, &err)),
			  "doc.o: expected an array");
	CHECK_STR(READER_ERROR(nx_json_req_object(NULL, "o", NULL, &v, &err)), "o: missing");
	CHECK(nx_json_opt_string(json_object_get(obj, "a"), "s", NULL, &s, &err) == NX_OK && s == NULL);
	json_decref(obj);
}

NX_TEST(reader_ids_ints_and_times)
{
	json_t	   *obj = json_pack("{s:s, s:I, s:s, s:s#, s:b, s:i, s:s, s:s}", "s", "A-1",
								"i", (json_int_t) 5801234567001, "e", "", "nul", "\0x", (size_t) 2,
								"b", 1, "q", 7, "qs", "7", "t", "2025-03-10T09:12:45+01:00");
	char	   *id;
	int64_t		n;
	bool		has;
	int64_t		t;
	NxError		err = {{0}};

	CHECK(nx_json_req_id(obj, "s", NULL, &id, &err) == NX_OK);
	CHECK_STR(id, "A-1");
	free(id);
	CHECK(nx_json_req_id(obj, "i", NULL, &id, &err) == NX_OK);
	CHECK_STR(id, "5801234567001");
	free(id);
	CHECK_STR(READER_ERROR(nx_json_req_id(obj, "e", NULL, &id, &err)), "e: empty");
	/* a NUL byte first would make the id "" */
	CHECK_STR(READER_ERROR(nx_json_req_id(obj, "nul", NULL, &id, &err)), "nul: empty");
	CHECK_STR(READER_ERROR(nx_json_req_id(obj, "b", NULL, &id, &err)),
			  "b: expected a string or an integer");
	CHECK_STR(READER_ERROR(nx_json_req_id(obj, "gone", "x.", &id, &err)), "x.gone: missing");

	CHECK(nx_json_req_int(obj, "q", NULL, 1, 7, &n, &err) == NX_OK && n == 7);
	CHECK_STR(READER_ERROR(nx_json_req_int(obj, "q", NULL, 1, 6, &n, &err)), "q: 7 is out of range");
	CHECK_STR(READER_ERROR(nx_json_req_int(obj, "qs", NULL, 1, 9, &n, &err)),
			  "qs: expected an integer");
	CHECK_STR(READER_ERROR(nx_json_req_int(obj, "gone", NULL, 1, 9, &n, &err)), "gone: missing");

	CHECK(nx_json_opt_time(obj, "t", NULL, &has, &t, &err) == NX_OK && has);
	CHECK_INT(t, 1741594365);
	CHECK(nx_json_opt_time(obj, "gone", NULL, &has, &t, &err) == NX_OK && !has);
	CHECK(nx_json_opt_time(obj, "s", "at.", &has, &t, &err) == NX_FAIL && !has);
	CHECK(strstr(err.msg, "at.s: ") == err.msg);
	json_decref(obj);
}

NX_TEST(reader_money_members)
{
	json_t	   *obj = nx_parse_json("{\"eur\": {\"amount\": 19.99, \"currency\": \"EUR\"},"
									" \"usd\": {\"amount\": \"1\", \"currency\": \"USD\"},"
									" \"bare\": {\"amount\": 2.5}, \"none\": {\"currency\": \"EUR\"},"
									" \"num\": 5}");
	NxOrder		o;
	NxMoney		m;
	NxError		err = {{0}};

	/* without adopt the order's currency is not set, nor checked */
	nx_order_init(&o, "test");
	CHECK(nx_json_opt_money(obj, "usd", NULL, false, &o, &m, &err) == NX_OK);
	CHECK(o.currency[0] == '\0' && m.present && m.minor == 100);
	/* adopt: the first currency seen becomes the order's, and others fail */
	CHECK(nx_json_opt_money(obj, "eur", "x.", true, &o, &m, &err) == NX_OK);
	CHECK_STR(o.currency, "EUR");
	CHECK_INT(m.minor, 1999);
	CHECK_STR(READER_ERROR(nx_json_opt_money(obj, "usd", "x.", false, &o, &m, &err)),
			  "x.usd.currency: \"USD\" differs from the order currency EUR");
	CHECK(nx_json_opt_money(obj, "bare", NULL, false, &o, &m, &err) == NX_OK && m.minor == 250);
	CHECK(nx_json_opt_money(obj, "gone", NULL, false, &o, &m, &err) == NX_OK && !m.present);
	CHECK_STR(READER_ERROR(nx_json_opt_money(obj, "none", NULL, false, &o, &m, &err)),
			  "none.amount: missing");
	CHECK_STR(READER_ERROR(nx_json_opt_money(obj, "num", NULL, false, &o, &m, &err)),
			  "num: expected an object");
	nx_order_free(&o);
	json_decref(obj);
}

NX_TEST(money_accumulate_checks_every_step)
{
	NxMoney		acc = {false, 0};
	NxMoney		big = {true, NX_MONEY_MAX_MINOR - 1};
	NxMoney		back = {true, -(NX_MONEY_MAX_MINOR - 1)};
	NxError		err = {{0}};

	CHECK(nx_money_accumulate(&acc, big, "lines", &err) == NX_OK);
	/* past the largest amount: fails, and the sum is left as it was */
	CHECK_STR(READER_ERROR(nx_money_accumulate(&acc, big, "lines", &err)),
			  "lines: the sum is too large");
	CHECK(acc.present && acc.minor == NX_MONEY_MAX_MINOR - 1);
	/* why every step: nx_money_add alone saturates, and later lines bring it back wrong */
	acc = nx_money_add(nx_money_add(big, big), back);
	CHECK(acc.minor != NX_MONEY_MAX_MINOR - 1);
	/* absent + absent stays absent */
	acc = (NxMoney) {false, 0};
	CHECK(nx_money_accumulate(&acc, (NxMoney) {false, 0}, "x", &err) == NX_OK && !acc.present);
}

NX_TEST(crypto_hex_decode_and_pem_rewrap)
{
	unsigned char out[4];
	char	   *pem = NULL;
	char	   *file = nx_fixture_bytes("ebay/test_public_key.pem", NULL);
	json_t	   *resp = nx_fixture_json("ebay/public_key_response.json");

	CHECK(nx_hex_decode("0aFf10c9", out, 4) == NX_OK);
	CHECK(out[0] == 0x0a && out[1] == 0xff && out[2] == 0x10 && out[3] == 0xc9);
	CHECK(nx_hex_decode("0aFf10c", out, 4) == NX_FAIL);
	CHECK(nx_hex_decode("0aFf10c9aa", out, 4) == NX_FAIL);
	CHECK(nx_hex_decode("0aFf10zz", out, 4) == NX_FAIL);
	CHECK(nx_hex_decode(NULL, out, 4) == NX_FAIL);

	/* eBay's one-line PEM comes out as the file OpenSSL reads */
	CHECK(nx_pem_rewrap(json_string_value(json_object_get(resp, "key")), &pem) == NX_OK);
	CHECK_STR(pem, file);
	free(pem);
	/* bare base64 DER gets the PUBLIC KEY label */
	CHECK(nx_pem_rewrap("AAAA", &pem) == NX_OK);
	CHECK_STR(pem, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
	free(pem);
	CHECK(nx_pem_rewrap("{not a key}", &pem) == NX_FAIL && pem == NULL);
	CHECK(nx_pem_rewrap("", &pem) == NX_FAIL);
	CHECK(nx_pem_rewrap("-----BEGIN PUBLIC KEY-----AAAA", &pem) == NX_FAIL);
	free(file);
	json_decref(resp);
}

NX_TEST(status_map_and_order_helpers)
{
	static const NxStatusMap map[] = {{"Shipped", NX_SHIPPED}, {"Open", NX_PENDING}, {NULL, NULL}};
	bool		known;
	NxOrder		o;
	NxError		err = {{0}};

	CHECK_STR(nx_status_map(map, "Shipped", &known), NX_SHIPPED);
	CHECK(known);
	CHECK_STR(nx_status_map(map, "Open", &known), NX_PENDING);
	CHECK(known);
	CHECK_STR(nx_status_map(map, "shipped", &known), NX_PENDING);
	CHECK(!known);

	nx_order_init(&o, "test");
	CHECK(nx_order_set_ship_country(&o, NULL) && o.ship_country[0] == '\0');
	CHECK(nx_order_set_ship_country(&o, "deu"));
	CHECK_STR(o.ship_country, "DE");
	CHECK(!nx_order_set_ship_country(&o, "Atlantis"));
	CHECK_STR(o.ship_country, "DE");
	nx_order_bump_updated_at(&o, 200);
	nx_order_bump_updated_at(&o, 100);
	CHECK(o.has_updated_at && o.updated_at == 200);
	CHECK(nx_order_add_item(&o) && nx_order_add_item(&o));
	o.items[0].line_total = (NxMoney) {true, NX_MONEY_MAX_MINOR};
	o.items[1].line_total = (NxMoney) {true, 1};
	CHECK_STR(READER_ERROR(nx_order_sum_lines_checked(&o, "items", &err)),
			  "items: the sum is too large");
	o.items[1].line_total = (NxMoney) {false, 0};
	CHECK(nx_order_sum_lines_checked(&o, "items", &err) == NX_OK);
	CHECK(o.subtotal.present && o.subtotal.minor == NX_MONEY_MAX_MINOR);
	nx_order_free(&o);
}

NX_TEST(join_name_takes_the_parts_there_are)
{
	char	   *name;

	CHECK_STR((name = nx_join_name("Ana", "Lima")), "Ana Lima");
	free(name);
	CHECK_STR((name = nx_join_name("Ana", "")), "Ana");
	free(name);
	CHECK_STR((name = nx_join_name(NULL, "Lima")), "Lima");
	free(name);
	CHECK((name = nx_join_name("", NULL)) == NULL);
}

/* The fast loader builds what jansson's loader builds, on every fixture. */
NX_TEST(json_loader_matches_jansson_on_fixtures)
{
	static const char *const files[] = {
		"amazon/orders_page1.json", "amazon/order_items/113-4829175-6638204.json",
		"ebay/orders_page1.json", "bol/orders_page1.json", "bol/order_details/A2K8J4P0Q1.json",
		"kaufland/order_details/M9XB3LW.json", "shopify/orders_page1.json",
		"shopify/webhook_order_updated.json", "zalando/orders_page1.json",
		"walmart/orders_page1.json", "walmart/orders_ca_market.json", NULL
	};

	for (int i = 0; files[i]; i++)
	{
		size_t		len;
		char	   *text = nx_fixture_bytes(files[i], &len);
		json_error_t e;
		json_t	   *a = text ? json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e) : NULL;
		json_t	   *b = text ? nx_json_loadb(text, len, &e) : NULL;

		CHECK(text != NULL);
		CHECK(a != NULL && b != NULL && json_equal(a, b));
		json_decref(a);
		json_decref(b);
		free(text);
	}
}

NX_TEST(json_loader_edge_cases)
{
	static const char *const same[] = {
		"{}", "[]", " 1 ", "-0", "0.5e-3", "1E+2", "\"\\u00e9\\ud83d\\ude00\\n\\/\"", "[true,false,null]",
		"{\"a\":1,\"a\":2}", "\"Zo\xc3\xab\"", "9223372036854775807", "1e-400", "{\"k\": [ {} , [] ]}",
		"\"a\\u0000b\"", NULL
	};
	static const char *const bad[] = {
		"", "01", "1.", ".5", "-", "1e", "[1,]", "{\"a\"}", "{\"a\":1,}", "\"\\x\"", "\"\\ud800\"",
		"\"\\udc00\"", "\"\x01\"", "\"\xc3\"", "\"\xed\xa0\x80\"", "tru", "nul", "[1] 2",
		"9223372036854775808", "1e400", "{\"a\\u0000\":1}", "\"unterminated", NULL
	};
	json_error_t e;

	for (int i = 0; same[i]; i++)
	{
		json_t	   *a = json_loadb(same[i], strlen(same[i]), JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
		json_t	   *b = nx_json_loadb(same[i], strlen(same[i]), &e);

		if (!(a && b && json_equal(a, b)))
			nx_test_fail(__FILE__, __LINE__, "differs on %s", same[i]);
		json_decref(a);
		json_decref(b);
	}
	for (int i = 0; bad[i]; i++)
	{
		json_t	   *a = json_loadb(bad[i], strlen(bad[i]), JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
		json_t	   *b = nx_json_loadb(bad[i], strlen(bad[i]), &e);

		if (a != NULL || b != NULL)
			nx_test_fail(__FILE__, __LINE__, "accepted %s (jansson %s)", bad[i], a ? "too" : "not");
		json_decref(a);
		json_decref(b);
	}
	/*
	 * Strings are scanned eight bytes at a time: put each special byte at
	 * every position of the first words and of the tail, and ask that
	 * both loaders agree on accepting and on the value.
	 */
	{
		static const char *const specials[] = {"\\\"", "\\\\", "\\n", "\xc3\xa9", "\x01", "\xc3",
		"\xe2\x82\xac", "\x7f", "\xff", "\"", NULL};

		for (int k = 0; specials[k]; k++)
			for (int pos = 0; pos < 20; pos++)
				for (int tail = 0; tail < 10; tail++)
				{
					char		doc[64];
					int			n = 0;
					json_t	   *a;
					json_t	   *b;

					doc[n++] = '"';
					for (int i = 0; i < pos; i++)
						doc[n++] = (char) ('a' + i % 26);
					n += snprintf(doc + n, sizeof(doc) - n, "%s", specials[k]);
					for (int i = 0; i < tail; i++)
						doc[n++] = 'z';
					doc[n++] = '"';
					a = json_loadb(doc, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
					b = nx_json_loadb(doc, n, &e);
					if ((a == NULL) != (b == NULL) || (a && !json_equal(a, b)))
						nx_test_fail(__FILE__, __LINE__, "differs on special %d at %d, tail %d", k, pos, tail);
					json_decref(a);
					json_decref(b);
				}
	}
	/* deep nesting is refused, not a stack overflow */
	{
		char	   *deep = malloc(100001);

		memset(deep, '[', 100000);
		deep[100000] = '\0';
		CHECK(nx_json_loadb(deep, 100000, &e) == NULL);
		free(deep);
	}
}
