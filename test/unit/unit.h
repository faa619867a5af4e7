/*-------------------------------------------------------------------------
 *
 * unit.h
 *	  A tiny test harness for the adapters (no server): tests register
 *	  themselves, main.c runs them all and prints "N passed, N failed".
 *
 *-------------------------------------------------------------------------
 */
#ifndef NEXUS_UNIT_H
#define NEXUS_UNIT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "adapter.h"

typedef void (*nx_test_fn) (void);

extern void nx_test_register(const char *name, nx_test_fn fn);
extern void nx_test_fail(const char *file, int line, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/*
 * Checks the running test has made, so that a refactoring of the tests can
 * show it still asserts as much (NEXUS_UNIT_CHECKS=1 prints the counts).
 */
extern int	nx_test_checks;

#define NX_TEST(name) \
	static void name(void); \
	__attribute__((constructor)) static void name##_register(void) \
	{ nx_test_register(#name, name); } \
	static void name(void)

#define CHECK(cond) \
	do { nx_test_checks++; if (!(cond)) nx_test_fail(__FILE__, __LINE__, "%s", #cond); } while (0)

#define CHECK_STR(got, want) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		nx_test_checks++; \
		if ((g_ == NULL) != (w_ == NULL) || (g_ && strcmp(g_, w_) != 0)) \
			nx_test_fail(__FILE__, __LINE__, "%s: got \"%s\", want \"%s\"", #got, \
						 g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

#define CHECK_INT(got, want) \
	do { \
		long long g_ = (long long) (got), w_ = (long long) (want); \
		nx_test_checks++; \
		if (g_ != w_) \
			nx_test_fail(__FILE__, __LINE__, "%s: got %lld, want %lld", #got, g_, w_); \
	} while (0)

/*
 * CHECK for shared helpers: counted like CHECK, but reported at the file
 * and line of the test that called the helper, with a message of its own.
 */
#define CHECK_AT(file, line, cond, ...) \
	do { \
		nx_test_checks++; \
		if (!(cond)) \
			nx_test_fail((file), (line), __VA_ARGS__); \
	} while (0)

/* Fixtures (../shared/fixtures, or $NEXUS_FIXTURES). */
extern const char *nx_fixtures_dir(void);
/* Parsed JSON of a fixture file; fails the test and returns NULL if unreadable. */
extern json_t *nx_fixture_json(const char *relpath);
/* Raw bytes of a fixture file (malloc'd, NUL-terminated); NULL if unreadable. */
extern char *nx_fixture_bytes(const char *relpath, size_t *len);
/* Headers fixture ("Name: value" lines) as an object of lower-case names. */
extern json_t *nx_fixture_headers(const char *relpath);

/*
 * Compare canonical orders (arrays of objects) by external_order_id; every
 * difference fails the test with the field, got and want.  Orders missing
 * from either side fail too.
 */
extern void nx_check_canonical(const char *file, int line, const json_t *got,
							   const json_t *want);
#define CHECK_CANONICAL(got, want) nx_check_canonical(__FILE__, __LINE__, (got), (want))

/* Normalize one order with an adapter; returns its canonical JSON or NULL (test failed). */
extern json_t *nx_normalize_json(const NxAdapter *a, const json_t *order);

/* ---------- helpers the adapter tests share (fixtures.c) ---------- */

/* JSON text written in a test; fails the test and returns NULL if it does not parse. */
extern json_t *nx_parse_json(const char *text);
/* nx_normalize_json of an order written as JSON text. */
extern json_t *nx_normalize_text(const NxAdapter *a, const char *text);

/*
 * Set (value != NULL, reference stolen) or delete (value == NULL) the
 * member at a dot path whose numeric steps index arrays (one past the end
 * appends): "orderItems.0.quantity".  A path that leads nowhere fails the
 * test.
 */
extern void nx_set_path(json_t *root, const char *path, json_t *value);

/* Normalize into o (initialised here), left for inspection: the caller frees it. */
extern int	nx_normalize(const NxAdapter *a, const json_t *order, NxOrder *o, NxError *err);
/* The same, expecting NX_OK: false, and the test failed, on NX_FAIL. */
extern bool nx_normalize_ok(const char *file, int line, const NxAdapter *a, const json_t *order,
							NxOrder *o);
#define NORMALIZE_OK(a, order, o) nx_normalize_ok(__FILE__, __LINE__, (a), (order), (o))

/* normalize must fail with an error that contains want. */
extern void nx_check_normalize_fails(const char *file, int line, const NxAdapter *a,
									 const json_t *order, const char *want);
#define CHECK_NORMALIZE_FAILS(a, order, want) \
	nx_check_normalize_fails(__FILE__, __LINE__, (a), (order), (want))
/* The same for an order written as JSON text. */
extern void nx_check_normalize_text_fails(const char *file, int line, const NxAdapter *a,
										  const char *text, const char *want);

/* The two above for text the test built (malloc'd): it is freed here. */
extern json_t *nx_normalize_built(const NxAdapter *a, char *text);
extern void nx_check_normalize_built_fails(const char *file, int line, const NxAdapter *a,
										   char *text, const char *want);

/* classify must succeed with this status, raw status and fulfilment. */
extern void nx_check_classify(const char *file, int line, const NxAdapter *a, const json_t *order,
							  const char *want_status, const char *want_raw,
							  const char *want_fulfillment);

/* parse_page must fail with an error that contains want. */
extern void nx_check_page_fails(const char *file, int line, const NxAdapter *a,
								const json_t *page, const json_t *headers, const char *want);
#define CHECK_PAGE_FAILS(a, page, headers, want) \
	nx_check_page_fails(__FILE__, __LINE__, (a), (page), (headers), (want))

/* Append the canonical JSON of every order of an array to into (a failing order fails the test). */
extern void nx_normalize_each(const NxAdapter *a, const json_t *orders, json_t *into);
/* The same for the orders at orders_path (nx_json_path) in a fixture page. */
extern void nx_fixture_normalize_each(const NxAdapter *a, const char *relpath,
									  const char *orders_path, json_t *into);
/* Append the canonical JSON of every order of a parsed page to into. */
extern void nx_append_page_orders(json_t *into, const NxPage *p);

/*
 * A webhook fixture (<name>.json, <name>.headers) as an NxWebhookInput,
 * the rest of it zeroed.  *body and *headers are the caller's to free.
 */
extern void nx_fixture_webhook(const char *name, NxWebhookInput *in, char **body,
							   json_t **headers);

/* verify_webhook must fail with an error that contains want. */
extern void nx_check_webhook_fails(const char *file, int line, const NxAdapter *a,
								   const NxWebhookInput *in, const char *want);
#define CHECK_WEBHOOK_FAILS(a, in, want) \
	nx_check_webhook_fails(__FILE__, __LINE__, (a), (in), (want))

/*
 * Set the header name of in (value NULL: delete it; in->headers is the
 * caller's object); verify_webhook must then fail, with an error that
 * contains want (NULL: any error).
 */
extern void nx_check_webhook_header_fails(const char *file, int line, const NxAdapter *a,
										  const NxWebhookInput *in, const char *name,
										  const char *value, const char *want);
#define CHECK_WEBHOOK_HEADER_FAILS(a, in, name, value, want) \
	nx_check_webhook_header_fails(__FILE__, __LINE__, (a), (in), (name), (value), (want))

/* One public key by id: NxWebhookInput.public_key = nx_test_key_lookup, ctx = the NxTestKey. */
typedef struct NxTestKey
{
	const char *key_id;
	const char *pem;
} NxTestKey;
extern const char *nx_test_key_lookup(void *ctx, const char *key_id);

/* A fixture of test/fixtures/amazon_v2026 (test_amazon_v2026.c); NULL after a failed check. */
extern json_t *nx_amazon_v2026_fixture(const char *name);

/* ---------- sync request checks (request_checks.c) ---------- */

/*
 * r must hold exactly the header lines of want (NULL-terminated): in that
 * order, or in any order when any_order.  A wanted line ending in '*'
 * matches any line that begins with the rest (a fresh correlation id).
 */
extern void nx_check_headers(const char *file, int line, const NxRequest *r, bool any_order,
							 const char *const *want);
#define CHECK_HEADERS(r, ...) \
	nx_check_headers(__FILE__, __LINE__, (r), false, (const char *const[]) {__VA_ARGS__, NULL})
#define CHECK_HEADERS_ANY_ORDER(r, ...) \
	nx_check_headers(__FILE__, __LINE__, (r), true, (const char *const[]) {__VA_ARGS__, NULL})

/* r must be method url with body (NULL: none, and no length) and the headers of nx_check_headers. */
extern void nx_check_request(const char *file, int line, const NxRequest *r, const char *method,
							 const char *url, const char *body, bool any_order,
							 const char *const *headers);
#define CHECK_REQUEST(r, method, url, body, ...) \
	nx_check_request(__FILE__, __LINE__, (r), (method), (url), (body), false, \
					 (const char *const[]) {__VA_ARGS__, NULL})
#define CHECK_REQUEST_ANY_ORDER(r, method, url, body, ...) \
	nx_check_request(__FILE__, __LINE__, (r), (method), (url), (body), true, \
					 (const char *const[]) {__VA_ARGS__, NULL})

/*
 * A request builder's return code rc must be NX_FAIL with an error that
 * contains want, and *r left empty; r is freed either way.
 */
extern void nx_check_request_fails(const char *file, int line, int rc, NxRequest *r,
								   const NxError *err, const char *want);
#define CHECK_REQUEST_FAILS(call, r, err, want) \
	nx_check_request_fails(__FILE__, __LINE__, (call), (r), (err), (want))

/* The value of r's header name, or NULL. */
extern const char *nx_request_header_value(const NxRequest *r, const char *name);
/* A v4 UUID in lower-case text: xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx. */
extern bool nx_is_uuid_v4(const char *s);

/* ---------- sync vtable and cursor checks (sync_checks.c) ---------- */

/* What an adapter's sync entry points look like; base_urls, list_request and throttle it always has. */
typedef struct NxSyncShape
{
	int			max_page_size;
	int			lag_seconds;
	int			max_days_back;
	bool		token_request;
	bool		detail_request;
	bool		page_orders;
	bool		detail_merge;
} NxSyncShape;
extern void nx_check_sync_shape(const char *file, int line, const NxAdapter *a,
								const NxSyncShape *want);
#define CHECK_SYNC_SHAPE(a, ...) \
	nx_check_sync_shape(__FILE__, __LINE__, (a), &(const NxSyncShape) {__VA_ARGS__})

/* base_urls must give want_api and want_auth (NULL: it must set auth NULL). */
extern void nx_check_base_urls(const char *file, int line, const NxAdapter *a,
							   const json_t *credentials, const char *region,
							   const char *want_api, const char *want_auth);
#define CHECK_BASE_URLS(a, credentials, region, want_api, want_auth) \
	nx_check_base_urls(__FILE__, __LINE__, (a), (credentials), (region), (want_api), (want_auth))

/*
 * list_request must refuse every one of the n cursors, leaving no request,
 * with an error that begins with want (at_start) or contains it.
 */
extern void nx_check_cursors_refused(const char *file, int line, const NxAdapter *a,
									 const NxSyncContext *ctx, int64_t since,
									 const char *const *cursors, size_t n, const char *want,
									 bool at_start);
#define CHECK_CURSORS_REFUSED(a, ctx, since, cursors, want) \
	nx_check_cursors_refused(__FILE__, __LINE__, (a), (ctx), (since), (cursors), \
							 sizeof(cursors) / sizeof((cursors)[0]), (want), false)
#define CHECK_CURSORS_REFUSED_SAYING_FIRST(a, ctx, since, cursors, want) \
	nx_check_cursors_refused(__FILE__, __LINE__, (a), (ctx), (since), (cursors), \
							 sizeof(cursors) / sizeof((cursors)[0]), (want), true)

/* list_request(ctx, since, cursor) must fail as CHECK_REQUEST_FAILS says. */
extern void nx_check_list_fails(const char *file, int line, const NxAdapter *a,
								const NxSyncContext *ctx, int64_t since, const char *cursor,
								const char *want);
#define CHECK_LIST_FAILS(a, ctx, since, cursor, want) \
	nx_check_list_fails(__FILE__, __LINE__, (a), (ctx), (since), (cursor), (want))

/*
 * The next_cursor parse_page gives for a fixture page (malloc'd), which
 * must have one; NULL, and the test failed, when it has none.
 */
extern char *nx_fixture_next_cursor(const char *file, int line, const NxAdapter *a,
									const char *relpath);
#define FIXTURE_NEXT_CURSOR(a, relpath) nx_fixture_next_cursor(__FILE__, __LINE__, (a), (relpath))

/* ---------- throttle (throttle_checks.c) ---------- */

/* The wait_ms throttle gives for headers (NULL: none), starting from a value it must overwrite. */
extern int64_t nx_throttle_wait_on(const NxAdapter *a, int status, const json_t *headers,
								   int64_t now_ms);
/*
 * The same for headers given as name, value, ..., NULL pairs; a pair whose
 * value is NULL is left out, so that a caller can pass optional headers.
 */
extern int64_t nx_throttle_wait(const NxAdapter *a, int status, int64_t now_ms,...)
			__attribute__((sentinel));

#endif							/* NEXUS_UNIT_H */
