-- bench/ingest/setup.sql: the schema the ingest benchmark works in.
--
-- One tenant and three connections per marketplace (shopify, walmart): one
-- for each way of loading (nexus, plpgsql, copy), so that rows of different
-- ways can never be confused.  Every timed run starts from the same state,
-- made by bench.reset(way) and committed before the clock starts: the order
-- tables truncated, then only the history (older orders, see below) on the
-- way's connections, analyzed, and a checkpoint.  So the three ways write the
-- same 100,000 orders into the same tables, with the same indexes, triggers
-- and foreign keys.
-- Run as a superuser, once, on an empty database.

\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS nexus;

CREATE SCHEMA bench;

-- The tenant (created the supported way) and its six connections.  Connections
-- are inserted directly: ingest needs only their tenant and marketplace, and
-- connect_marketplace would need a credentials key file for nothing.
CREATE TABLE bench.conns (
  way         text NOT NULL,
  marketplace text NOT NULL,
  id          uuid NOT NULL,
  PRIMARY KEY (way, marketplace)
);

WITH t AS (
  SELECT tenant_id FROM nexus.create_tenant('Ingest bench', 'ingest-bench',
                                            md5('ingest-bench-owner')::uuid)
), c AS (
  INSERT INTO nexus.marketplace_connections (tenant_id, marketplace, account_name, status)
  SELECT t.tenant_id, m, w || ' ' || m, 'active'
    FROM t
   CROSS JOIN (VALUES ('nexus'), ('plpgsql'), ('copy')) ways(w)
   CROSS JOIN (VALUES ('shopify'), ('walmart')) mps(m)
  RETURNING id, marketplace, account_name
)
INSERT INTO bench.conns (way, marketplace, id)
SELECT split_part(account_name, ' ', 1), marketplace, id FROM c;

-- The marketplace list pages, as the marketplace's JSON text (100 orders each).
CREATE TABLE bench.pages (
  marketplace text NOT NULL,
  n           integer NOT NULL,
  page        text COMPRESSION lz4 NOT NULL,
  PRIMARY KEY (marketplace, n)
);

-- What the generator meant each order to become (checked against nexus).
CREATE TABLE bench.expected (
  marketplace       text NOT NULL,
  external_order_id text NOT NULL,
  status            text NOT NULL,
  total_amount      numeric(14,2) NOT NULL,
  PRIMARY KEY (marketplace, external_order_id)
);

-- One row per timed run.
CREATE TABLE bench.results (
  way      text NOT NULL,
  round    integer NOT NULL,
  orders   integer NOT NULL,
  items    integer NOT NULL,
  seconds  double precision NOT NULL
);

-- Money as a marketplace writes it ("12.90").
CREATE FUNCTION bench.m(x numeric) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT to_char(x, 'FM9999999999990.00') $$;

-- History: older orders already stored on every connection (3 items each),
-- so that each timed run writes into a store in its steady state, with
-- statistics that know the tenant and its connections (as autovacuum keeps
-- them).  Without them PostgreSQL plans the foreign-key check of every item
-- insert on an empty, never-analyzed orders table and may pick an index on
-- tenant_id alone, which then scans the whole tenant per item: quadratic for
-- every way alike.  External ids start with 'H-'.
CREATE TABLE bench.history_orders (
  marketplace       text NOT NULL,
  external_order_id text NOT NULL,
  status            text NOT NULL,
  total_amount      numeric(14,2) NOT NULL,
  ordered_at        timestamptz NOT NULL,
  PRIMARY KEY (marketplace, external_order_id)
);

CREATE PROCEDURE bench.make_history(p_per_connection integer)
  LANGUAGE sql
  AS $$
  INSERT INTO bench.history_orders
  SELECT m, 'H-' || m || '-' || g,
         (ARRAY['delivered', 'delivered', 'shipped', 'confirmed', 'cancelled', 'refunded', 'processing'])[1 + g % 7],
         round(((g * 7919) % 30000 + 500) / 100.0, 2),
         timestamptz '2024-01-01 00:00:00+00' + g * interval '11 minutes'
    FROM (VALUES ('shopify'), ('walmart')) mp(m)
   CROSS JOIN generate_series(1, p_per_connection) g;
