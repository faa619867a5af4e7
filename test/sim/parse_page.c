/*-------------------------------------------------------------------------
 *
 * parse_page.c
 *	  Run nexus's own adapters over what the simulator serves, so that the
 *	  self-test proves the generated documents are ones nexus can read,
 *	  and that the simulator's updated_at is the one nexus derives.
 *
 *	  parse_page <marketplace> <file> [headers-json]
 *		A list page through the adapter's parse_page.  headers-json is an
 *		object of lower-case header names (Shopify's "link"; bol's
 *		"x-nexus-cursor", the page number asked for).  Prints:
 *			orders N
 *			order <TAB> id <TAB> updated_at <TAB> items <TAB> status
 *			warning <TAB> id <TAB> message
 *			failed N
 *			failed_order <TAB> id or - <TAB> error
 *			details N
 *			detail <TAB> id
 *			next <TAB> cursor or -
 *
 *	  parse_page <marketplace> --order <file>
 *		One order (a detail, or an Amazon order with its OrderItems)
 *		through normalize; prints its canonical JSON on one line.
 *
 *	  Exit status 0 when the adapter accepted the document (a page may
 *	  still list failed orders), 1 when it refused it, 2 on bad usage.
 *
 *	  Build (from the repository root):
 *		cc -std=gnu11 -O1 -Iadapters $(pkg-config --cflags jansson libcrypto) \
 *		   test/sim/parse_page.c adapters/{canonical,country,crypto,json_parse,\
 *		   json_util,keys,keyset,money,request,timeutil,registry,amazon,amazon_v2026,\
 *		   ebay,bol,kaufland,shopify,zalando,walmart}.c $(pkg-config --libs jansson libcrypto)
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	size_t		cap = 0;
	size_t		n = 0;

	if (f == NULL)
		return NULL;
	for (;;)
	{
		if (n == cap)
		{
			char	   *b;

			cap = cap ? cap * 2 : 65536;
			if ((b = realloc(buf, cap + 1)) == NULL)
			{
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		size_t		got = fread(buf + n, 1, cap - n, f);

		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The document in path through nexus's own JSON loader; NULL after a message. */
static json_t *
load(const char *path)
{
	size_t		len = 0;
	char	   *text = read_file(path, &len);
	json_error_t jerr;
	json_t	   *doc;

	if (text == NULL)
	{
		fprintf(stderr, "parse_page: cannot read %s\n", path);
		return NULL;
	}
	doc = nx_json_loadb(text, len, &jerr);
	free(text);
	if (doc == NULL)
		fprintf(stderr, "parse_page: %s is not JSON: %s (line %d)\n", path, jerr.text, jerr.line);
	return doc;
}

static const char *
str_or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* The canonical updated_at of an order, as nx_order_to_json writes it. */
static void
print_order(const NxOrder *o)
{
	json_t	   *j = nx_order_to_json(o);
	const char *updated = j ? json_string_value(json_object_get(j, "updated_at")) : NULL;

	printf("order\t%s\t%s\t%zu\t%s\n", str_or_dash(o->external_order_id), str_or_dash(updated),
		   o->nitems, str_or_dash(o->status));
	if (o->warning)
		printf("warning\t%s\t%s\n", str_or_dash(o->external_order_id), o->warning);
	json_decref(j);
}

static int
one_order(const NxAdapter *a, const char *path)
{
	json_t	   *doc = load(path);
	NxOrder		o;
	NxError		err = {{0}};
	int			rc = 1;

	if (doc == NULL)
		return 1;
	nx_order_init(&o, a->name);
	if (a->normalize(doc, &o, &err) != NX_OK)
		fprintf(stderr, "error: %s\n", err.msg);
	else
	{
		json_t	   *j = nx_order_to_json(&o);
		char	   *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

		if (text)
		{
			printf("%s\n", text);
			rc = 0;
		}
		else
			fprintf(stderr, "error: cannot write the canonical JSON\n");
		if (o.warning)
			fprintf(stderr, "warning: %s\n", o.warning);
		free(text);
		json_decref(j);
	}
	nx_order_free(&o);
	json_decref(doc);
	return rc;
}

static int
page(const NxAdapter *a, const char *path, const char *headers_text)
{
	json_t	   *doc = load(path);
	json_t	   *headers = NULL;
	NxPage		p;
	NxError		err = {{0}};
	int			rc = 1;

	if (doc == NULL)
		return 1;
	if (headers_text)
	{
		json_error_t jerr;

		headers = nx_json_loadb(headers_text, strlen(headers_text), &jerr);
		if (!json_is_object(headers))
		{
			fprintf(stderr, "parse_page: headers-json is not a JSON object\n");
			json_decref(headers);
			json_decref(doc);
			return 2;
		}
	}
	nx_page_init(&p);
	if (a->parse_page(doc, headers, &p, &err) != NX_OK)
		fprintf(stderr, "error: %s\n", err.msg);
	else
	{
		printf("orders %zu\n", p.norders);
		for (size_t i = 0; i < p.norders; i++)
			print_order(&p.orders[i]);
		printf("failed %zu\n", p.nfailed);
		for (size_t i = 0; i < p.nfailed; i++)
			printf("failed_order\t%s\t%s\n", str_or_dash(p.failed[i].external_order_id),
				   str_or_dash(p.failed[i].error));
		printf("details %zu\n", p.ndetail_ids);
		for (size_t i = 0; i < p.ndetail_ids; i++)
			printf("detail\t%s\n", p.detail_ids[i]);
		printf("next\t%s\n", str_or_dash(p.next_cursor));
		rc = 0;
	}
	nx_page_free(&p);
	json_decref(headers);
	json_decref(doc);
	return rc;
}

int
main(int argc, char **argv)
{
	const NxAdapter *a;

	if (argc < 3 || argc > 4)
	{
		fprintf(stderr, "usage: parse_page <marketplace> <file> [headers-json]\n"
				"       parse_page <marketplace> --order <file>\n");
		return 2;
	}
	if ((a = nx_adapter_find(argv[1])) == NULL)
	{
		fprintf(stderr, "parse_page: no adapter named %s\n", argv[1]);
		return 2;
	}
	if (strcmp(argv[2], "--order") == 0)
	{
		if (argc != 4)
		{
			fprintf(stderr, "parse_page: --order needs a file\n");
			return 2;
		}
		return one_order(a, argv[3]);
	}
	return page(a, argv[2], argc == 4 ? argv[3] : NULL);
}
