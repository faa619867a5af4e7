/*-------------------------------------------------------------------------
 *
 * amazon_v2026.c
 *	  Amazon Selling Partner API, Orders API v2026-01-01: a searchOrders
 *	  page ({"orders": [...], "pagination": {"nextToken"}}), one Order, or
 *	  getOrder's {"order": Order}.  amazon.c sends these shapes here.
 *
 * v0 is deprecated (migration due 2027-03-27).  v2026-01-01 lists the
 * items inside each Order, so unlike v0 no getOrderItems call completes an
 * order; what else an Order carries depends on the includedData the call
 * asked for (BUYER, RECIPIENT, PROCEEDS, FULFILLMENT, PACKAGES, ...).
 *
 * The mapping, from the API model (amzn/selling-partner-api-models,
 * models/orders-api-model/orders_2026-01-01.json, its definitions) and
 * the v0 rules of fixtures/amazon/README.md; test/fixtures/amazon_v2026/
 * README.md says the same with its sources and what is unverified:
 *
 * - external_order_id = order_number = orderId; ordered_at = createdTime;
 *	 updated_at = lastUpdatedTime.  The model requires all three and
 *	 orderItems: without them an order cannot be upserted safely (no
 *	 update time to order payloads by; an absent item list would replace
 *	 the stored items with none), so their absence is an error.
 * - status from fulfillment.fulfillmentStatus, as v0's statuses map:
 *	 PENDING_AVAILABILITY, PENDING -> pending; UNSHIPPED -> confirmed;
 *	 PARTIALLY_SHIPPED -> processing; SHIPPED -> shipped, or delivered when
 *	 the order has packages and every packages[].packageStatus.status is
 *	 DELIVERED (a PackageStatus value of the model); CANCELLED,
 *	 UNFULFILLABLE -> cancelled.  Anything else is pending with the usual
 *	 warning.  marketplace_status is the raw fulfillmentStatus.  The
 *	 status only comes with includedData=FULFILLMENT: an order without it
 *	 is an error, since no canonical status could be told.
 * - fulfillment.fulfilledBy AMAZON is FBA, MERCHANT (or absent) FBM.
 * - Money is {amount, currencyCode} with amount a decimal string, parsed
 *	 exactly at the currency's exponent, half-up.  The currency is
 *	 proceeds.grandTotal's, else the first amount's, else the one currency
 *	 of salesChannel.marketplaceId; amounts in another currency fail.
 * - total_amount = proceeds.grandTotal, as Amazon states it, never
 *	 recomputed (tax is inside the prices in the EU, UK, MX and JP).
 * - Per item, the proceeds breakdowns (ItemProceedsBreakdown.type): ITEM
 *	 is the line total (unit price times quantity), SHIPPING, TAX and
 *	 DISCOUNT add to the order's shipping_total, tax_total and
 *	 discount_total; subtotal is the sum of the line totals.  The model
 *	 does not say which sign DISCOUNT carries, so discount_total sums
 *	 their magnitudes and is positive either way.  GIFT_WRAP, COD_FEE,
 *	 OTHER, the order-level DELIVERY_TIP and any type the model does not
 *	 list have no canonical field: they are in total_amount only.  The
 *	 order-level breakdowns are the same categories "aggregated across all
 *	 order items" (model), so they are not read a second time.
 * - A figure no breakdown reports is null, not 0.00: an order without
 *	 proceeds (includedData without PROCEEDS, or a cancelled order) has
 *	 null money, one without a TAX breakdown a null tax_total.
 * - unit_price = product.price.unitPrice; without one it is the line total
 *	 divided by the quantity, half-up, as for v0.  sku = product.sellerSku,
 *	 title = product.title, quantity = quantityOrdered, external_item_id
 *	 = orderItemId.
 * - buyer_name, buyer_email from buyer (BUYER; buyerEmail exists for FBM
 *	 orders only); ship_country from recipient.deliveryAddress.countryCode
 *	 (RECIPIENT), and the deliveryAddress object is stored whole as the
 *	 shipping address.  Sections that were not requested give nulls.
 * - The next cursor is pagination.nextToken; the last page has no
 *	 pagination, and an empty token ends the listing too.
 *
 * Sync (doc/sync_protocol.md), for a connection whose config says
 * orders_api "2026-01-01": searchOrders with lastUpdatedAfter, the
 * connection's marketplace id, includedData BUYER, RECIPIENT, PROCEEDS,
 * FULFILLMENT and PACKAGES (what the mapping above reads) and
 * maxResultsPerPage; a next page sends the same parameters again with
 * paginationToken, as the model's Pagination asks ("All other parameters
 * must be provided with the same values").  Array parameters are
 * comma-separated (the model gives no collectionFormat: csv).
 *
 * Present-but-wrong values fail with the field's path; absent optional
 * fields become nulls.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amazon.h"

/* order_items.quantity is an integer column */
#define V2026_MAX_QUANTITY INT64_C(2147483647)

