/*-------------------------------------------------------------------------
 *
 * request_checks.c
 *	  Checks of the requests the sync request builders make, shared by the
 *	  adapter tests so that each of them states only the request it wants.
 *	  Failures are reported at the calling test's file and line, which
 *	  name the marketplace.
 *
 *-------------------------------------------------------------------------
 */
#include "unit.h"

/* A wanted line ending in '*' stands for a value made fresh per request. */
static bool
header_matches(const char *got, const char *want)
{
	size_t		len = strlen(want);

	if (len > 0 && want[len - 1] == '*')
		return strncmp(got, want, len - 1) == 0;
	return strcmp(got, want) == 0;
}

void
nx_check_headers(const char *file, int line, const NxRequest *r, bool any_order,
				 const char *const *want)
{
	size_t		n;

	for (n = 0; want[n]; n++)
	{
		if (any_order)
		{
			bool		found = false;

			for (size_t i = 0; i < r->nheaders; i++)
				found = found || header_matches(r->headers[i], want[n]);
			CHECK_AT(file, line, found, "header \"%s\" missing", want[n]);
		}
		else
			CHECK_AT(file, line, n < r->nheaders && header_matches(r->headers[n], want[n]),
					 "header %zu: got \"%s\", want \"%s\"", n,
					 n < r->nheaders ? r->headers[n] : "(missing)", want[n]);
	}
	CHECK_AT(file, line, r->nheaders == n, "got %zu headers, want %zu", r->nheaders, n);
}

void
nx_check_request(const char *file, int line, const NxRequest *r, const char *method,
				 const char *url, const char *body, bool any_order, const char *const *headers)
{
	CHECK_AT(file, line, r->method != NULL && strcmp(r->method, method) == 0,
			 "method: got %s, want %s", r->method ? r->method : "(null)", method);
	CHECK_AT(file, line, r->url != NULL && strcmp(r->url, url) == 0,
			 "url: got %s, want %s", r->url ? r->url : "(null)", url);
	nx_check_headers(file, line, r, any_order, headers);
	/* the length too: a body is sent by its length, not up to a NUL */
	CHECK_AT(file, line, body == NULL ?
			 r->body == NULL && r->body_len == 0 :
			 r->body != NULL && r->body_len == strlen(body) &&
			 memcmp(r->body, body, r->body_len) == 0,
			 "body: got \"%s\" (%zu bytes), want \"%s\"", r->body ? r->body : "(null)",
			 r->body_len, body ? body : "(null)");
}

void
nx_check_request_fails(const char *file, int line, int rc, NxRequest *r, const NxError *err,
					   const char *want)
{
	CHECK_AT(file, line, rc == NX_FAIL, "request built (%s), want an error saying \"%s\"",
			 rc == NX_OK && r->url ? r->url : "no url", want);
	if (rc == NX_FAIL)
		CHECK_AT(file, line, strstr(err->msg, want) != NULL,
				 "error \"%s\" does not say \"%s\"", err->msg, want);
	/* the caller has nothing to free after a failure */
	CHECK_AT(file, line, rc != NX_FAIL || (r->url == NULL && r->nheaders == 0 && r->body == NULL),
			 "a refused request was left half built");
	nx_request_free(r);
}

const char *
nx_request_header_value(const NxRequest *r, const char *name)
{
	size_t		len = strlen(name);

	for (size_t i = 0; i < r->nheaders; i++)
		if (strncmp(r->headers[i], name, len) == 0 && strncmp(r->headers[i] + len, ": ", 2) == 0)
			return r->headers[i] + len + 2;
	return NULL;
}

bool
nx_is_uuid_v4(const char *s)
{
	if (s == NULL || strlen(s) != 36 || s[14] != '4' || strchr("89ab", s[19]) == NULL)
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
