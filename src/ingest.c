/*-------------------------------------------------------------------------
 *
 * ingest.c
 *	  nexus.ingest_orders(): the idempotent, out-of-order-safe upsert of
 *	  canonical orders and their items, and the per-tenant NOTIFY that
 *	  tells the frontend what changed.
 *
 * A page is written in a fixed number of statements over arrays: look up
 * the stored versions, INSERT the new orders, UPDATE the changed ones,
 * replace the items of both.  The look-up takes no locks, so re-reading an
 * unchanged page writes nothing at all; the UPDATE re-checks hash and
 * marketplace update time under its row lock, and an order overtaken by a
 * concurrent newer write in between counts as stale.  Per order the decision is:
 *   not stored                          -> insert
 *   stored, newer marketplace update    -> stale (nothing written)
 *   stored, same canonical content      -> unchanged
 *   otherwise                           -> update, items replaced as a set
 * A concurrent ingest of the same new order loses the INSERT race
 * (ON CONFLICT DO NOTHING) and is decided again against the winner's row.
 *
 * Every transaction that changes orders sends at most one NOTIFY per
 * tenant, at commit, on channel nexus_<tenant id without dashes>, with
 * {"event": "orders.changed", "tenant_id": ..., "count": N, "seq": S}
 * where S is the highest orders.change_seq written: a client reads
 * "WHERE change_seq > my last S".  Orders changed in a rolled-back
 * subtransaction are not counted.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "common/cryptohash.h"
#include "common/md5.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "adapt.h"
#include "bulk.h"
#include "ingest.h"
#include "nexus.h"

/* Largest amount numeric(14,2) holds, in cents. */
#define MAX_CENTS INT64CONST(99999999999999)

/* ---------- column arrays ---------- */

typedef struct Column
{
	Oid			type;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			n;
	int			cap;
	Datum	   *values;
	bool	   *nulls;
} Column;

static void
col_init(Column *c, Oid type, int cap)
{
	c->type = type;
	get_typlenbyvalalign(type, &c->typlen, &c->typbyval, &c->typalign);
	c->n = 0;
	c->cap = Max(cap, 1);
	c->values = palloc(sizeof(Datum) * c->cap);
	c->nulls = palloc(sizeof(bool) * c->cap);
}

static void
col_add(Column *c, Datum v, bool isnull)
{
	if (c->n == c->cap)
	{
		c->cap *= 2;
		c->values = repalloc(c->values, sizeof(Datum) * c->cap);
		c->nulls = repalloc(c->nulls, sizeof(bool) * c->cap);
	}
	c->values[c->n] = v;
	c->nulls[c->n] = isnull;
	c->n++;
}

static void
col_text(Column *c, const char *s)
{
	col_add(c, s ? CStringGetTextDatum(s) : (Datum) 0, s == NULL);
}

static Datum
col_array(Column *c)
{
	int			dims[1] = {c->n};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array(c->values, c->nulls, 1, dims, lbs, c->type,
											  c->typlen, c->typbyval, c->typalign));
}

static Datum
amount_datum(NexusAmount a, int exponent)
{
	char		buf[48];
	int64		scale = 1;
	int64		v = a.minor < 0 ? -a.minor : a.minor;

	for (int i = 0; i < exponent; i++)
		scale *= 10;
	if (exponent == 0)
		snprintf(buf, sizeof(buf), "%s" INT64_FORMAT, a.minor < 0 ? "-" : "", v);
	else
		snprintf(buf, sizeof(buf), "%s" INT64_FORMAT ".%0*" INT64_MODIFIER "d",
				 a.minor < 0 ? "-" : "", v / scale, exponent, v % scale);
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
							   Int32GetDatum(-1));
}

static void
col_amount(Column *c, NexusAmount a, int exponent)
{
	col_add(c, a.present ? amount_datum(a, exponent) : (Datum) 0, !a.present);
}

static TimestampTz
unix_to_timestamptz(int64 t)
{
	return (TimestampTz) (t - NEXUS_UNIX_EPOCH_OFFSET) * USECS_PER_SEC;
}

static void
col_time(Column *c, bool has, int64 t)
{
	col_add(c, has ? TimestampTzGetDatum(unix_to_timestamptz(t)) : (Datum) 0, !has);
}

/* ---------- checks before writing ---------- */

static bool
fits_cents(NexusAmount a, int exponent)
{
	int64		v = a.minor < 0 ? -a.minor : a.minor;

	if (!a.present)
		return true;
	for (int i = exponent; i < 2; i++)
		v *= 10;				/* compare in cents */
	return v <= MAX_CENTS;
}

