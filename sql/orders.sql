-- Orders: normalization of every fixture, ingestion (idempotent, out of
-- order, partial failures), permissions.
\set VERBOSITY default
\set SHOW_CONTEXT never

-- Fixtures, read from the shared fixture folder.
\set amazon_p1 `cat fixtures/amazon/orders_page1.json`
\set amazon_p2 `cat fixtures/amazon/orders_page2.json`
\set amazon_items `(printf '{'; sep=''; for f in fixtures/amazon/order_items/*.json; do printf '%s"%s": ' "$sep" "$(basename "$f" .json)"; cat "$f"; sep=','; done; printf '}')`
\set amazon_expected `cat fixtures/amazon/expected_canonical.json`
-- Amazon Orders API v2026-01-01: the repository's own fixtures (test/ is copied along).
\set amazon26_p1 `cat test/fixtures/amazon_v2026/orders_page1.json`
\set amazon26_p2 `cat test/fixtures/amazon_v2026/orders_page2.json`
\set amazon26_one `cat test/fixtures/amazon_v2026/get_order.json`
\set amazon26_expected `cat test/fixtures/amazon_v2026/expected_canonical.json`
\set ebay_p1 `cat fixtures/ebay/orders_page1.json`
\set ebay_p2 `cat fixtures/ebay/orders_page2.json`
\set ebay_p3 `cat fixtures/ebay/orders_page3_empty.json`
\set ebay_expected `cat fixtures/ebay/expected_canonical.json`
\set shopify_p1 `cat fixtures/shopify/orders_page1.json`
\set shopify_p2 `cat fixtures/shopify/orders_page2.json`
\set shopify_h1 `sh headers_json.sh fixtures/shopify/orders_page1.headers`
\set shopify_h2 `sh headers_json.sh fixtures/shopify/orders_page2.headers`
\set shopify_expected `cat fixtures/shopify/expected_canonical.json`
\set walmart_p1 `cat fixtures/walmart/orders_page1.json`
\set walmart_p2 `cat fixtures/walmart/orders_page2.json`
\set walmart_ca `cat fixtures/walmart/orders_ca_market.json`
\set walmart_expected `cat fixtures/walmart/expected_canonical.json`
\set zalando_p1 `cat fixtures/zalando/orders_page1.json`
\set zalando_p2 `cat fixtures/zalando/orders_page2.json`
\set zalando_p3 `cat fixtures/zalando/orders_page3_empty.json`
\set zalando_expected `cat fixtures/zalando/expected_canonical.json`
\set kaufland_p1 `cat fixtures/kaufland/orders_page1.json`
\set kaufland_details `(printf '['; sep=''; for f in fixtures/kaufland/order_details/*.json; do printf '%s' "$sep"; cat "$f"; sep=','; done; printf ']')`
\set kaufland_expected `cat fixtures/kaufland/expected_canonical.json`
\set bol_p1 `cat fixtures/bol/orders_page1.json`
\set bol_p3 `cat fixtures/bol/orders_page3_empty.json`
\set bol_details `(printf '['; sep=''; for f in fixtures/bol/order_details/*.json; do printf '%s' "$sep"; cat "$f"; sep=','; done; printf ']')`
\set bol_expected `cat fixtures/bol/expected_canonical.json`

-- Orders of got that differ from want (by external_order_id), or 'all equal'.
CREATE FUNCTION pg_temp.diff(got jsonb, want jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(coalesce(g.id, w.id), ', ' ORDER BY coalesce(g.id, w.id)), 'all equal')
    FROM (SELECT e ->> 'external_order_id' AS id, e FROM jsonb_array_elements(got) e) g
    FULL JOIN (SELECT e ->> 'external_order_id' AS id, e FROM jsonb_array_elements(want) e) w
      ON g.id = w.id
   WHERE g.e IS DISTINCT FROM w.e
$$;

-- Every fixture order normalizes to exactly its expected canonical record.
SELECT 'amazon' AS marketplace, pg_temp.diff(jsonb_agg(nexus.normalize_order('amazon',
         (o || jsonb_build_object('OrderItems', (:'amazon_items'::jsonb) -> (o ->> 'AmazonOrderId') -> 'payload' -> 'OrderItems'))::json)),
       :'amazon_expected') AS result
  FROM (SELECT jsonb_array_elements(:'amazon_p1'::jsonb -> 'payload' -> 'Orders') o
        UNION ALL SELECT jsonb_array_elements(:'amazon_p2'::jsonb -> 'payload' -> 'Orders')) s;
