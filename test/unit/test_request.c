/*-------------------------------------------------------------------------
 *
 * test_request.c
 *	  The helpers every marketplace's request building shares
 *	  (adapters/request.c): the request itself, query and form encoding,
 *	  Basic credentials, the same-origin check for next-page links, OAuth
 *	  token responses and correlation ids.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "unit.h"

/* ---------- NxRequest ---------- */

NX_TEST(request_headers_and_body)
{
	NxRequest	r;
	char		want[32];
	char	   *body = strdup("grant_type=client_credentials");
	char	   *other = strdup("abc");

	nx_request_init(&r, "POST");
	CHECK_STR(r.method, "POST");
	CHECK(r.url == NULL && r.headers == NULL && r.nheaders == 0 && r.body == NULL);
	CHECK_INT(r.body_len, 0);

	CHECK(nx_request_header(&r, "Accept", "application/json") == NX_OK);
	CHECK(nx_request_header(&r, "X-Count", "%d-%s", 42, "x") == NX_OK);
	CHECK(nx_request_header(&r, "X-Empty", "%s", "") == NX_OK);
	CHECK(nx_request_header(&r, "X-Tab", "a\tb") == NX_OK);	/* a tab is no line break */
	CHECK_INT(r.nheaders, 4);
	CHECK_STR(r.headers[0], "Accept: application/json");
	CHECK_STR(r.headers[1], "X-Count: 42-x");
	CHECK_STR(r.headers[2], "X-Empty: ");
	CHECK_STR(r.headers[3], "X-Tab: a\tb");

	/* past the first allocation, every line kept in order */
	for (int i = 4; i < 40; i++)
		CHECK(nx_request_header(&r, "X-N", "%d", i) == NX_OK);
	CHECK_INT(r.nheaders, 40);
	CHECK(r.headers_cap >= 40);
	for (int i = 4; i < 40; i++)
	{
		snprintf(want, sizeof(want), "X-N: %d", i);
		CHECK_STR(r.headers[i], want);
	}

	nx_request_set_body(&r, body, strlen(body));
	CHECK(r.body == body);
	CHECK_INT(r.body_len, 29);
	/* a new body replaces (and frees) the old one: LeakSanitizer watches */
	nx_request_set_body(&r, other, 3);
	CHECK(r.body == other);
	CHECK_INT(r.body_len, 3);
	nx_request_set_body(&r, NULL, 5);
	CHECK(r.body == NULL);
	CHECK_INT(r.body_len, 0);

	r.url = strdup("https://example.com/");
	nx_request_free(&r);
	CHECK(r.url == NULL && r.headers == NULL && r.nheaders == 0 && r.body == NULL);
	nx_request_free(&r);		/* twice is harmless */
	nx_request_free(NULL);
}

/* A line break in a value would smuggle in a header (or a body) of its own. */
NX_TEST(request_header_rejects_line_breaks)
{
	NxRequest	r;
	const char *bad[] = {
		"tok\r\nX-Evil: 1", "tok\nX-Evil: 1", "tok\rX-Evil: 1", "\r\n", "tok\n", "\rtok",
	};

	nx_request_init(&r, "GET");
	CHECK(nx_request_header(&r, "Accept", "application/json") == NX_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (nx_request_header(&r, "Authorization", "Bearer %s", bad[i]) != NX_FAIL)
			nx_test_fail(__FILE__, __LINE__, "value %zu with a line break accepted", i);
		CHECK(nx_request_header(&r, "X-Raw", "%s", bad[i]) == NX_FAIL);
	}
	CHECK_INT(r.nheaders, 1);	/* nothing appended */
	CHECK_STR(r.headers[0], "Accept: application/json");
	nx_request_free(&r);
}

/* ---------- nx_url_encode ---------- */

/* nx_url_encode(in) must be want. */
static void
check_encode(int line, const char *in, const char *want)
{
	char	   *got = nx_url_encode(in);

	if (got == NULL || strcmp(got, want) != 0)
		nx_test_fail(__FILE__, line, "nx_url_encode(\"%s\"): got \"%s\", want \"%s\"", in,
					 got ? got : "(null)", want);
	free(got);
}
#define CHECK_ENCODE(in, want) check_encode(__LINE__, (in), (want))

