/*-------------------------------------------------------------------------
 *
 * fuzz_json.c
 *	  Differential fuzzing of nx_json_loadb against jansson's json_loadb:
 *	  on any input both must fail, or both succeed with equal values.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t e1;
	json_error_t e2;
	json_t	   *a;
	json_t	   *b;

	/*
	 * jansson's reader skips raw NUL bytes between tokens (its stream buffer
	 * takes a NUL for "refill"); ours rejects them.  Text from PostgreSQL
	 * never holds a NUL byte, so such inputs are outside the contract.
	 */
	if (memchr(data, '\0', size) != NULL)
		return 0;
	a = json_loadb((const char *) data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e1);
	b = nx_json_loadb((const char *) data, size, &e2);

	if ((a == NULL) != (b == NULL) || (a && !json_equal(a, b)))
	{
		fprintf(stderr, "parsers differ: jansson %s (%s), nexus %s (%s)\n",
				a ? "accepts" : "rejects", a ? "" : e1.text, b ? "accepts" : "rejects",
				b ? "" : e2.text);
		abort();
	}
	/* Each adapter's filtered load accepts and rejects exactly the same. */
	{
		NxKeySet   *sets[] = {&nx_amazon_keys, &nx_ebay_keys, &nx_bol_keys, &nx_kaufland_keys,
		&nx_shopify_keys, &nx_zalando_keys, &nx_walmart_keys};

		for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		{
			json_t	   *c = nx_json_loadb_keys((const char *) data, size, sets[i], &e2);

			if ((c == NULL) != (b == NULL))
			{
				fprintf(stderr, "filtered load (set %zu) %s what the full load %s (%s)\n", i,
						c ? "accepts" : "rejects", b ? "accepts" : "rejects", e2.text);
				abort();
			}
			/* On input the full load accepts, the unchecked skip finds the same values. */
			if (c != NULL)
			{
				json_t	   *d = nx_json_loadb_valid((const char *) data, size, sets[i], true, &e2);

				if (d == NULL || !json_equal(c, d))
				{
					fprintf(stderr, "the unchecked skip (set %zu) differs on valid input\n", i);
					abort();
				}
				json_decref(d);
			}
			json_decref(c);
		}
	}
	json_decref(a);
	json_decref(b);
	return 0;
}
