/*-------------------------------------------------------------------------
 *
 * adapt.c
 *	  Calls into the adapters and copies their results into palloc'd plain
 *	  C (adapt.h).
 *
 * The adapters allocate their own results with malloc and never throw;
 * this file frees all of it before it returns, and nothing here raises an
 * error between an adapter call and the matching free (palloc's
 * out-of-memory error aside).  It must not include utils/builtins.h: its
 * json_object() clashes with jansson's.
 *
 * jansson itself allocates from an arena: a memory context that is reset
 * at the start and end of every call here, with a free() that does
 * nothing.  A page of 100 orders is tens of thousands of small jansson
 * values; with malloc, allocating and freeing them one by one took about
 * half of the ingest's time (measured with perf in bench/ingest).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdlib.h>

#include "mb/pg_wchar.h"
#include "utils/memutils.h"

#include "adapter.h"
#include "adapt.h"

static MemoryContext json_arena = NULL;
static bool use_arena = true;

/* Free what jansson allocated (json_dumps), whichever allocator it has. */
static void
jfree(void *ptr)
{
	json_malloc_t m;
	json_free_t f;

	json_get_alloc_funcs(&m, &f);
	if (ptr && f)
		f(ptr);
}

static void *
arena_malloc(size_t size)
{
	return MemoryContextAllocExtended(json_arena, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void
arena_free(void *ptr)
{
	/* everything goes at the next reset */
}

/*
 * Start (or end) a use of jansson: nothing jansson made survives a call
 * into this file, so the arena can be emptied at both ends.
 */
static void
arena_reset(void)
{
	if (!use_arena)
		return;
	if (json_arena == NULL)
	{
		/*
		 * The first block survives every reset: a page of a hundred Shopify
		 * orders builds about 3 MB of values, and blocks malloc'd afresh for
		 * each page cost a page fault per 4 kB touched (half of an ingest's
		 * faults, bench/ingest).  Pages of it never touched stay unmapped.
		 */
		json_arena = AllocSetContextCreate(TopMemoryContext, "nexus jansson arena",
										   4 * 1024 * 1024, 1024 * 1024, 8 * 1024 * 1024);
		json_set_alloc_funcs(arena_malloc, arena_free);
	}
	else
		MemoryContextReset(json_arena);
}

bool
nexus_adapt_known(const char *marketplace)
{
	return nx_adapter_find(marketplace) != NULL;
}

bool
nexus_adapt_has_webhooks(const char *marketplace)
{
	const NxAdapter *a = nx_adapter_find(marketplace);

	return a != NULL && a->verify_webhook != NULL;
}

static char *
pstr(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

static void
copy_amount(NexusAmount *dst, NxMoney src)
{
	dst->present = src.present;
	dst->minor = src.minor;
}

static void
copy_order(const NxOrder *o, NexusOrder *out, bool with_canonical)
{
	json_t	   *canonical = with_canonical ? nx_order_to_json(o) : NULL;
	char	   *text = canonical ? json_dumps(canonical, JSON_COMPACT) : NULL;

	memset(out, 0, sizeof(*out));
	out->external_order_id = pstr(o->external_order_id);
	out->order_number = pstr(o->order_number);
	out->status = o->status;
	out->marketplace_status = pstr(o->marketplace_status);
	out->fulfillment_method = o->fulfillment_method;
	memcpy(out->currency, o->currency, sizeof(out->currency));
	out->exponent = o->exponent;
	copy_amount(&out->subtotal, o->subtotal);
	copy_amount(&out->tax_total, o->tax_total);
	copy_amount(&out->shipping_total, o->shipping_total);
	copy_amount(&out->discount_total, o->discount_total);
	copy_amount(&out->total_amount, o->total_amount);
	out->has_ordered_at = o->has_ordered_at;
	out->ordered_at = o->ordered_at;
	out->has_updated_at = o->has_updated_at;
	out->updated_at = o->updated_at;
	out->buyer_email = pstr(o->buyer_email);
	out->buyer_name = pstr(o->buyer_name);
	memcpy(out->ship_country, o->ship_country, sizeof(out->ship_country));
	if (o->shipping_address)
	{
		/*
		 * Keys sorted: the text feeds the content hash, and the same address
		 * listed in another key order (a webhook body, a re-encoded page) is
		 * not a change.
		 */
		char	   *addr = json_dumps(o->shipping_address,
									  JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);

		out->shipping_address = pstr(addr);
		jfree(addr);
	}
	out->nitems = (int) o->nitems;
	out->items = palloc0(sizeof(NexusItem) * Max(o->nitems, 1));
	for (size_t i = 0; i < o->nitems; i++)
	{
		out->items[i].external_item_id = pstr(o->items[i].external_item_id);
		out->items[i].sku = pstr(o->items[i].sku);
		out->items[i].title = pstr(o->items[i].title);
		out->items[i].quantity = o->items[i].quantity;
		copy_amount(&out->items[i].unit_price, o->items[i].unit_price);
		copy_amount(&out->items[i].line_total, o->items[i].line_total);
	}
	out->canonical = pstr(text);
	out->warning = pstr(o->warning);
	jfree(text);
	if (canonical)
		json_decref(canonical);
}

static void
copy_page(const NxPage *page, NexusPayload *out, bool with_canonical)
{
	out->is_page = true;
	out->norders = (int) page->norders;
	out->orders = palloc0(sizeof(NexusOrder) * Max(page->norders, 1));
	for (size_t i = 0; i < page->norders; i++)
		copy_order(&page->orders[i], &out->orders[i], with_canonical);
	out->ndetail_ids = (int) page->ndetail_ids;
	out->detail_ids = palloc0(sizeof(char *) * Max(page->ndetail_ids, 1));
	for (size_t i = 0; i < page->ndetail_ids; i++)
		out->detail_ids[i] = pstr(page->detail_ids[i]);
	out->nfailed = (int) page->nfailed;
	out->failed = palloc0(sizeof(NexusFailure) * Max(page->nfailed, 1));
	for (size_t i = 0; i < page->nfailed; i++)
	{
		out->failed[i].external_order_id = pstr(page->failed[i].external_order_id);
		out->failed[i].error = pstr(page->failed[i].error);
	}
	out->next_cursor = pstr(page->next_cursor);
}

/*
 * keys: build only what the adapter reads (a payload), or NULL (headers);
 * valid: a json datum in a UTF-8 database, whose skipped parts json_in has
 * checked already.
 */
static json_t *
load(const char *json, size_t len, const NxKeySet *keys, bool valid, char **error)
{
	json_error_t jerr;
	json_t	   *j = nx_json_loadb_valid(json, len, keys,
										valid && GetDatabaseEncoding() == PG_UTF8, &jerr);

	if (j == NULL)
		*error = psprintf("payload is not valid JSON: %s (line %d, column %d)",
						  jerr.text, jerr.line, jerr.column);
	return j;
}

bool
nexus_adapt_payload(const char *marketplace, const char *json, size_t len,
					const char *headers_json, int mode, NexusPayload *out, char **error)
{
	const NxAdapter *a = nx_adapter_find(marketplace);
	json_t	   *doc;
	json_t	   *headers = NULL;
	NxPage		page;
	NxOrder		order;
	NxError		page_err = {{0}};
	NxError		order_err = {{0}};
	bool		ok = false;

	memset(out, 0, sizeof(*out));
	if (a == NULL)
	{
		*error = psprintf("unknown marketplace \"%s\"", marketplace);
		return false;
	}
	arena_reset();
	if (headers_json && (headers = load(headers_json, strlen(headers_json), NULL, false, error)) == NULL)
	{
		*error = psprintf("headers: %s", *error);
		return false;
	}
	if ((doc = load(json, len, a->keys, (mode & NEXUS_PAYLOAD_VALID) != 0, error)) == NULL)
	{
		json_decref(headers);
		return false;
	}

	if (mode & NEXUS_PAYLOAD_PAGE)
	{
		nx_page_init(&page);
		if (a->parse_page(doc, headers, &page, &page_err) == NX_OK)
		{
			copy_page(&page, out, (mode & NEXUS_PAYLOAD_CANONICAL) != 0);
			ok = true;
		}
		nx_page_free(&page);
	}
	if (!ok && (mode & NEXUS_PAYLOAD_ORDER))
	{
		nx_order_init(&order, a->name);
		if (a->normalize(doc, &order, &order_err) == NX_OK)
		{
			out->is_page = false;
			out->norders = 1;
			out->orders = palloc0(sizeof(NexusOrder));
			copy_order(&order, &out->orders[0], (mode & NEXUS_PAYLOAD_CANONICAL) != 0);
			ok = true;
		}
		nx_order_free(&order);
	}
	/*
	 * In the arena, the reset below frees the page at once: walking its
	 * whole tree to drop references first was 2% of an ingest.
	 */
	if (!use_arena)
	{
		json_decref(doc);
		json_decref(headers);
	}
	arena_reset();

	if (!ok)
	{
		if ((mode & NEXUS_PAYLOAD_ANY) == NEXUS_PAYLOAD_PAGE)
			*error = psprintf("not a valid %s list page: %s", marketplace, page_err.msg);
		else if ((mode & NEXUS_PAYLOAD_ANY) == NEXUS_PAYLOAD_ORDER)
			*error = psprintf("not a valid %s order: %s", marketplace, order_err.msg);
		else
			*error = psprintf("neither a %s order nor a %s list page (as an order: %s; as a page: %s)",
							  marketplace, marketplace, order_err.msg, page_err.msg);
	}
	return ok;
}

bool
nexus_adapt_verify_webhook(const char *marketplace, const char *body, size_t len,
						   const char *headers_json, const char *secret, const char *url,
						   NexusKeyLookup lookup, void *ctx, int64 now, char **error)
{
	const NxAdapter *a = nx_adapter_find(marketplace);
	json_t	   *headers;
	NxWebhookInput in;
	NxError		err = {{0}};
	int			rc;

	if (a == NULL || a->verify_webhook == NULL)
	{
		*error = psprintf("%s sends no signed HTTP webhooks", marketplace);
		return false;
	}
	arena_reset();
	if ((headers = load(headers_json, strlen(headers_json), NULL, false, error)) == NULL)
		return false;
	memset(&in, 0, sizeof(in));
	in.body = body;
	in.body_len = len;
	in.headers = headers;
	in.secret = secret;
	in.url = url;
	in.public_key = lookup;
	in.ctx = ctx;
	in.now = now;
	rc = a->verify_webhook(&in, &err);
	json_decref(headers);
	arena_reset();
	if (rc != NX_OK)
		*error = pstrdup(err.msg);
	return rc == NX_OK;
}

bool
nexus_adapt_parse_webhook(const char *marketplace, const char *body, size_t len,
						  const char *headers_json, NexusWebhook *out, char **error)
{
	const NxAdapter *a = nx_adapter_find(marketplace);
	json_t	   *headers;
	json_t	   *doc;
	NxWebhookEvent ev;
	NxError		err = {{0}};
	int			rc;

	memset(out, 0, sizeof(*out));
	if (a == NULL || a->parse_webhook == NULL)
	{
		*error = psprintf("%s sends no HTTP webhooks", marketplace);
		return false;
	}
	arena_reset();
	if ((headers = load(headers_json, strlen(headers_json), NULL, false, error)) == NULL)
		return false;
	if ((doc = load(body, len, NULL, false, error)) == NULL)
	{
		json_decref(headers);
		return false;
	}
	memset(&ev, 0, sizeof(ev));
	rc = a->parse_webhook(doc, headers, &ev, &err);
	if (rc == NX_OK)
	{
		char	   *order = ev.order ? json_dumps(ev.order, JSON_COMPACT) : NULL;

		out->event_id = pstr(ev.event_id);
		out->topic = pstr(ev.topic);
		out->order_id = pstr(ev.order_id);
		out->order_json = pstr(order);
	}
	else
		*error = pstrdup(err.msg);
	nx_webhook_event_free(&ev);
	json_decref(doc);
	json_decref(headers);
	arena_reset();
	return rc == NX_OK;
}

/*
 * The sync worker keeps jansson values across calls (a page's orders wait
 * for their details), so it cannot use the arena: jansson goes back to
 * malloc for the rest of the process.  Call before any other use.
 */
void
nexus_adapt_use_malloc(void)
{
	Assert(json_arena == NULL);
	use_arena = false;
}

bool
nexus_adapt_page_value(const char *marketplace, const void *page, const void *headers,
					   NexusPayload *out, char **error)
{
	const NxAdapter *a = nx_adapter_find(marketplace);
	NxPage		p;
	NxError		err = {{0}};
	bool		ok = false;

	memset(out, 0, sizeof(*out));
	if (a == NULL)
	{
		*error = psprintf("unknown marketplace \"%s\"", marketplace);
		return false;
	}
	nx_page_init(&p);
	if (a->parse_page((const json_t *) page, (const json_t *) headers, &p, &err) == NX_OK)
	{
		copy_page(&p, out, false);
		ok = true;
	}
	else
		*error = psprintf("not a valid %s list page: %s", marketplace, err.msg);
	nx_page_free(&p);
	return ok;
}

bool
nexus_adapt_order_values(const char *marketplace, void *const *orders, const char *const *ids,
						 int n, NexusPayload *out)
{
	const NxAdapter *a = nx_adapter_find(marketplace);

	memset(out, 0, sizeof(*out));
	if (a == NULL)
		return false;
	out->is_page = true;
	out->orders = palloc0(sizeof(NexusOrder) * Max(n, 1));
	out->failed = palloc0(sizeof(NexusFailure) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		NxOrder		o;
		NxError		err = {{0}};

		nx_order_init(&o, a->name);
		if (a->normalize((const json_t *) orders[i], &o, &err) == NX_OK)
			copy_order(&o, &out->orders[out->norders++], false);
		else
		{
			out->failed[out->nfailed].external_order_id = pstr(ids ? ids[i] : NULL);
			out->failed[out->nfailed].error = pstr(err.msg);
			out->nfailed++;
		}
		nx_order_free(&o);
	}
	return true;
}
