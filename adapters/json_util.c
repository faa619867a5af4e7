/*-------------------------------------------------------------------------
 *
 * json_util.c
 *	  Small jansson helpers the adapters share: paths, strings, ids, and
 *	  the typed member readers that name the field in their errors.
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

const char *
nx_nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

int
nx_set_string(char **dst, const char *s, NxError *err)
{
	*dst = NULL;
	if (s == NULL)
		return NX_OK;
	*dst = nx_strdup(s);
	return *dst ? NX_OK : nx_fail(err, "out of memory");
}

char *
nx_join_name(const char *first, const char *last)
{
	first = nx_nonempty(first);
	last = nx_nonempty(last);
	if (first && last)
		return nx_sprintf("%s %s", first, last);
	return nx_strdup(first ? first : last);
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

/* ---------- typed member readers ---------- */

const char *
nx_field_name(const char *field, const char *key, char *buf, size_t size)
{
	size_t		len;

	if (field == NULL)
		return key;
	len = strlen(field);
	if (len == 0 || field[len - 1] != '.')
		return field;
	snprintf(buf, size, "%s%s", field, key);
	return buf;
}

/*
 * obj.key, or NULL when it is absent or JSON null (the two mean the same
 * to every marketplace).  obj may be NULL or not an object: jansson's
 * json_object_get then finds nothing.
 */
