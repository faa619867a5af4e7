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

#endif							/* NEXUS_UNIT_H */
