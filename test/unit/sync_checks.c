/*-------------------------------------------------------------------------
 *
 * sync_checks.c
 *	  Checks of an adapter's sync entry points that every marketplace's
 *	  test makes alike: which entry points it has, its base URLs and the
 *	  cursors it must refuse.  Messages name the adapter, and failures are
 *	  reported at the calling test's file and line.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "unit.h"

/* An entry point is there exactly when want says so. */
#define CHECK_HAS(file, line, a, member, want) \
	CHECK_AT((file), (line), ((a)->member != NULL) == (want), "%s: %s is %s, want %s", \
			 (a)->name, #member, (a)->member ? "set" : "NULL", (want) ? "set" : "NULL")

void
nx_check_sync_shape(const char *file, int line, const NxAdapter *a, const NxSyncShape *want)
{
	CHECK_AT(file, line, a->max_page_size == want->max_page_size,
			 "%s: max_page_size %d, want %d", a->name, a->max_page_size, want->max_page_size);
	CHECK_AT(file, line, a->lag_seconds == want->lag_seconds,
			 "%s: lag_seconds %d, want %d", a->name, a->lag_seconds, want->lag_seconds);
	CHECK_AT(file, line, a->max_days_back == want->max_days_back,
			 "%s: max_days_back %d, want %d", a->name, a->max_days_back, want->max_days_back);
	CHECK_HAS(file, line, a, base_urls, true);
	CHECK_HAS(file, line, a, token_request, want->token_request);
	CHECK_HAS(file, line, a, list_request, true);
	CHECK_HAS(file, line, a, detail_request, want->detail_request);
	CHECK_HAS(file, line, a, page_orders, want->page_orders);
	CHECK_HAS(file, line, a, detail_merge, want->detail_merge);
	CHECK_HAS(file, line, a, throttle, true);
}

void
nx_check_base_urls(const char *file, int line, const NxAdapter *a, const json_t *credentials,
				   const char *region, const char *want_api, const char *want_auth)
{
	/* what the outputs hold before the call: base_urls must set both */
	static char unset[] = "unset";
	char	   *api = unset;
	char	   *auth = unset;
	NxError		err = {{0}};
	int			rc = a->base_urls(credentials, region, &api, &auth, &err);

	CHECK_AT(file, line, rc == NX_OK, "%s: base_urls(region %s) failed: %s", a->name,
			 region ? region : "NULL", err.msg);
	CHECK_AT(file, line, api != unset && api != NULL && strcmp(api, want_api) == 0,
			 "%s: api base for region %s: got %s, want %s", a->name, region ? region : "NULL",
			 api == unset ? "(unset)" : api ? api : "(null)", want_api);
	CHECK_AT(file, line, auth != unset &&
			 (want_auth == NULL ? auth == NULL : auth != NULL && strcmp(auth, want_auth) == 0),
			 "%s: auth base for region %s: got %s, want %s", a->name, region ? region : "NULL",
			 auth == unset ? "(unset)" : auth ? auth : "(null)", want_auth ? want_auth : "(null)");
	if (api != unset)
		free(api);
	if (auth != unset)
		free(auth);
}

void
nx_check_cursors_refused(const char *file, int line, const NxAdapter *a, const NxSyncContext *ctx,
						 int64_t since, const char *const *cursors, size_t n, const char *want,
						 bool at_start)
{
	for (size_t i = 0; i < n; i++)
	{
		NxRequest	r;
		NxError		err = {{0}};
		int			rc = a->list_request(ctx, since, cursors[i], &r, &err);

		CHECK_AT(file, line, rc == NX_FAIL, "%s: cursor \"%s\" accepted: %s", a->name, cursors[i],
				 rc == NX_OK && r.url ? r.url : "no url");
		if (rc == NX_FAIL)
			CHECK_AT(file, line, at_start ? strncmp(err.msg, want, strlen(want)) == 0 :
					 strstr(err.msg, want) != NULL,
					 "%s: cursor \"%s\": error \"%s\", want one %s \"%s\"", a->name, cursors[i],
					 err.msg, at_start ? "beginning with" : "saying", want);
		CHECK_AT(file, line, rc != NX_FAIL || (r.url == NULL && r.nheaders == 0 && r.body == NULL),
				 "%s: cursor \"%s\": a refused request was left half built", a->name, cursors[i]);
		nx_request_free(&r);
	}
}

void
nx_check_list_fails(const char *file, int line, const NxAdapter *a, const NxSyncContext *ctx,
					int64_t since, const char *cursor, const char *want)
{
	NxRequest	r;
	NxError		err = {{0}};

	nx_check_request_fails(file, line, a->list_request(ctx, since, cursor, &r, &err), &r, &err,
						   want);
}

char *
nx_fixture_next_cursor(const char *file, int line, const NxAdapter *a, const char *relpath)
{
	json_t	   *doc = nx_fixture_json(relpath);
	NxPage		page;
	NxError		err = {{0}};
	char	   *cursor;

	nx_page_init(&page);
	CHECK_AT(file, line, doc && a->parse_page(doc, NULL, &page, &err) == NX_OK,
			 "%s: %s does not parse: %s", a->name, relpath, err.msg);
	CHECK_AT(file, line, page.next_cursor != NULL, "%s: %s has no next cursor", a->name, relpath);
	cursor = page.next_cursor;
	page.next_cursor = NULL;
	nx_page_free(&page);
	json_decref(doc);
	return cursor;
}
