/*-------------------------------------------------------------------------
 *
 * adapt.h
 *	  The bridge between the adapters (jansson, malloc) and the backend
 *	  (palloc, SQL).  adapt.c is the only backend file that sees jansson;
 *	  everything it hands over is palloc'd plain C, so files that include
 *	  utils/builtins.h (whose json_object() clashes with jansson's) can
 *	  use it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NEXUS_ADAPT_H
#define NEXUS_ADAPT_H

#include "postgres.h"

typedef struct NexusAmount
{
	bool		present;
	int64		minor;
} NexusAmount;

typedef struct NexusItem
{
	char	   *external_item_id;
	char	   *sku;
	char	   *title;
	int64		quantity;
	NexusAmount unit_price;
	NexusAmount line_total;
} NexusItem;

/* One canonical order, with its canonical JSON text. */
typedef struct NexusOrder
{
	char	   *external_order_id;
	char	   *order_number;
	const char *status;
	char	   *marketplace_status;
	const char *fulfillment_method;
	char		currency[4];
	int			exponent;
	NexusAmount subtotal;
	NexusAmount tax_total;
	NexusAmount shipping_total;
	NexusAmount discount_total;
	NexusAmount total_amount;
	bool		has_ordered_at;
	int64		ordered_at;		/* Unix seconds */
	bool		has_updated_at;
	int64		updated_at;
	char	   *buyer_email;
	char	   *buyer_name;
	char		ship_country[3];
	char	   *shipping_address;	/* JSON text or NULL */
	int			nitems;
	NexusItem  *items;
	char	   *canonical;		/* the canonical JSON text, when asked for */
	char	   *warning;
	struct varlena *hash;		/* ingest.c: content hash, computed once */
} NexusOrder;

typedef struct NexusFailure
{
	char	   *external_order_id;	/* may be NULL */
	char	   *error;
} NexusFailure;

/* What a payload held: one order, or a page. */
typedef struct NexusPayload
{
	bool		is_page;
	int			norders;
	NexusOrder *orders;
	int			ndetail_ids;
	char	  **detail_ids;
	int			nfailed;
	NexusFailure *failed;
	char	   *next_cursor;
} NexusPayload;

/* Webhook check and parse; the key callback returns PEM for a key id, or NULL. */
typedef const char *(*NexusKeyLookup) (void *ctx, const char *key_id);

typedef struct NexusWebhook
{
	char	   *event_id;
	char	   *topic;
	char	   *order_id;
	char	   *order_json;		/* the embedded order, when the body carries one */
} NexusWebhook;

extern bool nexus_adapt_known(const char *marketplace);
extern bool nexus_adapt_has_webhooks(const char *marketplace);

/*
 * Parse payload as one order, a list page, or whichever it is (mode).
 * headers_json (an object of lower-case names, or NULL) carries the page's
 * response headers, where a marketplace paginates by them (Shopify's
 * Link).  Returns false with *error set when the payload is not JSON or
 * not the marketplace's shape.
 */
extern bool nexus_adapt_payload(const char *marketplace, const char *json, size_t len,
								const char *headers_json, int mode, NexusPayload *out,
								char **error);

#define NEXUS_PAYLOAD_ORDER 1
#define NEXUS_PAYLOAD_PAGE	2
#define NEXUS_PAYLOAD_ANY	3
/* Also fill NexusOrder.canonical (the ingest does not need it). */
#define NEXUS_PAYLOAD_CANONICAL 4
/*
 * The payload is a json datum: json_in has checked it, so what the adapter
 * does not read is skipped without being checked again (UTF-8 databases).
 */
#define NEXUS_PAYLOAD_VALID 8

extern bool nexus_adapt_verify_webhook(const char *marketplace, const char *body, size_t len,
									   const char *headers_json, const char *secret,
									   const char *url, NexusKeyLookup lookup, void *ctx,
									   int64 now, char **error);
extern bool nexus_adapt_parse_webhook(const char *marketplace, const char *body, size_t len,
									  const char *headers_json, NexusWebhook *out,
									  char **error);

/*
 * For the sync worker (bgworker/run.c), which holds jansson values (passed
 * as void * to keep jansson out of this header).
 */
extern void nexus_adapt_use_malloc(void);
/* A parsed list page with its response headers (object or NULL). */
extern bool nexus_adapt_page_value(const char *marketplace, const void *page,
								   const void *headers, NexusPayload *out, char **error);
/* Whole orders (detail responses, Amazon orders with their items); ids name the failures. */
extern bool nexus_adapt_order_values(const char *marketplace, void *const *orders,
									 const char *const *ids, int n, NexusPayload *out);

#endif							/* NEXUS_ADAPT_H */
