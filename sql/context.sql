-- Who is calling: nexus.user_id(), tenant_id(), tenant_role(), has_role(),
-- has_scope(), through emulated PostgREST requests.
\set VERBOSITY default
\set SHOW_CONTEXT never

-- No request settings at all: nobody.
SELECT nexus.user_id(), nexus.tenant_id(), nexus.tenant_role(), nexus.has_role('viewer'), nexus.has_scope('orders:read');

-- A member with the tenant in the JWT claim.
BEGIN;
SELECT rest.as_user('olivia', 'acme');
SELECT current_user, nexus.user_id() = rest.uid('olivia') AS me,
       nexus.tenant_id() = rest.tid('acme') AS acme, nexus.tenant_role();
SELECT name, slug FROM nexus.tenants;
COMMIT;

-- After the transaction the local settings are gone: nobody again.
SELECT current_user, nexus.user_id(), nexus.tenant_id();

-- Each role of acme.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.tenant_role(), nexus.has_role('admin') AS admin, nexus.has_role('owner') AS owner;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.tenant_role(), nexus.has_role('manager') AS manager, nexus.has_role('admin') AS admin;
SELECT rest.as_user('victor', 'acme');
SELECT nexus.tenant_role(), nexus.has_role('viewer') AS viewer, nexus.has_role('manager') AS manager;
ROLLBACK;

-- The role matrix, as scopes: viewer reads; manager writes business data
-- but not settings; admin writes settings; only the owner deletes or
-- transfers the tenant.
CREATE TEMP TABLE scopes_to_check (scope text);
INSERT INTO scopes_to_check VALUES ('orders:read'), ('orders:write'), ('orders:delete'),
  ('members:read'), ('members:write'), ('api_keys:write'), ('connections:write'),
  ('tenant:write'), ('tenant:delete'), ('tenant:transfer');