/* Why an order cannot be stored, or NULL. */
static const char *
unstorable(const NexusOrder *o)
{
	if (o->exponent > 2)
		return psprintf("currency %s has %d decimals; amounts are stored with 2", o->currency,
						o->exponent);
	if (!fits_cents(o->subtotal, o->exponent) || !fits_cents(o->tax_total, o->exponent) ||
		!fits_cents(o->shipping_total, o->exponent) || !fits_cents(o->discount_total, o->exponent) ||
		!fits_cents(o->total_amount, o->exponent))
		return "an amount exceeds 999999999999.99";
	for (int i = 0; i < o->nitems; i++)
	{
		if (o->items[i].quantity < 0 || o->items[i].quantity > PG_INT32_MAX)
			return psprintf("item %d: quantity " INT64_FORMAT " is out of range", i + 1,
							o->items[i].quantity);
		if (!fits_cents(o->items[i].unit_price, o->exponent) ||
			!fits_cents(o->items[i].line_total, o->exponent))
			return psprintf("item %d: an amount exceeds 999999999999.99", i + 1);
	}
	return NULL;
}

static void
hash_field(StringInfo buf, const char *s)
{
	/* a separator no field contains, and a marker for null */
	if (s)
		appendStringInfoString(buf, s);
	else
		appendStringInfoChar(buf, '\x02');
	appendStringInfoChar(buf, '\x1f');
}

static void
hash_amount(StringInfo buf, NexusAmount a)
{
	if (a.present)
		appendStringInfo(buf, INT64_FORMAT, a.minor);
	else
		appendStringInfoChar(buf, '\x02');
	appendStringInfoChar(buf, '\x1f');
}

/*
 * md5 over every stored field of the order and its items: equal hashes mean
 * an update would write the same row again.
 */
static bytea *
content_hash(const NexusOrder *o)
{
	uint8		digest[MD5_DIGEST_LENGTH];
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_MD5);
	StringInfoData buf;
	bytea	   *b;

	initStringInfo(&buf);
	hash_field(&buf, o->external_order_id);
	hash_field(&buf, o->order_number);
	hash_field(&buf, o->status);
	hash_field(&buf, o->marketplace_status);
	hash_field(&buf, o->fulfillment_method);
	hash_field(&buf, o->currency);
	appendStringInfo(&buf, "%d\x1f", o->exponent);
	hash_amount(&buf, o->subtotal);
	hash_amount(&buf, o->tax_total);
	hash_amount(&buf, o->shipping_total);
	hash_amount(&buf, o->discount_total);
	hash_amount(&buf, o->total_amount);
	hash_amount(&buf, (NexusAmount) {o->has_ordered_at, o->ordered_at});
	hash_amount(&buf, (NexusAmount) {o->has_updated_at, o->updated_at});
	hash_field(&buf, o->buyer_email);
	hash_field(&buf, o->buyer_name);
	hash_field(&buf, o->ship_country);
	hash_field(&buf, o->shipping_address);
	for (int i = 0; i < o->nitems; i++)
	{
		const NexusItem *it = &o->items[i];

		appendStringInfoChar(&buf, '\x1e');
		hash_field(&buf, it->external_item_id);
		hash_field(&buf, it->sku);
		hash_field(&buf, it->title);
		hash_amount(&buf, (NexusAmount) {true, it->quantity});
		hash_amount(&buf, it->unit_price);
		hash_amount(&buf, it->line_total);
	}
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) buf.data, buf.len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "nexus: could not hash an order");
	pg_cryptohash_free(ctx);
	pfree(buf.data);
	b = palloc(VARHDRSZ + sizeof(digest));
	SET_VARSIZE(b, VARHDRSZ + sizeof(digest));
	memcpy(VARDATA(b), digest, sizeof(digest));
	return b;
}

static bytea *
order_hash(const NexusOrder *o)
{
	NexusOrder *mut = (NexusOrder *) o;

	if (mut->hash == NULL)
		mut->hash = content_hash(o);
	return mut->hash;
}

/* ---------- notifications ---------- */

typedef struct PendingNotify
{
	pg_uuid_t	tenant;
	int64		count;
	int64		seq;
	SubTransactionId subid;
	struct PendingNotify *next;
} PendingNotify;

static PendingNotify *pending = NULL;
static bool notify_callbacks_registered = false;