NX_TEST(request_url_encode)
{
	CHECK_ENCODE("", "");
	/* RFC 3986 unreserved: kept */
	CHECK_ENCODE("ABCXYZabcxyz0189-._~", "ABCXYZabcxyz0189-._~");
	/* everything else, reserved characters first, in upper-case hex */
	CHECK_ENCODE(":/?#[]@", "%3A%2F%3F%23%5B%5D%40");
	CHECK_ENCODE("!$&'()*+,;=", "%21%24%26%27%28%29%2A%2B%2C%3B%3D");
	CHECK_ENCODE(" ", "%20");	/* not '+': the value may go into a path too */
	CHECK_ENCODE("%", "%25");
	CHECK_ENCODE("%41", "%2541");	/* no double standard: '%' is always data */
	CHECK_ENCODE("\"<>\\^`{|}", "%22%3C%3E%5C%5E%60%7B%7C%7D");
	CHECK_ENCODE("\x01\t\n\r\x1f\x7f", "%01%09%0A%0D%1F%7F");
	/* UTF-8: every byte on its own */
	CHECK_ENCODE("\xc3\xbc", "%C3%BC");	/* ü */
	CHECK_ENCODE("\xe2\x82\xac", "%E2%82%AC");	/* € */
	CHECK_ENCODE("\xf0\x9f\x98\x80", "%F0%9F%98%80");	/* 😀 */
	CHECK_ENCODE("\x80\xff", "%80%FF");
	/* the fixture's Shopify request encoded its offset time the same way */
	CHECK_ENCODE("2025-03-09T00:00:00+01:00", "2025-03-09T00%3A00%3A00%2B01%3A00");
	CHECK_ENCODE("refresh|token/with+all=", "refresh%7Ctoken%2Fwith%2Ball%3D");
}

/* ---------- nx_basic_auth ---------- */

static void
check_basic(int line, const char *user, const char *password, const char *want)
{
	char	   *got = nx_basic_auth(user, password);

	if (got == NULL || strcmp(got, want) != 0)
		nx_test_fail(__FILE__, line, "nx_basic_auth(\"%s\", \"%s\"): got \"%s\", want \"%s\"",
					 user, password, got ? got : "(null)", want);
	free(got);
}
#define CHECK_BASIC(user, password, want) check_basic(__LINE__, (user), (password), (want))

