/*-------------------------------------------------------------------------
 *
 * fixtures.c
 *	  Loading the shared fixtures and comparing canonical orders.
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
