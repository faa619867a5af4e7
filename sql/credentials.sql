-- Marketplace connections and AES-256-GCM encrypted credentials.
\set VERBOSITY default
\set SHOW_CONTEXT never

-- An admin connects one account of each marketplace.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.connect_marketplace('amazon', 'Acme US', '{"lwa_client_id": "amzn1.application-oa2-client.x", "lwa_client_secret": "AMAZON-SECRET-1", "refresh_token": "Atzr|refresh"}', region => 'ATVPDKIKX0DER') IS NOT NULL AS amazon;
SELECT nexus.connect_marketplace('ebay', 'Acme DE', '{"client_id": "ebay-id", "client_secret": "EBAY-SECRET", "refresh_token": "v^1.1#r", "dev_id": "dev"}', region => '77') IS NOT NULL AS ebay;
SELECT nexus.connect_marketplace('bol', 'Acme NL', '{"client_id": "bol-id", "client_secret": "BOL-SECRET"}') IS NOT NULL AS bol;
SELECT nexus.connect_marketplace('kaufland', 'Acme Kaufland', '{"client_key": "kl-key", "secret_key": "KAUFLAND-SECRET"}', sync_interval => '1 hour', region => 'de') IS NOT NULL AS kaufland;
SELECT nexus.connect_marketplace('shopify', 'Acme Shop', '{"shop_domain": "acme-store.myshopify.com", "access_token": "shpat_SECRET", "webhook_secret": "whsec"}', '{"api_version": "2024-10"}') IS NOT NULL AS shopify;
SELECT nexus.connect_marketplace('zalando', 'Acme Zalando', '{"client_id": "z-id", "client_secret": "ZALANDO-SECRET", "merchant_id": "m-1"}', sync_interval => '4 hours') IS NOT NULL AS zalando;
SELECT nexus.connect_marketplace('walmart', 'Acme Walmart', '{"client_id": "w-id", "client_secret": "WALMART-SECRET"}', sync_interval => '1 day') IS NOT NULL AS walmart;
SELECT marketplace, region, account_name, status, sync_interval, config, created_by = rest.uid('adam') AS by_adam
  FROM nexus.marketplace_connections ORDER BY marketplace;
COMMIT;

-- Stored encrypted: version, 12-byte nonce, ciphertext + 16-byte tag; no
-- secret appears in the stored bytes.
SELECT c.marketplace, k.key_version, length(k.nonce) AS nonce_bytes,
       length(k.ciphertext) - length(convert_to(nexus_private.decrypt_credentials(k.tenant_id, k.connection_id)::text, 'UTF8')) AS tag_bytes,
       position(convert_to('SECRET', 'UTF8') IN k.ciphertext) AS secret_at
  FROM nexus_private.connection_credentials k
  JOIN nexus.marketplace_connections c ON c.tenant_id = k.tenant_id AND c.id = k.connection_id
 ORDER BY 1;
-- Nonces are never reused.
SELECT count(DISTINCT nonce) = count(*) AS unique_nonces FROM nexus_private.connection_credentials;
-- A superuser can read them back (for diagnosis); the workers will in C.
SELECT nexus_private.decrypt_credentials(c.tenant_id, c.id) ->> 'client_secret' AS bol_secret
  FROM nexus.marketplace_connections c WHERE marketplace = 'bol';

-- No API role can read credentials back, in any form.
BEGIN;
SELECT rest.as_user('olivia', 'acme');
SELECT rest.try('SELECT * FROM nexus_private.connection_credentials') AS table_read;
SELECT rest.try($$SELECT nexus_private.decrypt_credentials(nexus.tenant_id(), id) FROM nexus.marketplace_connections$$) AS decrypt_call;
SELECT rest.try($$SELECT nexus_private.encrypt_credentials(nexus.tenant_id(), nexus.tenant_id(), 'x')$$) AS encrypt_call;
SELECT count(*) AS rows_mentioning_secret FROM nexus.marketplace_connections c WHERE c::text LIKE '%SECRET%';
COMMIT;
BEGIN;
SET LOCAL ROLE service_role;
SELECT rest.try($$SELECT nexus_private.decrypt_credentials(tenant_id, id) FROM nexus.marketplace_connections$$) AS service_decrypt;
COMMIT;

