-- Orders: the canonical order of every marketplace, its items, and the
-- webhook events that delivered them.  Written by nexus.ingest_orders()
-- (and the sync engine and webhook endpoints through it), read through RLS.

CREATE SEQUENCE nexus_private.order_change_seq;

CREATE TABLE nexus.orders (
  -- Named: ingest.c vouches for this key when it inserts (bulk.c).
  tenant_id              uuid NOT NULL
    CONSTRAINT orders_tenant_id_fkey REFERENCES nexus.tenants ON DELETE CASCADE,
  id                     uuid NOT NULL DEFAULT gen_random_uuid(),
  -- No foreign key to the connection: orders outlive a disconnected account.
  connection_id          uuid NOT NULL,
  -- Codes and marketplace ids compare byte by byte (COLLATE "C"), whatever
  -- the database's locale: under en_US.UTF-8 every index comparison of them
  -- went through strcoll, 8% of an ingest (bench/ingest, BENCH_LOCALE).
  marketplace            text COLLATE "C" NOT NULL,
  external_order_id      text COLLATE "C" NOT NULL,
  order_number           text,
  status                 text COLLATE "C" NOT NULL,
  marketplace_status     text,
  fulfillment_method     text COLLATE "C" NOT NULL,
  currency               text COLLATE "C" NOT NULL,
  subtotal               numeric(14,2),
  tax_total              numeric(14,2),
  shipping_total         numeric(14,2),
  discount_total         numeric(14,2),
  total_amount           numeric(14,2),
  buyer_name             text,
  buyer_email            text,
  ship_country           text COLLATE "C",
  shipping_address       jsonb,
  ordered_at             timestamptz,
  marketplace_updated_at timestamptz,
  -- md5 of the canonical record: an identical payload changes nothing.
  content_hash           bytea NOT NULL,
  -- Bumped on every insert and change: a cursor for "what changed since".
  change_seq             bigint NOT NULL DEFAULT nextval('nexus_private.order_change_seq'),
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT orders_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT orders_external_key UNIQUE (tenant_id, connection_id, external_order_id),
  CONSTRAINT orders_marketplace_check
    CHECK (marketplace IN ('amazon', 'ebay', 'bol', 'kaufland', 'shopify', 'zalando', 'walmart')),
  CONSTRAINT orders_status_check
    CHECK (status IN ('pending', 'confirmed', 'processing', 'shipped', 'delivered', 'completed',
                      'cancelled', 'return_initiated', 'return_received', 'refunded')),
  CONSTRAINT orders_fulfillment_method_check CHECK (fulfillment_method IN ('FBM', 'FBA', 'FBS')),
  CONSTRAINT orders_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  CONSTRAINT orders_ship_country_check CHECK (ship_country ~ '^[A-Z]{2}$')
);
COMMENT ON TABLE nexus.orders IS
  'Canonical orders of every marketplace; one row per (tenant, connection, external order id)';
CREATE INDEX orders_status_idx ON nexus.orders (tenant_id, status, ordered_at DESC);
CREATE INDEX orders_marketplace_idx ON nexus.orders (tenant_id, marketplace, ordered_at DESC);
CREATE INDEX orders_fulfillment_idx ON nexus.orders (tenant_id, fulfillment_method, ordered_at DESC);
-- Date ranges and keyset pagination: ORDER BY ordered_at DESC, id DESC.
CREATE INDEX orders_ordered_at_idx ON nexus.orders (tenant_id, ordered_at DESC, id DESC);
CREATE INDEX orders_change_seq_idx ON nexus.orders (tenant_id, change_seq);

CREATE TABLE nexus.order_items (
  tenant_id        uuid NOT NULL,
  order_id         uuid NOT NULL,
  line_no          integer NOT NULL,
  external_item_id text,
  sku              text COLLATE "C",	-- a code, as in orders
  title            text,
  quantity         integer NOT NULL,
  unit_price       numeric(14,2),
  line_total       numeric(14,2),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT order_items_pkey PRIMARY KEY (tenant_id, order_id, line_no),
  -- ingest.c vouches for this key when it inserts items (bulk.c): keep the name.
  CONSTRAINT order_items_order_fkey FOREIGN KEY (tenant_id, order_id)
    REFERENCES nexus.orders (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT order_items_quantity_check CHECK (quantity >= 0)
);
COMMENT ON TABLE nexus.order_items IS 'Lines of an order, replaced as a set whenever the order changes';
CREATE INDEX order_items_sku_idx ON nexus.order_items (tenant_id, sku);

CREATE TABLE nexus.webhook_events (
  tenant_id     uuid NOT NULL REFERENCES nexus.tenants ON DELETE CASCADE,
  id            uuid NOT NULL DEFAULT gen_random_uuid(),
  connection_id uuid NOT NULL,
  marketplace   text NOT NULL,
  event_id      text NOT NULL,
  topic         text,
  external_order_id text,
  status        text NOT NULL,
  result        jsonb,
  received_at   timestamptz NOT NULL DEFAULT now(),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_events_pkey PRIMARY KEY (tenant_id, id),
  -- A replay of the same event is recognised by this key.
  CONSTRAINT webhook_events_event_key UNIQUE (tenant_id, connection_id, event_id),
  CONSTRAINT webhook_events_status_check CHECK (status IN ('processed', 'needs_fetch', 'failed'))
);
COMMENT ON TABLE nexus.webhook_events IS
  'Verified webhook deliveries: processed (order ingested), needs_fetch (the body only names the order) or failed';
CREATE INDEX webhook_events_received_idx ON nexus.webhook_events (tenant_id, received_at DESC);

DO $tables$
DECLARE
  t regclass;
BEGIN
  FOREACH t IN ARRAY ARRAY['nexus.orders', 'nexus.order_items', 'nexus.webhook_events']::regclass[] LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
    PERFORM pg_catalog.pg_extension_config_dump(t, '');
    EXECUTE format('CREATE TRIGGER touch_updated_at BEFORE UPDATE ON %s
                    FOR EACH ROW EXECUTE FUNCTION nexus_private.touch_updated_at()', t);
  END LOOP;
END
$tables$;
SELECT pg_catalog.pg_extension_config_dump('nexus_private.order_change_seq', '');

-- Business data: viewers and keys with orders:read read; writes go through
-- nexus.ingest_orders(), which checks orders:write.
CREATE POLICY orders_read ON nexus.orders FOR SELECT TO anon, authenticated
  USING (tenant_id = nexus.tenant_id('orders:read'));
CREATE POLICY order_items_read ON nexus.order_items FOR SELECT TO anon, authenticated
  USING (tenant_id = nexus.tenant_id('orders:read'));
CREATE POLICY webhook_events_read ON nexus.webhook_events FOR SELECT TO anon, authenticated
  USING (tenant_id = nexus.tenant_id('webhooks:read'));
