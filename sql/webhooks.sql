-- Webhooks: signature verification per marketplace, replays, routing to the
-- connection, ingestion of embedded orders, PostgREST endpoints.
\set VERBOSITY default
\set SHOW_CONTEXT never

\set shopify_body `cat fixtures/shopify/webhook_order_updated.json`
\set shopify_headers `sh headers_json.sh fixtures/shopify/webhook_order_updated.headers`
\set shopify_expected `cat fixtures/shopify/expected_webhook.json`
\set walmart_body `cat fixtures/walmart/webhook_order_updates.json`
\set walmart_headers `sh headers_json.sh fixtures/walmart/webhook_order_updates.headers`
\set kaufland_body `cat fixtures/kaufland/webhook_order_new.json`
\set ebay_body `cat fixtures/ebay/webhook_order_confirmation.json`
\set ebay_headers `sh headers_json.sh fixtures/ebay/webhook_order_confirmation.headers`
\set ebay_key `cat fixtures/ebay/test_public_key.pem`
\set bol_body `cat fixtures/bol/webhook_order_created.json`
\set bol_headers `sh headers_json.sh fixtures/bol/webhook_order_created.headers`
\set bol_key `cat fixtures/bol/test_public_key.pem`

-- HMAC-SHA256 in SQL, to sign a Kaufland notification with a fresh timestamp.
CREATE FUNCTION pg_temp.hmac_sha256(key bytea, msg bytea) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
  k bytea := CASE WHEN length(key) > 64 THEN sha256(key) ELSE key END;
  ipad bytea;
  opad bytea;
