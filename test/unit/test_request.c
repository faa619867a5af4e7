/*-------------------------------------------------------------------------
 *
 * test_request.c
 *	  The helpers every marketplace's request building shares
 *	  (adapters/request.c): the request itself, query and form encoding,
 *	  Basic credentials, the same-origin check for next-page links, OAuth
 *	  token responses and correlation ids; and the sync request builders'
 *	  common steps, each with its exact output and error messages.
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

NX_TEST(request_uuid_text)
{
	char		ids[64][37];
	char		small[16];
	bool		variants[4] = {false, false, false, false};

	for (int i = 0; i < 64; i++)
	{
		nx_uuid_text(ids[i], sizeof(ids[i]));
		if (!nx_is_uuid_v4(ids[i]))
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

/* ---------- the sync request builders' common steps ---------- */

/* A context with what every builder needs; tests take things away from it. */
static NxSyncContext
sync_context(const json_t *credentials)
{
	NxSyncContext ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.credentials = credentials;
	ctx.api_base = "https://api.example.com";
	ctx.auth_base = "https://auth.example.com";
	ctx.access_token = "tok";
	ctx.user_agent = "nexus/0.2.0";
	return ctx;
}

/* The request is empty, as a failed builder must leave it. */
#define CHECK_EMPTY(r) \
	CHECK((r).url == NULL && (r).headers == NULL && (r).nheaders == 0 && (r).body == NULL)

NX_TEST(request_finish_frees_only_a_failure)
{
	NxRequest	r;

	nx_request_init(&r, "GET");
	r.url = strdup("https://api.example.com/x");
	CHECK(nx_request_header(&r, "Accept", "application/json") == NX_OK);
	CHECK_INT(nx_request_finish(&r, NX_OK), NX_OK);
	CHECK_STR(r.url, "https://api.example.com/x");
	CHECK_INT(r.nheaders, 1);
	CHECK_INT(nx_request_finish(&r, NX_FAIL), NX_FAIL);
	CHECK_EMPTY(r);
	CHECK_INT(nx_request_finish(&r, NX_FAIL), NX_FAIL);	/* twice is harmless */
}

