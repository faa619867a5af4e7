/*-------------------------------------------------------------------------
 *
 * canonical.c
 *	  The canonical order: its bookkeeping, its statuses and its JSON form,
 *	  shared by every adapter.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

int
nx_fail(NxError *err, const char *fmt,...)
{
	va_list		ap;

	if (err)
	{
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return NX_FAIL;
}

/* ---------- statuses ---------- */

static const char *const forward[] = {
	NX_PENDING, NX_CONFIRMED, NX_PROCESSING, NX_SHIPPED, NX_DELIVERED, NX_COMPLETED
};

static const char *const all_statuses[] = {
	NX_PENDING, NX_CONFIRMED, NX_PROCESSING, NX_SHIPPED, NX_DELIVERED, NX_COMPLETED,
	NX_CANCELLED, NX_RETURN_INITIATED, NX_RETURN_RECEIVED, NX_REFUNDED
};

const char *
nx_status_canonical(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(all_statuses) / sizeof(all_statuses[0]); i++)
		if (strcmp(name, all_statuses[i]) == 0)
			return all_statuses[i];
	return NULL;
}

const char *
nx_status_map(const NxStatusMap *map, const char *raw, bool *known)
{
	for (const NxStatusMap *m = map; m->raw; m++)
	{
		if (strcmp(raw, m->raw) == 0)
		{
			*known = true;
			return m->status;
		}
	}
	*known = false;
	return NX_PENDING;
}

static int
forward_rank(const char *s)
{
	for (size_t i = 0; i < sizeof(forward) / sizeof(forward[0]); i++)
		if (strcmp(s, forward[i]) == 0)
			return (int) i;
	return -1;
}

const char *
nx_status_aggregate(const char *const *line_status, size_t n)
{
	size_t		live = 0;
	size_t		refunded = 0;
	size_t		returned = 0;
	size_t		moved = 0;			/* shipped or delivered */
	size_t		open = 0;			/* pending, confirmed, processing */
	int			least = -1;
	bool		return_initiated = false;

	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
	{
		const char *s = line_status[i];
		int			r;

		if (s == NULL || strcmp(s, NX_CANCELLED) == 0)
			continue;
		live++;
		if (strcmp(s, NX_REFUNDED) == 0)
			refunded++;
		else if (strcmp(s, NX_RETURN_RECEIVED) == 0)
			returned++;
		else if (strcmp(s, NX_RETURN_INITIATED) == 0)
			return_initiated = true;
		if ((r = forward_rank(s)) >= 0)
		{
			if (least < 0 || r < least)
				least = r;
			if (r >= 3)
				moved++;
			else
				open++;
		}
	}
	if (live == 0)
		return NX_CANCELLED;
	if (refunded == live)
		return NX_REFUNDED;
	if (refunded + returned == live)
		return NX_RETURN_RECEIVED;
	if (moved > 0 && open > 0)
		return NX_PROCESSING;
	if (least >= 0)
		return forward[least];
	/* only return-branch lines, mixed: the return is under way */
	return return_initiated ? NX_RETURN_INITIATED : NX_RETURN_RECEIVED;
}

/* ---------- orders ---------- */

void
nx_order_init(NxOrder *o, const char *marketplace)
{
	memset(o, 0, sizeof(*o));
	o->marketplace = marketplace;
	o->status = NX_PENDING;
	o->fulfillment_method = NX_FBM;
	o->exponent = 2;
}

void
nx_order_free(NxOrder *o)
{
	free(o->external_order_id);
	free(o->order_number);
	free(o->marketplace_status);
	free(o->buyer_email);
	free(o->buyer_name);
	free(o->warning);
	if (o->shipping_address)
		json_decref(o->shipping_address);
	for (size_t i = 0; i < o->nitems; i++)
	{
		free(o->items[i].external_item_id);
		free(o->items[i].sku);
		free(o->items[i].title);
	}
	free(o->items);
	memset(o, 0, sizeof(*o));
}