GRANT SELECT ON scopes_to_check TO authenticated;
CREATE FUNCTION pg_temp.matrix(p_user text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  out text := '';
  s text;
BEGIN
  PERFORM rest.as_user(p_user, 'acme');
  FOR s IN SELECT scope FROM scopes_to_check LOOP
    out := out || CASE WHEN nexus.has_scope(s) THEN 'Y' ELSE '.' END;
  END LOOP;
  RETURN out;
END $$;
BEGIN;
SELECT string_agg(scope, ' ') AS columns FROM scopes_to_check;
SELECT u AS member, pg_temp.matrix(u) AS grants
  FROM unnest(ARRAY['olivia', 'adam', 'mia', 'victor', 'eve']) u;
ROLLBACK;

-- A member of nothing who claims acme gets no tenant, and sees nothing.
BEGIN;
SELECT rest.as_user('eve', 'acme');
SELECT nexus.user_id() = rest.uid('eve') AS me, nexus.tenant_id(), nexus.tenant_role();
SELECT count(*) FROM nexus.tenants;
COMMIT;

-- A user in two tenants chooses one with x-tenant-id; the header wins over
-- the claim, and a header naming a tenant the user is not in gives nothing.
SELECT m.role FROM nexus.add_member(rest.tid('globex'), rest.uid('adam'), 'viewer') m;
BEGIN;
SELECT rest.as_user('adam', 'acme', 'globex');
SELECT nexus.tenant_id() = rest.tid('globex') AS globex, nexus.tenant_role();
SELECT slug FROM nexus.tenants;
SELECT rest.as_user('mia', 'acme', 'globex');
SELECT nexus.tenant_id(), nexus.tenant_role();
-- A malformed header never falls back to the claim.
SELECT rest.as_user('mia', 'acme', 'not-a-uuid');
SELECT nexus.tenant_id(), nexus.tenant_role();
COMMIT;

-- The tenant list for a switcher.
BEGIN;
SELECT rest.as_user('adam');
SELECT slug, role, status FROM nexus.my_tenants();
COMMIT;

-- Supabase Realtime switches role and claims several times inside one
-- transaction: every switch is honoured, nothing is cached per transaction.
BEGIN;
SELECT rest.as_user('olivia', 'acme');
SELECT nexus.tenant_role(), (SELECT slug FROM nexus.tenants) AS sees;
SELECT rest.as_user('bob', 'globex');
SELECT nexus.tenant_role(), (SELECT slug FROM nexus.tenants) AS sees;
SELECT rest.as_user('victor', 'acme');
SELECT nexus.tenant_role(), (SELECT slug FROM nexus.tenants) AS sees;
SELECT set_config('request.jwt.claims', '', true);
SELECT nexus.user_id(), nexus.tenant_id(), (SELECT count(*) FROM nexus.tenants) AS sees;
SELECT rest.as_user('bob', 'globex');
SELECT nexus.tenant_role(), (SELECT slug FROM nexus.tenants) AS sees;
COMMIT;

-- Legacy settings (request.jwt.claim.sub) are honoured, and win over the
-- claims' sub, exactly like Supabase's auth.uid().
BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claim.sub', rest.uid('victor')::text, true);
SELECT nexus.user_id() = rest.uid('victor') AS legacy_user;
SELECT set_config('request.jwt.claims', jsonb_build_object('sub', rest.uid('olivia'),
         'app_metadata', jsonb_build_object('tenant_id', rest.tid('acme')))::text, true) IS NOT NULL AS claims_set;
SELECT nexus.user_id() = rest.uid('victor') AS legacy_wins, nexus.tenant_role();
SELECT set_config('request.jwt.claim.sub', '', true);
SELECT nexus.user_id() = rest.uid('olivia') AS claims_user, nexus.tenant_role();
COMMIT;

-- A suspended member loses the tenant on the next request; reactivated,
-- gets it back.  Removal works the same way.
SELECT m.status FROM nexus.set_member_status(rest.tid('acme'), rest.uid('victor'), 'suspended') m;
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT nexus.tenant_id(), nexus.tenant_role(), (SELECT count(*) FROM nexus.tenants) AS sees;
COMMIT;
SELECT m.status FROM nexus.set_member_status(rest.tid('acme'), rest.uid('victor'), 'active') m;
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT nexus.tenant_role();
COMMIT;
-- Inside one transaction, a membership change by our own functions is seen at once.
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT nexus.tenant_role();
RESET ROLE;
SELECT m.status FROM nexus.set_member_status(rest.tid('acme'), rest.uid('victor'), 'suspended') m;
SET LOCAL ROLE authenticated;
SELECT nexus.tenant_role();
ROLLBACK;

-- The claim path is a superuser setting.
BEGIN;
SET LOCAL nexus.tenant_claim_path = 'tenant';
SELECT rest.request('authenticated', jsonb_build_object('sub', rest.uid('bob'), 'tenant', rest.tid('globex')));
SELECT nexus.tenant_id() = rest.tid('globex') AS from_top_level_claim;
SELECT rest.as_user('bob', 'globex');
SELECT nexus.tenant_id() AS old_path_ignored;
ROLLBACK;
SET nexus.tenant_claim_path = 'a..b';
BEGIN;
SET LOCAL ROLE authenticated;
SET LOCAL nexus.tenant_claim_path = 'tenant';
ROLLBACK;
-- ...and so is the key context, which only nexus.pre_request() writes.
BEGIN;
SET LOCAL ROLE anon;
SET LOCAL nexus.request_key = 'forged';
ROLLBACK;

-- Bad input: clear errors, no crash.
SELECT nexus.has_scope('orders');
SELECT nexus.has_scope('Orders:read');
SELECT nexus.has_scope('orders:fly');
SELECT nexus.has_role('superhero');
BEGIN;
SELECT set_config('request.jwt.claims', '{not json', true);
\set SHOW_CONTEXT errors
SELECT nexus.user_id();
\set SHOW_CONTEXT never
ROLLBACK;
-- Claims that are JSON but not what we expect mean "nobody".
BEGIN;
SELECT set_config('request.jwt.claims', '[1, 2]', true);
SELECT nexus.user_id(), nexus.tenant_id();
SELECT set_config('request.jwt.claims', '{"sub": 42, "app_metadata": "x"}', true);
SELECT nexus.user_id(), nexus.tenant_id();
SELECT set_config('request.jwt.claims', '{"sub": "not-a-uuid"}', true);
SELECT nexus.user_id(), nexus.tenant_id();
ROLLBACK;

-- nexus.tenant_id(scope): the tenant only when the scope is held; what
-- policies compare tenant_id with.
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT nexus.tenant_id('orders:read') = rest.tid('acme') AS viewer_reads,
       nexus.tenant_id('orders:write') AS viewer_writes;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.tenant_id('orders:write') = rest.tid('acme') AS manager_writes,
       nexus.tenant_id('members:write') AS manager_settings;
SELECT rest.as_user('eve', 'acme');
SELECT nexus.tenant_id('orders:read') AS stranger;
SELECT nexus.tenant_id('bad scope');
ROLLBACK;

-- One call site, several callers in one transaction: the verdict cached at
-- the call site follows every switch.
CREATE FUNCTION pg_temp.same_site(p_users text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  u text;
  out text := '';
BEGIN
  FOREACH u IN ARRAY p_users LOOP
    PERFORM rest.as_user(u, 'acme');
    out := out || u || '=' || nexus.has_scope('members:write')::text || ' ';
  END LOOP;
  RETURN out;
END $$;
BEGIN;
SELECT pg_temp.same_site(ARRAY['olivia', 'victor', 'adam', 'mia', 'olivia']);
ROLLBACK;

-- A membership change committed by another session reaches this one's
-- cached verdicts on its next request.
CREATE EXTENSION IF NOT EXISTS dblink;
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.tenant_role() AS before_suspension;
COMMIT;
SELECT dblink_exec('dbname=' || current_database(),
  format('UPDATE nexus.memberships SET status = %L WHERE user_id = %L', 'suspended', rest.uid('mia')));
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.tenant_role() AS after_suspension, (SELECT count(*) FROM nexus.tenants) AS sees;
COMMIT;
SELECT dblink_exec('dbname=' || current_database(),
  format('UPDATE nexus.memberships SET status = %L WHERE user_id = %L', 'active', rest.uid('mia')));
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.tenant_role() AS reactivated;
COMMIT;
DROP EXTENSION dblink;