static void
send_pending(void)
{
	/* Merge what subtransactions left into one line per tenant. */
	for (PendingNotify *p = pending; p; p = p->next)
	{
		int64		count = 0;
		int64		seq = 0;
		bool		first = true;
		char		channel[64];
		char	   *tenant;
		char		hex[33];

		for (PendingNotify *q = pending; q != p; q = q->next)
			if (memcmp(&q->tenant, &p->tenant, sizeof(pg_uuid_t)) == 0)
				first = false;
		if (!first)
			continue;
		for (PendingNotify *q = p; q; q = q->next)
			if (memcmp(&q->tenant, &p->tenant, sizeof(pg_uuid_t)) == 0)
			{
				count += q->count;
				seq = Max(seq, q->seq);
			}
		if (count == 0)
			continue;
		for (int i = 0; i < UUID_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", p->tenant.data[i]);
		tenant = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&p->tenant)));
		snprintf(channel, sizeof(channel), "nexus_%s", hex);
		Async_Notify(channel, psprintf("{\"event\": \"orders.changed\", \"tenant_id\": \"%s\", "
									   "\"count\": " INT64_FORMAT ", \"seq\": " INT64_FORMAT "}",
									   tenant, count, seq));
	}
	pending = NULL;
}

static void
notify_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			send_pending();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PRE_PREPARE:
			pending = NULL;		/* the memory went with TopTransactionContext */
			break;
		default:
			break;
	}
}

static void
notify_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	PendingNotify **link = &pending;

	while (*link)
	{
		PendingNotify *p = *link;

		if (p->subid == mySubid && event == SUBXACT_EVENT_ABORT_SUB)
		{
			*link = p->next;
			continue;
		}
		if (p->subid == mySubid && event == SUBXACT_EVENT_COMMIT_SUB)
			p->subid = parentSubid;
		link = &p->next;
	}
}

static void
queue_notify(const pg_uuid_t *tenant, int64 count, int64 seq)
{
	PendingNotify *p;

	if (count == 0)
		return;
	if (!notify_callbacks_registered)
	{
		RegisterXactCallback(notify_xact_callback, NULL);
		RegisterSubXactCallback(notify_subxact_callback, NULL);
		notify_callbacks_registered = true;
	}
	p = MemoryContextAllocZero(TopTransactionContext, sizeof(PendingNotify));
	p->tenant = *tenant;
	p->count = count;
	p->seq = seq;
	p->subid = GetCurrentSubTransactionId();
	p->next = pending;
	pending = p;
}

/* ---------- the upsert ---------- */

typedef enum Verdict
{
	V_INSERT,
	V_UPDATE,
	V_UNCHANGED,
	V_STALE,
	V_SKIP						/* duplicate in the same payload, or failed */
} Verdict;

typedef struct Stored
{
	bool		found;
	pg_uuid_t	id;
	bool		has_updated_at;
	TimestampTz updated_at;
	bytea	   *hash;
} Stored;

static SPIPlanPtr plan_lookup = NULL;
static SPIPlanPtr plan_insert = NULL;
static SPIPlanPtr plan_insert_new = NULL;
static SPIPlanPtr plan_update = NULL;
static SPIPlanPtr plan_delete_items = NULL;
static SPIPlanPtr plan_insert_items = NULL;
static SPIPlanPtr plan_lock_tenant = NULL;

/*
 * The columns nexus writes, in the order of the values it passes: the
 * leading ones (tenant, and for orders connection and marketplace) once per
 * page, the rest per row.  Both the SPI statements and bulk_write() are
 * made from these.
 */
static const char *const order_column_names[22] = {"tenant_id", "connection_id", "marketplace",
	"id", "external_order_id", "order_number", "status", "marketplace_status",
	"fulfillment_method", "currency", "subtotal", "tax_total", "shipping_total",
	"discount_total", "total_amount", "buyer_name", "buyer_email", "ship_country",
"shipping_address", "ordered_at", "marketplace_updated_at", "content_hash"};
static const char *const item_column_names[9] = {"tenant_id", "order_id", "line_no",
"external_item_id", "sku", "title", "quantity", "unit_price", "line_total"};

/*
 * INSERT INTO nexus.<table> AS o (names) SELECT $1.., u.* FROM unnest(...):
 * the first nlead parameters are values, the others arrays of a page's rows.
 */
static char *
insert_sql(const char *table, const char *const *names, int n, int nlead)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO nexus.%s AS o (", table);
	for (int i = 0; i < n; i++)
		appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "", names[i]);
	appendStringInfoString(&sql, ") SELECT ");
	for (int i = 0; i < nlead; i++)
		appendStringInfo(&sql, "$%d, ", i + 1);
	appendStringInfoString(&sql, "u.* FROM unnest(");
	for (int i = nlead; i < n; i++)
		appendStringInfo(&sql, "%s$%d", i > nlead ? ", " : "", i + 1);
	appendStringInfoString(&sql, ") AS u");
	return sql.data;
}