/* The FulfillmentStatus enum of the model. */
static const NxStatusMap v2026_statuses[] =
{
	{"PENDING_AVAILABILITY", NX_PENDING},
	{"PENDING", NX_PENDING},
	{"UNSHIPPED", NX_CONFIRMED},
	{"PARTIALLY_SHIPPED", NX_PROCESSING},
	{"SHIPPED", NX_SHIPPED},
	{"CANCELLED", NX_CANCELLED},
	{"UNFULFILLABLE", NX_CANCELLED},
	{NULL, NULL}
};

/* One order being read: where its fallback currency comes from, and the running sums. */
typedef struct V2026Order
{
	const char *marketplace_id;
	NxOrder    *o;
	NxMoney		subtotal;
	NxMoney		tax;
	NxMoney		shipping;
	NxMoney		discount;
} V2026Order;

/* ---------- shape ---------- */

bool
nx_amazon_v2026_is_order(const json_t *doc)
{
	return json_is_object(doc) && json_object_get(doc, "AmazonOrderId") == NULL &&
		(json_object_get(doc, "orderId") != NULL || json_object_get(doc, "order") != NULL ||
		 json_object_get(doc, "orderItems") != NULL);
}

bool
nx_amazon_v2026_is_page(const json_t *page)
{
	return json_is_object(page) && json_object_get(page, "payload") == NULL &&
		json_object_get(page, "orders") != NULL;
}

/*
 * The Order of a document: getOrder wraps it as {"order": Order}; an
 * Order itself (a searchOrders element) has its orderId at the top.
 */
static int
v2026_unwrap(const json_t *doc, const json_t **order, NxError *err)
{
	*order = NULL;
	if (!json_is_object(doc))
		return nx_fail(err, "order: expected an Order object");
	if (json_object_get(doc, "orderId") == NULL && json_object_get(doc, "order") != NULL)
	{
		if (nx_json_req_object(doc, "order", NULL, order, err) != NX_OK)
			return nx_fail(err, "order: expected the Order object of a getOrder response");
		return NX_OK;
	}
	*order = doc;
	return NX_OK;
}

/* ---------- currency and money ---------- */

/* v2026-01-01's Money: {currencyCode, amount}, in the order's marketplace. */
static int
v2026_money(V2026Order *v, const json_t *obj, const char *key, const char *field,
			NxMoney *out, NxError *err)
{
	static const NxAmazonMoneyKeys v2026 = {"currencyCode", "amount"};

	return nx_amazon_money(obj, key, field, &v2026, v->marketplace_id, v->o, out, err);
}

/* ---------- status ---------- */

/*
 * Whether the order has packages and each one's packageStatus.status is
 * DELIVERED.  Every package is read, so that a wrong type is reported
 * whatever comes before it.
 */