static const json_t *
member(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

/*
 * The common shape of the readers: *out is the member when it has the
 * wanted type, NULL when it is absent (an error if required); any other
 * type fails with "<field>: expected <what>".
 */
static int
typed_member(const json_t *obj, const char *key, const char *field, bool required,
			 json_type type, const char *what, const json_t **out, NxError *err)
{
	const json_t *v = member(obj, key);
	char		buf[NX_ERROR_MAX];

	*out = NULL;
	if (v == NULL && !required)
		return NX_OK;
	if (v == NULL)
		return nx_fail(err, "%s: missing", nx_field_name(field, key, buf, sizeof(buf)));
	if (json_typeof(v) != type)
		return nx_fail(err, "%s: expected %s", nx_field_name(field, key, buf, sizeof(buf)), what);
	*out = v;
	return NX_OK;
}

static int
string_member(const json_t *obj, const char *key, const char *field, bool required,
			  const char **out, NxError *err)
{
	const json_t *v;

	*out = NULL;
	if (typed_member(obj, key, field, required, JSON_STRING, "a string", &v, err) != NX_OK)
		return NX_FAIL;
	*out = v ? json_string_value(v) : NULL;
	return NX_OK;
}

int
nx_json_opt_string(const json_t *obj, const char *key, const char *field, const char **out,
				   NxError *err)
{
	return string_member(obj, key, field, false, out, err);
}

int
nx_json_req_string(const json_t *obj, const char *key, const char *field, const char **out,
				   NxError *err)
{
	return string_member(obj, key, field, true, out, err);
}

int
nx_json_opt_text(const json_t *obj, const char *key, const char *field, const char **out,
				 NxError *err)
{
	if (string_member(obj, key, field, false, out, err) != NX_OK)
		return NX_FAIL;
	*out = nx_nonempty(*out);
	return NX_OK;
}

int
nx_json_opt_strdup(const json_t *obj, const char *key, const char *field, char **out,
				   NxError *err)
{
	const char *s;

	*out = NULL;
	if (string_member(obj, key, field, false, &s, err) != NX_OK)
		return NX_FAIL;
	return nx_set_string(out, s, err);
}

int
nx_json_opt_object(const json_t *obj, const char *key, const char *field, const json_t **out,
				   NxError *err)
{
	return typed_member(obj, key, field, false, JSON_OBJECT, "an object", out, err);
}

int
nx_json_req_object(const json_t *obj, const char *key, const char *field, const json_t **out,
				   NxError *err)
{
	return typed_member(obj, key, field, true, JSON_OBJECT, "an object", out, err);
}

int
nx_json_opt_array(const json_t *obj, const char *key, const char *field, const json_t **out,
				  NxError *err)
{
	return typed_member(obj, key, field, false, JSON_ARRAY, "an array", out, err);
}

int
nx_json_req_array(const json_t *obj, const char *key, const char *field, const json_t **out,
				  NxError *err)
{
	return typed_member(obj, key, field, true, JSON_ARRAY, "an array", out, err);
}

int
nx_json_req_id(const json_t *obj, const char *key, const char *field, char **out, NxError *err)
{
	const json_t *v = member(obj, key);
	char		buf[NX_ERROR_MAX];
	const char *name = nx_field_name(field, key, buf, sizeof(buf));

	*out = NULL;
	if (v == NULL)
		return nx_fail(err, "%s: missing", name);
	if (!json_is_string(v) && !json_is_integer(v))
		return nx_fail(err, "%s: expected a string or an integer", name);
	/* the C string, not the JSON length: "\u0000..." would become an empty id */
	if (json_is_string(v) && json_string_value(v)[0] == '\0')
		return nx_fail(err, "%s: empty", name);
	*out = nx_json_id(obj, key);
	if (*out == NULL)
		return nx_fail(err, "%s: out of memory", name);
	return NX_OK;
}

int
nx_json_req_int(const json_t *obj, const char *key, const char *field, int64_t min,
				int64_t max, int64_t *out, NxError *err)
{
	const json_t *v = member(obj, key);
	char		buf[NX_ERROR_MAX];
	const char *name = nx_field_name(field, key, buf, sizeof(buf));

	if (v == NULL)
		return nx_fail(err, "%s: missing", name);
	if (!json_is_integer(v))
		return nx_fail(err, "%s: expected an integer", name);
	*out = json_integer_value(v);
	if (*out < min || *out > max)
		return nx_fail(err, "%s: %lld is out of range", name, (long long) *out);
	return NX_OK;
}

int
nx_json_opt_time(const json_t *obj, const char *key, const char *field, bool *has,
				 int64_t *out, NxError *err)
{
	const char *text;
	char		buf[NX_ERROR_MAX];

	*has = false;
	if (string_member(obj, key, field, false, &text, err) != NX_OK)
		return NX_FAIL;
	if (text == NULL)
		return NX_OK;
	if (nx_time_parse(text, out, err, nx_field_name(field, key, buf, sizeof(buf))) != NX_OK)
		return NX_FAIL;
	*has = true;
	return NX_OK;
}

int
nx_json_opt_money(const json_t *obj, const char *key, const char *field, bool adopt,
				  NxOrder *o, NxMoney *out, NxError *err)
{
	const json_t *m;
	const json_t *amount;
	const char *code;
	char		buf[NX_ERROR_MAX];
	const char *name = nx_field_name(field, key, buf, sizeof(buf));
	char		at[NX_ERROR_MAX];

	out->present = false;
	out->minor = 0;
	if (nx_json_opt_object(obj, key, name, &m, err) != NX_OK)
		return NX_FAIL;
	if (m == NULL)
		return NX_OK;
	snprintf(at, sizeof(at), "%s.currency", name);
	if (nx_json_opt_string(m, "currency", at, &code, err) != NX_OK)
		return NX_FAIL;
	if (code != NULL && o->currency[0] == '\0')
	{
		if (adopt && nx_order_set_currency(o, code, err) != NX_OK)
			return nx_fail(err, "%s: \"%.20s\" is not an ISO 4217 currency code", at, code);
	}
	else if (code != NULL && strcmp(code, o->currency) != 0)
		return nx_fail(err, "%s: \"%.20s\" differs from the order currency %s", at, code,
					   o->currency);
	snprintf(at, sizeof(at), "%s.amount", name);
	if ((amount = member(m, "amount")) == NULL)
		return nx_fail(err, "%s: missing", at);
	return nx_money_from_json(amount, o->exponent, out, err, at);
}
