/*-------------------------------------------------------------------------
 *
 * request.c
 *	  What every marketplace's request building shares: the request itself,
 *	  URL and form encoding, Basic credentials, the same-origin check for
 *	  next-page links, and OAuth token responses; and the steps the sync
 *	  request builders have in common (credentials, the common headers,
 *	  client-credentials token requests, the checks on since and path
 *	  segments, and the throttling headers' numbers).
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "adapter.h"

void
nx_request_init(NxRequest *r, const char *method)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
}

void
nx_request_free(NxRequest *r)
{
	if (r == NULL)
		return;
	free(r->url);
	for (size_t i = 0; i < r->nheaders; i++)
		free(r->headers[i]);
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int
nx_request_header(NxRequest *r, const char *name, const char *fmt,...)
{
	va_list		ap;
	char	   *value;
	char	   *line;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (value = malloc((size_t) n + 1)) == NULL)
		return NX_FAIL;
	va_start(ap, fmt);
	vsnprintf(value, (size_t) n + 1, fmt, ap);
	va_end(ap);

	/* A header value with a line break would smuggle another header in. */
	if (strpbrk(value, "\r\n") != NULL)
	{
		free(value);
		return NX_FAIL;
	}
	line = nx_sprintf("%s: %s", name, value);
	free(value);
	if (line == NULL)
		return NX_FAIL;
	if (r->nheaders == r->headers_cap)
	{
		size_t		cap = r->headers_cap ? r->headers_cap * 2 : 8;
		char	  **h = realloc(r->headers, cap * sizeof(char *));

		if (h == NULL)
		{
			free(line);
			return NX_FAIL;
		}
		r->headers = h;
		r->headers_cap = cap;
	}
	r->headers[r->nheaders++] = line;
	return NX_OK;
}

void
nx_request_set_body(NxRequest *r, char *body, size_t len)
{
	free(r->body);
	r->body = body;
	r->body_len = body ? len : 0;
}

char *
nx_url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		len = strlen(s);
	char	   *out = malloc(len * 3 + 1);
	char	   *o = out;

	if (out == NULL)
		return NULL;
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		/* ASCII ranges, not isalnum(): the server's locale must not change a URL. */
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			*p == '-' || *p == '.' || *p == '_' || *p == '~')
			*o++ = (char) *p;
		else
		{
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

char *
nx_basic_auth(const char *user, const char *password)
{
	char	   *plain = nx_sprintf("%s:%s", user, password);
	size_t		len;
	char	   *out;

	if (plain == NULL)
		return NULL;
	len = strlen(plain);
	out = malloc(6 + 4 * ((len + 2) / 3) + 1);
	if (out != NULL)
	{
		memcpy(out, "Basic ", 6);
		nx_base64_encode((const unsigned char *) plain, len, out + 6, 4 * ((len + 2) / 3) + 1);
	}
	memset(plain, 0, len);
	free(plain);
	return out;
}

/*
 * Split "scheme://host[:port]/path?query" into its origin (scheme, host
 * and port, lower-cased, the default port made explicit) and the offset
 * where the path starts.  false when url has no "scheme://host".
 */
bool
nx_url_origin(const char *url, char *origin, size_t size, size_t *path_at)
{
	const char *sep = strstr(url, "://");
	const char *host;
	const char *end;
	size_t		n;
	bool		has_port = false;
	bool		https;

	if (sep == NULL || sep == url)
		return false;
	host = sep + 3;
	end = host + strcspn(host, "/?#");
	if (end == host || memchr(host, '@', (size_t) (end - host)) != NULL)
		return false;			/* no host, or userinfo: never ours */
	for (const char *p = host; p < end; p++)
		if (*p == ':')
			has_port = true;
	https = (size_t) (sep - url) == 5 && strncasecmp(url, "https", 5) == 0;
	n = (size_t) snprintf(origin, size, "%.*s%s", (int) (end - url), url,
						  has_port ? "" : (https ? ":443" : ":80"));
	if (n >= size)
		return false;
	for (char *p = origin; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char) (*p - 'A' + 'a');
	if (path_at)
		*path_at = (size_t) (end - url);
	return true;
}

/* A "." or ".." path segment (plain or percent-encoded) would climb out of base. */
static bool
has_dot_segment(const char *url)
{
	const char *p = strstr(url, "://");
	const char *end;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "?#");
	while ((p = memchr(p, '/', (size_t) (end - p))) != NULL)
	{
		const char *seg = ++p;
		size_t		n = strcspn(seg, "/?#");

		if (seg + n > end)
			n = (size_t) (end - seg);
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.') ||
			(n >= 3 && strncasecmp(seg, "%2e", 3) == 0) ||
			(n >= 4 && seg[0] == '.' && strncasecmp(seg + 1, "%2e", 3) == 0))
			return true;
	}
	return false;
}

