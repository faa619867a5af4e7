/*-------------------------------------------------------------------------
 *
 * request.c
 *	  What every marketplace's request building shares: the request itself,
 *	  URL and form encoding, Basic credentials, the same-origin check for
 *	  next-page links, and OAuth token responses.
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
static bool
url_origin(const char *url, char *origin, size_t size, size_t *path_at)
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
		!url_origin(url, uo, sizeof(uo), &up) || !url_origin(base, bo, sizeof(bo), &bp) ||
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
