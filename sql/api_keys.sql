-- API keys: creation, revocation, and the PostgREST pre-request hook.
\set VERBOSITY default
\set SHOW_CONTEXT never

-- An admin creates keys; the key is returned once, only hash and prefix stay.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT k ->> 'key' AS read_key, k ->> 'id' AS read_key_id, k ->> 'name' AS name, k -> 'scopes' AS scopes
  FROM nexus.create_api_key('reporting', ARRAY['orders:read']) k \gset
SELECT :'name', :'scopes';
SELECT k ->> 'key' AS all_key FROM nexus.create_api_key('integration', ARRAY['*', '*']) k \gset
SELECT k ->> 'key' AS conn_key FROM nexus.create_api_key('connector', ARRAY['orders:write', 'connections:write'],
                                                         now() + interval '1 day') k \gset
COMMIT;
SELECT :'read_key' ~ '^nxc_live_[A-Za-z0-9_-]{43}$' AS well_formed,
       length(:'read_key') - 9 AS random_chars, :'read_key' <> :'all_key' AS distinct_keys;
SELECT name, scopes, key_prefix = substr(:'read_key', 10, 8) AS prefix_ok,
       created_by = rest.uid('adam') AS by_adam, expires_at IS NOT NULL AS expires
  FROM nexus.api_keys ORDER BY name;
SELECT h.key_hash = sha256(convert_to(:'read_key', 'UTF8')) AS stored_as_sha256
  FROM nexus_private.api_key_hashes h WHERE h.api_key_id = :'read_key_id';
-- The key itself appears nowhere in the database.
SELECT count(*) AS plaintext_copies FROM nexus.api_keys k
 WHERE k::text LIKE '%' || substr(:'read_key', 10) || '%';

-- Viewers see key metadata (they read everything), never hashes.
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT name FROM nexus.api_keys ORDER BY name;
SELECT rest.try('SELECT * FROM nexus_private.api_key_hashes');
COMMIT;

-- Only admins and owners, signed in, create and revoke keys.
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.create_api_key('nope', ARRAY['orders:read']);
ROLLBACK;
BEGIN;
SELECT rest.as_key(:'all_key');
SELECT nexus.create_api_key('key-made-key', ARRAY['*']);
ROLLBACK;
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT rest.try($$SELECT nexus.create_api_key('bad', ARRAY['orders'])$$);
SELECT rest.try($$SELECT nexus.create_api_key('bad', ARRAY[]::text[])$$);
SELECT rest.try($$SELECT nexus.create_api_key('', ARRAY['orders:read'])$$);
SELECT rest.try($$SELECT nexus.create_api_key('old', ARRAY['orders:read'], now() - interval '1 minute')$$);
ROLLBACK;

-- A key authenticates a request: its tenant and scopes, no user, no role.
BEGIN;
SELECT rest.as_key(:'read_key');
SELECT current_user, nexus.tenant_id() = rest.tid('acme') AS acme, nexus.user_id(), nexus.tenant_role(),
       nexus.api_key_id() = :'read_key_id' AS key_id;
SELECT nexus.has_scope('orders:read') AS orders_read, nexus.has_scope('orders:write') AS orders_write,
       nexus.has_scope('tenant:read') AS tenant_read, nexus.has_role('viewer') AS any_role;
-- RLS honours the scopes: this key may not read the tenant row.
SELECT count(*) AS tenants_visible FROM nexus.tenants;
COMMIT;
-- ...and the context ends with the request.
SELECT nexus.tenant_id(), nexus.api_key_id();

BEGIN;
SELECT rest.as_key(:'all_key');
SELECT slug FROM nexus.tenants;
SELECT nexus.has_scope('connections:write') AS settings, nexus.has_scope('tenant:delete') AS delete_tenant;
COMMIT;
-- "x:write" implies "x:read"; other resources are not implied.
BEGIN;
SELECT rest.as_key(:'conn_key');
SELECT nexus.has_scope('orders:read') AS orders_read, nexus.has_scope('connections:read') AS conn_read,
       nexus.has_scope('members:read') AS members_read;
COMMIT;

-- Authorization: Bearer works too; a Bearer JWT is left to PostgREST.
BEGIN;
SELECT rest.request('anon', NULL, jsonb_build_object('authorization', 'Bearer ' || :'read_key'));
SELECT nexus.tenant_id() = rest.tid('acme') AS bearer_key;
SELECT rest.request('authenticated', jsonb_build_object('sub', rest.uid('bob'),
         'app_metadata', jsonb_build_object('tenant_id', rest.tid('globex'))),
       '{"authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"}');