static int
v2026_all_delivered(const json_t *order, bool *all, NxError *err)
{
	const json_t *packages;
	const json_t *pkg;
	size_t		i;

	*all = false;
	if (nx_json_opt_array(order, "packages", NULL, &packages, err) != NX_OK)
		return NX_FAIL;
	if (packages == NULL || json_array_size(packages) == 0)
		return NX_OK;
	*all = true;
	json_array_foreach(packages, i, pkg)
	{
		char		where[64];
		const json_t *ps;
		const char *s;

		if (!json_is_object(pkg))
			return nx_fail(err, "packages[%zu]: expected an OrderPackage object", i);
		snprintf(where, sizeof(where), "packages[%zu].", i);
		if (nx_json_opt_object(pkg, "packageStatus", where, &ps, err) != NX_OK)
			return NX_FAIL;
		snprintf(where, sizeof(where), "packages[%zu].packageStatus.", i);
		if (nx_json_opt_string(ps, "status", where, &s, err) != NX_OK)
			return NX_FAIL;
		if (s == NULL || strcmp(s, "DELIVERED") != 0)
			*all = false;
	}
	return NX_OK;
}

/*
 * Status, fulfilment and raw status of an Order (not a getOrder
 * response); *raw and *by point into the JSON.
 */
static int
v2026_classify_order(const json_t *order, const char **status, bool *status_known,
					 const char **fulfillment, const char **by, const char **raw,
					 NxError *err)
{
	const json_t *f;
	bool		delivered;

	if (!json_is_object(order))
		return nx_fail(err, "order: expected an Order object");
	if (nx_json_opt_object(order, "fulfillment", NULL, &f, err) != NX_OK)
		return NX_FAIL;
	if (f == NULL)
		return nx_fail(err, "fulfillment: missing (the order status comes with includedData=FULFILLMENT)");
	if (nx_json_req_string(f, "fulfillmentStatus", "fulfillment.", raw, err) != NX_OK ||
		nx_json_opt_string(f, "fulfilledBy", "fulfillment.", by, err) != NX_OK ||
		v2026_all_delivered(order, &delivered, err) != NX_OK)
		return NX_FAIL;
	*status = nx_status_map(v2026_statuses, *raw, status_known);
	/* Orders have no delivered state of their own; their packages do. */
	if (delivered && strcmp(*status, NX_SHIPPED) == 0)
		*status = NX_DELIVERED;
	*fulfillment = *by && strcmp(*by, "AMAZON") == 0 ? NX_FBA : NX_FBM;
	return NX_OK;
}

/* ---------- items ---------- */

/* What one item's proceeds breakdowns say. */
typedef struct V2026Proceeds
{
	NxMoney		item;
	NxMoney		tax;
	NxMoney		shipping;
	NxMoney		discount;
} V2026Proceeds;

/* One ItemProceedsBreakdown, added to *p by its type. */
static int
v2026_breakdown(V2026Order *v, const json_t *b, const char *at, V2026Proceeds *p, NxError *err)
{
	char		pre[NX_ERROR_MAX];
	char		name[NX_ERROR_MAX];
	const char *type;
	NxMoney		amount;
	NxMoney    *into;

	if (!json_is_object(b))
		return nx_fail(err, "%s: expected a proceeds breakdown object", at);
	snprintf(pre, sizeof(pre), "%s.", at);
	snprintf(name, sizeof(name), "%s.subtotal", at);
	if (nx_json_req_string(b, "type", pre, &type, err) != NX_OK ||
		v2026_money(v, b, "subtotal", pre, &amount, err) != NX_OK)
		return NX_FAIL;
	if (!amount.present)
		return nx_fail(err, "%s: missing", name);
	if (strcmp(type, "ITEM") == 0)
		into = &p->item;
	else if (strcmp(type, "TAX") == 0)
		into = &p->tax;
	else if (strcmp(type, "SHIPPING") == 0)
		into = &p->shipping;
	else if (strcmp(type, "DISCOUNT") == 0)
	{
		/* the model gives no sign: a discount is a reduction either way */
		if (amount.minor < 0)
			amount.minor = -amount.minor;
		into = &p->discount;
	}
	else
		return NX_OK;			/* GIFT_WRAP, COD_FEE, OTHER: in grandTotal only */
	return nx_money_accumulate(into, amount, name, err);
}

