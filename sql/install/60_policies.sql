-- Row-level security.  One rule for every tenant table: a row is visible or
-- writable when it belongs to the request's tenant and the request holds the
-- scope.  nexus.has_scope() carries the role matrix (viewer reads; manager
-- writes business data; admin writes settings too; owner also deletes and
-- transfers the tenant) and the scopes of API keys.  nexus.tenant_id() only
-- ever returns a tenant the user is an active member of, or the key's, so
-- writing another tenant's id satisfies no policy.
--
-- Policies apply to anon as well as authenticated: PostgREST runs requests
-- that carry an API key but no JWT as anon, and nexus.pre_request() gives
-- them their key's tenant.  Without a key, anon has no tenant and sees
-- nothing.  service_role bypasses RLS.

CREATE POLICY tenants_read ON nexus.tenants
  FOR SELECT TO anon, authenticated
  USING (tenant_id = nexus.tenant_id() AND nexus.has_scope('tenant:read'));
CREATE POLICY tenants_write ON nexus.tenants
  FOR UPDATE TO anon, authenticated
  USING (tenant_id = nexus.tenant_id() AND nexus.has_scope('tenant:write'))
  WITH CHECK (tenant_id = nexus.tenant_id() AND nexus.has_scope('tenant:write'));

CREATE POLICY memberships_read ON nexus.memberships
  FOR SELECT TO anon, authenticated
  USING (tenant_id = nexus.tenant_id() AND nexus.has_scope('members:read'));

CREATE POLICY api_keys_read ON nexus.api_keys
  FOR SELECT TO anon, authenticated
  USING (tenant_id = nexus.tenant_id() AND nexus.has_scope('api_keys:read'));

CREATE POLICY marketplace_connections_read ON nexus.marketplace_connections
  FOR SELECT TO anon, authenticated
  USING (tenant_id = nexus.tenant_id() AND nexus.has_scope('connections:read'));
CREATE POLICY marketplace_connections_write ON nexus.marketplace_connections
  FOR UPDATE TO anon, authenticated
  USING (tenant_id = nexus.tenant_id() AND nexus.has_scope('connections:write'))
  WITH CHECK (tenant_id = nexus.tenant_id() AND nexus.has_scope('connections:write'));