NX_TEST(request_basic_auth)
{
	/* "user:password" lengths 1 to 4 cover every padding */
	CHECK_BASIC("", "", "Basic Og==");
	CHECK_BASIC("a", "", "Basic YTo=");
	CHECK_BASIC("a", "b", "Basic YTpi");
	CHECK_BASIC("a", "bc", "Basic YTpiYw==");
	CHECK_BASIC("ab", "", "Basic YWI6");
	/* RFC 7617's example */
	CHECK_BASIC("Aladdin", "open sesame", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	CHECK_BASIC("z-id", "ZALANDO-SECRET", "Basic ei1pZDpaQUxBTkRPLVNFQ1JFVA==");
	/* bytes as given: a colon in the secret, UTF-8 */
	CHECK_BASIC("id", "s:e", "Basic aWQ6czpl");
	CHECK_BASIC("\xc3\xbc", "p", "Basic w7w6cA==");
}

/* ---------- nx_url_under ---------- */

NX_TEST(request_url_under)
{
	const struct
	{
		const char *url;
		const char *base;
		bool		under;
	}			cases[] = {
		/* the base itself, and below it */
		{"https://api.example.com", "https://api.example.com", true},
		{"https://api.example.com/", "https://api.example.com", true},
		{"https://api.example.com/v1/orders?page=2", "https://api.example.com", true},
		{"https://api.example.com?page=2", "https://api.example.com", true},
		/* default ports, explicit on either side */
		{"https://api.example.com:443/x", "https://api.example.com", true},
		{"https://api.example.com/x", "https://api.example.com:443", true},
		{"https://api.example.com:443/x", "https://api.example.com:443", true},
		{"http://api.example.com:80/x", "http://api.example.com", true},
		{"http://api.example.com/x", "http://api.example.com:80", true},
		{"http://127.0.0.1:8080/x", "http://127.0.0.1:8080", true},
		/* scheme and host are case-insensitive */
		{"HTTPS://API.Example.COM/x", "https://api.example.com", true},
		{"https://api.example.com/x", "HTTPS://API.EXAMPLE.COM", true},
		/* another port, scheme or host */
		{"https://api.example.com:8443/x", "https://api.example.com", false},
		{"https://api.example.com:80/x", "https://api.example.com", false},
		{"http://api.example.com:443/x", "https://api.example.com", false},
		{"http://api.example.com/x", "https://api.example.com", false},
		{"https://api.example.com/x", "http://api.example.com", false},
		{"http://127.0.0.1:8081/x", "http://127.0.0.1:8080", false},
		{"http://127.0.0.1/x", "http://127.0.0.1:8080", false},
		{"https://api.example.com.evil.example/x", "https://api.example.com", false},
		{"https://evil-api.example.com/x", "https://api.example.com", false},
		{"https://example.com/x", "https://api.example.com", false},
		{"https://evil.example/?next=https://api.example.com/", "https://api.example.com", false},
		{"https://evil.example/https://api.example.com/", "https://api.example.com", false},
		/* userinfo, the classic trick, and on either side */
		{"https://api.example.com@evil.example/", "https://api.example.com", false},
		{"https://api.example.com:443@evil.example/", "https://api.example.com", false},
		{"https://user@api.example.com/x", "https://api.example.com", false},
		{"https://user:pw@api.example.com/x", "https://api.example.com", false},
		{"https://api.example.com/x", "https://user@api.example.com", false},
		/* no scheme or no host: never under anything */
		{"//api.example.com/x", "https://api.example.com", false},
		{"/x", "https://api.example.com", false},
		{"api.example.com/x", "https://api.example.com", false},
		{"", "https://api.example.com", false},
		{"https:///x", "https://api.example.com", false},
		{"https://", "https://api.example.com", false},
		{"https://api.example.com/x", "", false},
		{"https://api.example.com/x", "/", false},
		/* a path on the base: at or below it, on a segment boundary */
		{"https://h/api", "https://h/api", true},
		{"https://h/api/", "https://h/api", true},
		{"https://h/api/orders", "https://h/api", true},
		{"https://h/api?page=2", "https://h/api", true},
		{"https://h/api#top", "https://h/api", true},
		{"https://h/apix", "https://h/api", false},
		{"https://h/api-v2/orders", "https://h/api", false},
		{"https://h/ap", "https://h/api", false},
		{"https://h/", "https://h/api", false},
		{"https://h", "https://h/api", false},
		{"https://h/other/api", "https://h/api", false},
		{"https://h/API", "https://h/api", false},	/* paths are case-sensitive */
		/* a trailing slash on the base changes nothing */
		{"https://h/api", "https://h/api/", true},
		{"https://h/api/orders", "https://h/api/", true},
		{"https://h/apix", "https://h/api/", false},
		{"https://h/anything", "https://h/", true},
		/* a query (or fragment) on the base is not part of its path */
		{"https://h/api/orders", "https://h/api?key=1", true},
		{"https://h/api", "https://h/api?key=1", true},
		{"https://h/apix", "https://h/api?key=1", false},
		{"https://h/api?key=1", "https://h/api#frag", true},
		{"https://h/x", "https://h?key=1", true},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		if (nx_url_under(cases[i].url, cases[i].base) != cases[i].under)
			nx_test_fail(__FILE__, __LINE__, "nx_url_under(\"%s\", \"%s\"): got %s, want %s",
						 cases[i].url, cases[i].base, cases[i].under ? "false" : "true",
						 cases[i].under ? "true" : "false");
	}
	CHECK(!nx_url_under(NULL, "https://api.example.com"));
	CHECK(!nx_url_under("https://api.example.com", NULL));
	CHECK(!nx_url_under(NULL, NULL));
}

/* ---------- nx_oauth_token_parse ---------- */

/* Parse text; *token freed here; returns the rc, *expires_in and the error. */
static int
parse_token(const char *text, char *token_out, size_t size, int64_t *expires_in, NxError *err)
{
	char	   *token = (char *) "untouched";
	int			rc;

	memset(err, 0, sizeof(*err));
	rc = nx_oauth_token_parse(text, strlen(text), &token, expires_in, err);
	snprintf(token_out, size, "%s", token ? token : "(null)");
	if (rc == NX_OK)
		free(token);
	else if (token != NULL)
		nx_test_fail(__FILE__, __LINE__, "failed parse of %s left a token", text);
	return rc;
}

NX_TEST(request_oauth_token_parse)
{
	char		token[64];
	int64_t		exp;
	NxError		err;
	const struct
	{
		const char *body;
		int64_t		expires_in;
	}			good[] = {
		{"{\"access_token\": \"tok\", \"token_type\": \"Bearer\", \"expires_in\": 7200}", 7200},
		{"{\"access_token\": \"tok\", \"expires_in\": 299}", 299},
		{"{\"expires_in\": 900, \"access_token\": \"tok\", \"scope\": \"x\"}", 900},
		/* a string, as some endpoints send it */
		{"{\"access_token\": \"tok\", \"expires_in\": \"900\"}", 900},
		/* absent or unusable: an hour */
		{"{\"access_token\": \"tok\"}", 3600},
		{"{\"access_token\": \"tok\", \"expires_in\": null}", 3600},
		{"{\"access_token\": \"tok\", \"expires_in\": 0}", 3600},
		{"{\"access_token\": \"tok\", \"expires_in\": -60}", 3600},
		{"{\"access_token\": \"tok\", \"expires_in\": 12.5}", 3600},
		{"{\"access_token\": \"tok\", \"expires_in\": \"soon\"}", 3600},
		{"{\"access_token\": \"tok\", \"expires_in\": \"\"}", 3600},
		{"{\"access_token\": \"tok\", \"expires_in\": true}", 3600},
		{"{\"access_token\": \"tok\", \"expires_in\": [60]}", 3600},
	};
	const struct
	{
		const char *body;
		const char *error;
	}			bad[] = {
		{"{\"expires_in\": 3600}", "access_token"},
		{"{\"access_token\": null}", "access_token"},
		{"{\"access_token\": 42}", "access_token"},
		{"{\"access_token\": \"\"}", "access_token"},
		{"{\"access_token\": \"tok\\r\\nX-Evil: 1\"}", "access_token"},
		{"{\"access_token\": \"tok\\n\"}", "access_token"},
		{"{\"error\": \"invalid_client\"}", "access_token"},
		{"[\"access_token\", \"tok\"]", "expected a JSON object"},
		{"\"tok\"", "expected a JSON object"},
		{"<html>Bad Gateway</html>", "not JSON"},
		{"{\"access_token\": \"tok\"", "not JSON"},
		{"", "not JSON"},
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
	{
		exp = -7;
		if (parse_token(good[i].body, token, sizeof(token), &exp, &err) != NX_OK)
			nx_test_fail(__FILE__, __LINE__, "%s: %s", good[i].body, err.msg);
		else if (strcmp(token, "tok") != 0 || exp != good[i].expires_in)
			nx_test_fail(__FILE__, __LINE__, "%s: got \"%s\" %lld, want \"tok\" %lld",
						 good[i].body, token, (long long) exp, (long long) good[i].expires_in);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (parse_token(bad[i].body, token, sizeof(token), &exp, &err) != NX_FAIL)
			nx_test_fail(__FILE__, __LINE__, "%s: accepted as \"%s\"", bad[i].body, token);
		else if (strstr(err.msg, "token response") == NULL ||
				 strstr(err.msg, bad[i].error) == NULL)
			nx_test_fail(__FILE__, __LINE__, "%s: error \"%s\", want \"%s\"", bad[i].body,
						 err.msg, bad[i].error);
		CHECK_STR(token, "(null)");
	}

	/* only len bytes are read */
	{
		const char *text = "{\"access_token\": \"abc\"}trailing garbage";
		char	   *t = NULL;

		CHECK(nx_oauth_token_parse(text, 23, &t, &exp, &err) == NX_OK);
		CHECK_STR(t, "abc");
		free(t);
		CHECK(nx_oauth_token_parse(text, strlen(text), &t, &exp, &err) == NX_FAIL);
		CHECK(t == NULL);
		/* no error to fill in is fine too */
		CHECK(nx_oauth_token_parse("nope", 4, &t, &exp, NULL) == NX_FAIL);
		CHECK(nx_oauth_token_parse("{}", 2, &t, &exp, NULL) == NX_FAIL);
	}
}

/* ---------- nx_uuid_text ---------- */

/* A v4 UUID in lower-case text: xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx. */
static bool
is_uuid_v4(const char *s)
{
	if (strlen(s) != 36 || s[14] != '4' || strchr("89ab", s[19]) == NULL)
		return false;
	for (int i = 0; i < 36; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
		}
		else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

NX_TEST(request_uuid_text)
{
	char		ids[64][37];
	char		small[16];
	bool		variants[4] = {false, false, false, false};

	for (int i = 0; i < 64; i++)
	{
		nx_uuid_text(ids[i], sizeof(ids[i]));
		if (!is_uuid_v4(ids[i]))
			nx_test_fail(__FILE__, __LINE__, "not a v4 UUID: \"%s\"", ids[i]);
		variants[(ids[i][19] >= 'a' ? ids[i][19] - 'a' + 10 : ids[i][19] - '0') & 3] = true;
		for (int j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				nx_test_fail(__FILE__, __LINE__, "the same UUID twice: %s", ids[i]);
	}
	/* the 62 random bits are random: all four variant nibbles turn up */
	CHECK(variants[0] && variants[1] && variants[2] && variants[3]);

	/* a short buffer is filled and terminated, and nothing past it is touched */
	memset(small, 'Z', sizeof(small));
	nx_uuid_text(small, 10);
	CHECK_INT(strlen(small), 9);
	CHECK(small[8] == '-');
	for (size_t i = 10; i < sizeof(small); i++)
		CHECK(small[i] == 'Z');
}