bool
nx_url_under(const char *url, const char *base)
{
	char		uo[512];
	char		bo[512];
	size_t		up;
	size_t		bp;
	size_t		blen;
	const char *upath;
	const char *bpath;

	if (url == NULL || base == NULL || strpbrk(url, " \t\r\n") != NULL || has_dot_segment(url) ||
		!nx_url_origin(url, uo, sizeof(uo), &up) || !nx_url_origin(base, bo, sizeof(bo), &bp) ||
		strcmp(uo, bo) != 0)
		return false;
	upath = url + up;
	bpath = base + bp;
	blen = strcspn(bpath, "?#");
	while (blen > 0 && bpath[blen - 1] == '/')
		blen--;
	if (strncmp(upath, bpath, blen) != 0)
		return false;
	/* "/api" is not under "/ap"; "/api", "/api/x" and "/api?q" are under "/api". */
	return upath[blen] == '\0' || upath[blen] == '/' || upath[blen] == '?' || upath[blen] == '#';
}

void
nx_uuid_text(char *buf, size_t size)
{
	unsigned char u[16];

	if (RAND_bytes(u, sizeof(u)) != 1)
	{
		/* Only a correlation id: uniqueness matters, secrecy does not. */
		for (size_t i = 0; i < sizeof(u); i++)
			u[i] = (unsigned char) rand();
	}
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	snprintf(buf, size,
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
			 u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* A token goes into a header line as is: printable ASCII only, no NUL cut short. */
static bool
printable_token(const char *t, size_t len)
{
	if (len == 0 || strlen(t) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) t[i] < 0x20 || (unsigned char) t[i] >= 0x7f)
			return false;
	return true;
}

/* A decimal string of at most 9 digits, or -1. */
static int64_t
digits_value(const char *s)
{
	int64_t		v = 0;
	size_t		n = 0;

	for (; s[n]; n++)
	{
		if (s[n] < '0' || s[n] > '9' || n >= 9)
			return -1;
		v = v * 10 + (s[n] - '0');
	}
	return n > 0 ? v : -1;
}

int
nx_oauth_token_parse(const char *body, size_t len, char **token, int64_t *expires_in,
					 NxError *err)
{
	json_error_t jerr;
	json_t	   *doc = nx_json_loadb(body, len, &jerr);
	const char *t = NULL;
	const json_t *exp;
	int			rc = NX_OK;

	*token = NULL;
	*expires_in = 3600;
	if (doc == NULL)
		return nx_fail(err, "token response: not JSON (%s)", jerr.text);
	if (!json_is_object(doc) ||
		nx_json_req_string(doc, "access_token", "token response: access_token", &t, err) != NX_OK)
	{
		if (!json_is_object(doc))
			nx_fail(err, "token response: expected a JSON object");
		rc = NX_FAIL;
	}
	else if (!printable_token(t, json_string_length(json_object_get(doc, "access_token"))))
		rc = nx_fail(err, "token response: access_token: expected a non-empty string of printable ASCII");
	else
	{
		int64_t		secs = 0;

		exp = json_object_get(doc, "expires_in");
		if (json_is_integer(exp))
			secs = json_integer_value(exp);
		else if (json_is_string(exp))
			secs = digits_value(json_string_value(exp));
		/* A lifetime out of all reason is a mistake: an hour is the common case. */
		if (secs >= 1 && secs <= 366 * 86400)
			*expires_in = secs;
		if ((*token = nx_strdup(t)) == NULL)
			rc = nx_fail(err, "out of memory");
	}
	json_decref(doc);
	return rc;
}

void
nx_webhook_keys_init(NxWebhookKeys *k)
{
	memset(k, 0, sizeof(*k));
}

void
nx_webhook_keys_free(NxWebhookKeys *k)
{
	for (size_t i = 0; i < k->nkeys; i++)
	{
		free(k->keys[i].key_id);
		free(k->keys[i].pem);
	}
	free(k->keys);
	memset(k, 0, sizeof(*k));
}

int
nx_webhook_keys_add(NxWebhookKeys *k, const char *key_id, const char *pem, NxError *err)
{
	NxWebhookKey *one;

	if (k->nkeys == k->cap)
	{
		size_t		cap = k->cap ? k->cap * 2 : 4;
		NxWebhookKey *keys = realloc(k->keys, cap * sizeof(NxWebhookKey));

		if (keys == NULL)
			return nx_fail(err, "keys: out of memory");
		k->keys = keys;
		k->cap = cap;
	}
	one = &k->keys[k->nkeys];
	one->key_id = nx_strdup(key_id);
	one->pem = nx_strdup(pem);
	if (one->key_id == NULL || one->pem == NULL)
	{
		free(one->key_id);
		free(one->pem);
		return nx_fail(err, "keys: out of memory");
	}
	k->nkeys++;
	return NX_OK;
}

/* ---------- the sync request builders' common steps ---------- */

/* 9999-12-31T23:59:59Z: the last time "YYYY-MM-DDTHH:MM:SSZ" can write. */
#define NX_SINCE_MAX INT64_C(253402300799)

/* No wait a Retry-After asks for is kept longer than this: a run never stalls. */
#define NX_RETRY_AFTER_MAX_MS INT64_C(3600000)

/*
 * A Retry-After of more than a day is no wait anyone means: it is taken
 * as garbage and ignored, and the engine backs off on its own.
 */
#define NX_RETRY_AFTER_BELIEVABLE_MS INT64_C(86400000)

int
nx_request_finish(NxRequest *r, int rc)
{
	if (rc != NX_OK)
		nx_request_free(r);
	return rc;
}

/*
 * Amazon, eBay, bol and Kaufland start every request so.  Shopify, Walmart
 * and Zalando refuse only a NULL base and add their headers (with
 * nx_request_agent_headers, in other words) after the URL is built.
 */
int
nx_request_begin(const NxSyncContext *ctx, const char *method, const char *base,
				 const char *what, const char *accept, NxRequest *out, NxError *err)
{
	nx_request_init(out, method);
	if (nx_nonempty(base) == NULL)
		return nx_fail(err, "%s: missing", what);
	if (nx_nonempty(ctx->user_agent) == NULL)
		return nx_fail(err, "user_agent: missing");
	if (nx_request_header(out, "User-Agent", "%s", ctx->user_agent) != NX_OK ||
		nx_request_header(out, "Accept", "%s", accept) != NX_OK)
		return nx_fail(err, "user_agent: out of memory or not a single line");
	return NX_OK;
}

/*
 * Two wordings, as the adapters' tests expect them: Amazon, eBay, bol and
 * Kaufland call any unusable credential missing; Walmart and Zalando name
 * the member and say what is wrong with it.
 */
int
nx_credential(const json_t *credentials, const char *key, const char *field, const char **out,
			  NxError *err)
{
	if (field == NULL)
	{
		*out = nx_nonempty(nx_json_str(credentials, key));
		if (*out == NULL)
			return nx_fail(err, "credentials: %s: missing", key);
		return NX_OK;
	}
	if (nx_json_req_string(credentials, key, field, out, err) != NX_OK)
		return NX_FAIL;
	if ((*out)[0] == '\0')
		return nx_fail(err, "%s: empty", field);
	return NX_OK;
}

int
nx_request_field_header(NxRequest *r, const char *name, const char *value, const char *field,
						NxError *err)
{
	if (value == NULL || value[0] == '\0')
		return nx_fail(err, "%s: missing", field);
	if (strpbrk(value, "\r\n") != NULL)
		return nx_fail(err, "%s: contains a line break", field);
	if (nx_request_header(r, name, "%s", value) != NX_OK)
		return nx_fail(err, "%s: out of memory", field);
	return NX_OK;
}

int
nx_request_agent_headers(const NxSyncContext *ctx, const char *accept, NxRequest *out,
						 NxError *err)
{
	if (nx_request_field_header(out, "User-Agent", ctx->user_agent, "user_agent", err) != NX_OK ||
		nx_request_field_header(out, "Accept", accept, "accept", err) != NX_OK)
		return NX_FAIL;
	return NX_OK;
}

int
nx_request_basic(NxRequest *r, const char *id, const char *secret, NxError *err)
{
	char	   *basic = nx_basic_auth(id, secret);
	int			rc;

	if (basic == NULL)
		return nx_fail(err, "token request: out of memory");
	rc = nx_request_header(r, "Authorization", "%s", basic);
	/* base64 hides nothing: the secret is wiped, not just freed */
	memset(basic, 0, strlen(basic));
	free(basic);
	if (rc != NX_OK)
		return nx_fail(err, "credentials: client_id or client_secret: not a single line");
	return NX_OK;
}

/* The two wordings of nx_credential's two groups of adapters. */
int
nx_request_access_token(const NxSyncContext *ctx, const char *name, const char *scheme,
						const char *field, NxRequest *out, NxError *err)
{
	const char *token = ctx->access_token;

	if (field == NULL)
	{
		if (nx_nonempty(token) == NULL)
			return nx_fail(err, "access token: missing (request one first)");
		if (nx_request_header(out, name, "%s%s", scheme, token) != NX_OK)
			return nx_fail(err, "access token: out of memory or not a single line");
		return NX_OK;
	}
	if (nx_nonempty(token) == NULL)
		return nx_fail(err, "%s: missing (request a token first)", field);
	if (strpbrk(token, "\r\n") != NULL)
		return nx_fail(err, "%s: contains a line break", field);
	if (nx_request_header(out, name, "%s%s", scheme, token) != NX_OK)
		return nx_fail(err, "%s: out of memory", field);
	return NX_OK;
}

int
nx_client_credentials_request(const NxSyncContext *ctx, const char *path,
							  int (*headers) (const NxSyncContext *ctx, NxRequest *r,
											  NxError *err),
							  NxRequest *out, NxError *err)
{
	static const char form[] = "grant_type=client_credentials";
	const char *id;
	const char *secret;
	char	   *basic = NULL;
	char	   *body;
	int			rc = NX_FAIL;

	nx_request_init(out, "POST");
	if (ctx->auth_base == NULL)
	{
		nx_fail(err, "auth_base: missing");
		goto done;
	}
	if (nx_credential(ctx->credentials, "client_id", "credentials.client_id", &id,
					  err) != NX_OK ||
		nx_credential(ctx->credentials, "client_secret", "credentials.client_secret", &secret,
					  err) != NX_OK)
		goto done;
	if ((out->url = nx_sprintf("%s%s", ctx->auth_base, path)) == NULL ||
		(basic = nx_basic_auth(id, secret)) == NULL ||
		(body = nx_strdup(form)) == NULL)
	{
		nx_fail(err, "token request: out of memory");
		goto done;
	}
	nx_request_set_body(out, body, sizeof(form) - 1);
	if (headers(ctx, out, err) == NX_OK &&
		nx_request_field_header(out, "Authorization", basic, "credentials.client_secret",
								err) == NX_OK &&
		nx_request_field_header(out, "Content-Type", "application/x-www-form-urlencoded",
								"content_type", err) == NX_OK)
		rc = NX_OK;

done:
	/* base64 hides nothing: the secret is wiped, not just freed */
	if (basic != NULL)
		memset(basic, 0, strlen(basic));
	free(basic);
	return nx_request_finish(out, rc);
}

int
nx_check_segment(const char *id, const char *field, NxError *err)
{
	if (id == NULL || id[0] == '\0')
		return nx_fail(err, "%s: missing", field);
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return nx_fail(err, "%s: \"%s\" is not a path segment", field, id);
	return NX_OK;
}

int
nx_detail_url(const char *base, const char *path, const char *id, char **url, NxError *err)
{
	char	   *segment;

	*url = NULL;
	if (nx_check_segment(id, "order id", err) != NX_OK)
		return NX_FAIL;
	if ((segment = nx_url_encode(id)) != NULL)
		*url = nx_sprintf("%s%s%s", base, path, segment);
	free(segment);
	if (*url == NULL)
		return nx_fail(err, "detail request: out of memory");
	return NX_OK;
}

int
nx_page_size(const NxSyncContext *ctx, int max)
{
	return ctx->page_size > 0 && ctx->page_size < max ? ctx->page_size : max;
}

int
nx_check_since(int64_t since, NxError *err)
{
	if (since < 0 || since > NX_SINCE_MAX)
		return nx_fail(err, "since: %lld is out of range", (long long) since);
	return NX_OK;
}

bool
nx_parse_count(const char *s, int max_digits, int64_t *out)
{
	int64_t		v = 0;
	int			digits = 0;

	if (s == NULL)
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
	{
		if (++digits > max_digits)
			return false;		/* and no overflow on a long run of digits */
		v = v * 10 + (*s - '0');
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (digits == 0 || *s != '\0')
		return false;
	*out = v;
	return true;
}

bool
nx_retry_after_ms(const char *s, int64_t *ms)
{
	int64_t		whole = 0;
	int64_t		frac = 0;
	int			digits = 0;
	bool		rest = false;

	if (s == NULL)
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++)
	{
		whole = whole * 10 + (*s - '0');
		if (whole > NX_RETRY_AFTER_BELIEVABLE_MS / 1000)
			return false;		/* and no overflow on a long run of digits */
	}
	if (*s == '.')
	{
		s++;
		if (*s < '0' || *s > '9')
			return false;
		for (; *s >= '0' && *s <= '9'; s++)
		{
			if (digits < 3)
			{
				frac = frac * 10 + (*s - '0');
				digits++;
			}
			else if (*s != '0')
				rest = true;
		}
		for (; digits < 3; digits++)
			frac *= 10;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '\0')
		return false;
	whole = whole * 1000 + frac + (rest ? 1 : 0);
	if (whole > NX_RETRY_AFTER_BELIEVABLE_MS)
		return false;
	*ms = whole < NX_RETRY_AFTER_MAX_MS ? whole : NX_RETRY_AFTER_MAX_MS;
	return true;
}

int
nx_base_urls(const char *api, const char *auth, char **api_base, char **auth_base, NxError *err)
{
	*api_base = nx_strdup(api);
	*auth_base = auth != NULL ? nx_strdup(auth) : NULL;
	if (*api_base == NULL || (auth != NULL && *auth_base == NULL))
	{
		free(*api_base);
		free(*auth_base);
		*api_base = *auth_base = NULL;
		return nx_fail(err, "base urls: out of memory");
	}
	return NX_OK;
}