NxItem *
nx_order_add_item(NxOrder *o)
{
	if (o->nitems == o->items_cap)
	{
		size_t		cap = o->items_cap ? o->items_cap * 2 : 4;
		NxItem	   *items = realloc(o->items, cap * sizeof(NxItem));

		if (items == NULL)
			return NULL;
		o->items = items;
		o->items_cap = cap;
	}
	memset(&o->items[o->nitems], 0, sizeof(NxItem));
	return &o->items[o->nitems++];
}

int
nx_order_set_currency(NxOrder *o, const char *code, NxError *err)
{
	if (code == NULL || strlen(code) != 3 ||
		code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' ||
		code[2] < 'A' || code[2] > 'Z')
		return nx_fail(err, "currency: \"%.20s\" is not an ISO 4217 code", code ? code : "(missing)");
	memcpy(o->currency, code, 4);
	o->exponent = nx_currency_exponent(code);
	return NX_OK;
}

bool
nx_order_set_ship_country(NxOrder *o, const char *code)
{
	const char *alpha2 = nx_country_alpha2(code);

	if (alpha2)
		memcpy(o->ship_country, alpha2, 3);
	return alpha2 != NULL || code == NULL;
}

void
nx_order_warn(NxOrder *o, const char *fmt,...)
{
	va_list		ap;
	char		buf[NX_ERROR_MAX];

	if (o->warning)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	o->warning = nx_strdup(buf);
}

void
nx_order_bump_updated_at(NxOrder *o, int64_t t)
{
	if (!o->has_updated_at || t > o->updated_at)
	{
		o->has_updated_at = true;
		o->updated_at = t;
	}
}

void
nx_order_sum_lines(NxOrder *o)
{
	NxMoney		sum = {false, 0};

	for (size_t i = 0; i < o->nitems; i++)
		sum = nx_money_add(sum, o->items[i].line_total);
	o->subtotal = sum;
}

int
nx_order_sum_lines_checked(NxOrder *o, const char *field, NxError *err)
{
	NxMoney		sum = {false, 0};

	for (size_t i = 0; i < o->nitems; i++)
		if (nx_money_accumulate(&sum, o->items[i].line_total, field, err) != NX_OK)
			return NX_FAIL;
	o->subtotal = sum;
	return NX_OK;
}

