-- Tenant isolation.  Tenant B (globex) has data in every table; every kind
-- of caller from tenant A (acme) — each role, an API key, forged headers
-- and claims, stale and removed memberships, anonymous — tries to read,
-- insert, update and delete B's rows in every tenant table, and to call
-- every RPC against B.  The tables come from the catalog, so a new table
-- is covered without touching this file.  Expected: no violation, and B's
-- data byte-for-byte unchanged.
\set VERBOSITY terse

-- A clean split: nobody from A is a member of B (earlier tests may have
-- added some).
DELETE FROM nexus.memberships WHERE tenant_id = rest.tid('globex') AND role <> 'owner';

-- B gets a row in every table; A gets an API key to attack with.
BEGIN;
SELECT rest.as_user('bob', 'globex');
SELECT k ->> 'id' AS b_key_id FROM nexus.create_api_key('b-key', ARRAY['*']) k \gset
SELECT nexus.connect_marketplace('walmart', 'Globex Walmart', '{"client_id": "g", "client_secret": "GLOBEX-SECRET"}') AS b_conn_id \gset
COMMIT;
-- B's orders and a webhook event (as service_role and the webhook path would write them).
\set b_page `cat fixtures/walmart/orders_page1.json`
SELECT nexus.ingest_orders(:'b_conn_id', :'b_page') ->> 'inserted' AS b_orders;
INSERT INTO nexus.webhook_events (tenant_id, connection_id, marketplace, event_id, topic, status)
VALUES (rest.tid('globex'), :'b_conn_id', 'walmart', 'b-event-1', 'ORDER_UPDATES', 'needs_fetch');
-- A sync run (as a manager of B asks for it) and a cached access token (as the workers keep it).
BEGIN;
SELECT rest.as_user('bob', 'globex');
SELECT count(*) AS b_runs FROM nexus.sync_now(:'b_conn_id');
COMMIT;
RESET ROLE;
INSERT INTO nexus_private.access_tokens (tenant_id, connection_id, key_version, nonce, ciphertext, expires_at)
VALUES (rest.tid('globex'), :'b_conn_id', 1, '\x00', '\x00', now() + interval '1 hour');
INSERT INTO rest.users VALUES ('sam', '00000000-0000-4000-8000-0000000000b2'),
                              ('rita', '00000000-0000-4000-8000-0000000000b3');
SELECT count(*) FROM (
  SELECT nexus.add_member(rest.tid('globex'), rest.uid('sam'), 'admin')
  UNION ALL SELECT nexus.add_member(rest.tid('globex'), rest.uid('rita'), 'admin')
  UNION ALL SELECT nexus.add_member(rest.tid('globex'), rest.uid('victor'), 'manager', 'invited')) s;
-- Stale access: sam is suspended, rita removed.
SELECT m.status FROM nexus.set_member_status(rest.tid('globex'), rest.uid('sam'), 'suspended') m;
SELECT nexus.remove_member(rest.tid('globex'), rest.uid('rita'));
BEGIN;
SELECT rest.as_user('olivia', 'acme');
CREATE TEMP TABLE attack_keys AS SELECT nexus.create_api_key('attacker', ARRAY['*']) ->> 'key' AS key;
COMMIT;
GRANT SELECT ON attack_keys TO PUBLIC;

-- The tables under test: every table or view with a tenant_id column in
-- our schemas.
CREATE TEMP TABLE tenant_tables AS
SELECT c.oid::regclass AS tbl
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('nexus', 'nexus_private') AND c.relkind IN ('r', 'p', 'v')
   AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped);