SELECT nexus.tenant_id() = rest.tid('globex') AS jwt_user, nexus.api_key_id();
COMMIT;

-- A key's tenant cannot be changed by headers or claims.
BEGIN;
SELECT rest.request('authenticated', jsonb_build_object('sub', rest.uid('bob'),
         'app_metadata', jsonb_build_object('tenant_id', rest.tid('globex'))),
       jsonb_build_object('x-api-key', :'all_key', 'x-tenant-id', rest.tid('globex')));
SELECT nexus.tenant_id() = rest.tid('acme') AS still_acme, nexus.user_id();
SELECT slug FROM nexus.tenants;
COMMIT;

-- Bad keys: 401 (PT401) with a clear message, and no key context left.
BEGIN;
SELECT rest.as_key('nxc_live_tooshort');
ROLLBACK;
SELECT nexus.api_key_id() AS no_context_left;
SELECT rest.try($$SELECT rest.as_key('nxc_live_' || repeat('A', 43))$$) AS unknown_key;
SELECT rest.try($$SELECT rest.as_key('sk_live_' || repeat('A', 44))$$) AS foreign_key;
-- Same prefix, different key: the hash decides.
SELECT rest.try(format('SELECT rest.as_key(%L)', substr(:'read_key', 1, 20) || repeat('x', 32))) AS same_prefix;

-- Revocation takes effect at once; revoking twice keeps the first time.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT revoked_at IS NOT NULL AS revoked FROM nexus.revoke_api_key(:'read_key_id');
SELECT revoked_at IS NOT NULL AS still_revoked FROM nexus.revoke_api_key(:'read_key_id');
SELECT rest.try($$SELECT nexus.revoke_api_key('00000000-0000-0000-0000-000000000000')$$) AS missing;
COMMIT;
SELECT rest.as_key(:'read_key');
-- A globex admin cannot revoke acme's keys.
BEGIN;
SELECT rest.as_user('bob', 'globex');
SELECT regexp_replace(rest.try(format('SELECT nexus.revoke_api_key(%L)', :'read_key_id')),
                      '[0-9a-f-]{36}', '<id>') AS other_tenant;
COMMIT;

-- last_used_at: recorded (to the minute) by writable requests; PostgREST's
-- read-only GET transactions cannot write it.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT k ->> 'key' AS usage_key FROM nexus.create_api_key('usage', ARRAY['orders:read']) k \gset
COMMIT;
BEGIN READ ONLY;
SELECT rest.as_key(:'usage_key');
SELECT nexus.tenant_id() = rest.tid('acme') AS read_only_request_ok;
COMMIT;
SELECT last_used_at IS NULL AS not_recorded_read_only FROM nexus.api_keys WHERE name = 'usage';
BEGIN;
SELECT rest.as_key(:'usage_key');
COMMIT;
SELECT last_used_at > now() - interval '1 minute' AS recorded FROM nexus.api_keys WHERE name = 'usage';

-- Expiry.
UPDATE nexus.api_keys SET expires_at = now() - interval '1 second' WHERE name = 'connector';
SELECT rest.as_key(:'conn_key');

-- Parallel workers see the key's tenant too (the context travels in a
-- setting that parallel workers inherit).
CREATE TABLE public.parallel_probe (tenant_id uuid NOT NULL, n int);
INSERT INTO public.parallel_probe SELECT rest.tid('acme'), g FROM generate_series(1, 1000) g;
INSERT INTO public.parallel_probe SELECT rest.tid('globex'), g FROM generate_series(1, 1000) g;
ALTER TABLE public.parallel_probe ENABLE ROW LEVEL SECURITY;
CREATE POLICY probe ON public.parallel_probe TO anon, authenticated
  USING (tenant_id = nexus.tenant_id('probe:read'));
GRANT SELECT ON public.parallel_probe TO anon, authenticated;
ANALYZE public.parallel_probe;
BEGIN;
SET LOCAL force_parallel_mode = on;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT rest.as_key(:'all_key');
EXPLAIN (COSTS OFF) SELECT count(*) FROM public.parallel_probe;
SELECT count(*) FROM public.parallel_probe;
SELECT rest.as_user('bob', 'globex');
SELECT count(*) FROM public.parallel_probe;
COMMIT;
DROP TABLE public.parallel_probe;