$$;

-- Empty order tables but for the way's history, analyzed, outside any
-- timed transaction.
CREATE PROCEDURE bench.reset(p_way text)
  LANGUAGE plpgsql
  AS $$
BEGIN
  TRUNCATE nexus.order_items, nexus.orders;
  INSERT INTO nexus.orders (tenant_id, id, connection_id, marketplace, external_order_id, order_number,
                            status, marketplace_status, fulfillment_method, currency, subtotal, tax_total,
                            shipping_total, discount_total, total_amount, buyer_name, buyer_email,
                            ship_country, shipping_address, ordered_at, marketplace_updated_at, content_hash)
  SELECT mc.tenant_id, md5(c.id::text || h.external_order_id)::uuid, c.id, h.marketplace, h.external_order_id,
         '#' || h.external_order_id, h.status, h.status, 'FBM',
         CASE h.marketplace WHEN 'shopify' THEN 'EUR' ELSE 'USD' END,
         h.total_amount, round(h.total_amount * 0.16, 2), 0, 0, h.total_amount,
         'Buyer ' || h.external_order_id, h.external_order_id || '@example.com',
         CASE h.marketplace WHEN 'shopify' THEN 'DE' ELSE 'US' END,
         jsonb_build_object('name', 'Buyer ' || h.external_order_id, 'city', 'Berlin'),
         h.ordered_at, h.ordered_at + interval '2 days', decode(md5(h.external_order_id), 'hex')
    FROM bench.history_orders h
    JOIN bench.conns c ON c.way = p_way AND c.marketplace = h.marketplace
    JOIN nexus.marketplace_connections mc ON mc.id = c.id
   ORDER BY h.ordered_at;
  INSERT INTO nexus.order_items (tenant_id, order_id, line_no, external_item_id, sku, title, quantity,
                                 unit_price, line_total)
  SELECT o.tenant_id, o.id, k, o.external_order_id || '-' || k, 'SKU-' || k, 'Item ' || k, 1,
         round(o.total_amount / 3, 2), round(o.total_amount / 3, 2)
    FROM nexus.orders o
   CROSS JOIN generate_series(1, 3) k
   ORDER BY o.ordered_at, k;
  ANALYZE nexus.orders;
  ANALYZE nexus.order_items;
  COMMIT;
  CHECKPOINT;
END
$$;

-- The driver for the two function-based ways: every page of both
-- marketplaces (interleaved, as a sync engine with two connections would
-- send them), each page in its own transaction, the call's result checked.
-- expect: 'inserted' (a first pass) or 'unchanged' (the same pages again).
-- Ways read_json / read_jsonb only fetch each page and convert it to the
-- argument type (what the driver and the input function cost, included in
-- the timings of nexus and plpgsql respectively).
-- The pages again with every order in a newer version (bench.run's
-- 'updated' pass): Shopify's times an hour later (+01:00 read as +00:00),
-- Walmart's line status dates (where its adapter takes the order's update
-- time; milliseconds since 1970, 17... now) about three years later.
CREATE PROCEDURE bench.make_changed_pages()
  LANGUAGE sql
  AS $$
  DROP TABLE IF EXISTS bench.changed_pages;
  CREATE TABLE bench.changed_pages AS
  SELECT marketplace, n,
         CASE marketplace
           WHEN 'shopify' THEN replace(page, '+01:00"', '+00:00"')
           ELSE replace(page, '"statusDate": 17', '"statusDate": 18')
         END AS page
    FROM bench.pages;
  ALTER TABLE bench.changed_pages ADD PRIMARY KEY (marketplace, n);
$$;

CREATE PROCEDURE bench.run(p_way text, p_round integer, p_expect text DEFAULT 'inserted')
  LANGUAGE plpgsql
  AS $$