NX_TEST(request_begin)
{
	NxSyncContext ctx = sync_context(NULL);
	NxRequest	r;
	NxError		err;

	CHECK(nx_request_begin(&ctx, "POST", ctx.auth_base, "auth_base", "application/json", &r,
						   &err) == NX_OK);
	CHECK_STR(r.method, "POST");
	CHECK(r.url == NULL && r.body == NULL);
	CHECK_HEADERS(&r, "User-Agent: nexus/0.2.0", "Accept: application/json");
	nx_request_free(&r);

	/* the base first, then the user agent; an empty string is missing too */
	ctx.user_agent = NULL;
	CHECK(nx_request_begin(&ctx, "GET", NULL, "api_base", "a/b", &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "api_base: missing");
	CHECK(nx_request_begin(&ctx, "GET", "", "auth_base", "a/b", &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "auth_base: missing");
	CHECK(nx_request_begin(&ctx, "GET", ctx.api_base, "api_base", "a/b", &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "user_agent: missing");
	CHECK_EMPTY(r);
	ctx.user_agent = "";
	CHECK(nx_request_begin(&ctx, "GET", ctx.api_base, "api_base", "a/b", &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "user_agent: missing");
	ctx.user_agent = "nexus\r\nX-Evil: 1";
	CHECK(nx_request_begin(&ctx, "GET", ctx.api_base, "api_base", "a/b", &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "user_agent: out of memory or not a single line");
	CHECK_INT(r.nheaders, 0);
	CHECK_INT(nx_request_finish(&r, NX_FAIL), NX_FAIL);
}

NX_TEST(request_credential)
{
	json_t	   *c = nx_parse_json("{\"client_id\": \"id-1\", \"empty\": \"\", \"number\": 42,"
								  " \"null\": null}");
	const char *v;
	NxError		err;
	const struct
	{
		const char *key;
		const char *field;
		const char *error;
	}			bad[] = {
		/* field NULL: whatever is wrong, it is missing */
		{"absent", NULL, "credentials: absent: missing"},
		{"empty", NULL, "credentials: empty: missing"},
		{"number", NULL, "credentials: number: missing"},
		{"null", NULL, "credentials: null: missing"},
		/* a field: the typed readers' words */
		{"absent", "credentials.absent", "credentials.absent: missing"},
		{"null", "credentials.null", "credentials.null: missing"},
		{"number", "credentials.number", "credentials.number: expected a string"},
		{"empty", "credentials.empty", "credentials.empty: empty"},
	};

	CHECK(nx_credential(c, "client_id", NULL, &v, &err) == NX_OK);
	CHECK_STR(v, "id-1");
	v = NULL;
	CHECK(nx_credential(c, "client_id", "credentials.client_id", &v, &err) == NX_OK);
	CHECK_STR(v, "id-1");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		memset(&err, 0, sizeof(err));
		if (nx_credential(c, bad[i].key, bad[i].field, &v, &err) != NX_FAIL)
			nx_test_fail(__FILE__, __LINE__, "%s accepted", bad[i].key);
		else if (strcmp(err.msg, bad[i].error) != 0)
			nx_test_fail(__FILE__, __LINE__, "%s: got \"%s\", want \"%s\"", bad[i].key, err.msg,
						 bad[i].error);
	}
	/* no credentials at all */
	CHECK(nx_credential(NULL, "client_id", NULL, &v, &err) == NX_FAIL);
	CHECK_STR(err.msg, "credentials: client_id: missing");
	CHECK(nx_credential(NULL, "client_id", "credentials.client_id", &v, &err) == NX_FAIL);
	CHECK_STR(err.msg, "credentials.client_id: missing");
	json_decref(c);
}

NX_TEST(request_field_header)
{
	NxRequest	r;
	NxError		err;

	nx_request_init(&r, "GET");
	CHECK(nx_request_field_header(&r, "X-Token", "a b\tc", "credentials.token", &err) == NX_OK);
	CHECK(nx_request_field_header(&r, "X-Token", NULL, "credentials.token", &err) == NX_FAIL);
	CHECK_STR(err.msg, "credentials.token: missing");
	CHECK(nx_request_field_header(&r, "X-Token", "", "credentials.token", &err) == NX_FAIL);
	CHECK_STR(err.msg, "credentials.token: missing");
	CHECK(nx_request_field_header(&r, "X-Token", "t\nX-Evil: 1", "token", &err) == NX_FAIL);
	CHECK_STR(err.msg, "token: contains a line break");
	CHECK(nx_request_field_header(&r, "X-Token", "t\r", "token", &err) == NX_FAIL);
	CHECK_STR(err.msg, "token: contains a line break");
	CHECK_HEADERS(&r, "X-Token: a b\tc");	/* nothing appended by a failure */
	nx_request_free(&r);
}

NX_TEST(request_agent_headers)
{
	NxSyncContext ctx = sync_context(NULL);
	NxRequest	r;
	NxError		err;

	nx_request_init(&r, "GET");
	CHECK(nx_request_agent_headers(&ctx, "application/vnd.api+json", &r, &err) == NX_OK);
	CHECK_HEADERS(&r, "User-Agent: nexus/0.2.0", "Accept: application/vnd.api+json");
	nx_request_free(&r);

	nx_request_init(&r, "GET");
	CHECK(nx_request_agent_headers(&ctx, NULL, &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "accept: missing");
	nx_request_free(&r);
	ctx.user_agent = "";
	CHECK(nx_request_agent_headers(&ctx, "application/json", &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "user_agent: missing");
	ctx.user_agent = "nexus\nX-Evil: 1";
	CHECK(nx_request_agent_headers(&ctx, "application/json", &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "user_agent: contains a line break");
	CHECK_INT(r.nheaders, 0);
	nx_request_free(&r);
}

NX_TEST(request_basic_header)
{
	NxRequest	r;
	NxError		err;

	nx_request_init(&r, "POST");
	CHECK(nx_request_basic(&r, "Aladdin", "open sesame", &err) == NX_OK);
	/* base64 has no line break to refuse, whatever the credentials hold */
	CHECK(nx_request_basic(&r, "a\r\n", "b", &err) == NX_OK);
	CHECK_HEADERS(&r, "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
				  "Authorization: Basic YQ0KOmI=");
	nx_request_free(&r);
}

NX_TEST(request_access_token)
{
	NxSyncContext ctx = sync_context(NULL);
	NxRequest	r;
	NxError		err;
	const char *missing[] = {NULL, ""};

	nx_request_init(&r, "GET");
	CHECK(nx_request_access_token(&ctx, "Authorization", "Bearer ", NULL, &r, &err) == NX_OK);
	CHECK(nx_request_access_token(&ctx, "x-amz-access-token", "", NULL, &r, &err) == NX_OK);
	CHECK(nx_request_access_token(&ctx, "WM_SEC.ACCESS_TOKEN", "", "access_token", &r,
								  &err) == NX_OK);
	CHECK(nx_request_access_token(&ctx, "Authorization", "Bearer ", "access_token", &r,
								  &err) == NX_OK);
	CHECK_HEADERS(&r, "Authorization: Bearer tok", "x-amz-access-token: tok",
				  "WM_SEC.ACCESS_TOKEN: tok", "Authorization: Bearer tok");

	for (size_t i = 0; i < 2; i++)
	{
		ctx.access_token = missing[i];
		CHECK(nx_request_access_token(&ctx, "Authorization", "Bearer ", NULL, &r,
									  &err) == NX_FAIL);
		CHECK_STR(err.msg, "access token: missing (request one first)");
		CHECK(nx_request_access_token(&ctx, "Authorization", "Bearer ", "access_token", &r,
									  &err) == NX_FAIL);
		CHECK_STR(err.msg, "access_token: missing (request a token first)");
	}
	ctx.access_token = "tok\r\nX-Evil: 1";
	CHECK(nx_request_access_token(&ctx, "Authorization", "Bearer ", NULL, &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "access token: out of memory or not a single line");
	CHECK(nx_request_access_token(&ctx, "Authorization", "Bearer ", "access_token", &r,
								  &err) == NX_FAIL);
	CHECK_STR(err.msg, "access_token: contains a line break");
	CHECK_INT(r.nheaders, 4);
	nx_request_free(&r);
}

/* A marketplace's own headers, first on a client-credentials request. */
static int
test_headers(const NxSyncContext *ctx, NxRequest *r, NxError *err)
{
	if (nx_request_agent_headers(ctx, "application/json", r, err) != NX_OK)
		return NX_FAIL;
	return nx_request_field_header(r, "X-Test", "1", "x_test", err);
}

NX_TEST(request_client_credentials)
{
	json_t	   *c = nx_parse_json("{\"client_id\": \"z-id\", \"client_secret\": \"ZALANDO-SECRET\"}");
	NxSyncContext ctx = sync_context(c);
	NxRequest	r;
	NxError		err;

	CHECK(nx_client_credentials_request(&ctx, "/v3/token", test_headers, &r, &err) == NX_OK);
	CHECK_STR(r.method, "POST");
	CHECK_STR(r.url, "https://auth.example.com/v3/token");
	CHECK_HEADERS(&r, "User-Agent: nexus/0.2.0", "Accept: application/json", "X-Test: 1",
				  "Authorization: Basic ei1pZDpaQUxBTkRPLVNFQ1JFVA==",
				  "Content-Type: application/x-www-form-urlencoded");
	CHECK_INT(r.body_len, 29);
	CHECK(r.body != NULL && memcmp(r.body, "grant_type=client_credentials", 29) == 0);
	nx_request_free(&r);

	/* each failure leaves the request empty */
	ctx.user_agent = NULL;
	CHECK(nx_client_credentials_request(&ctx, "/v3/token", test_headers, &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "user_agent: missing");
	CHECK_EMPTY(r);
	ctx.auth_base = NULL;
	CHECK(nx_client_credentials_request(&ctx, "/auth/token", test_headers, &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "auth_base: missing");
	CHECK_EMPTY(r);
	ctx = sync_context(c);
	json_object_del(c, "client_secret");
	CHECK(nx_client_credentials_request(&ctx, "/auth/token", test_headers, &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "credentials.client_secret: missing");
	CHECK_EMPTY(r);
	json_object_set_new(c, "client_id", json_string(""));
	CHECK(nx_client_credentials_request(&ctx, "/auth/token", test_headers, &r, &err) == NX_FAIL);
	CHECK_STR(err.msg, "credentials.client_id: empty");
	CHECK_EMPTY(r);
	json_decref(c);
}

NX_TEST(request_path_segment)
{
	NxError		err;
	char	   *url = (char *) "untouched";
	const char *fine[] = {"A-1", "...", ".a", "%2e", "a/b", "?"};

	CHECK(nx_check_segment(NULL, "order id", &err) == NX_FAIL);
	CHECK_STR(err.msg, "order id: missing");
	CHECK(nx_check_segment("", "id", &err) == NX_FAIL);
	CHECK_STR(err.msg, "id: missing");
	CHECK(nx_check_segment(".", "order id", &err) == NX_FAIL);
	CHECK_STR(err.msg, "order id: \".\" is not a path segment");
	CHECK(nx_check_segment("..", "order id", &err) == NX_FAIL);
	CHECK_STR(err.msg, "order id: \"..\" is not a path segment");
	/* the rest is the encoding's to make safe */
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		if (nx_check_segment(fine[i], "order id", &err) != NX_OK)
			nx_test_fail(__FILE__, __LINE__, "\"%s\" refused", fine[i]);

	CHECK(nx_detail_url("https://h/api", "/v2/orders/", "A/B C?x", &url, &err) == NX_OK);
	CHECK_STR(url, "https://h/api/v2/orders/A%2FB%20C%3Fx");
	free(url);
	CHECK(nx_detail_url("https://h", "/retailer/orders/", "...", &url, &err) == NX_OK);
	CHECK_STR(url, "https://h/retailer/orders/...");
	free(url);
	CHECK(nx_detail_url("https://h", "/retailer/orders/", "..", &url, &err) == NX_FAIL);
	CHECK_STR(err.msg, "order id: \"..\" is not a path segment");
	CHECK(url == NULL);
	url = (char *) "untouched";
	CHECK(nx_detail_url("https://h", "/retailer/orders/", NULL, &url, &err) == NX_FAIL);
	CHECK_STR(err.msg, "order id: missing");
	CHECK(url == NULL);
}

NX_TEST(request_page_size)
{
	NxSyncContext ctx = sync_context(NULL);
	const int	cases[][2] = {
		{0, 250}, {-1, 250}, {1, 1}, {249, 249}, {250, 250}, {251, 250}, {100000, 250},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		ctx.page_size = cases[i][0];
		if (nx_page_size(&ctx, 250) != cases[i][1])
			nx_test_fail(__FILE__, __LINE__, "page_size %d: got %d, want %d", cases[i][0],
						 nx_page_size(&ctx, 250), cases[i][1]);
	}
	ctx.page_size = 50;
	CHECK_INT(nx_page_size(&ctx, 50), 50);
	CHECK_INT(nx_page_size(&ctx, 49), 49);
}

NX_TEST(request_check_since)
{
	NxError		err;

	CHECK(nx_check_since(0, &err) == NX_OK);
	CHECK(nx_check_since(1741594365, &err) == NX_OK);
	CHECK(nx_check_since(INT64_C(253402300799), &err) == NX_OK);	/* 9999-12-31T23:59:59Z */
	CHECK(nx_check_since(INT64_C(253402300800), &err) == NX_FAIL);
	CHECK_STR(err.msg, "since: 253402300800 is out of range");
	CHECK(nx_check_since(-1, &err) == NX_FAIL);
	CHECK_STR(err.msg, "since: -1 is out of range");
	CHECK(nx_check_since(INT64_MIN, &err) == NX_FAIL);
	CHECK_STR(err.msg, "since: -9223372036854775808 is out of range");
	CHECK(nx_check_since(INT64_MAX, &err) == NX_FAIL);
}

NX_TEST(request_parse_count)
{
	const struct
	{
		const char *s;
		int			max;
		int64_t		want;			/* -1: refused */
	}			cases[] = {
		{"0", 12, 0}, {"21", 12, 21}, {" 3 ", 12, 3}, {"\t4\t", 12, 4}, {"  17", 3, 17},
		{"999999999999", 12, INT64_C(999999999999)}, {"9999999999999", 12, -1},
		{"000000000001", 12, 1}, {"0000000000001", 12, -1},	/* zeros are digits too */
		{"1741594365000", 15, INT64_C(1741594365000)},
		{"999999999999999", 15, INT64_C(999999999999999)},
		{"1000000000000000", 15, -1}, {"99999999999999999999", 15, -1},
		{"", 12, -1}, {" ", 12, -1}, {"-1", 12, -1}, {"+1", 12, -1}, {"1.5", 12, -1},
		{"2.0", 12, -1}, {"1 2", 12, -1}, {"12x", 12, -1}, {"1e3", 12, -1}, {"12\r", 12, -1},
		{"Wed, 21 Oct 2015 07:28:00 GMT", 12, -1},
	};
	int64_t		v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		bool		ok;

		v = -7;
		ok = nx_parse_count(cases[i].s, cases[i].max, &v);
		if (ok != (cases[i].want >= 0) || (ok && v != cases[i].want) || (!ok && v != -7))
			nx_test_fail(__FILE__, __LINE__, "\"%s\" (%d digits): got %s %lld, want %lld",
						 cases[i].s, cases[i].max, ok ? "true" : "false", (long long) v,
						 (long long) cases[i].want);
	}
	CHECK(!nx_parse_count(NULL, 12, &v));
}

NX_TEST(request_retry_after_ms)
{
	const struct
	{
		const char *s;
		int64_t		want;			/* -1: refused */
	}			cases[] = {
		{"0", 0}, {"21", 21000}, {"2.0", 2000}, {"2.5", 2500}, {"0.001", 1},
		/* a fraction rounds up, past the millisecond too */
		{"0.0001", 1}, {"1.0001", 1001}, {"1.0000", 1000}, {"1.2345", 1235},
		{" 3 ", 3000}, {"\t4\t", 4000},
		/* up to an hour as asked; beyond, an hour; beyond a day, garbage */
		{"3600", 3600000}, {"3601", 3600000}, {"86400", 3600000}, {"86400.000", 3600000},
		{"86400.001", -1}, {"86401", -1}, {"99999999999999999999", -1},
		{"", -1}, {" ", -1}, {"-1", -1}, {"+1", -1}, {"1.", -1}, {".5", -1}, {"1.5s", -1},
		{"3 x", -1}, {"1e3", -1}, {"Wed, 21 Oct 2015 07:28:00 GMT", -1},
	};
	int64_t		ms;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		bool		ok;

		ms = -7;
		ok = nx_retry_after_ms(cases[i].s, &ms);
		if (ok != (cases[i].want >= 0) || (ok && ms != cases[i].want) || (!ok && ms != -7))
			nx_test_fail(__FILE__, __LINE__, "\"%s\": got %s %lld, want %lld", cases[i].s,
						 ok ? "true" : "false", (long long) ms, (long long) cases[i].want);
	}
	CHECK(!nx_retry_after_ms(NULL, &ms));
}

NX_TEST(request_base_urls)
{
	char	   *api = NULL;
	char	   *auth = (char *) "untouched";
	NxError		err;
	static const char api_url[] = "https://api.example.com";

	CHECK(nx_base_urls(api_url, "https://auth.example.com", &api, &auth, &err) == NX_OK);
	CHECK_STR(api, "https://api.example.com");
	CHECK_STR(auth, "https://auth.example.com");
	CHECK(api != api_url);		/* a copy, the caller's to free */
	free(api);
	free(auth);
	auth = (char *) "untouched";
	CHECK(nx_base_urls(api_url, NULL, &api, &auth, &err) == NX_OK);
	CHECK_STR(api, "https://api.example.com");
	CHECK(auth == NULL);		/* no token endpoint */
	free(api);
}