-- Validation names what is wrong.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT rest.try($$SELECT nexus.connect_marketplace('amazon', 'x', '{"lwa_client_id": "a", "refresh_token": "r"}', region => 'ATVPDKIKX0DER')$$) AS missing_key;
SELECT rest.try($$SELECT nexus.connect_marketplace('bol', 'x', '{"client_id": "a", "client_secret": "b", "password": "c"}')$$) AS unknown_key;
SELECT rest.try($$SELECT nexus.connect_marketplace('bol', 'x', '{"client_id": "a", "client_secret": 42}')$$) AS not_string;
SELECT rest.try($$SELECT nexus.connect_marketplace('bol', 'x', '{"client_id": "a", "client_secret": "  "}')$$) AS blank;
SELECT rest.try($$SELECT nexus.connect_marketplace('bol', 'x', '["client_id"]')$$) AS not_object;
SELECT rest.try($$SELECT nexus.connect_marketplace('etsy', 'x', '{}')$$) AS unknown_marketplace;
SELECT rest.try($$SELECT nexus.connect_marketplace('shopify', 'x', '{"shop_domain": "acme.com", "access_token": "t"}')$$) AS custom_domain;
SELECT rest.try($$SELECT nexus.connect_marketplace('amazon', 'x', '{"lwa_client_id": "a", "lwa_client_secret": "b", "refresh_token": "r"}')$$) AS no_region;
SELECT rest.try($$SELECT nexus.connect_marketplace('ebay', 'x', '{"client_id": "a", "client_secret": "b", "refresh_token": "r"}', region => '999')$$) AS bad_site;
SELECT rest.try($$SELECT nexus.connect_marketplace('kaufland', 'x', '{"client_key": "a", "secret_key": "b"}', region => 'fr')$$) AS bad_storefront;
SELECT rest.try($$SELECT nexus.connect_marketplace('bol', 'x', '{"client_id": "a", "client_secret": "b"}', region => 'nl')$$) AS region_not_taken;
-- Walmart: us or ca, and null (us) as before Canada was supported.
SELECT rest.try($$SELECT nexus.connect_marketplace('walmart', 'x ca', '{"client_id": "a", "client_secret": "b"}', region => 'ca')$$) AS walmart_ca;
SELECT rest.try($$SELECT nexus.connect_marketplace('walmart', 'x us', '{"client_id": "a", "client_secret": "b"}', region => 'us')$$) AS walmart_us;
SELECT rest.try($$SELECT nexus.connect_marketplace('walmart', 'x null', '{"client_id": "a", "client_secret": "b"}', region => NULL)$$) AS walmart_null;
SELECT rest.try($$SELECT nexus.connect_marketplace('walmart', 'x mx', '{"client_id": "a", "client_secret": "b"}', region => 'mx')$$) AS walmart_mx;
SELECT account_name, region FROM nexus.marketplace_connections
 WHERE marketplace = 'walmart' AND account_name LIKE 'x %' ORDER BY account_name;
SELECT rest.try($$SELECT nexus.connect_marketplace('bol', 'x', '{"client_id": "a", "client_secret": "b"}', sync_interval => '5 minutes')$$) AS bad_interval;
SELECT rest.try($$SELECT nexus.connect_marketplace('bol', 'x', '{"client_id": "a", "client_secret": "b"}', config => '[]')$$) AS bad_config;
SELECT rest.try($$SELECT nexus.connect_marketplace('bol', 'Acme NL', '{"client_id": "a", "client_secret": "b"}')$$) AS duplicate;
-- Amazon's Orders API version: v0 (the default) or 2026-01-01, and nothing else.
SELECT rest.try($$SELECT nexus.connect_marketplace('amazon', 'x v2026', '{"lwa_client_id": "a", "lwa_client_secret": "b", "refresh_token": "r26"}', '{"orders_api": "2026-01-01"}', region => 'ATVPDKIKX0DER')$$) AS orders_api_2026;
SELECT rest.try($$SELECT nexus.connect_marketplace('amazon', 'x v0', '{"lwa_client_id": "a", "lwa_client_secret": "b", "refresh_token": "r0"}', '{"orders_api": "v0"}', region => 'ATVPDKIKX0DER')$$) AS orders_api_v0;
SELECT rest.try($$SELECT nexus.connect_marketplace('amazon', 'x bad', '{"lwa_client_id": "a", "lwa_client_secret": "b", "refresh_token": "r"}', '{"orders_api": "2026-01"}', region => 'ATVPDKIKX0DER')$$) AS orders_api_bad;
SELECT rest.try($$SELECT nexus.connect_marketplace('amazon', 'x num', '{"lwa_client_id": "a", "lwa_client_secret": "b", "refresh_token": "r"}', '{"orders_api": 2026}', region => 'ATVPDKIKX0DER')$$) AS orders_api_number;
SELECT rest.try($$SELECT nexus.connect_marketplace('bol', 'x', '{"client_id": "a", "client_secret": "b"}', '{"orders_api": "v0"}')$$) AS orders_api_not_amazon;
ROLLBACK;
-- The hint a seller sees for an Orders API version that does not exist:
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.connect_marketplace('amazon', 'A', '{"lwa_client_id": "a", "lwa_client_secret": "b", "refresh_token": "r"}', '{"orders_api": "v2026"}', region => 'ATVPDKIKX0DER');
ROLLBACK;
-- The detail and hint a seller sees for a missing key:
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.connect_marketplace('zalando', 'Z', '{"client_id": "a", "client_secret": "b"}');
ROLLBACK;
-- and for a Walmart region nexus does not know:
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.connect_marketplace('walmart', 'W', '{"client_id": "a", "client_secret": "b"}', region => 'mx');
ROLLBACK;
-- Nothing was half-written by the failures.
SELECT count(*) AS connections, (SELECT count(*) FROM nexus_private.connection_credentials) AS credentials
  FROM nexus.marketplace_connections;

