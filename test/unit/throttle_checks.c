/*-------------------------------------------------------------------------
 *
 * throttle_checks.c
 *	  The wait an adapter's throttle reads from one response, for the
 *	  adapter tests to compare with what that marketplace documents.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>

#include "unit.h"

int64_t
nx_throttle_wait_on(const NxAdapter *a, int status, const json_t *headers, int64_t now_ms)
{
	/* not a wait anyone would ask for: it must be overwritten */
	NxThrottle	t = {12345, 0};

	a->throttle(status, headers, now_ms, &t);
	return t.wait_ms;
}

int64_t
nx_throttle_wait(const NxAdapter *a, int status, int64_t now_ms,...)
{
	json_t	   *h = nx_json_new_object();
	const char *name;
	int64_t		wait;
	va_list		ap;

	va_start(ap, now_ms);
	while ((name = va_arg(ap, const char *)) != NULL)
	{
		const char *value = va_arg(ap, const char *);

		if (value)
			json_object_set_new(h, name, json_string(value));
	}
	va_end(ap);
	wait = nx_throttle_wait_on(a, status, h, now_ms);
	json_decref(h);
	return wait;
}