static int
v2026_item_proceeds(V2026Order *v, const json_t *item, const char *where, V2026Proceeds *p,
					NxError *err)
{
	const json_t *proceeds;
	const json_t *breakdowns;
	const json_t *b;
	char		pre[NX_ERROR_MAX];
	size_t		i;

	memset(p, 0, sizeof(*p));
	if (nx_json_opt_object(item, "proceeds", where, &proceeds, err) != NX_OK)
		return NX_FAIL;
	if (proceeds == NULL)
		return NX_OK;
	snprintf(pre, sizeof(pre), "%sproceeds.", where);
	if (nx_json_opt_array(proceeds, "breakdowns", pre, &breakdowns, err) != NX_OK)
		return NX_FAIL;
	json_array_foreach(breakdowns, i, b)
	{
		char		at[128];

		snprintf(at, sizeof(at), "%sproceeds.breakdowns[%zu]", where, i);
		if (v2026_breakdown(v, b, at, p, err) != NX_OK)
			return NX_FAIL;
	}
	return NX_OK;
}

static int
v2026_item(V2026Order *v, const json_t *item, size_t i, NxError *err)
{
	char		where[48];
	char		pre[NX_ERROR_MAX];
	NxItem	   *it;
	const json_t *product;
	const json_t *price;
	V2026Proceeds p;

	if (!json_is_object(item))
		return nx_fail(err, "orderItems[%zu]: expected an OrderItem object", i);
	snprintf(where, sizeof(where), "orderItems[%zu].", i);
	if ((it = nx_order_add_item(v->o)) == NULL)
		return nx_fail(err, "out of memory");

	if (nx_json_opt_strdup(item, "orderItemId", where, &it->external_item_id, err) != NX_OK)
		return NX_FAIL;
	if (it->external_item_id == NULL || it->external_item_id[0] == '\0')
		return nx_fail(err, "%sorderItemId: missing", where);
	/* a string here is a wrong type, not a count */
	if (nx_json_req_int(item, "quantityOrdered", where, 0, V2026_MAX_QUANTITY, &it->quantity,
						err) != NX_OK)
		return NX_FAIL;

	snprintf(pre, sizeof(pre), "%sproduct.", where);
	if (nx_json_opt_object(item, "product", where, &product, err) != NX_OK ||
		nx_json_opt_strdup(product, "sellerSku", pre, &it->sku, err) != NX_OK ||
		nx_json_opt_strdup(product, "title", pre, &it->title, err) != NX_OK ||
		nx_json_opt_object(product, "price", pre, &price, err) != NX_OK)
		return NX_FAIL;
	snprintf(pre, sizeof(pre), "%sproduct.price.", where);
	if (v2026_money(v, price, "unitPrice", pre, &it->unit_price, err) != NX_OK ||
		v2026_item_proceeds(v, item, where, &p, err) != NX_OK)
		return NX_FAIL;
	it->line_total = p.item;
	if (!it->unit_price.present)
		it->unit_price = nx_money_div(it->line_total, it->quantity);

	if (nx_money_accumulate(&v->subtotal, it->line_total, "subtotal", err) != NX_OK ||
		nx_money_accumulate(&v->tax, p.tax, "tax_total", err) != NX_OK ||
		nx_money_accumulate(&v->shipping, p.shipping, "shipping_total", err) != NX_OK ||
		nx_money_accumulate(&v->discount, p.discount, "discount_total", err) != NX_OK)
		return NX_FAIL;
	return NX_OK;
}

/* ---------- the parts of an order ---------- */