static SPIPlanPtr
keep_plan(const char *sql, int nargs, Oid *types)
{
	SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

	if (p == NULL || SPI_keepplan(p) != 0)
		elog(ERROR, "nexus: could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	return p;
}

static void
prepare_plans(void)
{
	Oid			lookup_types[3] = {UUIDOID, UUIDOID, TEXTARRAYOID};
	Oid			order_types[22] = {UUIDOID, UUIDOID, TEXTOID, UUIDARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		NUMERICARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, JSONBARRAYOID, TIMESTAMPTZARRAYOID,
	TIMESTAMPTZARRAYOID, BYTEAARRAYOID};
	Oid			delete_types[2] = {UUIDOID, UUIDARRAYOID};
	Oid			item_types[9] = {UUIDOID, UUIDARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, INT4ARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID};

	char	   *insert_orders;

	/* the last one prepared: an error in between leaves them to the next call */
	if (plan_insert_items)
		return;
	insert_orders = insert_sql("orders", order_column_names, 22, 3);
	plan_lookup = keep_plan(
							"SELECT o.external_order_id, o.id, o.marketplace_updated_at, o.content_hash"
							"  FROM unnest($3) AS u(external_order_id)"
							"  JOIN nexus.orders o ON o.tenant_id = $1 AND o.connection_id = $2"
							"   AND o.external_order_id = u.external_order_id",
							3, lookup_types);
	plan_insert = keep_plan(psprintf("%s ON CONFLICT (tenant_id, connection_id, external_order_id)"
									 " DO NOTHING RETURNING o.external_order_id, o.change_seq",
									 insert_orders),
							22, order_types);
	/* The same without the conflict arbiter: see insert_new_orders(). */
	plan_insert_new = keep_plan(psprintf("%s RETURNING o.change_seq", insert_orders), 22, order_types);
	plan_update = keep_plan(
							"UPDATE nexus.orders AS o SET order_number = u.order_number, status = u.status,"
							"   marketplace_status = u.marketplace_status,"
							"   fulfillment_method = u.fulfillment_method, currency = u.currency,"
							"   subtotal = u.subtotal, tax_total = u.tax_total, shipping_total = u.shipping_total,"
							"   discount_total = u.discount_total, total_amount = u.total_amount,"
							"   buyer_name = u.buyer_name, buyer_email = u.buyer_email,"
							"   ship_country = u.ship_country, shipping_address = u.shipping_address,"
							"   ordered_at = u.ordered_at, marketplace_updated_at = u.marketplace_updated_at,"
							"   content_hash = u.content_hash,"
							"   change_seq = nextval('nexus_private.order_change_seq')"
							"  FROM unnest($4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
							"              $18, $19, $20, $21, $22)"
							"       AS u(id, external_order_id, order_number, status, marketplace_status,"
							"            fulfillment_method, currency, subtotal, tax_total, shipping_total,"
							"            discount_total, total_amount, buyer_name, buyer_email, ship_country,"
							"            shipping_address, ordered_at, marketplace_updated_at, content_hash)"
							" WHERE o.tenant_id = $1 AND o.id = u.id AND o.connection_id = $2"
							"   AND o.marketplace = $3"
							/* re-checked under the row lock: a concurrent newer write wins */
							"   AND o.content_hash <> u.content_hash"
							"   AND (o.marketplace_updated_at IS NULL OR u.marketplace_updated_at IS NULL"
							"        OR u.marketplace_updated_at >= o.marketplace_updated_at)"
							" RETURNING o.id, o.change_seq",
							22, order_types);
	plan_delete_items = keep_plan(
								  "DELETE FROM nexus.order_items WHERE tenant_id = $1 AND order_id = ANY ($2)",
								  2, delete_types);
	plan_lock_tenant = keep_plan("SELECT 1 FROM nexus.tenants WHERE tenant_id = $1 FOR KEY SHARE",
								 1, delete_types);	/* ($1 uuid) */
	plan_insert_items = keep_plan(insert_sql("order_items", item_column_names, 9, 1), 9, item_types);
}

static void
add_order_columns(Column *cols, const NexusOrder *o, const pg_uuid_t *id)
{
	pg_uuid_t  *idp = palloc(sizeof(pg_uuid_t));

	*idp = *id;
	col_add(&cols[0], UUIDPGetDatum(idp), false);
	col_text(&cols[1], o->external_order_id);
	col_text(&cols[2], o->order_number);
	col_text(&cols[3], o->status);
	col_text(&cols[4], o->marketplace_status);
	col_text(&cols[5], o->fulfillment_method);
	col_text(&cols[6], o->currency);
	col_amount(&cols[7], o->subtotal, o->exponent);
	col_amount(&cols[8], o->tax_total, o->exponent);
	col_amount(&cols[9], o->shipping_total, o->exponent);
	col_amount(&cols[10], o->discount_total, o->exponent);
	col_amount(&cols[11], o->total_amount, o->exponent);
	col_text(&cols[12], o->buyer_name);
	col_text(&cols[13], o->buyer_email);
	col_text(&cols[14], o->ship_country[0] ? o->ship_country : NULL);
	col_add(&cols[15], o->shipping_address ? jsonb_from_cstring(o->shipping_address) : (Datum) 0,
			o->shipping_address == NULL);
	col_time(&cols[16], o->has_ordered_at, o->ordered_at);
	col_time(&cols[17], o->has_updated_at, o->updated_at);
	col_add(&cols[18], PointerGetDatum(order_hash(o)), false);
}

static void
init_order_columns(Column *cols, int n)
{
	static const Oid types[19] = {UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, TEXTOID, TEXTOID, TEXTOID,
	JSONBOID, TIMESTAMPTZOID, TIMESTAMPTZOID, BYTEAOID};

	for (int i = 0; i < 19; i++)
		col_init(&cols[i], types[i], n);
}

/*
 * Write the rows of cols, each led by the values lead[0..nlead), into
 * nexus.<table> without the executor (bulk.c), not checking the foreign key
 * fkey: the caller holds what it references.  False, nothing written, when
 * the table needs the executor.  *max_seq (if given) gets the highest
 * change_seq written.
 */
static bool
bulk_write(const char *table, const char *const *names, const Datum *lead, const Oid *lead_types,
		   int nlead, Column *cols, int ncols, const char *fkey, int64 *max_seq)
{
	Oid			types[22];
	Datum		values[22];
	bool		nulls[22];
	NxBulkInsert *b;
	int			seq_att = 0;

	Assert(nlead + ncols <= 22);
	for (int i = 0; i < nlead; i++)
	{
		types[i] = lead_types[i];
		values[i] = lead[i];
		nulls[i] = false;
	}
	for (int i = 0; i < ncols; i++)
		types[nlead + i] = cols[i].type;
	b = nx_bulk_begin("nexus", table, names, types, nlead + ncols, &fkey, 1);
	if (b == NULL)
		return false;
	if (max_seq && (seq_att = nx_bulk_attnum(b, "change_seq")) == 0)
		elog(ERROR, "nexus: %s has no change_seq column", table);
	for (int r = 0; r < cols[0].n; r++)
	{
		const Datum *row;

		for (int i = 0; i < ncols; i++)
		{
			values[nlead + i] = cols[i].values[r];
			nulls[nlead + i] = cols[i].nulls[r];
		}
		row = nx_bulk_add(b, values, nulls);
		if (max_seq)
			*max_seq = Max(*max_seq, DatumGetInt64(row[seq_att - 1]));
	}
	nx_bulk_end(b);
	return true;
}

/*
 * New orders, written directly: the tenant row is locked as the foreign
 * key's check would lock it (so the tenant cannot be deleted under them), once
 * per page instead of once per order.
 */
static bool
bulk_write_orders(const pg_uuid_t *tenant, const pg_uuid_t *conn, const char *marketplace,
				  Column *cols, int64 *seq)
{
	Datum		lead[3] = {UUIDPGetDatum(tenant), UUIDPGetDatum(conn), CStringGetTextDatum(marketplace)};
	static const Oid lead_types[3] = {UUIDOID, UUIDOID, TEXTOID};
	Datum		arg = UUIDPGetDatum(tenant);

	if (SPI_execute_plan(plan_lock_tenant, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "nexus: tenant lock failed");
	if (SPI_processed == 0)
		return false;			/* gone: let the executor's check say so */
	*seq = 0;
	return bulk_write("orders", order_column_names, lead, lead_types, 3, cols, 19,
					  "orders_tenant_id_fkey", seq);
}

/* Items of orders this call inserted or row-locked (updated): their orders are vouched for. */
static bool
bulk_write_items(const pg_uuid_t *tenant, Column *icols)
{
	Datum		lead = UUIDPGetDatum(tenant);
	static const Oid lead_type = UUIDOID;

	return bulk_write("order_items", item_column_names, &lead, &lead_type, 1, icols, 8,
					  "order_items_order_fkey", NULL);
}

static void
order_args(Datum *args, const pg_uuid_t *tenant, const pg_uuid_t *conn, const char *marketplace,
		   Column *cols)
{
	args[0] = UUIDPGetDatum(tenant);
	args[1] = UUIDPGetDatum(conn);
	args[2] = CStringGetTextDatum(marketplace);
	for (int i = 0; i < 19; i++)
		args[3 + i] = col_array(&cols[i]);
}

Datum
jsonb_from_cstring(const char *text)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
}

/* Look up the stored versions of the orders at indexes idx[0..n). */
static void
lookup_stored(const pg_uuid_t *tenant, const pg_uuid_t *conn, NexusOrder *orders,
			  const int *idx, int n, Stored *stored)
{
	Column		ids;
	Datum		args[3];

	col_init(&ids, TEXTOID, n);
	for (int i = 0; i < n; i++)
		col_text(&ids, orders[idx[i]].external_order_id);
	args[0] = UUIDPGetDatum(tenant);
	args[1] = UUIDPGetDatum(conn);
	args[2] = col_array(&ids);
	if (SPI_execute_plan(plan_lookup, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "nexus: order look-up failed");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *ext = SPI_getvalue(tup, desc, 1);
		bool		isnull;

		for (int i = 0; i < n; i++)
			if (!stored[i].found && strcmp(orders[idx[i]].external_order_id, ext) == 0)
			{
				Datum		ts;

				stored[i].found = true;
				stored[i].id = *DatumGetUUIDP(SPI_getbinval(tup, desc, 2, &isnull));
				ts = SPI_getbinval(tup, desc, 3, &isnull);
				stored[i].has_updated_at = !isnull;
				stored[i].updated_at = isnull ? 0 : DatumGetTimestampTz(ts);
				stored[i].hash = DatumGetByteaPCopy(SPI_getbinval(tup, desc, 4, &isnull));
			}
	}
}

static Verdict
decide(const NexusOrder *o, const Stored *s)
{
	bytea	   *h;

	if (!s->found)
		return V_INSERT;
	if (o->has_updated_at && s->has_updated_at &&
		unix_to_timestamptz(o->updated_at) < s->updated_at)
		return V_STALE;
	h = order_hash(o);
	if (VARSIZE_ANY_EXHDR(h) == VARSIZE_ANY_EXHDR(s->hash) &&
		memcmp(VARDATA_ANY(h), VARDATA_ANY(s->hash), VARSIZE_ANY_EXHDR(h)) == 0)
		return V_UNCHANGED;
	return V_UPDATE;
}

static void
add_items(Column *icols, const NexusOrder *o, const pg_uuid_t *order_id)
{
	for (int i = 0; i < o->nitems; i++)
	{
		const NexusItem *it = &o->items[i];
		pg_uuid_t  *idp = palloc(sizeof(pg_uuid_t));

		*idp = *order_id;
		col_add(&icols[0], UUIDPGetDatum(idp), false);
		col_add(&icols[1], Int32GetDatum(i + 1), false);
		col_text(&icols[2], it->external_item_id);
		col_text(&icols[3], it->sku);
		col_text(&icols[4], it->title);
		col_add(&icols[5], Int32GetDatum((int32) it->quantity), false);
		col_amount(&icols[6], it->unit_price, o->exponent);
		col_amount(&icols[7], it->line_total, o->exponent);
	}
}

/* Milliseconds since the Unix epoch, from the wall clock. */
static uint64
unix_ms_now(void)
{
	TimestampTz now = GetCurrentTimestamp();

	return (uint64) (now / 1000 + NEXUS_UNIX_EPOCH_OFFSET * 1000);
}

/*
 * Make random bytes an RFC 9562 version 7 id: the time in milliseconds
 * first, then the random bits.  New orders then land at the right edge of
 * the primary key and of the items' keys instead of at random places in
 * them (random version 4 ids touched a different leaf page per row).
 */
static void
set_time_ordered(pg_uuid_t *id, uint64 ms)
{
	for (int i = 0; i < 6; i++)
		id->data[i] = (unsigned char) (ms >> (8 * (5 - i)));
	id->data[6] = (id->data[6] & 0x0f) | 0x70;	/* version 7 */
	id->data[8] = (id->data[8] & 0x3f) | 0x80;	/* variant */
}

static int64
max_seq_of_result(void)
{
	int64		seq = 0;

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
									  SPI_tuptable->tupdesc->natts, &isnull);

		if (!isnull)
			seq = Max(seq, DatumGetInt64(d));
	}
	return seq;
}

