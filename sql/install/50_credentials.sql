-- Marketplace connections and their encrypted credentials (src/credentials.c).

CREATE FUNCTION nexus_private.encrypt_credentials(tenant_id uuid, connection_id uuid, plaintext text,
                                                  OUT key_version integer, OUT nonce bytea, OUT ciphertext bytea)
  LANGUAGE c VOLATILE STRICT
  AS 'MODULE_PATHNAME', 'nexus_encrypt_credentials';

CREATE FUNCTION nexus_private.decrypt_credentials(tenant_id uuid, connection_id uuid) RETURNS jsonb
  LANGUAGE c VOLATILE STRICT
  AS 'MODULE_PATHNAME', 'nexus_decrypt_credentials_sql';
COMMENT ON FUNCTION nexus_private.decrypt_credentials(uuid, uuid) IS
  'Plaintext credentials of a connection; superusers only, for diagnosis';

CREATE FUNCTION nexus.rotate_credentials_key() RETURNS bigint
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'nexus_rotate_credentials_key';
COMMENT ON FUNCTION nexus.rotate_credentials_key() IS
  'Re-encrypt every stored credential under the newest key version of nexus.credentials_key_file; returns the count (superuser only)';

-- The credential keys each marketplace needs: part of the public contract.
CREATE FUNCTION nexus_private.check_credentials(p_marketplace text, p_credentials jsonb) RETURNS void
  LANGUAGE plpgsql IMMUTABLE
  SET search_path = pg_catalog
  AS $$
DECLARE
  required text[];
  optional text[];
  k text;
BEGIN
  CASE p_marketplace
    WHEN 'amazon'   THEN required := '{lwa_client_id,lwa_client_secret,refresh_token}'; optional := '{}';
    WHEN 'ebay'     THEN required := '{client_id,client_secret,refresh_token}';         optional := '{dev_id}';
    WHEN 'bol'      THEN required := '{client_id,client_secret}';                       optional := '{}';
    WHEN 'kaufland' THEN required := '{client_key,secret_key}';                         optional := '{}';
    WHEN 'shopify'  THEN required := '{shop_domain,access_token}';                      optional := '{webhook_secret}';
    WHEN 'zalando'  THEN required := '{client_id,client_secret,merchant_id}';           optional := '{}';
    WHEN 'walmart'  THEN required := '{client_id,client_secret}';                       optional := '{webhook_secret,consumer_channel_type}';
    ELSE
      RAISE EXCEPTION 'unknown marketplace "%"', coalesce(p_marketplace, '')
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Marketplaces are amazon, ebay, bol, kaufland, shopify, zalando and walmart.';
  END CASE;
  IF p_credentials IS NULL OR jsonb_typeof(p_credentials) <> 'object' THEN
    RAISE EXCEPTION 'credentials must be a JSON object'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = format('%s needs the keys %s.', p_marketplace, array_to_string(required, ', '));
  END IF;
  FOREACH k IN ARRAY required LOOP
    IF NOT p_credentials ? k THEN
      RAISE EXCEPTION '% credentials are missing "%"', p_marketplace, k
        USING ERRCODE = 'invalid_parameter_value',
              HINT = format('%s needs the keys %s.', p_marketplace, array_to_string(required, ', '));
    END IF;
  END LOOP;
  FOR k IN SELECT jsonb_object_keys(p_credentials) LOOP
    IF NOT (k = ANY (required) OR k = ANY (optional)) THEN
      RAISE EXCEPTION '% credentials have an unknown key "%"', p_marketplace, k
        USING ERRCODE = 'invalid_parameter_value',
              HINT = format('%s takes the keys %s.', p_marketplace,
                            array_to_string(required || optional, ', '));
    END IF;
    IF jsonb_typeof(p_credentials -> k) <> 'string' OR length(btrim(p_credentials ->> k)) = 0 THEN
      RAISE EXCEPTION 'credential "%" must be a non-empty string', k
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  END LOOP;
  IF p_marketplace = 'shopify' AND
     (p_credentials ->> 'shop_domain') !~ '^[a-z0-9][a-z0-9-]*\.myshopify\.com$' THEN
    RAISE EXCEPTION 'shop_domain must be a *.myshopify.com domain'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Use the shop''s permanent domain, not a custom one.',
            HINT = 'For example "acme-store.myshopify.com".';
  END IF;
END
$$;

CREATE FUNCTION nexus_private.check_connection_settings(p_marketplace text, p_region text,
                                                        p_config jsonb, p_interval interval)
  RETURNS void
  LANGUAGE plpgsql IMMUTABLE
  SET search_path = pg_catalog
  AS $$