static int
v2026_buyer(const json_t *order, NxOrder *o, NxError *err)
{
	const json_t *buyer;

	if (nx_json_opt_object(order, "buyer", NULL, &buyer, err) != NX_OK ||
		nx_json_opt_strdup(buyer, "buyerEmail", "buyer.", &o->buyer_email, err) != NX_OK ||
		nx_json_opt_strdup(buyer, "buyerName", "buyer.", &o->buyer_name, err) != NX_OK)
		return NX_FAIL;
	return NX_OK;
}

static int
v2026_recipient(const json_t *order, NxOrder *o, NxError *err)
{
	const json_t *recipient;
	const json_t *addr;
	const char *country;

	if (nx_json_opt_object(order, "recipient", NULL, &recipient, err) != NX_OK ||
		nx_json_opt_object(recipient, "deliveryAddress", "recipient.", &addr, err) != NX_OK)
		return NX_FAIL;
	if (addr == NULL)
		return NX_OK;
	o->shipping_address = json_incref((json_t *) addr);
	if (nx_json_opt_string(addr, "countryCode", "recipient.deliveryAddress.", &country,
						   err) != NX_OK)
		return NX_FAIL;
	if (!nx_order_set_ship_country(o, country))
		nx_order_warn(o, "unknown country code \"%.20s\" in recipient.deliveryAddress.countryCode",
					  country);
	return NX_OK;
}

/* ---------- the entry points ---------- */

static int
v2026_normalize_order(const json_t *doc, NxOrder *o, NxError *err)
{
	const json_t *order;
	const json_t *sales;
	const json_t *proceeds;
	const json_t *items;
	const json_t *item;
	const char *raw;
	const char *by;
	bool		status_known;
	V2026Order	v;
	size_t		i;

	memset(&v, 0, sizeof(v));
	v.o = o;
	if (v2026_unwrap(doc, &order, err) != NX_OK)
		return NX_FAIL;
	if (nx_json_opt_strdup(order, "orderId", NULL, &o->external_order_id, err) != NX_OK)
		return NX_FAIL;
	if (o->external_order_id == NULL || o->external_order_id[0] == '\0')
		return nx_fail(err, "orderId: missing");
	if ((o->order_number = nx_strdup(o->external_order_id)) == NULL)
		return nx_fail(err, "out of memory");

	if (v2026_classify_order(order, &o->status, &status_known, &o->fulfillment_method, &by,
							 &raw, err) != NX_OK)
		return NX_FAIL;
	if ((o->marketplace_status = nx_strdup(raw)) == NULL)
		return nx_fail(err, "out of memory");
	if (!status_known)
		nx_order_warn(o, "unknown Amazon order status \"%.100s\"", raw);
	if (by && strcmp(by, "MERCHANT") != 0 && strcmp(by, "AMAZON") != 0)
		nx_order_warn(o, "unknown Amazon fulfilledBy \"%.100s\"", by);

	if (nx_json_opt_time(order, "createdTime", NULL, &o->has_ordered_at, &o->ordered_at,
						 err) != NX_OK ||
		nx_json_opt_time(order, "lastUpdatedTime", NULL, &o->has_updated_at, &o->updated_at,
						 err) != NX_OK)
		return NX_FAIL;
	if (!o->has_ordered_at)
		return nx_fail(err, "createdTime: missing");
	if (!o->has_updated_at)
		return nx_fail(err, "lastUpdatedTime: missing");

	if (nx_json_opt_object(order, "salesChannel", NULL, &sales, err) != NX_OK ||
		nx_json_opt_string(sales, "marketplaceId", "salesChannel.", &v.marketplace_id,
						   err) != NX_OK)
		return NX_FAIL;

	/* The grand total fixes the currency first: it is Amazon's own figure. */
	if (nx_json_opt_object(order, "proceeds", NULL, &proceeds, err) != NX_OK ||
		v2026_money(&v, proceeds, "grandTotal", "proceeds.", &o->total_amount, err) != NX_OK)
		return NX_FAIL;

	if (v2026_buyer(order, o, err) != NX_OK || v2026_recipient(order, o, err) != NX_OK)
		return NX_FAIL;

	if (nx_json_req_array(order, "orderItems", NULL, &items, err) != NX_OK)
		return NX_FAIL;
	json_array_foreach(items, i, item)
	{
		if (v2026_item(&v, item, i, err) != NX_OK)
			return NX_FAIL;
	}
	o->subtotal = v.subtotal;
	o->tax_total = v.tax;
	o->shipping_total = v.shipping;
	o->discount_total = v.discount;

	/* An order without any amount still says what currency it is in. */
	return nx_amazon_use_currency(v.o, NULL, v.marketplace_id, "currency", err);
}