DECLARE
  c_shopify uuid := (SELECT id FROM bench.conns WHERE way = p_way AND marketplace = 'shopify');
  c_walmart uuid := (SELECT id FROM bench.conns WHERE way = p_way AND marketplace = 'walmart');
  npages integer := (SELECT max(n) FROM bench.pages);
  mp text;
  conn uuid;
  payload text;
  r jsonb;
  j json;
  jb jsonb;
  got integer;
  total integer := 0;
  t0 timestamptz;
  elapsed double precision;
BEGIN
  IF p_way IN ('nexus', 'plpgsql') AND (c_shopify IS NULL OR c_walmart IS NULL) THEN
    RAISE EXCEPTION 'no connections for way %', p_way;
  END IF;
  t0 := clock_timestamp();
  FOR i IN 1 .. npages LOOP
    FOREACH mp IN ARRAY ARRAY['shopify', 'walmart'] LOOP
      conn := CASE mp WHEN 'shopify' THEN c_shopify ELSE c_walmart END;
      IF p_expect = 'updated' THEN
        SELECT page INTO payload FROM bench.changed_pages WHERE marketplace = mp AND n = i;
      ELSE
        SELECT page INTO payload FROM bench.pages WHERE marketplace = mp AND n = i;
      END IF;
      CONTINUE WHEN NOT FOUND;
      IF p_way = 'read_json' THEN
        -- what the driver itself costs: fetching the page and the json input function
        j := payload::json;
        got := 100;
      ELSIF p_way = 'read_jsonb' THEN
        jb := payload::jsonb;
        got := 100;
      ELSIF p_way = 'nexus' THEN
        r := nexus.ingest_orders(conn, payload::json);
        got := (r ->> p_expect)::integer;
        IF jsonb_array_length(r -> 'failed') > 0 OR got <> 100 THEN
          RAISE EXCEPTION 'nexus: % page %: expected 100 %, got %', mp, i, p_expect, r;
        END IF;
      ELSIF mp = 'shopify' THEN
        r := bench_plpgsql.ingest_shopify(conn, payload::jsonb);
        got := (r ->> 'upserted')::integer;
        IF got <> 100 THEN
          RAISE EXCEPTION 'plpgsql: % page %: expected 100 upserted, got %', mp, i, r;
        END IF;
      ELSE
        r := bench_plpgsql.ingest_walmart(conn, payload::jsonb);
        got := (r ->> 'upserted')::integer;
        IF got <> 100 THEN
          RAISE EXCEPTION 'plpgsql: % page %: expected 100 upserted, got %', mp, i, r;
        END IF;
      END IF;
      total := total + got;
      COMMIT;
    END LOOP;
  END LOOP;
  elapsed := extract(epoch FROM clock_timestamp() - t0);
  INSERT INTO bench.results (way, round, orders, items, seconds)
  VALUES (CASE p_expect WHEN 'inserted' THEN p_way ELSE p_way || '_' || p_expect END, p_round, total,
          CASE WHEN p_expect = 'inserted' AND p_way IN ('nexus', 'plpgsql')
               THEN (SELECT count(*) FROM bench.current_items) ELSE 0 END,
          elapsed);
  COMMIT;
END
$$;

-- ---------------------------------------------------------------- checks

CREATE FUNCTION bench.assert(ok boolean, msg text) RETURNS text
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION 'check failed: %', msg;
  END IF;
  RETURN 'ok: ' || msg;
END
$$;

-- Besides the history, the order tables hold exactly p_orders orders with 3
-- items each, all on the way's connections.
CREATE FUNCTION bench.check_counts(p_way text, p_orders integer) RETURNS text
  LANGUAGE plpgsql
  AS $$
DECLARE
  n_history bigint := (SELECT count(*) FROM bench.history_orders);
  n_orders bigint := (SELECT count(*) FROM bench.current_orders);
  n_items bigint := (SELECT count(*) FROM bench.current_items);
  n_all bigint := (SELECT count(*) FROM nexus.orders);
  n_all_items bigint := (SELECT count(*) FROM nexus.order_items);
  n_way bigint := (SELECT count(*) FROM nexus.orders o JOIN bench.conns c
                    ON c.id = o.connection_id AND c.way = p_way AND c.marketplace = o.marketplace);
  n_mp bigint := (SELECT count(DISTINCT marketplace) FROM bench.current_orders);