BEGIN
  k := k || decode(repeat('00', 64 - length(k)), 'hex');
  ipad := k;
  opad := k;
  FOR i IN 0 .. 63 LOOP
    ipad := set_byte(ipad, i, get_byte(k, i) # 54);
    opad := set_byte(opad, i, get_byte(k, i) # 92);
  END LOOP;
  RETURN sha256(opad || sha256(ipad || msg));
END $$;

-- Connections that webhooks are routed to, with their secrets and account ids.
BEGIN;
SELECT rest.as_user('adam', 'acme');
CREATE TEMP TABLE hooks AS
SELECT m, nexus.connect_marketplace(m, m || ' hooks', c::jsonb, cfg::jsonb, region => r) AS id
  FROM (VALUES
    ('shopify', '{"shop_domain": "nexus-demo-de.myshopify.com", "access_token": "t", "webhook_secret": "shpss_fixture_only_5e1c9a7b3d2f4e6a8b0c1d3e5f7a9b2c"}', '{}', NULL),
    ('walmart', '{"client_id": "w", "client_secret": "wm_fixture_client_secret_3b9f1d7e5a2c4b6d8f0e1a3c5b7d9f2e"}', '{"partner_id": "10001234567"}', NULL),
    ('kaufland', '{"client_key": "k", "secret_key": "b3575f222f7b768c25160b879699118b331c6883dd6010864b7ead130be77cd5"}', '{"webhook_url": "https://hooks.nexus.example/kaufland/notifications"}', 'cz'),
    ('ebay', '{"client_id": "e", "client_secret": "s", "refresh_token": "r"}', '{"seller_username": "nexus_demo_store"}', '77'),
    ('bol', '{"client_id": "b", "client_secret": "s"}', '{"retailer_id": "1234567"}', NULL)) v(m, c, cfg, r);
COMMIT;
GRANT SELECT ON hooks TO PUBLIC;
-- The marketplaces' public keys, as the sync workers will store them.
SELECT nexus.store_webhook_key('ebay', '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', :'ebay_key');
SELECT nexus.store_webhook_key('bol', '0', :'bol_key');
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT rest.try($$SELECT nexus.store_webhook_key('bol', '1', 'x')$$) AS admin_stores_key;
COMMIT;

-- Shopify through PostgREST: anon, raw body, headers in request.headers.
-- The embedded order is ingested at once.
BEGIN;
SELECT rest.request('anon', NULL, :'shopify_headers'::jsonb);
SELECT r - 'event_id' AS delivered, r ->> 'event_id' = (:'shopify_headers'::jsonb ->> 'x-shopify-event-id') AS event_id
  FROM nexus.webhook_shopify(:'shopify_body'::json) r;
COMMIT;
SELECT o.status, o.external_order_id, pg_temp_orders_equal.same AS matches_expected
  FROM nexus.orders o,
       LATERAL (SELECT nexus.normalize_order('shopify', :'shopify_body'::json) = (:'shopify_expected'::jsonb -> 'canonical') AS same) pg_temp_orders_equal
 WHERE o.connection_id = (SELECT id FROM hooks WHERE m = 'shopify');
-- A replay is recognised and changes nothing.
BEGIN;
SELECT rest.request('anon', NULL, :'shopify_headers'::jsonb);
SELECT r ->> 'status' AS replay FROM nexus.webhook_shopify(:'shopify_body'::json) r;
COMMIT;
-- A changed byte, a missing signature or a wrong secret: 401, nothing stored.
BEGIN;
SELECT rest.request('anon', NULL, :'shopify_headers'::jsonb);
SELECT rest.try(format('SELECT nexus.webhook_shopify(%L::json)', replace(:'shopify_body', 'Öztürk', 'Ozturk'))) AS tampered;
SELECT rest.request('anon', NULL, (:'shopify_headers'::jsonb) - 'x-shopify-hmac-sha256');
SELECT rest.try(format('SELECT nexus.webhook_shopify(%L::json)', :'shopify_body')) AS unsigned;
SELECT rest.request('anon', NULL, jsonb_set(:'shopify_headers'::jsonb, '{x-shopify-shop-domain}', '"someone-else.myshopify.com"'));
SELECT rest.try(format('SELECT nexus.webhook_shopify(%L::json)', :'shopify_body')) AS unknown_shop;
COMMIT;
\set VERBOSITY default
BEGIN;
SELECT rest.request('anon', NULL, jsonb_set(:'shopify_headers'::jsonb, '{x-shopify-hmac-sha256}', '"AAAA"'));
SELECT nexus.webhook_shopify(:'shopify_body'::json);
ROLLBACK;
SELECT count(*) AS shopify_events FROM nexus.webhook_events WHERE marketplace = 'shopify';

-- Walmart: verified against the connection's client secret; the body only
-- summarises the order, so it is recorded for the sync engine to fetch.
BEGIN;
SELECT rest.request('anon', NULL, :'walmart_headers'::jsonb);
SELECT r ->> 'status' AS status, r ->> 'external_order_id' AS order_id FROM nexus.webhook_walmart(:'walmart_body'::json) r;
COMMIT;

-- Kaufland signs the callback URL, body and a timestamp that must be recent.
CREATE FUNCTION pg_temp.kaufland_headers(p_ts bigint, p_body text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('shop-timestamp', p_ts::text, 'shop-signature',
           encode(pg_temp.hmac_sha256(convert_to('b3575f222f7b768c25160b879699118b331c6883dd6010864b7ead130be77cd5', 'UTF8'),
                  convert_to('POST' || E'\n' || 'https://hooks.nexus.example/kaufland/notifications' || E'\n' ||
                             p_body || E'\n' || p_ts, 'UTF8')), 'hex'))
$$;
BEGIN;
SELECT rest.request('anon', NULL, pg_temp.kaufland_headers(extract(epoch FROM now())::bigint, :'kaufland_body'));
SELECT r ->> 'status' AS status, r ->> 'external_order_id' AS order_id FROM nexus.webhook_kaufland(:'kaufland_body'::json) r;
-- The fixture's own signature is valid but ten minutes too old by now.
SELECT rest.request('anon', NULL, (SELECT h FROM (SELECT :'kaufland_body' AS b) x,
         LATERAL (SELECT '{"shop-timestamp": "1741714820", "shop-signature": "8e7d947c7f4f9c151fe9c059e5efcdd9aa481acacbbdadfb71042928ef33f716"}'::jsonb AS h) y));
SELECT rest.try(format('SELECT nexus.webhook_kaufland(%L::json)', :'kaufland_body')) AS stale_timestamp;
COMMIT;

-- eBay (ECDSA) and bol (RSA) verify with the stored public keys.
BEGIN;
SELECT rest.request('anon', NULL, :'ebay_headers'::jsonb);
SELECT r ->> 'status' AS status, r ->> 'external_order_id' AS order_id FROM nexus.webhook_ebay(:'ebay_body'::json) r;
SELECT rest.request('anon', NULL, :'bol_headers'::jsonb);
SELECT r ->> 'status' AS status, r ->> 'external_order_id' AS order_id FROM nexus.webhook_bol(:'bol_body'::json) r;
COMMIT;
-- Without the key, nothing verifies.
DELETE FROM nexus_private.webhook_keys WHERE marketplace = 'bol';
BEGIN;
SELECT rest.request('anon', NULL, :'bol_headers'::jsonb);
SELECT rest.try(format('SELECT nexus.webhook_bol(%L::json)', replace(:'bol_body', '09:58:40', '09:58:41'))) AS no_key;
COMMIT;

-- The generic entry point for other gateways: headers in any case.
SELECT r ->> 'status' AS status
  FROM nexus.receive_webhook('shopify',
         (SELECT jsonb_object_agg(upper(key), value) FROM jsonb_each(:'shopify_headers'::jsonb)),
         :'shopify_body') r;
SELECT nexus.receive_webhook('amazon', '{}', '{}');
SELECT nexus.receive_webhook('zalando', '{}', '{}');
SELECT nexus.receive_webhook('shopify', '{}', 'not json');

-- The events, for the tenant only.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT marketplace, topic, external_order_id, status FROM nexus.webhook_events ORDER BY marketplace;
-- An event that only names its order queued one sync of its connection (merged when several come).
SELECT c.marketplace, r.trigger, r.status, count(*) AS runs
  FROM nexus.sync_runs r JOIN nexus.marketplace_connections c ON c.id = r.connection_id
 WHERE r.trigger = 'webhook' GROUP BY 1, 2, 3 ORDER BY 1;
SELECT rest.as_user('bob', 'globex');
SELECT count(*) AS other_tenant_sees FROM nexus.webhook_events;
COMMIT;
