-- Tenant lifecycle, callable through PostgREST (POST /rpc/<name>).
-- SECURITY DEFINER with an empty-ish search path: every name is qualified.
-- Errors use SQLSTATEs that PostgREST maps to the right HTTP status:
-- 42501 -> 401/403, 22023 -> 400, P0002 -> 404, 23505 -> 409.

CREATE FUNCTION nexus_private.role_rank(role text) RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog
  AS $$ SELECT array_position(ARRAY['viewer', 'manager', 'admin', 'owner'], role) $$;

-- Check that the caller may act on p_tenant with at least p_min; returns the
-- caller's role there, or 'service' for superusers and service_role.
CREATE FUNCTION nexus_private.require_role(p_tenant uuid, p_min text, p_action text)
  RETURNS text
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog
  AS $$
DECLARE
  caller_role text;
BEGIN
  IF p_tenant IS NULL THEN
    RAISE EXCEPTION 'tenant_id must not be null'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass the id of the tenant to act on.';
  END IF;
  IF nexus_private.caller_is_service() THEN
    IF NOT EXISTS (SELECT 1 FROM nexus.tenants t WHERE t.tenant_id = p_tenant) THEN
      RAISE EXCEPTION 'tenant % does not exist', p_tenant
        USING ERRCODE = 'no_data_found';
    END IF;
    RETURN 'service';
  END IF;
  SELECT m.role INTO caller_role
    FROM nexus.memberships m
   WHERE m.tenant_id = p_tenant AND m.user_id = nexus.user_id() AND m.status = 'active';
  IF caller_role IS NULL OR nexus_private.role_rank(caller_role) < nexus_private.role_rank(p_min) THEN
    -- Same answer for "no such tenant" and "not allowed": ids are not probed.
    RAISE EXCEPTION 'permission denied to %', p_action
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = format('This requires the %s role or higher in the tenant, as a signed-in member.', p_min),
            HINT = 'Ask an owner or admin of the tenant.';
  END IF;
  RETURN caller_role;
END
$$;

CREATE FUNCTION nexus_private.check_role_name(p_role text) RETURNS void
  LANGUAGE plpgsql IMMUTABLE
  SET search_path = pg_catalog
  AS $$
BEGIN
  IF p_role = 'owner' THEN
    RAISE EXCEPTION 'a member cannot be given the owner role directly'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Every tenant has exactly one owner.',
            HINT = 'Use nexus.transfer_ownership() to make a member the owner.';
  END IF;
  IF p_role IS NULL OR nexus_private.role_rank(p_role) IS NULL THEN
    RAISE EXCEPTION 'unknown tenant role "%"', coalesce(p_role, '')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Roles are admin, manager and viewer (and owner, by transfer).';
  END IF;
END
$$;

CREATE FUNCTION nexus.create_tenant(name text, slug text, owner_user_id uuid DEFAULT NULL)
  RETURNS nexus.tenants
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  owner uuid := coalesce(owner_user_id, nexus.user_id());
  result nexus.tenants;
BEGIN
  IF owner_user_id IS NOT NULL AND owner_user_id IS DISTINCT FROM nexus.user_id()
     AND NOT nexus_private.caller_is_service() THEN
    RAISE EXCEPTION 'permission denied to create a tenant for another user'
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Only service_role may pass owner_user_id; the caller becomes the owner.';
  END IF;
  IF owner IS NULL THEN
    RAISE EXCEPTION 'creating a tenant requires a signed-in user'
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'The request carries no user id (JWT "sub" claim), and no owner_user_id was given.',
            HINT = 'Call it with a user''s JWT, or as service_role with owner_user_id.';
  END IF;
  IF create_tenant.name IS NULL OR length(btrim(create_tenant.name)) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION 'invalid tenant name'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'A tenant name has 1 to 200 characters, not only spaces.';
  END IF;
  IF create_tenant.slug IS NULL OR create_tenant.slug !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' THEN
    RAISE EXCEPTION 'invalid tenant slug "%"', coalesce(create_tenant.slug, '')
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'A slug has 1 to 63 lower-case letters, digits and inner hyphens.',
            HINT = 'For example "acme-store".';
  END IF;
  BEGIN
    INSERT INTO nexus.tenants (name, slug)
    VALUES (btrim(create_tenant.name), create_tenant.slug)
    RETURNING * INTO result;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'a tenant with slug "%" already exists', create_tenant.slug
      USING ERRCODE = 'unique_violation',
            HINT = 'Choose another slug.';
  END;
  INSERT INTO nexus.memberships (tenant_id, user_id, role, status)
  VALUES (result.tenant_id, owner, 'owner', 'active');
  RETURN result;
