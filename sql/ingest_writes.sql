-- How ingestion writes its rows.  New orders and items go in the way COPY
-- writes (src/bulk.c): no executor, no foreign-key check per row; the rows
-- must come out exactly as an INSERT would make them (column scale,
-- defaults, constraints), and a table a DBA gave a trigger or a rule goes
-- through the executor, so the trigger fires for every row.
\set VERBOSITY terse
\set shopify_p1 `cat fixtures/shopify/orders_page1.json`
\set shopify_p2 `cat fixtures/shopify/orders_page2.json`

BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.connect_marketplace('shopify', 'writes', '{"shop_domain": "writes-test.myshopify.com", "access_token": "t"}')
  AS conn \gset
COMMIT;

-- Amounts of a currency without minor units get the column's scale, as a
-- cast to numeric(14,2) gives them; defaults are evaluated per row; ids are
-- time-ordered (new orders append to the keys' right edge).
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(:'conn',
         jsonb_set(jsonb_set((:'shopify_p1'::jsonb) -> 'orders' -> 0, '{currency}', '"JPY"'),
                   '{total_price}', '"1500"')::json) AS jpy;
SELECT o.currency, o.total_amount::text AS total, o.tax_total::text AS tax,
       (SELECT string_agg(i.unit_price::text || ' x ' || i.quantity, ', ' ORDER BY i.line_no)
          FROM nexus.order_items i WHERE i.order_id = o.id) AS items,
       o.created_at = now() AND o.updated_at = now() AS stamped_now,
       o.change_seq > 0 AS has_seq, substr(o.id::text, 15, 1) AS uuid_version,
       -- version 7: the first 48 bits are the creation time in milliseconds
       abs(('x' || substr(replace(o.id::text, '-', ''), 1, 12))::bit(48)::bigint
           - (extract(epoch FROM clock_timestamp()) * 1000)::bigint) < 60000 AS id_time_now
  FROM nexus.orders o WHERE o.connection_id = :'conn';
COMMIT;

-- Every new order gets a change_seq of its own; indexes a DBA adds (on an
-- expression, partial) get entries for the new rows: scans of them find the rows.
CREATE INDEX writes_test_email_idx ON nexus.orders (lower(buyer_email));
CREATE INDEX writes_test_big_idx ON nexus.orders (tenant_id, total_amount) WHERE total_amount >= 100;
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(:'conn', :'shopify_p2') ->> 'inserted' AS inserted;
SELECT count(DISTINCT change_seq) AS seqs, count(*) AS orders FROM nexus.orders WHERE connection_id = :'conn';
COMMIT;
SELECT tenant_id AS tenant FROM nexus.marketplace_connections WHERE id = :'conn' \gset
SET enable_seqscan = off;
SET enable_bitmapscan = off;
-- The scan node of a query's plan (the ids in its filter vary from run to run).
CREATE FUNCTION pg_temp.scan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    IF l ~ 'Scan' THEN
      RETURN trim(l);
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
SELECT pg_temp.scan(format('SELECT external_order_id FROM nexus.orders
  WHERE lower(buyer_email) = %L AND connection_id = %L', 'cagla.yildiz@example.de', :'conn')) AS email_scan;
SELECT external_order_id FROM nexus.orders
 WHERE lower(buyer_email) = 'cagla.yildiz@example.de' AND connection_id = :'conn';
SELECT pg_temp.scan(format('SELECT external_order_id, total_amount FROM nexus.orders
  WHERE tenant_id = %L AND total_amount >= 100 AND connection_id = %L', :'tenant', :'conn')) AS big_scan;
SELECT external_order_id, total_amount FROM nexus.orders
 WHERE tenant_id = :'tenant' AND total_amount >= 100 AND connection_id = :'conn' ORDER BY 1;
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP INDEX nexus.writes_test_email_idx, nexus.writes_test_big_idx;

-- A check constraint a DBA adds holds for ingested rows too; the page that
-- breaks it writes nothing.
BEGIN;
ALTER TABLE nexus.orders ADD CONSTRAINT writes_test_small CHECK (total_amount < 40) NOT VALID;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(:'conn', :'shopify_p1');
ROLLBACK;
SELECT count(*) AS orders_after_failed_page FROM nexus.orders WHERE connection_id = :'conn';

-- A DBA's trigger on the items: it fires once per item, orders updated included.
CREATE TABLE public.writes_item_log (order_id uuid, line_no integer, sku text);
CREATE FUNCTION public.writes_log_item() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.writes_item_log VALUES (NEW.order_id, NEW.line_no, NEW.sku);
  RETURN NEW;
END
$$;
CREATE TRIGGER writes_log_item AFTER INSERT ON nexus.order_items
  FOR EACH ROW EXECUTE FUNCTION public.writes_log_item();
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(:'conn', :'shopify_p1') - 'next_cursor' AS with_trigger;
COMMIT;
SELECT (SELECT count(*) FROM public.writes_item_log) AS logged,
       (SELECT count(*) FROM nexus.order_items i JOIN nexus.orders o ON o.id = i.order_id
         WHERE o.connection_id = :'conn' AND o.external_order_id LIKE '580123456700_'
           AND o.external_order_id <= '5801234567003') AS items_of_page;
DROP TRIGGER writes_log_item ON nexus.order_items;
DROP FUNCTION public.writes_log_item();
DROP TABLE public.writes_item_log;

-- A rule on the orders (here: one that counts inserts) is honoured too.
CREATE TABLE public.writes_rule_count (n integer);
CREATE RULE writes_count AS ON INSERT TO nexus.orders DO ALSO INSERT INTO public.writes_rule_count VALUES (1);
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(:'conn',
         jsonb_set((:'shopify_p1'::jsonb) -> 'orders' -> 1, '{id}', '5801234567901')::json) ->> 'inserted' AS with_rule;
COMMIT;
SELECT count(*) AS rule_fired FROM public.writes_rule_count;
DROP RULE writes_count ON nexus.orders;
DROP TABLE public.writes_rule_count;

-- A column a DBA adds gets its default in rows nexus writes; a column
-- dropped since (its slot stays in the table) is left out.
ALTER TABLE nexus.order_items ADD COLUMN writes_test_gone integer;
ALTER TABLE nexus.order_items DROP COLUMN writes_test_gone;
ALTER TABLE nexus.order_items ADD COLUMN writes_test_source text NOT NULL DEFAULT 'nexus',
  ADD COLUMN writes_test_stamp timestamptz DEFAULT clock_timestamp();
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(:'conn',
         jsonb_set((:'shopify_p1'::jsonb) -> 'orders' -> 1, '{id}', '5801234567902')::json) ->> 'inserted' AS with_columns;
COMMIT;
SELECT i.writes_test_source AS source, i.writes_test_stamp IS NOT NULL AS stamped, i.sku
  FROM nexus.order_items i JOIN nexus.orders o ON o.id = i.order_id
 WHERE o.connection_id = :'conn' AND o.external_order_id = '5801234567902';
ALTER TABLE nexus.order_items DROP COLUMN writes_test_source, DROP COLUMN writes_test_stamp;

-- Clean up: the later tests count acme's orders.
DELETE FROM nexus.orders WHERE connection_id = :'conn';
SELECT count(*) AS items_left FROM nexus.order_items i
 WHERE NOT EXISTS (SELECT 1 FROM nexus.orders o WHERE o.tenant_id = i.tenant_id AND o.id = i.order_id);
DELETE FROM nexus.marketplace_connections WHERE id = :'conn';