SELECT tbl FROM tenant_tables ORDER BY tbl::text;
-- B really has data in each of them (otherwise the test proves nothing).
CREATE FUNCTION pg_temp.b_rows(t regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM %s WHERE tenant_id = %L', t, rest.tid('globex')) INTO n;
  RETURN n;
END $$;
SELECT tbl, pg_temp.b_rows(tbl) > 0 AS b_has_rows FROM tenant_tables ORDER BY tbl::text;

-- A fingerprint of everything B owns, to compare at the end.
CREATE FUNCTION pg_temp.b_fingerprint() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  t regclass;
  part text;
  acc text := '';
BEGIN
  FOR t IN SELECT tbl FROM tenant_tables ORDER BY tbl::text LOOP
    EXECUTE format('SELECT md5(coalesce(string_agg(x::text, '','' ORDER BY x::text), '''')) FROM %s x WHERE tenant_id = %L',
                   t, rest.tid('globex')) INTO part;
    acc := acc || part;
  END LOOP;
  RETURN md5(acc);
END $$;
SELECT pg_temp.b_fingerprint() AS before \gset

-- The callers.
CREATE TEMP TABLE identities (name text PRIMARY KEY, how text);
INSERT INTO identities VALUES
  ('a_owner',         $$SELECT rest.as_user('olivia', 'acme')$$),
  ('a_admin',         $$SELECT rest.as_user('adam', 'acme')$$),
  ('a_manager',       $$SELECT rest.as_user('mia', 'acme')$$),
  ('a_viewer',        $$SELECT rest.as_user('victor', 'acme')$$),
  ('a_api_key',       $$SELECT rest.as_key((SELECT key FROM attack_keys))$$),
  ('a_key_b_header',  $$SELECT rest.request('anon', NULL, jsonb_build_object('x-api-key', (SELECT key FROM attack_keys), 'x-tenant-id', rest.tid('globex')))$$),
  ('forged_header',   $$SELECT rest.as_user('mia', 'acme', 'globex')$$),
  ('forged_claim',    $$SELECT rest.as_user('olivia', 'globex')$$),
  ('invited_only',    $$SELECT rest.as_user('victor', NULL, 'globex')$$),
  ('stale_suspended', $$SELECT rest.as_user('sam', 'globex')$$),
  ('stale_removed',   $$SELECT rest.as_user('rita', 'globex')$$),
  ('anonymous',       $$SELECT rest.request('anon')$$);
GRANT SELECT ON identities, tenant_tables TO PUBLIC;

-- Run one statement as one caller, in a subtransaction that is always
-- rolled back; report rows affected, or the SQLSTATE.
CREATE FUNCTION pg_temp.attempt(p_identity text, p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  how text;
  n bigint;
  st text;
  result text;
BEGIN
  SELECT i.how INTO STRICT how FROM identities i WHERE i.name = p_identity;
  BEGIN
    EXECUTE how;
    EXECUTE p_sql;
    GET DIAGNOSTICS n = ROW_COUNT;
    RAISE EXCEPTION USING ERRCODE = 'NX999', MESSAGE = 'rows:' || n;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, result = MESSAGE_TEXT;
    IF st <> 'NX999' THEN
      result := 'error:' || st;
    END IF;
  END;
  RETURN result;
END $$;

CREATE TEMP TABLE violations (identity text, target text, attempt text, outcome text);
CREATE TEMP SEQUENCE attempts;
-- Which tenant a row made by an own-tenant RPC landed in (callers cannot see B).
CREATE FUNCTION rest.key_tenant(p_id uuid) RETURNS uuid LANGUAGE sql SECURITY DEFINER
  AS $$ SELECT tenant_id FROM nexus.api_keys WHERE id = p_id $$;
CREATE FUNCTION rest.connection_tenant(p_id uuid) RETURNS uuid LANGUAGE sql SECURITY DEFINER
  AS $$ SELECT tenant_id FROM nexus.marketplace_connections WHERE id = p_id $$;
GRANT EXECUTE ON FUNCTION rest.key_tenant(uuid), rest.connection_tenant(uuid) TO PUBLIC;
CREATE FUNCTION pg_temp.check(p_identity text, p_target text, p_what text, p_sql text, p_count_sql text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  r text := pg_temp.attempt(p_identity, coalesce(p_count_sql, p_sql));
BEGIN
  PERFORM nextval('attempts');
  -- Allowed outcomes: nothing affected, a privilege or RLS refusal (42501),
  -- an error any other way that is not an integrity error (class 23, which
  -- would mean the row got past RLS and hit a constraint).
  IF r ~ '^rows:[1-9]' OR r ~ '^error:23' THEN
    INSERT INTO violations VALUES (p_identity, p_target, p_what, r);
  END IF;
END $$;

-- Reads are checked by counting rows of B that the caller can see.
DO $$
DECLARE
  i record;
  t record;
  b uuid := rest.tid('globex');
  a uuid := rest.tid('acme');
  brow jsonb;
  col text;
BEGIN
  FOR t IN SELECT tbl FROM tenant_tables LOOP
    EXECUTE format('SELECT to_jsonb(x) FROM %s x WHERE tenant_id = %L LIMIT 1', t.tbl, b) INTO brow;
    FOR i IN SELECT name FROM identities LOOP
      -- read: any row of B visible?
      PERFORM pg_temp.check(i.name, t.tbl::text, 'select',
        format('SELECT 1 FROM %s WHERE tenant_id = %L', t.tbl, b),
        format('SELECT 1 FROM %s x WHERE x.tenant_id = %L', t.tbl, b));
      -- read without a filter, as PostgREST does: anything not A's?
      PERFORM pg_temp.check(i.name, t.tbl::text, 'select-all',
        format('SELECT 1 FROM %s x WHERE x.tenant_id IS DISTINCT FROM %L', t.tbl, a));
      -- insert a copy of B's row (keeps B's tenant_id)
      PERFORM pg_temp.check(i.name, t.tbl::text, 'insert',
        format('INSERT INTO %s SELECT * FROM jsonb_populate_record(NULL::%s, %L)', t.tbl, t.tbl, brow));
      -- delete B's rows
      PERFORM pg_temp.check(i.name, t.tbl::text, 'delete',
        format('DELETE FROM %s WHERE tenant_id = %L', t.tbl, b));
      -- update every column of B's rows, and move A's rows into B
      FOR col IN SELECT a.attname FROM pg_attribute a
                  WHERE a.attrelid = t.tbl AND a.attnum > 0 AND NOT a.attisdropped LOOP
        PERFORM pg_temp.check(i.name, t.tbl::text, 'update ' || col,
          format('UPDATE %s SET %I = %I WHERE tenant_id = %L', t.tbl, col, col, b));
      END LOOP;
      PERFORM pg_temp.check(i.name, t.tbl::text, 'move into B',
        format('UPDATE %s SET tenant_id = %L WHERE tenant_id = %L', t.tbl, b, a));
    END LOOP;
  END LOOP;
END $$;

-- Every RPC, aimed at B.  A new function in schema nexus that API roles
-- may execute must be listed here, or it shows up below as unchecked.
CREATE TEMP TABLE rpc_calls (fn regprocedure, call text);
INSERT INTO rpc_calls VALUES
  ('nexus.add_member(uuid,uuid,text,text)', format($$SELECT nexus.add_member(%L, rest.uid('eve'), 'admin')$$, rest.tid('globex'))),
  ('nexus.set_member_role(uuid,uuid,text)', format($$SELECT nexus.set_member_role(%L, rest.uid('sam'), 'viewer')$$, rest.tid('globex'))),
  ('nexus.set_member_status(uuid,uuid,text)', format($$SELECT nexus.set_member_status(%L, rest.uid('sam'), 'active')$$, rest.tid('globex'))),
  ('nexus.remove_member(uuid,uuid)', format($$SELECT nexus.remove_member(%L, rest.uid('sam'))$$, rest.tid('globex'))),
  ('nexus.transfer_ownership(uuid,uuid)', format($$SELECT nexus.transfer_ownership(%L, rest.uid('sam'))$$, rest.tid('globex'))),
  ('nexus.delete_tenant(uuid)', format($$SELECT nexus.delete_tenant(%L)$$, rest.tid('globex'))),
  ('nexus.revoke_api_key(uuid)', format($$SELECT nexus.revoke_api_key(%L)$$, :'b_key_id')),
  ('nexus.update_credentials(uuid,jsonb)', format($$SELECT nexus.update_credentials(%L, '{"client_id": "x", "client_secret": "y"}')$$, :'b_conn_id')),
  ('nexus.disconnect_marketplace(uuid)', format($$SELECT nexus.disconnect_marketplace(%L)$$, :'b_conn_id')),
  -- These act on the caller's own tenant only; B is reached only if they leak.
  ('nexus.create_api_key(text,text[],timestamp with time zone)',
   format($$SELECT 1 FROM nexus.create_api_key('x', ARRAY['*']) k WHERE rest.key_tenant((k ->> 'id')::uuid) = %L$$, rest.tid('globex'))),
  ('nexus.connect_marketplace(text,text,jsonb,jsonb,interval,text)',
   format($$SELECT 1 FROM nexus.connect_marketplace('bol', 'x', '{"client_id": "a", "client_secret": "b"}') c WHERE rest.connection_tenant(c) = %L$$, rest.tid('globex'))),
  ('nexus.create_tenant(text,text,uuid)', format($$SELECT nexus.create_tenant('x', 'x-tenant', %L)$$, rest.uid('bob'))),
  ('nexus.my_tenants()', $$SELECT 1 FROM nexus.my_tenants() WHERE slug = 'globex' AND status = 'active'$$),
  ('nexus.sync_now(uuid)', format($$SELECT nexus.sync_now(%L)$$, :'b_conn_id')),
  ('nexus.cancel_sync(uuid)', format($$SELECT 1 WHERE nexus.cancel_sync(%L) > 0$$, :'b_conn_id')),
  ('nexus.ingest_orders(uuid,json,json)', format($$SELECT nexus.ingest_orders(%L, %L)$$, :'b_conn_id', :'b_page')),
  -- Webhooks are anon by design: a forged delivery for B's connection must not verify.
  ('nexus.webhook_walmart(json)', format($$SELECT nexus.webhook_walmart(%L::json)$$,
     '{"source": {"eventType": "ORDER_UPDATES", "eventId": "forged"}, "payload": {"order": {"partnerId": "x", "purchaseOrderId": "1"}}}')),
  ('nexus.receive_webhook(text,jsonb,text)', $$SELECT nexus.receive_webhook('walmart', '{"x-walmart-signature": "AAAA"}', '{"source": {"eventId": "forged"}, "payload": {"order": {"purchaseOrderId": "1"}}}')$$);
DO $$
DECLARE
  i record;
  c record;
BEGIN
  FOR c IN SELECT * FROM rpc_calls LOOP
    FOR i IN SELECT name FROM identities LOOP
      PERFORM pg_temp.check(i.name, c.fn::text, 'call', c.call);
    END LOOP;
  END LOOP;
END $$;
-- Functions callable by API roles, taking arguments, and not checked above
-- (the request-context helpers take none that name a tenant).
SELECT p.oid::regprocedure AS unchecked_rpc
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'nexus'
   AND (has_function_privilege('authenticated', p.oid, 'EXECUTE') OR has_function_privilege('anon', p.oid, 'EXECUTE'))
   AND p.oid NOT IN (SELECT fn FROM rpc_calls)
   AND p.oid NOT IN ('nexus.has_role(text)'::regprocedure, 'nexus.has_scope(text)'::regprocedure,
                     'nexus.tenant_id(text)'::regprocedure,
                     -- pure: they read their arguments and write nothing
                     'nexus.normalize_order(text,json)'::regprocedure,
                     'nexus.normalize_page(text,json,json)'::regprocedure,
                     -- same endpoint as webhook_walmart for the other marketplaces
                     'nexus.webhook_shopify(json)'::regprocedure, 'nexus.webhook_kaufland(json)'::regprocedure,
                     'nexus.webhook_ebay(json)'::regprocedure, 'nexus.webhook_bol(json)'::regprocedure)
   AND p.pronargs > 0
 ORDER BY 1::text;

-- The verdict.
SELECT * FROM violations ORDER BY 1, 2, 3;
SELECT currval('attempts') > 1000 AS many_attempts_made;
SELECT pg_temp.b_fingerprint() = :'before' AS b_unchanged;
-- And the legitimate owner of B still sees all of it (the test tables are not empty for B).
BEGIN;
SELECT rest.as_user('bob', 'globex');
SELECT count(*) AS b_connections, (SELECT count(*) FROM nexus.api_keys) > 0 AS b_keys FROM nexus.marketplace_connections;
COMMIT;