-- The same marketplace name reads Orders v2026-01-01: searchOrders pages and a getOrder response.
SELECT 'amazon v2026-01-01' AS marketplace, pg_temp.diff(
         (nexus.normalize_page('amazon', :'amazon26_p1') -> 'orders') || (nexus.normalize_page('amazon', :'amazon26_p2') -> 'orders')
         || jsonb_build_array(nexus.normalize_order('amazon', :'amazon26_one')),
         :'amazon26_expected') AS result;
SELECT 'ebay' AS marketplace, pg_temp.diff(
         (nexus.normalize_page('ebay', :'ebay_p1') -> 'orders') || (nexus.normalize_page('ebay', :'ebay_p2') -> 'orders'),
         :'ebay_expected') AS result;
SELECT 'shopify' AS marketplace, pg_temp.diff(
         (nexus.normalize_page('shopify', :'shopify_p1') -> 'orders') || (nexus.normalize_page('shopify', :'shopify_p2') -> 'orders'),
         :'shopify_expected') AS result;
SELECT 'walmart' AS marketplace, pg_temp.diff(
         (nexus.normalize_page('walmart', :'walmart_p1') -> 'orders') || (nexus.normalize_page('walmart', :'walmart_p2') -> 'orders')
         || (nexus.normalize_page('walmart', :'walmart_ca') -> 'orders'),
         :'walmart_expected') AS result;
SELECT 'zalando' AS marketplace, pg_temp.diff(
         (nexus.normalize_page('zalando', :'zalando_p1') -> 'orders') || (nexus.normalize_page('zalando', :'zalando_p2') -> 'orders'),
         :'zalando_expected') AS result;
SELECT 'kaufland' AS marketplace, pg_temp.diff(jsonb_agg(nexus.normalize_order('kaufland', d::json)), :'kaufland_expected') AS result
  FROM jsonb_array_elements(:'kaufland_details'::jsonb) d;
SELECT 'bol' AS marketplace, pg_temp.diff(jsonb_agg(nexus.normalize_order('bol', d::json)), :'bol_expected') AS result
  FROM jsonb_array_elements(:'bol_details'::jsonb) d;

-- Pages: cursors, empty last pages, and summaries that need a detail fetch.
SELECT nexus.normalize_page('ebay', :'ebay_p1') ->> 'next_cursor' IS NOT NULL AS ebay_has_next,
       nexus.normalize_page('ebay', :'ebay_p3') AS ebay_last_page;
SELECT nexus.normalize_page('zalando', :'zalando_p3') AS zalando_last_page;
-- Amazon v2026-01-01: pagination.nextToken, absent on the last page.
SELECT nexus.normalize_page('amazon', :'amazon26_p1') ->> 'next_cursor' AS amazon26_next,
       nexus.normalize_page('amazon', :'amazon26_p2') ->> 'next_cursor' AS amazon26_last;
-- Shopify paginates by the Link header, passed as the page's headers.
SELECT nexus.normalize_page('shopify', :'shopify_p1', :'shopify_h1') ->> 'next_cursor' AS shopify_next,
       nexus.normalize_page('shopify', :'shopify_p2', :'shopify_h2') ->> 'next_cursor' AS shopify_last;
SELECT jsonb_array_length(p -> 'detail_ids') AS bol_detail_ids, jsonb_array_length(p -> 'orders') AS bol_orders,
       p ->> 'next_cursor' AS bol_next
  FROM nexus.normalize_page('bol', :'bol_p1') p;
SELECT nexus.normalize_page('bol', :'bol_p3') AS bol_empty_page;
SELECT p -> 'detail_ids' AS kaufland_detail_ids, p ->> 'next_cursor' AS kaufland_next
  FROM nexus.normalize_page('kaufland', :'kaufland_p1') p;

