/*
 * The key sets of adapters/keys.c against every fixture: a document loaded
 * with its adapter's key set gives exactly what the whole document gives,
 * whichever entry point reads it.  A key an adapter reads but its set
 * lacks shows here as a difference.
 */
#include <dirent.h>
#include <stdlib.h>

#include "unit.h"

static const char *const markets[] = {"amazon", "ebay", "bol", "kaufland", "shopify", "zalando", "walmart", NULL};

/* The canonical order (with its stored address) an adapter makes of an order object, or its error. */
static json_t *
canonical(const NxAdapter *a, const json_t *order)
{
	NxOrder		o;
	NxError		err;
	json_t	   *c;

	nx_order_init(&o, a->name);
	if (a->normalize(order, &o, &err) == NX_OK)
	{
		c = nx_order_to_json(&o);
		json_object_set_new(c, "shipping_address", o.shipping_address ? json_incref(o.shipping_address) : json_null());
	}
	else
		c = json_string(err.msg);
	nx_order_free(&o);
	return c;
}

/*
 * Everything an adapter makes of a document, as one string: raw objects
 * handed on (page_orders, detail_merge) count by what they normalize to.
 */
static char *
everything(const NxAdapter *a, const json_t *doc, const json_t *headers)
{
	json_t	   *out = json_array();
	NxOrder		o;
	NxPage		p;
	NxError		err;
	char	   *s;

	nx_order_init(&o, a->name);
	if (a->normalize(doc, &o, &err) == NX_OK)
	{
		json_t	   *c = nx_order_to_json(&o);

		json_object_set_new(c, "shipping_address", o.shipping_address ? json_incref(o.shipping_address) : json_null());
		json_array_append_new(out, c);
	}
	else
		json_array_append_new(out, json_string(err.msg));
	nx_order_free(&o);

	nx_page_init(&p);
	if (a->parse_page(doc, headers, &p, &err) == NX_OK)
	{
		for (size_t i = 0; i < p.norders; i++)
		{
			json_t	   *c = nx_order_to_json(&p.orders[i]);

			json_object_set_new(c, "shipping_address",
								p.orders[i].shipping_address ? json_incref(p.orders[i].shipping_address) : json_null());
			json_array_append_new(out, c);
		}
		for (size_t i = 0; i < p.ndetail_ids; i++)
			json_array_append_new(out, json_string(p.detail_ids[i]));
		for (size_t i = 0; i < p.nfailed; i++)
			json_array_append_new(out, json_string(p.failed[i].error));
		json_array_append_new(out, p.next_cursor ? json_string(p.next_cursor) : json_null());
	}
	else
		json_array_append_new(out, json_string(err.msg));
	nx_page_free(&p);

	if (a->page_orders)
	{
		json_t	   *orders = NULL;

		if (a->page_orders(doc, &orders, &err) == NX_OK)
		{
			const char *id;
			json_t	   *v;

			json_object_foreach(orders, id, v)
			{
				json_array_append_new(out, json_string(id));
				json_array_append_new(out, canonical(a, v));
			}
			json_decref(orders);
		}
		else
			json_array_append_new(out, json_string(err.msg));
	}
	if (a->detail_merge)
	{
		json_t	   *acc = NULL;
		char	   *next = NULL;

		if (a->detail_merge(&acc, doc, &next, &err) == NX_OK)
		{
			json_array_append_new(out, acc ? canonical(a, acc) : json_null());
			json_decref(acc);
			json_array_append_new(out, next ? json_string(next) : json_null());
			free(next);
		}
		else
			json_array_append_new(out, json_string(err.msg));
	}
	s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(out);
	return s;
}