BEGIN
  IF NOT nexus_private.valid_region(p_marketplace, p_region) THEN
    IF p_region IS NULL THEN
      RAISE EXCEPTION '% connections need a region', p_marketplace
        USING ERRCODE = 'invalid_parameter_value',
              HINT = CASE p_marketplace
                       WHEN 'amazon' THEN 'Pass the Amazon marketplace id, such as ATVPDKIKX0DER (US) or A1PA6795UKMFR9 (DE).'
                       WHEN 'ebay' THEN 'Pass the eBay site id, such as 0 (US), 3 (UK), 77 (DE), 15 (AU) or 71 (FR).'
                       ELSE 'Pass the Kaufland storefront: de, at, cz, sk, pl or ro.' END;
    ELSIF p_marketplace IN ('amazon', 'ebay', 'kaufland', 'walmart') THEN
      RAISE EXCEPTION 'invalid % region "%"', p_marketplace, p_region
        USING ERRCODE = 'invalid_parameter_value',
              HINT = CASE p_marketplace
                       WHEN 'amazon' THEN 'An Amazon marketplace id looks like ATVPDKIKX0DER.'
                       WHEN 'ebay' THEN 'eBay site ids are numbers such as 0 (US), 3 (UK), 77 (DE), 15 (AU) or 71 (FR).'
                       WHEN 'walmart' THEN 'Walmart regions are us (the default, also when null) and ca (Canada).'
                       ELSE 'Kaufland storefronts are de, at, cz, sk, pl and ro.' END;
    ELSE
      RAISE EXCEPTION '% connections take no region', p_marketplace
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Leave region null.';
    END IF;
  END IF;
  IF p_config IS NULL OR jsonb_typeof(p_config) <> 'object' THEN
    RAISE EXCEPTION 'config must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- The Orders API version Amazon is listed with (doc/sync_protocol.md);
  -- a value the workers would not understand fails here, not at the next sync.
  IF p_config ? 'orders_api' THEN
    IF p_marketplace <> 'amazon' THEN
      RAISE EXCEPTION 'config orders_api is an Amazon setting, and this is a % connection', p_marketplace
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Leave orders_api out of the config.';
    ELSIF p_config -> 'orders_api' NOT IN ('"v0"'::jsonb, '"2026-01-01"'::jsonb) THEN
      RAISE EXCEPTION 'invalid config orders_api %', p_config -> 'orders_api'
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use "2026-01-01" to sync with Orders API v2026-01-01, or "v0" (the default, deprecated by Amazon).';
    END IF;
  END IF;
  IF p_interval IS NULL OR p_interval NOT IN ('15 minutes', '1 hour', '4 hours', '1 day') THEN
    RAISE EXCEPTION 'unsupported sync interval "%"', coalesce(p_interval::text, '')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use 15 minutes, 1 hour, 4 hours or 1 day.';
  END IF;
END
$$;

-- Who may manage connections of p_tenant: service, an admin or owner, or an
-- API key with connections:write.
CREATE FUNCTION nexus_private.require_connections_write() RETURNS uuid
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog
  AS $$
DECLARE
  tenant uuid := nexus.tenant_id();
BEGIN
  IF tenant IS NULL OR NOT nexus.has_scope('connections:write') THEN
    RAISE EXCEPTION 'permission denied to manage marketplace connections'
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Connections are settings: an owner or admin of the tenant, or an api key with connections:write, can change them.';
  END IF;
  RETURN tenant;
END
$$;

-- Non-secret account identity from the credentials that webhooks are
-- routed by (the Shopify shop domain), kept readable in config.
CREATE FUNCTION nexus_private.public_config(p_marketplace text, p_config jsonb, p_credentials jsonb)
  RETURNS jsonb
  LANGUAGE sql IMMUTABLE
  SET search_path = pg_catalog
  AS $$
    SELECT CASE WHEN p_marketplace = 'shopify' AND p_credentials ? 'shop_domain'
                THEN p_config || jsonb_build_object('shop_domain', p_credentials ->> 'shop_domain')
                ELSE p_config END
  $$;

CREATE FUNCTION nexus_private.store_credentials(p_tenant uuid, p_connection uuid, p_credentials jsonb)
  RETURNS void
  LANGUAGE plpgsql
  SET search_path = pg_catalog
  AS $$
DECLARE
  enc record;
