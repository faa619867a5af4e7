-- Who is calling: implemented in C (src/context.c), cheap enough to call
-- unwrapped from row-level-security policies.

CREATE FUNCTION nexus.version() RETURNS text
  LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'nexus_version';
COMMENT ON FUNCTION nexus.version() IS 'Version of the nexus extension';

CREATE FUNCTION nexus.user_id() RETURNS uuid
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'nexus_user_id';
COMMENT ON FUNCTION nexus.user_id() IS
  'The caller''s user id: the JWT "sub" claim, as Supabase''s auth.uid(); NULL for API keys and anonymous requests';

CREATE FUNCTION nexus.tenant_id() RETURNS uuid
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'nexus_tenant_id';
COMMENT ON FUNCTION nexus.tenant_id() IS
  'The tenant of the current request: the API key''s, or the x-tenant-id header''s or JWT claim''s when the user is an active member of it; else NULL';

CREATE FUNCTION nexus.tenant_id(scope text) RETURNS uuid
  LANGUAGE c STABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'nexus_tenant_id_for';
COMMENT ON FUNCTION nexus.tenant_id(text) IS
  'The tenant of the current request if the request holds scope, else NULL: write policies as tenant_id = nexus.tenant_id(''orders:read'')';

CREATE FUNCTION nexus.tenant_role() RETURNS text
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'nexus_tenant_role';
COMMENT ON FUNCTION nexus.tenant_role() IS
  'The caller''s role in the current tenant (owner, admin, manager, viewer); NULL for API keys and non-members';

CREATE FUNCTION nexus.has_role(min_role text) RETURNS boolean
  LANGUAGE c STABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'nexus_has_role';
COMMENT ON FUNCTION nexus.has_role(text) IS
  'Whether the caller''s role in the current tenant is at least min_role (viewer < manager < admin < owner)';

CREATE FUNCTION nexus.has_scope(scope text) RETURNS boolean
  LANGUAGE c STABLE PARALLEL SAFE STRICT
  AS 'MODULE_PATHNAME', 'nexus_has_scope';
COMMENT ON FUNCTION nexus.has_scope(text) IS
  'Whether the current request may perform scope ("resource:action") in its tenant: from the API key''s scopes, or from the member''s role';

CREATE FUNCTION nexus.api_key_id() RETURNS uuid
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'nexus_api_key_id';
COMMENT ON FUNCTION nexus.api_key_id() IS 'The API key that authenticated the current request, if any';

CREATE FUNCTION nexus_private.validate_scope(scope text) RETURNS void
  LANGUAGE c IMMUTABLE STRICT
  AS 'MODULE_PATHNAME', 'nexus_validate_scope';

CREATE FUNCTION nexus_private.memberships_changed() RETURNS trigger
  LANGUAGE c
  AS 'MODULE_PATHNAME', 'nexus_memberships_changed';

-- The outer caller, whatever SECURITY DEFINER function we are in: a
-- superuser (a DBA in psql) or a role with service_role's rights.
CREATE FUNCTION nexus_private.caller_is_service() RETURNS boolean
  LANGUAGE c STABLE
  AS 'MODULE_PATHNAME', 'nexus_caller_is_service';
