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

#define NX_TEST(name) \
	static void name(void); \
	__attribute__((constructor)) static void name##_register(void) \
	{ nx_test_register(#name, name); } \
	static void name(void)

#define CHECK(cond) \
	do { if (!(cond)) nx_test_fail(__FILE__, __LINE__, "%s", #cond); } while (0)

#define CHECK_STR(got, want) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		if ((g_ == NULL) != (w_ == NULL) || (g_ && strcmp(g_, w_) != 0)) \
			nx_test_fail(__FILE__, __LINE__, "%s: got \"%s\", want \"%s\"", #got, \
						 g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

#define CHECK_INT(got, want) \
	do { \
		long long g_ = (long long) (got), w_ = (long long) (want); \
		if (g_ != w_) \
			nx_test_fail(__FILE__, __LINE__, "%s: got %lld, want %lld", #got, g_, w_); \
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

/* One public key by id: NxWebhookInput.public_key = nx_test_key_lookup, ctx = the NxTestKey. */
typedef struct NxTestKey
{
	const char *key_id;
	const char *pem;
} NxTestKey;
extern const char *nx_test_key_lookup(void *ctx, const char *key_id);

#endif							/* NEXUS_UNIT_H */
