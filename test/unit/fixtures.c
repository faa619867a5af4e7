/*-------------------------------------------------------------------------
 *
 * fixtures.c
 *	  Loading the shared fixtures, comparing canonical orders, and the
 *	  helpers every adapter's tests use.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdlib.h>

#include "unit.h"

char *
nx_fixture_bytes(const char *relpath, size_t *len)
{
	char		path[4096];
	FILE	   *f;
	char	   *buf;
	long		n;

	snprintf(path, sizeof(path), "%s/%s", nx_fixtures_dir(), relpath);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n + 1);
	if (buf == NULL || fread(buf, 1, n, f) != (size_t) n)
	{
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = (size_t) n;
	return buf;
}

json_t *
nx_fixture_json(const char *relpath)
{
	char		path[4096];
	json_error_t jerr;
	json_t	   *j;

	snprintf(path, sizeof(path), "%s/%s", nx_fixtures_dir(), relpath);
	j = json_load_file(path, JSON_DECODE_ANY, &jerr);
	if (j == NULL)
		nx_test_fail(__FILE__, __LINE__, "cannot load fixture %s: %s (line %d)", relpath,
					 jerr.text, jerr.line);
	return j;
}

json_t *
nx_fixture_headers(const char *relpath)
{
	size_t		len;
	char	   *text = nx_fixture_bytes(relpath, &len);
	json_t	   *h = nx_json_new_object();
	char	   *line;
	char	   *save = NULL;

	if (text == NULL)
	{
		nx_test_fail(__FILE__, __LINE__, "cannot read headers fixture %s", relpath);
		return h;
	}
	for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save))
	{
		char	   *colon = strchr(line, ':');
		char	   *v;

		if (colon == NULL || strncmp(line, "HTTP/", 5) == 0)
			continue;
		*colon = '\0';
		for (char *p = line; *p; p++)
			*p = (char) tolower((unsigned char) *p);
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		json_object_set_new(h, line, json_string(v));
	}
	free(text);
	return h;
}

static const json_t *
find_order(const json_t *arr, const char *id)
{
	size_t		i;
	const json_t *o;

	json_array_foreach(arr, i, o)
	{
		const char *oid = json_string_value(json_object_get(o, "external_order_id"));

		if (oid && strcmp(oid, id) == 0)
			return o;
	}
	return NULL;
}

static void
compare_values(const char *file, int line, const char *where, const json_t *got, const json_t *want)
{
	char	   *g;
	char	   *w;

	if (json_equal((json_t *) got, (json_t *) want))
		return;
	g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(missing)");
	w = want ? json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(missing)");
	nx_test_fail(file, line, "%s: got %.200s, want %.200s", where, g, w);
	free(g);
	free(w);
}

void
nx_check_canonical(const char *file, int line, const json_t *got, const json_t *want)
{
	size_t		i;
	const json_t *w;

	if (!json_is_array(got) || !json_is_array(want))
	{
		nx_test_fail(file, line, "canonical orders must be arrays");
		return;
	}
	json_array_foreach(want, i, w)
	{
		const char *id = json_string_value(json_object_get(w, "external_order_id"));
		const json_t *g = id ? find_order(got, id) : NULL;
		const char *key;
		const json_t *wv;

		if (g == NULL)
		{
			nx_test_fail(file, line, "order %s: missing from the result", id ? id : "?");
			continue;
		}
		json_object_foreach((json_t *) w, key, wv)
		{
			char		where[256];

			if (strcmp(key, "items") == 0)
			{
				const json_t *gi = json_object_get(g, "items");
				size_t		k;
				const json_t *wi;

				if (json_array_size(gi) != json_array_size(wv))
				{
					nx_test_fail(file, line, "order %s: %zu items, want %zu", id,
								 json_array_size(gi), json_array_size(wv));
					continue;
				}
				json_array_foreach(wv, k, wi)
				{
					const char *ik;
					const json_t *iv;

					json_object_foreach((json_t *) wi, ik, iv)
					{
						snprintf(where, sizeof(where), "order %s item %zu %s", id, k, ik);
						compare_values(file, line, where,
									   json_object_get(json_array_get(gi, k), ik), iv);
					}
				}
				continue;
			}
			snprintf(where, sizeof(where), "order %s %s", id, key);
			compare_values(file, line, where, json_object_get(g, key), wv);
		}
		if (json_object_size(g) != json_object_size(w))
			nx_test_fail(file, line, "order %s: %zu keys, want %zu", id, json_object_size(g),
						 json_object_size(w));
	}
	if (json_array_size(got) != json_array_size(want))
		nx_test_fail(file, line, "%zu orders, want %zu", json_array_size(got), json_array_size(want));
}

json_t *
nx_normalize_json(const NxAdapter *a, const json_t *order)
{
	NxOrder		o;
	NxError		err = {{0}};
	json_t	   *j;

	nx_order_init(&o, a->name);
	if (a->normalize(order, &o, &err) != NX_OK)
	{
		nx_test_fail(__FILE__, __LINE__, "%s normalize failed: %s", a->name, err.msg);
		nx_order_free(&o);
		return NULL;
	}
	j = nx_order_to_json(&o);
	nx_order_free(&o);
	return j;
}

json_t *
nx_parse_json(const char *text)
{
	json_error_t jerr;
	json_t	   *j = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (j == NULL)
		nx_test_fail(__FILE__, __LINE__, "bad test JSON: %s (%s)", jerr.text, text);
	return j;
}

json_t *
nx_normalize_text(const NxAdapter *a, const char *text)
{
	json_t	   *order = nx_parse_json(text);
	json_t	   *c = order ? nx_normalize_json(a, order) : NULL;

	json_decref(order);
	return c;
}

void
nx_set_path(json_t *root, const char *path, json_t *value)
{
	char		buf[256];
	char	   *save = NULL;
	char	   *step;
	char	   *next;
	json_t	   *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	step = strtok_r(buf, ".", &save);
	while (step && (next = strtok_r(NULL, ".", &save)) != NULL)
	{
		cur = json_is_array(cur) ? json_array_get(cur, (size_t) atoi(step)) : json_object_get(cur, step);
		step = next;
	}
	if (cur == NULL || step == NULL)
	{
		nx_test_fail(__FILE__, __LINE__, "nx_set_path: no %s", path);
		json_decref(value);
		return;
	}
	if (json_is_array(cur))
	{
		if (value && (size_t) atoi(step) == json_array_size(cur))
			json_array_append_new(cur, value);
		else if (value)
			json_array_set_new(cur, (size_t) atoi(step), value);
		else
			json_array_remove(cur, (size_t) atoi(step));
	}
	else if (value)
		json_object_set_new(cur, step, value);
	else
		json_object_del(cur, step);
}

int
nx_normalize(const NxAdapter *a, const json_t *order, NxOrder *o, NxError *err)
{
	nx_order_init(o, a->name);
	err->msg[0] = '\0';
	return a->normalize(order, o, err);
}

bool
nx_normalize_ok(const char *file, int line, const NxAdapter *a, const json_t *order, NxOrder *o)
{
	NxError		err = {{0}};

	nx_order_init(o, a->name);
	if (a->normalize(order, o, &err) != NX_OK)
	{
		nx_test_fail(file, line, "%s normalize failed: %s", a->name, err.msg);
		return false;
	}
	return true;
}

void
nx_check_normalize_fails(const char *file, int line, const NxAdapter *a, const json_t *order,
						 const char *want)
{
	NxOrder		o;
	NxError		err = {{0}};

	nx_order_init(&o, a->name);
	if (a->normalize(order, &o, &err) != NX_FAIL)
		nx_test_fail(file, line, "normalize succeeded, want an error naming \"%s\"", want);
	else if (strstr(err.msg, want) == NULL)
		nx_test_fail(file, line, "error \"%s\" does not name \"%s\"", err.msg, want);
	nx_order_free(&o);
}

void
nx_check_normalize_text_fails(const char *file, int line, const NxAdapter *a, const char *text,
							  const char *want)
{
	json_t	   *order = nx_parse_json(text);

	if (order == NULL)
		return;
	nx_check_normalize_fails(file, line, a, order, want);
	json_decref(order);
}

void
nx_check_classify(const char *file, int line, const NxAdapter *a, const json_t *order,
				  const char *want_status, const char *want_raw, const char *want_fulfillment)
{
	const char *status = NULL;
	const char *fulfillment = NULL;
	char	   *raw = NULL;
	NxError		err = {{0}};

	if (a->classify(order, &status, &fulfillment, &raw, &err) != NX_OK)
		nx_test_fail(file, line, "classify failed: %s", err.msg);
	else if (strcmp(status, want_status) != 0 || strcmp(raw, want_raw) != 0 ||
			 strcmp(fulfillment, want_fulfillment) != 0)
		nx_test_fail(file, line, "got %s/%s/%s, want %s/%s/%s", status, raw, fulfillment,
					 want_status, want_raw, want_fulfillment);
	free(raw);
}

void
nx_check_page_fails(const char *file, int line, const NxAdapter *a, const json_t *page,
					const json_t *headers, const char *want)
{
	NxPage		p;
	NxError		err = {{0}};

	nx_page_init(&p);
	if (a->parse_page(page, headers, &p, &err) != NX_FAIL)
		nx_test_fail(file, line, "parse_page succeeded, want an error naming \"%s\"", want);
	else if (strstr(err.msg, want) == NULL)
		nx_test_fail(file, line, "error \"%s\" does not name \"%s\"", err.msg, want);
	nx_page_free(&p);
}

void
nx_normalize_each(const NxAdapter *a, const json_t *orders, json_t *into)
{
	size_t		i;
	const json_t *order;

	json_array_foreach(orders, i, order)
	{
		json_t	   *c = nx_normalize_json(a, order);

		if (c)
			json_array_append_new(into, c);
	}
}

void
nx_fixture_normalize_each(const NxAdapter *a, const char *relpath, const char *orders_path,
						  json_t *into)
{
	json_t	   *page = nx_fixture_json(relpath);

	nx_normalize_each(a, nx_json_path(page, orders_path), into);
	json_decref(page);
}

void
nx_append_page_orders(json_t *into, const NxPage *p)
{
	for (size_t i = 0; i < p->norders; i++)
		json_array_append_new(into, nx_order_to_json(&p->orders[i]));
}

void
nx_fixture_webhook(const char *name, NxWebhookInput *in, char **body, json_t **headers)
{
	char		path[256];
	size_t		len = 0;

	snprintf(path, sizeof(path), "%s.json", name);
	*body = nx_fixture_bytes(path, &len);
	if (*body == NULL)
		nx_test_fail(__FILE__, __LINE__, "cannot read webhook body %s", path);
	snprintf(path, sizeof(path), "%s.headers", name);
	*headers = nx_fixture_headers(path);
	memset(in, 0, sizeof(*in));
	in->body = *body;
	in->body_len = len;
	in->headers = *headers;
}

void
nx_check_webhook_fails(const char *file, int line, const NxAdapter *a,
					   const NxWebhookInput *in, const char *want)
{
	NxError		err = {{0}};

	if (a->verify_webhook(in, &err) != NX_FAIL)
		nx_test_fail(file, line, "verify_webhook succeeded, want an error saying \"%s\"", want);
	else if (strstr(err.msg, want) == NULL)
		nx_test_fail(file, line, "error \"%s\" does not say \"%s\"", err.msg, want);
}

json_t *
nx_normalize_built(const NxAdapter *a, char *text)
{
	json_t	   *c = nx_normalize_text(a, text);

	free(text);
	return c;
}

void
nx_check_normalize_built_fails(const char *file, int line, const NxAdapter *a, char *text,
							   const char *want)
{
	nx_check_normalize_text_fails(file, line, a, text, want);
	free(text);
}

void
nx_check_webhook_header_fails(const char *file, int line, const NxAdapter *a,
							  const NxWebhookInput *in, const char *name, const char *value,
							  const char *want)
{
	/* the tests tamper with the headers of a delivery they own */
	json_t	   *headers = (json_t *) in->headers;
	NxError		err = {{0}};
	int			rc;

	if (value)
		json_object_set_new(headers, name, json_string(value));
	else
		json_object_del(headers, name);
	rc = a->verify_webhook(in, &err);
	CHECK_AT(file, line, rc == NX_FAIL, "%s: verify_webhook accepted %s: %s", a->name, name,
			 value ? value : "(none)");
	if (want && rc == NX_FAIL)
		CHECK_AT(file, line, strstr(err.msg, want) != NULL,
				 "%s: %s: %s: error \"%s\" does not say \"%s\"", a->name, name,
				 value ? value : "(none)", err.msg, want);
}

const char *
nx_test_key_lookup(void *ctx, const char *key_id)
{
	const NxTestKey *key = ctx;

	return key && strcmp(key_id, key->key_id) == 0 ? key->pem : NULL;
}