-- Connections are settings: managers and viewers cannot touch them; an API
-- key needs connections:write.
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT rest.try($$SELECT nexus.connect_marketplace('bol', 'M', '{"client_id": "a", "client_secret": "b"}')$$) AS manager_connect;
SELECT count(*) AS manager_sees FROM nexus.marketplace_connections;
UPDATE nexus.marketplace_connections SET sync_interval = '1 day' RETURNING id;
COMMIT;
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT k ->> 'key' AS conn_key FROM nexus.create_api_key('connector', ARRAY['connections:write']) k \gset
SELECT k ->> 'key' AS orders_key FROM nexus.create_api_key('orders only', ARRAY['orders:read']) k \gset
COMMIT;
BEGIN;
SELECT rest.as_key(:'conn_key');
SELECT nexus.connect_marketplace('bol', 'Via key', '{"client_id": "k", "client_secret": "KEY-SECRET"}') IS NOT NULL AS key_connect;
COMMIT;
BEGIN;
SELECT rest.as_key(:'orders_key');
SELECT rest.try($$SELECT nexus.connect_marketplace('bol', 'Nope', '{"client_id": "k", "client_secret": "s"}')$$) AS orders_key_connect;
SELECT count(*) AS orders_key_sees FROM nexus.marketplace_connections;
COMMIT;

-- Admins edit the harmless columns directly; status and credentials are not theirs.
BEGIN;
SELECT rest.as_user('adam', 'acme');
UPDATE nexus.marketplace_connections SET sync_interval = '4 hours' WHERE marketplace = 'walmart' RETURNING sync_interval;
SELECT rest.try($$UPDATE nexus.marketplace_connections SET sync_interval = '2 hours' WHERE marketplace = 'walmart'$$) AS bad_interval;
SELECT rest.try($$UPDATE nexus.marketplace_connections SET status = 'active'$$) AS status_write;
SELECT rest.try($$DELETE FROM nexus.marketplace_connections$$) AS direct_delete;
COMMIT;

-- Replacing credentials re-encrypts with a fresh nonce and revives a
-- connection in error; disconnecting removes the credentials too.
UPDATE nexus.marketplace_connections SET status = 'error', error_message = 'invalid_client', consecutive_failures = 3
 WHERE account_name = 'Via key';
SELECT nonce AS old_nonce FROM nexus_private.connection_credentials k
  JOIN nexus.marketplace_connections c ON c.id = k.connection_id WHERE c.account_name = 'Via key' \gset
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.update_credentials(id, '{"client_id": "k", "client_secret": "NEW-SECRET"}')
  FROM nexus.marketplace_connections WHERE account_name = 'Via key';
SELECT status, error_message, consecutive_failures FROM nexus.marketplace_connections WHERE account_name = 'Via key';
SELECT rest.try($$SELECT nexus.update_credentials(id, '{"client_id": "k"}') FROM nexus.marketplace_connections WHERE account_name = 'Via key'$$) AS incomplete;
SELECT rest.try($$SELECT nexus.update_credentials('00000000-0000-0000-0000-000000000000', '{}')$$) AS unknown_connection;
COMMIT;
SELECT nexus_private.decrypt_credentials(c.tenant_id, c.id) ->> 'client_secret' AS replaced,
       k.nonce <> :'old_nonce'::bytea AS fresh_nonce
  FROM nexus.marketplace_connections c
  JOIN nexus_private.connection_credentials k ON k.connection_id = c.id
 WHERE c.account_name = 'Via key';
-- Another tenant's connection is "not found", never changed.
SELECT id AS via_key_id FROM nexus.marketplace_connections WHERE account_name = 'Via key' \gset
BEGIN;
SELECT rest.as_user('bob', 'globex');
SELECT regexp_replace(rest.try(format('SELECT nexus.update_credentials(%L, %L)',
         :'via_key_id', '{"client_id": "evil", "client_secret": "evil"}')), '[0-9a-f-]{36}', '<id>') AS cross_tenant;