BEGIN
  RETURN bench.assert(n_orders = p_orders AND n_items = 3 * p_orders AND n_mp = 2
                      AND n_all = n_orders + n_history AND n_way = n_all AND n_all_items = 3 * n_all,
                      format('%s: %s new orders (%s marketplaces) with %s items; %s orders in all, all on its connections; want %s / %s',
                             p_way, n_orders, n_mp, n_items, n_all, p_orders, 3 * p_orders));
END
$$;

-- The canonical columns of the rows in nexus.orders / nexus.order_items, keyed by
-- marketplace and external ids (ids, connection, hash, change_seq and times left out).
CREATE VIEW bench.current_orders AS
  SELECT marketplace, external_order_id, order_number, status, marketplace_status, fulfillment_method,
         currency, subtotal, tax_total, shipping_total, discount_total, total_amount, buyer_name,
         buyer_email, ship_country, shipping_address, ordered_at, marketplace_updated_at
    FROM nexus.orders
   WHERE external_order_id NOT LIKE 'H-%';
CREATE VIEW bench.current_items AS
  SELECT o.marketplace, o.external_order_id, i.line_no, i.external_item_id, i.sku, i.title, i.quantity,
         i.unit_price, i.line_total
    FROM nexus.order_items i JOIN nexus.orders o ON o.tenant_id = i.tenant_id AND o.id = i.order_id
   WHERE o.external_order_id NOT LIKE 'H-%';

-- Keep what nexus wrote (round 1) to compare the other ways with, and to feed COPY.
CREATE PROCEDURE bench.snapshot()
  LANGUAGE plpgsql
  AS $$
BEGIN
  DROP TABLE IF EXISTS bench.snap_orders, bench.snap_items, bench.snap_canon_orders, bench.snap_canon_items;
  CREATE TABLE bench.snap_orders AS SELECT * FROM nexus.orders WHERE external_order_id NOT LIKE 'H-%';
  CREATE TABLE bench.snap_items AS SELECT i.* FROM nexus.order_items i JOIN bench.snap_orders o ON o.id = i.order_id;
  CREATE TABLE bench.snap_canon_orders AS SELECT * FROM bench.current_orders;
  CREATE TABLE bench.snap_canon_items AS SELECT * FROM bench.current_items;
  COMMIT;
END
$$;

-- Every row now in the tables equals nexus's (round 1), orders and items.
CREATE FUNCTION bench.compare_with_nexus(p_way text) RETURNS text
  LANGUAGE plpgsql
  AS $$
DECLARE
  bad_orders bigint;
  bad_items bigint;
BEGIN
  SELECT count(*) INTO bad_orders
    FROM bench.current_orders c
    FULL JOIN bench.snap_canon_orders s USING (marketplace, external_order_id)
   WHERE c IS DISTINCT FROM s;
  SELECT count(*) INTO bad_items
    FROM bench.current_items c
    FULL JOIN bench.snap_canon_items s USING (marketplace, external_order_id, line_no)
   WHERE c IS DISTINCT FROM s;
  RETURN bench.assert(bad_orders = 0 AND bad_items = 0,
                      format('%s rows equal nexus''s: %s orders and %s items differ', p_way, bad_orders, bad_items));
END
$$;

-- Every order nexus wrote has the status and total the generator meant.
CREATE FUNCTION bench.check_expected() RETURNS text
  LANGUAGE plpgsql
  AS $$
DECLARE
  bad bigint;
  n bigint;
BEGIN
  SELECT count(*), count(*) FILTER (WHERE o.status IS DISTINCT FROM e.status
                                       OR o.total_amount IS DISTINCT FROM e.total_amount)
    INTO n, bad
    FROM bench.expected e
    LEFT JOIN nexus.orders o USING (marketplace, external_order_id);
  RETURN bench.assert(bad = 0, format('nexus status and total as generated for %s of %s orders', n - bad, n));
END
$$;
