-- API keys and the PostgREST pre-request hook (src/api_keys.c).

CREATE FUNCTION nexus_private.new_api_key(OUT key text, OUT key_prefix text, OUT key_hash bytea)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'nexus_new_api_key';

CREATE FUNCTION nexus.create_api_key(name text, scopes text[], expires_at timestamptz DEFAULT NULL)
  RETURNS jsonb
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  tenant uuid := nexus.tenant_id();
  gen record;
  new_id uuid;
  s text;
BEGIN
  IF tenant IS NULL OR nexus.user_id() IS NULL OR NOT nexus.has_role('admin') THEN
    RAISE EXCEPTION 'permission denied to create api keys'
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Only an owner or admin of the current tenant, signed in as a user, can create api keys.';
  END IF;
  IF create_api_key.name IS NULL OR length(btrim(create_api_key.name)) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION 'invalid api key name'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'A name has 1 to 200 characters, not only spaces.';
  END IF;
  IF create_api_key.scopes IS NULL OR cardinality(create_api_key.scopes) = 0 THEN
    RAISE EXCEPTION 'an api key needs at least one scope'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'For example ARRAY[''orders:read''], or ARRAY[''*''] for everything.';
  END IF;
  FOREACH s IN ARRAY create_api_key.scopes LOOP
    IF s IS NULL THEN
      RAISE EXCEPTION 'scopes must not contain null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM nexus_private.validate_scope(s);
  END LOOP;
  IF create_api_key.expires_at IS NOT NULL AND create_api_key.expires_at <= now() THEN
    RAISE EXCEPTION 'expires_at is in the past'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = format('expires_at is %s.', create_api_key.expires_at);
  END IF;

  gen := nexus_private.new_api_key();
  INSERT INTO nexus.api_keys (tenant_id, name, key_prefix, scopes, expires_at, created_by)
  VALUES (tenant, btrim(create_api_key.name), gen.key_prefix,
          ARRAY(SELECT DISTINCT x FROM unnest(create_api_key.scopes) x ORDER BY x),
          create_api_key.expires_at, nexus.user_id())
  RETURNING api_keys.id INTO new_id;
  INSERT INTO nexus_private.api_key_hashes (tenant_id, api_key_id, key_prefix, key_hash)
  VALUES (tenant, new_id, gen.key_prefix, gen.key_hash);

  RETURN (SELECT jsonb_build_object('id', k.id, 'key', gen.key, 'key_prefix', k.key_prefix,
                                     'name', k.name, 'scopes', k.scopes, 'expires_at', k.expires_at)
            FROM nexus.api_keys k WHERE k.tenant_id = tenant AND k.id = new_id);
END
$$;
COMMENT ON FUNCTION nexus.create_api_key(text, text[], timestamptz) IS
  'Create an API key for the current tenant; returns {id, key, key_prefix, name, scopes, expires_at}, the only time the key is shown (admin or owner)';

CREATE FUNCTION nexus.revoke_api_key(id uuid)
  RETURNS nexus.api_keys
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  tenant uuid := nexus.tenant_id();
  result nexus.api_keys;
BEGIN
  IF tenant IS NULL OR nexus.user_id() IS NULL OR NOT nexus.has_role('admin') THEN
    RAISE EXCEPTION 'permission denied to revoke api keys'
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Only an owner or admin of the current tenant, signed in as a user, can revoke api keys.';
  END IF;
  UPDATE nexus.api_keys SET revoked_at = coalesce(revoked_at, now())
   WHERE tenant_id = tenant AND id = revoke_api_key.id
  RETURNING * INTO result;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'api key % does not exist', revoke_api_key.id
      USING ERRCODE = 'no_data_found';
  END IF;
  RETURN result;
END
$$;
COMMENT ON FUNCTION nexus.revoke_api_key(uuid) IS
  'Revoke an API key of the current tenant; requests with it fail from then on (admin or owner)';

CREATE FUNCTION nexus.pre_request() RETURNS void
  LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS 'MODULE_PATHNAME', 'nexus_pre_request';
COMMENT ON FUNCTION nexus.pre_request() IS
  'PostgREST db-pre-request hook: authenticates nxc_live_ API keys (x-api-key or Authorization: Bearer) and applies plan rate limits';