int
nx_amazon_v2026_normalize(const json_t *doc, NxOrder *o, NxError *err)
{
	return v2026_normalize_order(doc, o, err);
}

int
nx_amazon_v2026_parse_page(const json_t *page, NxPage *out, NxError *err)
{
	const json_t *orders;
	const json_t *pagination;
	const char *token;

	if (!json_is_array(json_object_get(page, "orders")))
		return nx_fail(err, "orders: expected the array of a searchOrders response");
	orders = json_object_get(page, "orders");
	if (nx_json_opt_object(page, "pagination", NULL, &pagination, err) != NX_OK ||
		nx_json_opt_string(pagination, "nextToken", "pagination.", &token, err) != NX_OK)
		return NX_FAIL;
	/* An empty token would restart the listing: treat it as the end. */
	if (token != NULL && token[0] != '\0' && (out->next_cursor = nx_strdup(token)) == NULL)
		return nx_fail(err, "out of memory");
	if (nx_page_normalize_each(out, orders, "amazon", v2026_normalize_order, "orderId") != NX_OK)
		return nx_fail(err, "out of memory");
	return NX_OK;
}

int
nx_amazon_v2026_classify(const json_t *doc, const char **status, const char **fulfillment,
						 char **marketplace_status, NxError *err)
{
	const json_t *order;
	const char *raw;
	const char *by;
	bool		status_known;

	if (v2026_unwrap(doc, &order, err) != NX_OK ||
		v2026_classify_order(order, status, &status_known, fulfillment, &by, &raw,
							 err) != NX_OK)
		return NX_FAIL;
	if ((*marketplace_status = nx_strdup(raw)) == NULL)
		return nx_fail(err, "out of memory");
	return NX_OK;
}

/* ---------- sync requests ---------- */

/* The sections the mapping reads; without FULFILLMENT no status, without PROCEEDS no money. */
#define V2026_INCLUDED "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,PACKAGES"

int
nx_amazon_v2026_list_url(const NxSyncContext *ctx, int64_t since, const char *cursor,
						 int max_page, char **url, NxError *err)
{
	char	   *region;
	char	   *token = NULL;
	char		when[32];
	int			n = nx_page_size(ctx, max_page);

	*url = NULL;
	if (nx_nonempty(ctx->region) == NULL)
		return nx_fail(err, "region: missing (the Amazon marketplace id)");
	if (cursor != NULL && cursor[0] == '\0')
		return nx_fail(err, "cursor: empty nextToken");
	/* every page repeats the filters, so since must be good on every page */
	if (nx_check_since(since, err) != NX_OK)
		return NX_FAIL;

	nx_time_format(since, when, sizeof(when));
	region = nx_url_encode(ctx->region);
	if (cursor != NULL && (token = nx_url_encode(cursor)) == NULL)
	{
		free(region);
		return nx_fail(err, "list request: out of memory");
	}
	if (region != NULL)
		*url = nx_sprintf("%s/orders/2026-01-01/orders?lastUpdatedAfter=%s&marketplaceIds=%s"
						  "&includedData=" V2026_INCLUDED "&maxResultsPerPage=%d%s%s",
						  ctx->api_base, when, region, n, token ? "&paginationToken=" : "",
						  token ? token : "");
	free(region);
	free(token);
	if (*url == NULL)
		return nx_fail(err, "list request: out of memory");
	return NX_OK;
}
