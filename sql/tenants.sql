-- Tenant lifecycle RPCs and the one-owner rule.
\set VERBOSITY default
\set SHOW_CONTEXT never

-- A signed-in user creates a tenant and becomes its owner.
BEGIN;
SELECT rest.as_user('eve');
SELECT name, slug, primary_currency, timezone, plan FROM nexus.create_tenant('  Initech  ', 'initech');
COMMIT;
BEGIN;
SELECT rest.as_user('eve', 'initech');
SELECT nexus.tenant_role();
COMMIT;

-- Bad input.
BEGIN;
SELECT rest.as_user('eve');
SELECT nexus.create_tenant('Dup', 'initech');
ROLLBACK;
BEGIN;
SELECT rest.as_user('eve');
SELECT nexus.create_tenant('Bad', 'Not A Slug');
ROLLBACK;
BEGIN;
SELECT rest.as_user('eve');
SELECT nexus.create_tenant('   ', 'blank');
ROLLBACK;
-- Only service_role chooses another owner; anonymous callers cannot create.
BEGIN;
SELECT rest.as_user('eve');
SELECT nexus.create_tenant('Other', 'other', rest.uid('bob'));
ROLLBACK;
BEGIN;
SELECT rest.request('anon');
SELECT nexus.create_tenant('Anon', 'anon-co');
ROLLBACK;
BEGIN;
SELECT rest.request('service_role', '{"role": "service_role"}');
SELECT slug FROM nexus.create_tenant('Service Made', 'service-made', rest.uid('bob'));
SELECT user_id = rest.uid('bob') AS bob_owns, role FROM nexus.memberships WHERE tenant_id = rest.tid('service-made');
ROLLBACK;
-- Nothing half-written by the failures above.
SELECT slug FROM nexus.tenants ORDER BY slug;

-- Members: admins add, change and remove; managers and viewers cannot.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT m.role, m.status, m.invited_by = rest.uid('adam') AS invited_by_adam
  FROM nexus.add_member(rest.tid('acme'), rest.uid('eve'), 'viewer') m;
SELECT m.role FROM nexus.set_member_role(rest.tid('acme'), rest.uid('eve'), 'manager') m;
SELECT nexus.remove_member(rest.tid('acme'), rest.uid('eve'));
COMMIT;
BEGIN;
SELECT rest.as_user('mia', 'acme');
SELECT nexus.add_member(rest.tid('acme'), rest.uid('eve'), 'viewer');
ROLLBACK;
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT nexus.set_member_role(rest.tid('acme'), rest.uid('mia'), 'viewer');
ROLLBACK;
-- Acting on another tenant is refused the same way, whatever the claims say.
BEGIN;
SELECT rest.as_user('olivia', 'acme');
SELECT nexus.add_member(rest.tid('globex'), rest.uid('eve'), 'admin');
ROLLBACK;
BEGIN;
SELECT rest.as_user('olivia', 'acme');
SELECT nexus.remove_member(rest.tid('globex'), rest.uid('bob'));
ROLLBACK;
-- Role and status values are checked; owner is only given by transfer.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.add_member(rest.tid('acme'), rest.uid('eve'), 'owner');
ROLLBACK;
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.add_member(rest.tid('acme'), rest.uid('eve'), 'boss');
ROLLBACK;
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.add_member(rest.tid('acme'), rest.uid('mia'), 'viewer');
ROLLBACK;
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.set_member_status(rest.tid('acme'), rest.uid('mia'), 'gone');
ROLLBACK;
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.set_member_role(rest.tid('acme'), rest.uid('eve'), 'viewer');
ROLLBACK;
-- The owner's role, status and membership are protected.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.set_member_role(rest.tid('acme'), rest.uid('olivia'), 'viewer');
ROLLBACK;
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.set_member_status(rest.tid('acme'), rest.uid('olivia'), 'suspended');
ROLLBACK;
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.remove_member(rest.tid('acme'), rest.uid('olivia'));
ROLLBACK;
BEGIN;
SELECT rest.as_user('olivia', 'acme');
SELECT nexus.remove_member(rest.tid('acme'), rest.uid('olivia'));
ROLLBACK;
-- A viewer may leave by themselves, but not remove others.
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT nexus.remove_member(rest.tid('acme'), rest.uid('mia'));
ROLLBACK;
BEGIN;
SELECT rest.as_user('victor', 'acme');
SELECT nexus.remove_member(rest.tid('acme'), rest.uid('victor'));
SELECT nexus.tenant_id() AS tenant_after_leaving;
ROLLBACK;

