/*-------------------------------------------------------------------------
 *
 * amazon.h
 *	  What the two halves of the Amazon adapter share: amazon.c reads
 *	  Orders API v0 and dispatches by shape, amazon_v2026.c maps Orders
 *	  API v2026-01-01.  Not part of the adapter interface (adapter.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NEXUS_AMAZON_H
#define NEXUS_AMAZON_H

#include "adapter.h"

/* The one currency of an Amazon marketplace id, or NULL when it is not known. */
extern const char *nx_amazon_marketplace_currency(const char *marketplace_id);

/* The member names of a Money object: v0 {CurrencyCode, Amount}, v2026 {currencyCode, amount}. */
typedef struct NxAmazonMoneyKeys
{
	const char *currency;
	const char *amount;
} NxAmazonMoneyKeys;

/* Both versions' money and currency rules (amazon.c). */
extern int	nx_amazon_use_currency(NxOrder *o, const char *code, const char *marketplace_id,
								   const char *field, NxError *err);
extern int	nx_amazon_money(const json_t *obj, const char *key, const char *field,
							const NxAmazonMoneyKeys *keys, const char *marketplace_id,
							NxOrder *o, NxMoney *out, NxError *err);

/*
 * True for an order document of v2026-01-01: an Order (orderId,
 * orderItems) or getOrder's {"order": Order}, and never one that has v0's
 * AmazonOrderId.
 */
extern bool nx_amazon_v2026_is_order(const json_t *doc);

/* True for a searchOrders page: a top-level "orders" member and no v0 "payload". */
extern bool nx_amazon_v2026_is_page(const json_t *page);

/* The value of config.orders_api that selects v2026-01-01 for a connection's sync. */
#define NX_AMAZON_V2026 "2026-01-01"

/*
 * The searchOrders URL (malloc'd into *url): orders of region's
 * marketplace updated since, with the includedData the mapping needs; the
 * page after cursor (a pagination.nextToken) when cursor is not NULL.
 */
extern int	nx_amazon_v2026_list_url(const NxSyncContext *ctx, int64_t since, const char *cursor,
									 int max_page, char **url, NxError *err);

extern int	nx_amazon_v2026_normalize(const json_t *doc, NxOrder *o, NxError *err);
extern int	nx_amazon_v2026_parse_page(const json_t *page, NxPage *out, NxError *err);
extern int	nx_amazon_v2026_classify(const json_t *doc, const char **status,
									 const char **fulfillment, char **marketplace_status,
									 NxError *err);

#endif							/* NEXUS_AMAZON_H */