-- Bad input: clear errors.
SELECT nexus.normalize_order('etsy', '{}');
SELECT nexus.normalize_order('shopify', '{"id": 1, "total_price": "abc"');
SELECT nexus.normalize_order('shopify', '[1, 2, 3]');
SELECT nexus.normalize_page('ebay', '{"orders": "none"}');
-- An Amazon v2026-01-01 order without its status (no includedData=FULFILLMENT).
SELECT nexus.normalize_order('amazon', ((:'amazon26_one'::jsonb) #- '{order,fulfillment}')::json);

-- An unknown raw status keeps the order, maps to pending, and warns.
SELECT o ->> 'status' AS status, o ->> 'marketplace_status' AS raw
  FROM nexus.normalize_order('amazon', (((:'amazon_p1'::jsonb -> 'payload' -> 'Orders' -> 0)
         || '{"OrderStatus": "Teleported"}'))::json) o;

-- Ingestion.  One connection per marketplace for acme.
BEGIN;
SELECT rest.as_user('adam', 'acme');
CREATE TEMP TABLE conns AS
SELECT m, nexus.connect_marketplace(m, m || ' orders', c::jsonb, region => r) AS id
  FROM (VALUES
    ('amazon', '{"lwa_client_id": "a", "lwa_client_secret": "b", "refresh_token": "c"}', 'ATVPDKIKX0DER'),
    ('ebay', '{"client_id": "a", "client_secret": "b", "refresh_token": "c"}', '77'),
    ('bol', '{"client_id": "a", "client_secret": "b"}', NULL),
    ('kaufland', '{"client_key": "a", "secret_key": "b"}', 'de'),
    ('shopify', '{"shop_domain": "orders-test.myshopify.com", "access_token": "t"}', NULL),
    ('zalando', '{"client_id": "a", "client_secret": "b", "merchant_id": "m"}', NULL),
    ('walmart', '{"client_id": "a", "client_secret": "b"}', NULL)) v(m, c, r);
COMMIT;
GRANT SELECT ON conns TO PUBLIC;
CREATE FUNCTION pg_temp.conn(p_m text) RETURNS uuid LANGUAGE sql AS $$ SELECT id FROM conns WHERE m = p_m $$;

-- A manager ingests pages; the result counts what happened.
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(pg_temp.conn('shopify'), :'shopify_p1') - 'next_cursor' AS shopify_p1;
SELECT nexus.ingest_orders(pg_temp.conn('shopify'), :'shopify_p2') AS shopify_p2;
SELECT nexus.ingest_orders(pg_temp.conn('ebay'), :'ebay_p1') - 'next_cursor' AS ebay_p1;
SELECT nexus.ingest_orders(pg_temp.conn('walmart'), :'walmart_p1') - 'next_cursor' AS walmart_p1;
SELECT nexus.ingest_orders(pg_temp.conn('zalando'), :'zalando_p1') - 'next_cursor' AS zalando_p1;
-- A single order (bol's detail response), and a summary page that only lists ids.
SELECT nexus.ingest_orders(pg_temp.conn('bol'), ((:'bol_details'::jsonb) -> 0)::json) AS bol_one;
SELECT (r - 'detail_ids') AS bol_summary_page, jsonb_array_length(r -> 'detail_ids') AS ids
  FROM nexus.ingest_orders(pg_temp.conn('bol'), :'bol_p1') r;
COMMIT;

-- Amazon Orders v2026-01-01: searchOrders pages and a getOrder response.
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(pg_temp.conn('amazon'), :'amazon26_p1') AS amazon26_p1;
SELECT nexus.ingest_orders(pg_temp.conn('amazon'), :'amazon26_p2') AS amazon26_p2;
SELECT nexus.ingest_orders(pg_temp.conn('amazon'), :'amazon26_one') AS amazon26_one;
SELECT nexus.ingest_orders(pg_temp.conn('amazon'), :'amazon26_p2') AS amazon26_p2_again;
SELECT o.external_order_id, o.status, o.marketplace_status, o.fulfillment_method, o.currency, o.subtotal,
       o.tax_total, o.shipping_total, o.discount_total, o.total_amount, o.ship_country,
       o.shipping_address ->> 'postalCode' AS postal_code,
       (SELECT count(*) FROM nexus.order_items i WHERE i.order_id = o.id) AS items
  FROM nexus.orders o WHERE o.marketplace = 'amazon' ORDER BY 1;
COMMIT;

-- The same payload again changes nothing.
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(pg_temp.conn('shopify'), :'shopify_p1') - 'next_cursor' AS shopify_again;
COMMIT;

-- What landed: canonical fields and items, visible through RLS to a viewer.
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT marketplace, external_order_id, order_number, status, fulfillment_method, currency,
       subtotal, tax_total, shipping_total, discount_total, total_amount, ship_country,
       ordered_at AT TIME ZONE 'UTC' AS ordered_at_utc
  FROM nexus.orders WHERE marketplace = 'shopify' ORDER BY external_order_id;
SELECT o.external_order_id, i.line_no, i.sku, i.quantity, i.unit_price, i.line_total
  FROM nexus.order_items i JOIN nexus.orders o ON o.id = i.order_id
 WHERE o.marketplace = 'shopify' ORDER BY 1, 2;
-- Stored rows read back as the canonical records they came from.
SELECT pg_temp.diff(jsonb_agg(jsonb_build_object(
         'marketplace', o.marketplace, 'external_order_id', o.external_order_id, 'order_number', o.order_number,
         'status', o.status, 'marketplace_status', o.marketplace_status, 'fulfillment_method', o.fulfillment_method,
         'currency', o.currency, 'subtotal', o.subtotal::text, 'tax_total', o.tax_total::text,
         'shipping_total', o.shipping_total::text, 'discount_total', o.discount_total::text,
         'total_amount', o.total_amount::text,
         'ordered_at', to_char(o.ordered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         'updated_at', to_char(o.marketplace_updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         'buyer_email', o.buyer_email, 'buyer_name', o.buyer_name, 'ship_country', o.ship_country,
         'items', (SELECT coalesce(jsonb_agg(jsonb_build_object('external_item_id', i.external_item_id, 'sku', i.sku,
                     'title', i.title, 'quantity', i.quantity, 'unit_price', i.unit_price::text,
                     'line_total', i.line_total::text) ORDER BY i.line_no), '[]')
                     FROM nexus.order_items i WHERE i.order_id = o.id))),
       (SELECT jsonb_agg(e) FROM jsonb_array_elements(:'shopify_expected'::jsonb) e
         WHERE e ->> 'external_order_id' IN (SELECT external_order_id FROM nexus.orders WHERE marketplace = 'shopify')))
       AS shopify_round_trip
  FROM nexus.orders o WHERE o.marketplace = 'shopify';
COMMIT;

-- Out of order: an older update of an order does not overwrite it; a newer
-- one does, and replaces the items as a set.
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(pg_temp.conn('shopify'),
         jsonb_set(jsonb_set((:'shopify_p1'::jsonb) -> 'orders' -> 0, '{updated_at}', '"2020-01-01T00:00:00+01:00"'),
                   '{email}', '"old@example.com"')::json) AS older;
SELECT buyer_email FROM nexus.orders WHERE external_order_id = '5801234567001';
SELECT nexus.ingest_orders(pg_temp.conn('shopify'),
         jsonb_set(jsonb_set(jsonb_set((:'shopify_p1'::jsonb) -> 'orders' -> 0, '{updated_at}', '"2030-01-01T00:00:00+01:00"'),
                   '{email}', '"new@example.com"'),
                   '{line_items}', ((:'shopify_p1'::jsonb) -> 'orders' -> 0 -> 'line_items') - 1)::json) AS newer;
SELECT buyer_email, (SELECT count(*) FROM nexus.order_items i WHERE i.order_id = o.id) AS items,
       change_seq > 0 AS has_seq
  FROM nexus.orders o WHERE external_order_id = '5801234567001';
COMMIT;

-- One bad order in a page is reported and does not stop the others.
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(pg_temp.conn('ebay'),
         jsonb_set(:'ebay_p2'::jsonb, '{orders,0,pricingSummary,total,value}', '"not money"')::json) - 'next_cursor' AS partial;
COMMIT;

-- Not the marketplace's shape at all: an error naming what was expected,
-- and nothing written.
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(pg_temp.conn('walmart'), '{"hello": "world"}');
ROLLBACK;
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.ingest_orders(pg_temp.conn('walmart'), 'not json at all');
ROLLBACK;

-- Permissions: a viewer cannot ingest; another tenant's connection does not
-- exist for you; an API key needs orders:write.
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT rest.try(format('SELECT nexus.ingest_orders(%L, %L)', pg_temp.conn('walmart'), :'walmart_p2')) AS viewer;
SELECT rest.as_user('bob', 'globex');
SELECT regexp_replace(rest.try(format('SELECT nexus.ingest_orders(%L, %L)', pg_temp.conn('walmart'), :'walmart_p2')),
                      '[0-9a-f-]{36}', '<id>') AS other_tenant;
SELECT rest.request('anon');
SELECT regexp_replace(rest.try(format('SELECT nexus.ingest_orders(%L, %L)', pg_temp.conn('walmart'), :'walmart_p2')),
                      '[0-9a-f-]{36}', '<id>') AS anonymous;
COMMIT;
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT k ->> 'key' AS read_key FROM nexus.create_api_key('orders reader', ARRAY['orders:read']) k \gset
SELECT k ->> 'key' AS write_key FROM nexus.create_api_key('orders writer', ARRAY['orders:write']) k \gset
COMMIT;
BEGIN;
SELECT rest.as_key(:'read_key');
SELECT rest.try(format('SELECT nexus.ingest_orders(%L, %L)', pg_temp.conn('walmart'), :'walmart_p2')) AS read_key;
SELECT count(*) > 0 AS read_key_reads FROM nexus.orders;
SELECT rest.as_key(:'write_key');
SELECT nexus.ingest_orders(pg_temp.conn('walmart'), :'walmart_p2') - 'next_cursor' AS write_key;
COMMIT;
-- service_role ingests for any tenant.
BEGIN;
SELECT rest.request('service_role', '{"role": "service_role"}');
SELECT nexus.ingest_orders(pg_temp.conn('walmart'), :'walmart_ca') - 'next_cursor' AS service;
COMMIT;

SELECT marketplace, count(*) AS orders FROM nexus.orders GROUP BY 1 ORDER BY 1;