-- Members cannot write the membership table directly, even their own row.
BEGIN;
SELECT rest.as_user('victor', 'acme');
UPDATE nexus.memberships SET role = 'admin' WHERE user_id = nexus.user_id();
ROLLBACK;
BEGIN;
SELECT rest.as_user('adam', 'acme');
INSERT INTO nexus.memberships (tenant_id, user_id, role) VALUES (nexus.tenant_id(), rest.uid('eve'), 'admin');
ROLLBACK;

-- Exactly one owner, enforced by the database itself.
BEGIN;
\set VERBOSITY terse
INSERT INTO nexus.memberships (tenant_id, user_id, role) VALUES (rest.tid('acme'), rest.uid('eve'), 'owner');
\set VERBOSITY default
ROLLBACK;
BEGIN;
UPDATE nexus.memberships SET role = 'admin' WHERE tenant_id = rest.tid('acme') AND role = 'owner';
COMMIT;
BEGIN;
INSERT INTO nexus.tenants (name, slug) VALUES ('Ownerless', 'ownerless');
COMMIT;
SELECT count(*) AS owners FROM nexus.memberships WHERE tenant_id = rest.tid('acme') AND role = 'owner';

-- Ownership transfer: owner only; the old owner becomes admin.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.transfer_ownership(rest.tid('acme'), rest.uid('adam'));
ROLLBACK;
BEGIN;
SELECT rest.as_user('olivia', 'acme');
SELECT nexus.transfer_ownership(rest.tid('acme'), rest.uid('eve'));
ROLLBACK;
BEGIN;
SELECT rest.as_user('olivia', 'acme');
SELECT m.role FROM nexus.transfer_ownership(rest.tid('acme'), rest.uid('adam')) m;
SELECT u.name, m.role FROM nexus.memberships m JOIN rest.users u ON u.id = m.user_id ORDER BY u.name;
-- Olivia, now admin, can no longer transfer or delete.
SELECT nexus.transfer_ownership(rest.tid('acme'), rest.uid('olivia'));
ROLLBACK;

-- Tenant settings: admins update name, currency and time zone; the plan
-- (billing) only through service_role.
BEGIN;
SELECT rest.as_user('adam', 'acme');
UPDATE nexus.tenants SET name = 'Acme GmbH', timezone = 'Europe/Berlin' RETURNING name, timezone;
UPDATE nexus.tenants SET timezone = 'Mars/Olympus';
ROLLBACK;
BEGIN;
SELECT rest.as_user('adam', 'acme');
UPDATE nexus.tenants SET plan = 'enterprise';
ROLLBACK;
BEGIN;
SELECT rest.as_user('mia', 'acme');
UPDATE nexus.tenants SET name = 'Mia''s shop' RETURNING name;
ROLLBACK;

-- Deleting a tenant: owner only, and it takes everything with it.
BEGIN;
SELECT rest.as_user('adam', 'acme');
SELECT nexus.delete_tenant(rest.tid('acme'));
ROLLBACK;
BEGIN;
SELECT rest.as_user('eve', 'initech');
SELECT nexus.delete_tenant(rest.tid('initech'));
COMMIT;
SELECT count(*) AS initech_rows FROM nexus.memberships m
 WHERE NOT EXISTS (SELECT 1 FROM nexus.tenants t WHERE t.tenant_id = m.tenant_id);
SELECT slug FROM nexus.tenants ORDER BY slug;