BEGIN
  enc := nexus_private.encrypt_credentials(p_tenant, p_connection, p_credentials::text);
  INSERT INTO nexus_private.connection_credentials AS c
         (tenant_id, connection_id, key_version, nonce, ciphertext)
  VALUES (p_tenant, p_connection, enc.key_version, enc.nonce, enc.ciphertext)
  ON CONFLICT (tenant_id, connection_id) DO UPDATE
     SET key_version = excluded.key_version, nonce = excluded.nonce,
         ciphertext = excluded.ciphertext, updated_at = now();
END
$$;

CREATE FUNCTION nexus.connect_marketplace(marketplace text, account_name text, credentials jsonb,
                                          config jsonb DEFAULT '{}', sync_interval interval DEFAULT '15 minutes',
                                          region text DEFAULT NULL)
  RETURNS uuid
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  tenant uuid := nexus_private.require_connections_write();
  new_id uuid;
BEGIN
  PERFORM nexus_private.check_credentials(connect_marketplace.marketplace, connect_marketplace.credentials);
  PERFORM nexus_private.check_connection_settings(connect_marketplace.marketplace, connect_marketplace.region,
                                                  connect_marketplace.config, connect_marketplace.sync_interval);
  IF connect_marketplace.account_name IS NULL OR length(btrim(connect_marketplace.account_name)) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION 'invalid account name'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'An account name has 1 to 200 characters, not only spaces.';
  END IF;
  BEGIN
    INSERT INTO nexus.marketplace_connections
           (tenant_id, marketplace, region, account_name, config, sync_interval, created_by)
    VALUES (tenant, connect_marketplace.marketplace, connect_marketplace.region,
            btrim(connect_marketplace.account_name),
            nexus_private.public_config(connect_marketplace.marketplace, connect_marketplace.config,
                                        connect_marketplace.credentials),
            connect_marketplace.sync_interval, nexus.user_id())
    RETURNING id INTO new_id;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'a % connection named "%" already exists', connect_marketplace.marketplace,
                    btrim(connect_marketplace.account_name)
      USING ERRCODE = 'unique_violation',
            HINT = 'Use nexus.update_credentials() to replace its credentials, or choose another account name.';
  END;
  PERFORM nexus_private.store_credentials(tenant, new_id, connect_marketplace.credentials);
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION nexus.connect_marketplace(text, text, jsonb, jsonb, interval, text) IS
  'Connect a marketplace account to the current tenant; credentials are validated and stored encrypted (admin, owner, or key with connections:write)';

CREATE FUNCTION nexus_private.find_connection(p_tenant uuid, p_connection uuid) RETURNS text
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog
  AS $$
DECLARE
  mp text;
BEGIN
  SELECT marketplace INTO mp FROM nexus.marketplace_connections
   WHERE tenant_id = p_tenant AND id = p_connection FOR UPDATE;
  IF mp IS NULL THEN
    RAISE EXCEPTION 'marketplace connection % does not exist', p_connection
      USING ERRCODE = 'no_data_found';
  END IF;
  RETURN mp;
END
$$;

CREATE FUNCTION nexus.update_credentials(connection_id uuid, credentials jsonb)
  RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  tenant uuid := nexus_private.require_connections_write();
  mp text := nexus_private.find_connection(tenant, update_credentials.connection_id);
BEGIN
  PERFORM nexus_private.check_credentials(mp, update_credentials.credentials);
  PERFORM nexus_private.store_credentials(tenant, update_credentials.connection_id, update_credentials.credentials);
  -- New credentials deserve a fresh start: a connection in error is retried.
  UPDATE nexus.marketplace_connections
     SET status = CASE WHEN status = 'error' THEN 'pending' ELSE status END,
         error_message = NULL, consecutive_failures = 0,
         config = nexus_private.public_config(mp, config, update_credentials.credentials)
   WHERE tenant_id = tenant AND id = update_credentials.connection_id;
END
$$;
COMMENT ON FUNCTION nexus.update_credentials(uuid, jsonb) IS
  'Replace the stored credentials of a connection (admin, owner, or key with connections:write)';

CREATE FUNCTION nexus.disconnect_marketplace(connection_id uuid)
  RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$
#variable_conflict use_column
DECLARE
  tenant uuid := nexus_private.require_connections_write();
BEGIN
  PERFORM nexus_private.find_connection(tenant, disconnect_marketplace.connection_id);
  -- Credentials go with it (ON DELETE CASCADE).
  DELETE FROM nexus.marketplace_connections
   WHERE tenant_id = tenant AND id = disconnect_marketplace.connection_id;
END
$$;
COMMENT ON FUNCTION nexus.disconnect_marketplace(uuid) IS
  'Remove a marketplace connection and its credentials (admin, owner, or key with connections:write)';
