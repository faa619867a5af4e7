/*-------------------------------------------------------------------------
 *
 * json_util.c
 *	  Small jansson helpers the adapters share: paths, strings, ids.
 *
 *-------------------------------------------------------------------------
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE				/* vasprintf */
#endif
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

char *
nx_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *
nx_strndup(const char *s, size_t n)
{
	return s ? strndup(s, n) : NULL;
}

char *
nx_sprintf(const char *fmt,...)
{
	va_list		ap;
	char	   *out = NULL;

	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) < 0)
		out = NULL;
	va_end(ap);
	return out;
}

const json_t *
nx_json_path(const json_t *root, const char *path)
{
	const json_t *cur = root;
	const char *p = path;

	while (cur && *p)
	{
		const char *dot = strchr(p, '.');
		size_t		len = dot ? (size_t) (dot - p) : strlen(p);
		char		key[128];

		if (!json_is_object(cur) || len >= sizeof(key))
			return NULL;
		memcpy(key, p, len);
		key[len] = '\0';
		cur = json_object_get(cur, key);
		if (!dot)
			break;
		p = dot + 1;
	}
	return cur;
}

const char *
nx_json_str(const json_t *root, const char *path)
{
	const json_t *v = nx_json_path(root, path);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

char *
nx_json_strdup(const json_t *root, const char *path)
{
	return nx_strdup(nx_json_str(root, path));
}

char *
nx_json_id(const json_t *root, const char *path)
{
	const json_t *v = nx_json_path(root, path);

	if (json_is_string(v))
		return nx_strdup(json_string_value(v));
	if (json_is_integer(v))
		return nx_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return NULL;
}

int
nx_json_int(const json_t *root, const char *path, int64_t *out, NxError *err)
{
	const json_t *v = nx_json_path(root, path);

	if (json_is_integer(v))
	{
		*out = json_integer_value(v);
		return NX_OK;
	}
	if (json_is_string(v))
	{
		const char *s = json_string_value(v);
		char	   *end;
		long long	n;

		if (*s && (isdigit((unsigned char) *s) || *s == '-'))
		{
			errno = 0;
			n = strtoll(s, &end, 10);
			if (*end == '\0' && errno != ERANGE)
			{
				*out = n;
				return NX_OK;
			}
		}
	}
	if (v == NULL || json_is_null(v))
		return nx_fail(err, "%s: missing", path);
	return nx_fail(err, "%s: expected an integer", path);
}

const char *
nx_header(const json_t *headers, const char *name)
{
	const json_t *v = headers ? json_object_get(headers, name) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}