END
$$;
COMMENT ON FUNCTION nexus.create_tenant(text, text, uuid) IS
  'Create a tenant; the caller (or, for service_role, owner_user_id) becomes its owner';

CREATE FUNCTION nexus.add_member(tenant_id uuid, user_id uuid, role text, status text DEFAULT 'active')
  RETURNS nexus.memberships
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  result nexus.memberships;
BEGIN
  PERFORM nexus_private.require_role(add_member.tenant_id, 'admin', 'add members');
  PERFORM nexus_private.check_role_name(add_member.role);
  IF add_member.user_id IS NULL THEN
    RAISE EXCEPTION 'user_id must not be null' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF add_member.status IS NULL OR add_member.status NOT IN ('active', 'invited', 'suspended') THEN
    RAISE EXCEPTION 'unknown membership status "%"', coalesce(add_member.status, '')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Statuses are active, invited and suspended.';
  END IF;
  BEGIN
    INSERT INTO nexus.memberships (tenant_id, user_id, role, status, invited_by)
    VALUES (add_member.tenant_id, add_member.user_id, add_member.role, add_member.status, nexus.user_id())
    RETURNING * INTO result;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'user % is already a member of this tenant', add_member.user_id
      USING ERRCODE = 'unique_violation',
            HINT = 'Use nexus.set_member_role() to change the role of a member.';
  END;
  RETURN result;
END
$$;
COMMENT ON FUNCTION nexus.add_member(uuid, uuid, text, text) IS
  'Add a user to a tenant as admin, manager or viewer (admin or owner only)';

-- The target membership, locked; 404 when absent.
CREATE FUNCTION nexus_private.lock_member(p_tenant uuid, p_user uuid) RETURNS nexus.memberships
  LANGUAGE plpgsql
  SET search_path = pg_catalog
  AS $$
DECLARE
  m nexus.memberships;
BEGIN
  SELECT * INTO m FROM nexus.memberships
   WHERE tenant_id = p_tenant AND user_id = p_user FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user % is not a member of this tenant', p_user
      USING ERRCODE = 'no_data_found';
  END IF;
  RETURN m;
END
$$;

CREATE FUNCTION nexus.set_member_role(tenant_id uuid, user_id uuid, role text)
  RETURNS nexus.memberships
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  m nexus.memberships;
BEGIN
  PERFORM nexus_private.require_role(set_member_role.tenant_id, 'admin', 'change member roles');
  PERFORM nexus_private.check_role_name(set_member_role.role);
  m := nexus_private.lock_member(set_member_role.tenant_id, set_member_role.user_id);
  IF m.role = 'owner' THEN
    RAISE EXCEPTION 'the owner''s role cannot be changed'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'The owner becomes an admin by handing ownership over with nexus.transfer_ownership().';
  END IF;
  UPDATE nexus.memberships SET role = set_member_role.role
   WHERE tenant_id = set_member_role.tenant_id AND user_id = set_member_role.user_id
  RETURNING * INTO m;
  RETURN m;
END
$$;
COMMENT ON FUNCTION nexus.set_member_role(uuid, uuid, text) IS
  'Change a member''s role to admin, manager or viewer (admin or owner only)';

CREATE FUNCTION nexus.set_member_status(tenant_id uuid, user_id uuid, status text)
  RETURNS nexus.memberships
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  m nexus.memberships;
BEGIN
  PERFORM nexus_private.require_role(set_member_status.tenant_id, 'admin', 'change member status');
  IF set_member_status.status IS NULL OR set_member_status.status NOT IN ('active', 'invited', 'suspended') THEN
    RAISE EXCEPTION 'unknown membership status "%"', coalesce(set_member_status.status, '')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Statuses are active, invited and suspended.';
  END IF;
  m := nexus_private.lock_member(set_member_status.tenant_id, set_member_status.user_id);
  IF m.role = 'owner' AND set_member_status.status <> 'active' THEN
    RAISE EXCEPTION 'the owner cannot be suspended'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Transfer ownership first with nexus.transfer_ownership().';
  END IF;
  UPDATE nexus.memberships SET status = set_member_status.status
   WHERE tenant_id = set_member_status.tenant_id AND user_id = set_member_status.user_id
  RETURNING * INTO m;
  RETURN m;