SELECT regexp_replace(rest.try(format('SELECT nexus.disconnect_marketplace(%L)',
         :'via_key_id')), '[0-9a-f-]{36}', '<id>') AS cross_disconnect;
COMMIT;
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.disconnect_marketplace(id) FROM nexus.marketplace_connections WHERE account_name = 'Via key';
COMMIT;
SELECT count(*) AS orphans FROM nexus_private.connection_credentials k
 WHERE NOT EXISTS (SELECT 1 FROM nexus.marketplace_connections c WHERE c.id = k.connection_id);

-- A ciphertext moved onto another connection's row does not decrypt there.
BEGIN;
UPDATE nexus_private.connection_credentials dst
   SET nonce = src.nonce, ciphertext = src.ciphertext
  FROM nexus_private.connection_credentials src, nexus.marketplace_connections a, nexus.marketplace_connections b
 WHERE a.marketplace = 'amazon' AND b.marketplace = 'bol' AND a.account_name = 'Acme US' AND b.account_name = 'Acme NL'
   AND src.connection_id = a.id AND dst.connection_id = b.id;
SELECT nexus_private.decrypt_credentials(c.tenant_id, c.id) FROM nexus.marketplace_connections c WHERE c.account_name = 'Acme NL';
ROLLBACK;

-- Key handling.  The setting itself is superuser-only and hidden.
BEGIN;
SET LOCAL ROLE authenticated;
SELECT rest.try($$SELECT current_setting('nexus.credentials_key_file')$$) AS read_setting;
COMMIT;
-- The wrong key under the right version: a clear error, never garbage.
SELECT rest.key_file(ARRAY['1:' || repeat('ff', 32)]);
SELECT nexus_private.decrypt_credentials(tenant_id, id) FROM nexus.marketplace_connections WHERE marketplace = 'bol';
-- Malformed files.
SELECT rest.key_file(ARRAY['1:abc']);
SELECT nexus_private.decrypt_credentials(tenant_id, id) FROM nexus.marketplace_connections WHERE marketplace = 'bol';
SELECT rest.key_file(ARRAY['# nothing here']);
SELECT nexus_private.decrypt_credentials(tenant_id, id) FROM nexus.marketplace_connections WHERE marketplace = 'bol';
SELECT rest.key_file(ARRAY['1:' || repeat('a1', 32), '1:' || repeat('b2', 32)]);
SELECT nexus_private.decrypt_credentials(tenant_id, id) FROM nexus.marketplace_connections WHERE marketplace = 'bol';
-- A key file others can read is refused.
SELECT rest.key_file(ARRAY['1:' || repeat('a1', 32)]);
DO $$ BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'cat > /dev/null; chmod 644 ' || current_setting('data_directory') || '/test_credentials.key');
END $$;
SELECT rest.try($$SELECT nexus_private.decrypt_credentials(tenant_id, id) FROM nexus.marketplace_connections WHERE marketplace = 'bol'$$) AS world_readable;
-- No key file configured.
ALTER SYSTEM SET nexus.credentials_key_file = '';
SELECT pg_reload_conf();
SELECT pg_sleep(0.2);
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.connect_marketplace('bol', 'No key', '{"client_id": "a", "client_secret": "b"}');
ROLLBACK;
ALTER SYSTEM RESET nexus.credentials_key_file;

-- Rotation: add version 2, re-encrypt everything under it, drop version 1.
SELECT rest.key_file(ARRAY['# rotated', '1:' || repeat('a1', 32), '2:' || repeat('c3', 32)]);
SELECT pg_sleep(0.2);
SELECT nexus.rotate_credentials_key() AS reencrypted;
SELECT key_version, count(*) FROM nexus_private.connection_credentials GROUP BY 1;
SELECT nexus.rotate_credentials_key() AS nothing_left;
SELECT rest.key_file(ARRAY['2:' || repeat('c3', 32)]);
SELECT nexus_private.decrypt_credentials(c.tenant_id, c.id) ->> 'client_secret' AS after_rotation
  FROM nexus.marketplace_connections c WHERE marketplace IN ('bol', 'walmart') ORDER BY marketplace;
-- New credentials are written under the newest version.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.connect_marketplace('walmart', 'Second', '{"client_id": "w2", "client_secret": "s2"}') IS NOT NULL AS connected;
COMMIT;
SELECT DISTINCT key_version FROM nexus_private.connection_credentials;
-- Rotation is for superusers.
BEGIN;
SELECT rest.as_user('olivia', 'acme');
SELECT rest.try('SELECT nexus.rotate_credentials_key()') AS owner_rotate;
COMMIT;
-- Leave the standard key for the tests after this one.
SELECT rest.key_file(ARRAY['2:' || repeat('c3', 32)]);