/*
 * Insert orders the look-up found missing, without ON CONFLICT: the
 * arbiter's extra index probe and speculative-insertion protocol made the
 * orders INSERT a fifth slower (bench/ingest), to guard against a race that
 * almost never happens (another ingest of the same new order between our
 * look-up and insert).  The plain INSERT runs in a subtransaction instead;
 * if that race does happen, its unique violation is caught, the
 * subtransaction rolled back, and false tells the caller to take the
 * ON CONFLICT way.  Sets *seq to the highest change_seq written.
 *
 * A transaction that calls ingest_orders() many times would collect a
 * subtransaction id per call, and past PGPROC_MAX_CACHED_SUBXIDS every
 * other session's snapshots get slower; such a transaction is left on the
 * ON CONFLICT way from half that number on.
 */
static bool
insert_new_orders(const pg_uuid_t *tenant, const pg_uuid_t *conn, const char *marketplace,
				  Column *cols, int64 *seq)
{
	MemoryContext mcxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool inserted = false;

	if (MyProc->subxidStatus.overflowed ||
		MyProc->subxidStatus.count >= PGPROC_MAX_CACHED_SUBXIDS / 2)
		return false;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(mcxt);
	PG_TRY();
	{
		if (!bulk_write_orders(tenant, conn, marketplace, cols, seq))
		{
			Datum		args[22];

			order_args(args, tenant, conn, marketplace, cols);
			if (SPI_execute_plan(plan_insert_new, args, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
				elog(ERROR, "nexus: order insert failed");
			/* Read the result before the subtransaction ends. */
			*seq = max_seq_of_result();
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(mcxt);
		CurrentResourceOwner = owner;
		inserted = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(mcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(mcxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return inserted;
}

/*
 * Upsert the orders of p for (tenant, connection).  SPI must be connected.
 * failures gets the orders that could not be stored.
 */
void
nexus_ingest_payload(const pg_uuid_t *tenant, const pg_uuid_t *conn, const char *marketplace,
					 NexusPayload *p, NexusIngestCounts *counts)
{
	int			n = p->norders;
	int		   *work = palloc(sizeof(int) * Max(n, 1));
	int			nwork = 0;
	int64		seq = 0;

	memset(counts, 0, sizeof(*counts));
	counts->failed = palloc0(sizeof(NexusFailure) * Max(n + p->nfailed, 1));
	for (int i = 0; i < p->nfailed; i++)
		counts->failed[counts->nfailed++] = p->failed[i];
	prepare_plans();

	/* Validate, and keep only the newest copy of an order listed twice. */
	for (int i = 0; i < n; i++)
	{
		NexusOrder *o = &p->orders[i];
		const char *why = unstorable(o);
		bool		dup = false;

		if (why)
		{
			counts->failed[counts->nfailed].external_order_id = o->external_order_id;
			counts->failed[counts->nfailed++].error = pstrdup(why);
			continue;
		}
		for (int j = 0; j < nwork; j++)
		{
			NexusOrder *q = &p->orders[work[j]];

			if (strcmp(q->external_order_id, o->external_order_id) == 0)
			{
				dup = true;
				if (!q->has_updated_at || (o->has_updated_at && o->updated_at >= q->updated_at))
					work[j] = i;
				counts->unchanged++;	/* the older copy changes nothing */
				break;
			}
		}
		if (!dup)
			work[nwork++] = i;
	}

	/* Two rounds at most: the second takes orders a concurrent ingest inserted first. */
	for (int round = 0; round < 2 && nwork > 0; round++)
	{
		Stored	   *stored = palloc0(sizeof(Stored) * nwork);
		Column		ins[19];
		Column		upd[19];
		Column		icols[8];
		Column		upd_ids;
		int		   *ins_idx = palloc(sizeof(int) * nwork);
		pg_uuid_t  *ins_ids = palloc(sizeof(pg_uuid_t) * nwork);
		pg_uuid_t  *fresh_ids = palloc(sizeof(pg_uuid_t) * Max(nwork, 1));
		uint64		now_ms;
		bool	   *ins_won = palloc0(sizeof(bool) * nwork);
		int		   *upd_idx = palloc(sizeof(int) * nwork);
		pg_uuid_t  *upd_uuid = palloc(sizeof(pg_uuid_t) * nwork);
		int			nins = 0;
		int			nupd = 0;
		int			nlost = 0;
		int64		new_seq = 0;
		static const Oid item_types[8] = {UUIDOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, INT4OID,
		NUMERICOID, NUMERICOID};
		Datum		args[22];

		lookup_stored(tenant, conn, p->orders, work, nwork, stored);
		/* Random bytes for every order the page might insert, in one call: one call per id cost 1%. */
		now_ms = unix_ms_now();
		if (!pg_strong_random(fresh_ids, sizeof(pg_uuid_t) * nwork))
			elog(ERROR, "nexus: could not generate order ids");
		init_order_columns(ins, nwork);
		init_order_columns(upd, nwork);
		col_init(&upd_ids, UUIDOID, nwork);
		for (int i = 0; i < 8; i++)
			col_init(&icols[i], item_types[i], nwork * 3);

		for (int i = 0; i < nwork; i++)
		{
			NexusOrder *o = &p->orders[work[i]];

			switch (decide(o, &stored[i]))
			{
				case V_INSERT:
					ins_ids[nins] = fresh_ids[nins];
					set_time_ordered(&ins_ids[nins], now_ms);
					add_order_columns(ins, o, &ins_ids[nins]);
					ins_idx[nins++] = work[i];
					break;
				case V_UPDATE:
					add_order_columns(upd, o, &stored[i].id);
					upd_uuid[nupd] = stored[i].id;
					col_add(&upd_ids, UUIDPGetDatum(&upd_uuid[nupd]), false);
					upd_idx[nupd++] = work[i];
					break;
				case V_UNCHANGED:
					counts->unchanged++;
					break;
				case V_STALE:
					counts->stale++;
					break;
				case V_SKIP:
					break;
			}
		}

		if (nins > 0 && round == 0 && insert_new_orders(tenant, conn, marketplace, ins, &new_seq))
		{
			counts->inserted += nins;
			seq = Max(seq, new_seq);
			for (int i = 0; i < nins; i++)
				ins_won[i] = true;
		}
		else if (nins > 0)
		{
			order_args(args, tenant, conn, marketplace, ins);
			if (SPI_execute_plan(plan_insert, args, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
				elog(ERROR, "nexus: order insert failed");
			counts->inserted += (int64) SPI_processed;
			seq = Max(seq, max_seq_of_result());
			for (uint64 r = 0; r < SPI_processed; r++)
			{
				char	   *ext = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);

				for (int i = 0; i < nins; i++)
					if (!ins_won[i] && strcmp(ext, p->orders[ins_idx[i]].external_order_id) == 0)
					{
						ins_won[i] = true;
						break;
					}
			}
		}
		if (nupd > 0)
		{
			bool	   *upd_done = palloc0(sizeof(bool) * nupd);
			Column		done_ids;

			order_args(args, tenant, conn, marketplace, upd);
			if (SPI_execute_plan(plan_update, args, NULL, false, 0) != SPI_OK_UPDATE_RETURNING)
				elog(ERROR, "nexus: order update failed");
			seq = Max(seq, max_seq_of_result());
			col_init(&done_ids, UUIDOID, nupd);
			for (uint64 r = 0; r < SPI_processed; r++)
			{
				bool		isnull;
				pg_uuid_t  *id = DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[r],
															 SPI_tuptable->tupdesc, 1, &isnull));

				for (int i = 0; i < nupd; i++)
					if (!upd_done[i] && memcmp(&upd_uuid[i], id, sizeof(pg_uuid_t)) == 0)
					{
						upd_done[i] = true;
						col_add(&done_ids, UUIDPGetDatum(&upd_uuid[i]), false);
						break;
					}
			}
			counts->updated += done_ids.n;
			/* The others were overtaken by a newer write between look-up and update. */
			counts->stale += nupd - done_ids.n;
			if (done_ids.n > 0)
			{
				args[0] = UUIDPGetDatum(tenant);
				args[1] = col_array(&done_ids);
				if (SPI_execute_plan(plan_delete_items, args, NULL, false, 0) != SPI_OK_DELETE)
					elog(ERROR, "nexus: order item delete failed");
			}
			for (int i = 0; i < nupd; i++)
				if (!upd_done[i])
					upd_idx[i] = -1;
		}

		/* Items of the orders written; those that lost the race go round again. */
		for (int i = 0; i < nins; i++)
		{
			if (ins_won[i])
				add_items(icols, &p->orders[ins_idx[i]], &ins_ids[i]);
			else
				work[nlost++] = ins_idx[i];
		}
		for (int i = 0; i < nupd; i++)
			if (upd_idx[i] >= 0)
				add_items(icols, &p->orders[upd_idx[i]], &upd_uuid[i]);
		if (icols[0].n > 0 && !bulk_write_items(tenant, icols))
		{
			args[0] = UUIDPGetDatum(tenant);
			for (int i = 0; i < 8; i++)
				args[1 + i] = col_array(&icols[i]);
			if (SPI_execute_plan(plan_insert_items, args, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "nexus: order item insert failed");
		}
		nwork = nlost;
	}
	if (nwork > 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("orders of this page were written concurrently"),
				 errhint("Retry the ingest.")));
	queue_notify(tenant, counts->inserted + counts->updated, seq);
}