END
$$;
COMMENT ON FUNCTION nexus.set_member_status(uuid, uuid, text) IS
  'Activate or suspend a member; a suspended member has no access from the next request on (admin or owner only)';

CREATE FUNCTION nexus.remove_member(tenant_id uuid, user_id uuid)
  RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  m nexus.memberships;
BEGIN
  -- Anyone may leave a tenant; removing others takes an admin.
  IF remove_member.user_id IS DISTINCT FROM nexus.user_id() OR nexus.user_id() IS NULL THEN
    PERFORM nexus_private.require_role(remove_member.tenant_id, 'admin', 'remove members');
  ELSE
    PERFORM nexus_private.require_role(remove_member.tenant_id, 'viewer', 'leave the tenant');
  END IF;
  m := nexus_private.lock_member(remove_member.tenant_id, remove_member.user_id);
  IF m.role = 'owner' THEN
    RAISE EXCEPTION 'the owner cannot be removed'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Transfer ownership first with nexus.transfer_ownership(), or delete the tenant.';
  END IF;
  DELETE FROM nexus.memberships
   WHERE tenant_id = remove_member.tenant_id AND user_id = remove_member.user_id;
END
$$;
COMMENT ON FUNCTION nexus.remove_member(uuid, uuid) IS
  'Remove a member (admin or owner), or leave a tenant yourself';

CREATE FUNCTION nexus.transfer_ownership(tenant_id uuid, new_owner_user_id uuid)
  RETURNS nexus.memberships
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  target nexus.memberships;
BEGIN
  PERFORM nexus_private.require_role(transfer_ownership.tenant_id, 'owner', 'transfer ownership');
  target := nexus_private.lock_member(transfer_ownership.tenant_id, transfer_ownership.new_owner_user_id);
  IF target.role = 'owner' THEN
    RETURN target;
  END IF;
  IF target.status <> 'active' THEN
    RAISE EXCEPTION 'only an active member can become the owner'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('User %s is %s.', target.user_id, target.status);
  END IF;
  -- Demote first: at most one owner row may exist at any moment.
  UPDATE nexus.memberships SET role = 'admin'
   WHERE tenant_id = transfer_ownership.tenant_id AND role = 'owner';
  UPDATE nexus.memberships SET role = 'owner'
   WHERE tenant_id = transfer_ownership.tenant_id AND user_id = transfer_ownership.new_owner_user_id
  RETURNING * INTO target;
  RETURN target;
END
$$;
COMMENT ON FUNCTION nexus.transfer_ownership(uuid, uuid) IS
  'Make an active member the owner; the previous owner becomes an admin (owner only)';

CREATE FUNCTION nexus.delete_tenant(tenant_id uuid)
  RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
BEGIN
  PERFORM nexus_private.require_role(delete_tenant.tenant_id, 'owner', 'delete the tenant');
  DELETE FROM nexus.tenants WHERE tenant_id = delete_tenant.tenant_id;
END
$$;
COMMENT ON FUNCTION nexus.delete_tenant(uuid) IS
  'Delete a tenant and everything it owns (owner only)';

CREATE FUNCTION nexus.my_tenants()
  RETURNS TABLE (tenant_id uuid, name text, slug text, role text, status text)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
    SELECT t.tenant_id, t.name, t.slug, m.role, m.status
      FROM nexus.memberships m
      JOIN nexus.tenants t ON t.tenant_id = m.tenant_id
     WHERE m.user_id = nexus.user_id() AND m.status <> 'suspended'
     ORDER BY t.name, t.tenant_id
  $$;
COMMENT ON FUNCTION nexus.my_tenants() IS
  'The tenants the signed-in user belongs to, for a tenant switcher (send the choice as x-tenant-id)';
