-- Demo data for scripts/demo.sh; idempotent.  Prints key=value lines.
\set ON_ERROR_STOP 1
\pset tuples_only on
\pset format unaligned
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE EXTENSION IF NOT EXISTS nexus;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT;
  END IF;
END $$;
GRANT anon, authenticated, service_role TO authenticator;

-- The demo people: one of each role.
CREATE TEMP TABLE demo_people (name text, id uuid, role text);
INSERT INTO demo_people VALUES
  ('Olivia Owner',   '11111111-1111-4111-8111-111111111111', 'owner'),
  ('Adam Admin',     '22222222-2222-4222-8222-222222222222', 'admin'),
  ('Mia Manager',    '33333333-3333-4333-8333-333333333333', 'manager'),
  ('Victor Viewer',  '44444444-4444-4444-8444-444444444444', 'viewer');

DO $$
DECLARE
  t uuid := (SELECT tenant_id FROM nexus.tenants WHERE slug = 'demo');
  p record;
BEGIN
  IF t IS NULL THEN
    t := (nexus.create_tenant('Demo Store', 'demo', '11111111-1111-4111-8111-111111111111')).tenant_id;
  END IF;
  FOR p IN SELECT * FROM demo_people WHERE role <> 'owner' LOOP
    IF NOT EXISTS (SELECT 1 FROM nexus.memberships m WHERE m.tenant_id = t AND m.user_id = p.id) THEN
      PERFORM nexus.add_member(t, p.id, p.role);
    END IF;
  END LOOP;
END $$;

-- As the owner, through the same path PostgREST takes.
BEGIN;
SELECT set_config('request.jwt.claims',
         json_build_object('sub', '11111111-1111-4111-8111-111111111111', 'role', 'authenticated',
                           'app_metadata', json_build_object('tenant_id', (SELECT tenant_id FROM nexus.tenants WHERE slug = 'demo')))::text,
         true) IS NULL;
SET LOCAL ROLE authenticated;
SELECT count(*) = -1 FROM (SELECT nexus.revoke_api_key(id) FROM nexus.api_keys WHERE name = 'demo key' AND revoked_at IS NULL) r;
SELECT 'api_key=' || (nexus.create_api_key('demo key', ARRAY['orders:read', 'connections:read', 'tenant:read']) ->> 'key');
-- One connection per marketplace, each pointed at the local marketplace
-- simulator (scripts/demo.sh passes :sim, its base URL, and the
-- credentials the simulator's demo accounts were made with).
SELECT count(*) = -1 FROM (
  SELECT nexus.connect_marketplace(a.marketplace, a.account_name, a.credentials,
           jsonb_build_object('api_base_url', :'sim' || '/' || a.marketplace,
                              'auth_base_url', :'sim' || '/' || a.marketplace),
           '15 minutes', a.region)
    FROM json_to_recordset(:'accounts') AS a(marketplace text, account_name text, credentials jsonb, region text)
   WHERE NOT EXISTS (SELECT 1 FROM nexus.marketplace_connections c WHERE c.account_name = a.account_name)) c;
COMMIT;
-- The simulator's port changes when it is restarted: point every demo connection at it.
UPDATE nexus.marketplace_connections
   SET config = config || jsonb_build_object('api_base_url', :'sim' || '/' || marketplace,
                                             'auth_base_url', :'sim' || '/' || marketplace)
 WHERE tenant_id = (SELECT tenant_id FROM nexus.tenants WHERE slug = 'demo');
-- The credentials the simulator knows (an older demo's may differ).
SELECT count(*) = -1 FROM (
  SELECT nexus_private.store_credentials(c.tenant_id, c.id, a.credentials)
    FROM json_to_recordset(:'accounts') AS a(marketplace text, account_name text, credentials jsonb, region text)
    JOIN nexus.marketplace_connections c ON c.account_name = a.account_name) s;
-- The pg_cron job that keeps every connection current.
SELECT nexus.schedule_syncs() > 0;


SELECT 'tenant=' || tenant_id FROM nexus.tenants WHERE slug = 'demo';
SELECT 'member=' || rpad(m.role, 8) || ' ' || p.name || '  (JWT sub ' || m.user_id || ')'
  FROM nexus.memberships m JOIN demo_people p ON p.id = m.user_id
 WHERE m.tenant_id = (SELECT tenant_id FROM nexus.tenants WHERE slug = 'demo')
 ORDER BY nexus_private.role_rank(m.role) DESC;
SELECT 'connections=' || count(*) || ' connections (' || string_agg(marketplace, ', ' ORDER BY marketplace) ||
       '), credentials encrypted under key version ' || max(k.key_version)
  FROM nexus.marketplace_connections c JOIN nexus_private.connection_credentials k ON k.connection_id = c.id
 WHERE c.tenant_id = (SELECT tenant_id FROM nexus.tenants WHERE slug = 'demo');
