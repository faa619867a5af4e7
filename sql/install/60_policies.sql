-- Row-level security.  One rule for every tenant table: a row is visible or
-- writable when it belongs to the request's tenant and the request holds the
-- scope, written as tenant_id = nexus.tenant_id('<resource>:<action>').
-- That function returns the tenant only when the scope is held (the role
-- matrix for members: viewer reads; manager writes business data; admin
-- writes settings too; owner also deletes and transfers the tenant; the
-- scopes for API keys), and only a tenant the user is an active member of,
-- or the key's: writing another tenant's id satisfies no policy.  As one
-- comparison with the key column it becomes an index condition evaluated
-- once per scan; "AND nexus.has_scope(...)" would be a filter run per row.
--
-- Policies apply to anon as well as authenticated: PostgREST runs requests
-- that carry an API key but no JWT as anon, and nexus.pre_request() gives
-- them their key's tenant.  Without a key, anon has no tenant and sees
-- nothing.  service_role bypasses RLS.

CREATE POLICY tenants_read ON nexus.tenants
  FOR SELECT TO anon, authenticated
  USING (tenant_id = nexus.tenant_id('tenant:read'));
CREATE POLICY tenants_write ON nexus.tenants
  FOR UPDATE TO anon, authenticated
  USING (tenant_id = nexus.tenant_id('tenant:write'))
  WITH CHECK (tenant_id = nexus.tenant_id('tenant:write'));

CREATE POLICY memberships_read ON nexus.memberships
  FOR SELECT TO anon, authenticated
  USING (tenant_id = nexus.tenant_id('members:read'));

CREATE POLICY api_keys_read ON nexus.api_keys
  FOR SELECT TO anon, authenticated
  USING (tenant_id = nexus.tenant_id('api_keys:read'));

CREATE POLICY marketplace_connections_read ON nexus.marketplace_connections
  FOR SELECT TO anon, authenticated
  USING (tenant_id = nexus.tenant_id('connections:read'));
CREATE POLICY marketplace_connections_write ON nexus.marketplace_connections
  FOR UPDATE TO anon, authenticated
  USING (tenant_id = nexus.tenant_id('connections:write'))
  WITH CHECK (tenant_id = nexus.tenant_id('connections:write'));