static int
check_file(const NxAdapter *a, const char *rel)
{
	size_t		len;
	char	   *bytes = nx_fixture_bytes(rel, &len);
	json_error_t jerr;
	json_t	   *full;
	json_t	   *part;
	json_t	   *headers = json_pack("{s:s}", "x-nexus-cursor", "1");
	int			n = 0;

	if (bytes == NULL)
		return 0;
	full = nx_json_loadb(bytes, len, &jerr);
	part = nx_json_loadb_keys(bytes, len, a->keys, &jerr);
	CHECK((full == NULL) == (part == NULL));
	if (part)
	{
		/* Input known to be valid: the unchecked skip builds the same. */
		json_t	   *fast = nx_json_loadb_valid(bytes, len, a->keys, true, &jerr);

		if (fast == NULL || !json_equal(fast, part))
			nx_test_fail(__FILE__, __LINE__, "%s: the unchecked skip builds something else", rel);
		json_decref(fast);
	}
	if (full && part)
	{
		char	   *f = everything(a, full, headers);
		char	   *p = everything(a, part, headers);

		if (strcmp(f, p) != 0)
			nx_test_fail(__FILE__, __LINE__, "%s: filtered load differs:\n  full: %.300s\n  part: %.300s", rel, f, p);
		free(f);
		free(p);
		n = 1;
	}
	json_decref(full);
	json_decref(part);
	json_decref(headers);
	free(bytes);
	return n;
}

static int
check_dir(const NxAdapter *a, const char *sub)
{
	char		path[1024];
	DIR		   *d;
	struct dirent *e;
	int			n = 0;

	snprintf(path, sizeof(path), "%s/%s", nx_fixtures_dir(), sub);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
	{
		size_t		l = strlen(e->d_name);
		char		rel[600];

		if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0)
		{
			snprintf(rel, sizeof(rel), "%s/%s", sub, e->d_name);
			n += check_file(a, rel);
		}
	}
	closedir(d);
	return n;
}

NX_TEST(keys_filtered_loads_read_every_fixture_the_same)
{
	int			n = 0;

	for (int i = 0; markets[i]; i++)
	{
		const NxAdapter *a = nx_adapter_find(markets[i]);
		char		sub[64];

		CHECK(a != NULL && a->keys != NULL);
		if (a == NULL)
			continue;
		n += check_dir(a, markets[i]);
		snprintf(sub, sizeof(sub), "%s/order_details", markets[i]);
		n += check_dir(a, sub);
		snprintf(sub, sizeof(sub), "%s/order_items", markets[i]);
		n += check_dir(a, sub);
	}
	/* every fixture directory was found and read */
	CHECK(n >= 90);
}

NX_TEST(keys_skip_what_is_not_read_and_keep_the_address_whole)
{
	const char *doc = "{\"orders\": [{\"id\": 1, \"zzz_unread\": {\"deep\": [1, 2, {\"x\": \"y\"}]}, "
		"\"shipping_address\": {\"zzz_unread\": \"kept\", \"country_code\": \"DE\"}}], \"zzz_top\": [1]}";
	json_error_t jerr;
	json_t	   *j = nx_json_loadb_keys(doc, strlen(doc), &nx_shopify_keys, &jerr);
	json_t	   *o = json_array_get(json_object_get(j, "orders"), 0);

	CHECK(j != NULL);
	CHECK(json_object_get(o, "id") != NULL);
	/* skipped inside, a null placeholder at the top (the document never looks empty) */
	CHECK(json_object_get(o, "zzz_unread") == NULL);
	CHECK(json_is_null(json_object_get(j, "zzz_top")));
	CHECK_STR(nx_json_str(o, "shipping_address.zzz_unread"), "kept");
	json_decref(j);
}

NX_TEST(keys_skipped_values_are_still_checked)
{
	/* Invalid JSON under a skipped key is an error, as with a full load. */
	static const char *const bad[] = {
		"{\"zzz\": [1, 2,]}", "{\"zzz\": {\"a\" 1}}", "{\"zzz\": \"\\x\"}", "{\"zzz\": 01}",
		"{\"zzz\": tru}", "{\"zzz\": [1e999]}", "{\"zzz\": {\"a\\u0000b\": 1}}", "{\"zzz\": \"\xff\"}", NULL
	};
	json_error_t jerr;

	for (int i = 0; bad[i]; i++)
	{
		json_t	   *full = nx_json_loadb(bad[i], strlen(bad[i]), &jerr);
		json_t	   *part = nx_json_loadb_keys(bad[i], strlen(bad[i]), &nx_shopify_keys, &jerr);

		if ((full == NULL) != (part == NULL))
			nx_test_fail(__FILE__, __LINE__, "%s: full %s, filtered %s", bad[i],
						 full ? "accepts" : "rejects", part ? "accepts" : "rejects");
		CHECK(part == NULL);
		json_decref(full);
		json_decref(part);
	}
}