static json_t *
money_json(NxMoney m, int exponent)
{
	char		buf[48];

	if (!m.present)
		return json_null();
	nx_money_format(m, exponent, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
str_json(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
time_json(bool has, int64_t t)
{
	char		buf[32];

	if (!has)
		return json_null();
	nx_time_format(t, buf, sizeof(buf));
	return json_string(buf);
}

json_t *
nx_order_to_json(const NxOrder *o)
{
	json_t	   *j = nx_json_new_object();
	json_t	   *items = json_array();

	if (j == NULL || items == NULL)
	{
		json_decref(j);
		json_decref(items);
		return NULL;
	}
	json_object_set_new(j, "marketplace", str_json(o->marketplace));
	json_object_set_new(j, "external_order_id", str_json(o->external_order_id));
	json_object_set_new(j, "order_number", str_json(o->order_number));
	json_object_set_new(j, "status", str_json(o->status));
	json_object_set_new(j, "marketplace_status", str_json(o->marketplace_status));
	json_object_set_new(j, "fulfillment_method", str_json(o->fulfillment_method));
	json_object_set_new(j, "currency", o->currency[0] ? json_string(o->currency) : json_null());
	json_object_set_new(j, "subtotal", money_json(o->subtotal, o->exponent));
	json_object_set_new(j, "tax_total", money_json(o->tax_total, o->exponent));
	json_object_set_new(j, "shipping_total", money_json(o->shipping_total, o->exponent));
	json_object_set_new(j, "discount_total", money_json(o->discount_total, o->exponent));
	json_object_set_new(j, "total_amount", money_json(o->total_amount, o->exponent));
	json_object_set_new(j, "ordered_at", time_json(o->has_ordered_at, o->ordered_at));
	json_object_set_new(j, "updated_at", time_json(o->has_updated_at, o->updated_at));
	json_object_set_new(j, "buyer_email", str_json(o->buyer_email));
	json_object_set_new(j, "buyer_name", str_json(o->buyer_name));
	json_object_set_new(j, "ship_country", o->ship_country[0] ? json_string(o->ship_country) : json_null());
	for (size_t i = 0; i < o->nitems; i++)
	{
		const NxItem *it = &o->items[i];
		json_t	   *ji = nx_json_new_object();

		json_object_set_new(ji, "external_item_id", str_json(it->external_item_id));
		json_object_set_new(ji, "sku", str_json(it->sku));
		json_object_set_new(ji, "title", str_json(it->title));
		json_object_set_new(ji, "quantity", json_integer(it->quantity));
		json_object_set_new(ji, "unit_price", money_json(it->unit_price, o->exponent));
		json_object_set_new(ji, "line_total", money_json(it->line_total, o->exponent));
		json_array_append_new(items, ji);
	}
	json_object_set_new(j, "items", items);
	return j;
}

/* ---------- pages ---------- */

void
nx_page_init(NxPage *p)
{
	memset(p, 0, sizeof(*p));
}

void
nx_page_free(NxPage *p)
{
	for (size_t i = 0; i < p->norders; i++)
		nx_order_free(&p->orders[i]);
	free(p->orders);
	for (size_t i = 0; i < p->ndetail_ids; i++)
		free(p->detail_ids[i]);
	free(p->detail_ids);
	for (size_t i = 0; i < p->nfailed; i++)
	{
		free(p->failed[i].external_order_id);
		free(p->failed[i].error);
	}
	free(p->failed);
	free(p->next_cursor);
	memset(p, 0, sizeof(*p));
}

static bool
grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	void	   *a;
	size_t		c;

	if (n < *cap)
		return true;
	c = *cap ? *cap * 2 : 8;
	a = realloc(*arr, c * elem);
	if (a == NULL)
		return false;
	*arr = a;
	*cap = c;
	return true;
}

NxOrder *
nx_page_add_order(NxPage *p, const char *marketplace)
{
	if (!grow((void **) &p->orders, &p->orders_cap, p->norders, sizeof(NxOrder)))
		return NULL;
	nx_order_init(&p->orders[p->norders], marketplace);
	return &p->orders[p->norders++];
}

void
nx_page_drop_last(NxPage *p)
{
	if (p->norders > 0)
		nx_order_free(&p->orders[--p->norders]);
}

int
nx_page_add_detail_id(NxPage *p, const char *id)
{
	char	   *copy = nx_strdup(id);

	if (copy == NULL || !grow((void **) &p->detail_ids, &p->detail_ids_cap, p->ndetail_ids,
							  sizeof(char *)))
	{
		free(copy);
		return NX_FAIL;
	}
	p->detail_ids[p->ndetail_ids++] = copy;
	return NX_OK;
}

int
nx_page_add_failed(NxPage *p, const char *external_order_id, const char *error)
{
	if (!grow((void **) &p->failed, &p->failed_cap, p->nfailed, sizeof(NxFailed)))
		return NX_FAIL;
	p->failed[p->nfailed].external_order_id = external_order_id ? nx_strdup(external_order_id) : NULL;
	p->failed[p->nfailed].error = nx_strdup(error);
	p->nfailed++;
	return NX_OK;
}

int
nx_page_normalize_each(NxPage *p, const json_t *orders, const char *marketplace,
					   int (*normalize) (const json_t *, NxOrder *, NxError *),
					   const char *id_field)
{
	size_t		i;
	const json_t *o;

	json_array_foreach(orders, i, o)
	{
		NxOrder    *order = nx_page_add_order(p, marketplace);
		NxError		err = {{0}};

		if (order == NULL)
			return NX_FAIL;
		if (normalize(o, order, &err) != NX_OK)
		{
			char	   *id = id_field ? nx_json_id(o, id_field) : NULL;

			nx_page_drop_last(p);
			if (nx_page_add_failed(p, id, err.msg) != NX_OK)
			{
				free(id);
				return NX_FAIL;
			}
			free(id);
		}
	}
	return NX_OK;
}

void
nx_webhook_event_free(NxWebhookEvent *e)
{
	free(e->event_id);
	free(e->topic);
	free(e->order_id);
	if (e->order)
		json_decref(e->order);
	memset(e, 0, sizeof(*e));
}
