-- Tenancy tables.  Every tenant table has tenant_id leading its primary key
-- (DESIGN.md section 4) so that it can later be distributed by tenant.

CREATE FUNCTION nexus_private.touch_updated_at() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog
  AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- A time zone is valid when PostgreSQL can convert to it.
CREATE FUNCTION nexus_private.is_timezone(tz text) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE STRICT
  SET search_path = pg_catalog
  AS $$
BEGIN
  PERFORM timestamptz '2000-01-01 00:00+00' AT TIME ZONE tz;
  RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN false;
END
$$;

CREATE TABLE nexus.tenants (
  tenant_id        uuid NOT NULL DEFAULT gen_random_uuid(),
  name             text NOT NULL,
  slug             text NOT NULL,
  primary_currency text NOT NULL DEFAULT 'EUR',
  timezone         text NOT NULL DEFAULT 'UTC',
  plan             text NOT NULL DEFAULT 'starter',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenants_pkey PRIMARY KEY (tenant_id),
  -- Slugs name tenants in URLs, so they are unique across tenants.
  CONSTRAINT tenants_slug_key UNIQUE (slug),
  CONSTRAINT tenants_name_check CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  CONSTRAINT tenants_slug_check CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  CONSTRAINT tenants_primary_currency_check CHECK (primary_currency ~ '^[A-Z]{3}$'),
  CONSTRAINT tenants_timezone_check CHECK (nexus_private.is_timezone(timezone)),
  CONSTRAINT tenants_plan_check CHECK (plan IN ('starter', 'growth', 'enterprise'))
);
COMMENT ON TABLE nexus.tenants IS 'Sellers: one row per NexusCommerce account';

CREATE TABLE nexus.memberships (
  tenant_id  uuid NOT NULL REFERENCES nexus.tenants ON DELETE CASCADE,
  user_id    uuid NOT NULL,
  role       text NOT NULL,
  status     text NOT NULL DEFAULT 'active',
  invited_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT memberships_pkey PRIMARY KEY (tenant_id, user_id),
  CONSTRAINT memberships_role_check CHECK (role IN ('owner', 'admin', 'manager', 'viewer')),
  CONSTRAINT memberships_status_check CHECK (status IN ('active', 'invited', 'suspended')),
  CONSTRAINT memberships_owner_active_check CHECK (role <> 'owner' OR status = 'active')
);
COMMENT ON TABLE nexus.memberships IS 'Users (JWT sub) in tenants, with their role; exactly one owner per tenant';
-- At most one owner; the deferred trigger below makes it at least one.
CREATE UNIQUE INDEX memberships_one_owner ON nexus.memberships (tenant_id) WHERE role = 'owner';
CREATE INDEX memberships_user_id_idx ON nexus.memberships (user_id);

CREATE FUNCTION nexus_private.check_tenant_owner() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog
  AS $$
DECLARE
  t uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
  s text;
BEGIN
  -- pg_restore loads tenants and memberships by separate COPYs, each in its
  -- own transaction: a bulk load is trusted to bring the owners along.
  IF TG_TABLE_NAME = 'tenants' AND current_query() ~* '^\s*COPY\s' THEN
    RETURN NULL;
  END IF;
  SELECT slug INTO s FROM nexus.tenants WHERE tenant_id = t;
  IF FOUND AND NOT EXISTS (SELECT 1 FROM nexus.memberships WHERE tenant_id = t AND role = 'owner') THEN
    RAISE EXCEPTION 'tenant "%" would have no owner', s
      USING ERRCODE = 'integrity_constraint_violation',
            DETAIL = 'Every tenant has exactly one owner.',
            HINT = 'Use nexus.transfer_ownership() to give the tenant a new owner.';
  END IF;
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER tenants_have_owner
  AFTER INSERT ON nexus.tenants
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION nexus_private.check_tenant_owner();
CREATE CONSTRAINT TRIGGER memberships_keep_owner
  AFTER INSERT OR UPDATE OR DELETE ON nexus.memberships
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION nexus_private.check_tenant_owner();
-- Cached membership verdicts of this backend are stale after any change.
CREATE TRIGGER memberships_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON nexus.memberships
  FOR EACH STATEMENT EXECUTE FUNCTION nexus_private.memberships_changed();

CREATE TABLE nexus.api_keys (
  tenant_id    uuid NOT NULL REFERENCES nexus.tenants ON DELETE CASCADE,
  id           uuid NOT NULL DEFAULT gen_random_uuid(),
  name         text NOT NULL,
  key_prefix   text NOT NULL,
  scopes       text[] NOT NULL,
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz,
  created_by   uuid,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT api_keys_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT api_keys_name_check CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  CONSTRAINT api_keys_key_prefix_check CHECK (length(key_prefix) = 8),
  CONSTRAINT api_keys_scopes_check CHECK (cardinality(scopes) > 0)
);
COMMENT ON TABLE nexus.api_keys IS 'API keys (nxc_live_...) of a tenant; the key itself is never stored';

-- The hash lives apart so that API roles reading nexus.api_keys never see it.
CREATE TABLE nexus_private.api_key_hashes (
  tenant_id  uuid NOT NULL,
  api_key_id uuid NOT NULL,
  key_prefix text NOT NULL,
  key_hash   bytea NOT NULL,
  CONSTRAINT api_key_hashes_pkey PRIMARY KEY (tenant_id, api_key_id),
  CONSTRAINT api_key_hashes_key_fkey FOREIGN KEY (tenant_id, api_key_id)
    REFERENCES nexus.api_keys (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT api_key_hashes_hash_check CHECK (length(key_hash) = 32)
);
CREATE INDEX api_key_hashes_prefix_idx ON nexus_private.api_key_hashes (key_prefix);

CREATE FUNCTION nexus_private.valid_region(marketplace text, region text) RETURNS boolean
  LANGUAGE sql IMMUTABLE
  SET search_path = pg_catalog
  AS $$
    SELECT coalesce(CASE marketplace
      -- Amazon marketplace ids, e.g. ATVPDKIKX0DER (US), A1PA6795UKMFR9 (DE).
      WHEN 'amazon' THEN region ~ '^A[0-9A-Z]{9,15}$'
      -- eBay site ids (X-EBAY-C-MARKETPLACE-ID's numeric form).
      WHEN 'ebay' THEN region IN ('0', '2', '3', '15', '16', '23', '71', '77', '100', '101',
                                  '123', '146', '186', '193', '201', '203', '205', '207',
                                  '210', '211', '212', '216')
      WHEN 'kaufland' THEN region IN ('de', 'at', 'cz', 'sk', 'pl', 'ro')
      -- Walmart's US and Canadian marketplaces: NULL is us, as it was
      -- before Canada was supported, so existing connections stay valid.
      WHEN 'walmart' THEN region IS NULL OR region IN ('us', 'ca')
      ELSE region IS NULL
    END, false)
  $$;

CREATE TABLE nexus.marketplace_connections (
  tenant_id            uuid NOT NULL REFERENCES nexus.tenants ON DELETE CASCADE,
  id                   uuid NOT NULL DEFAULT gen_random_uuid(),
  marketplace          text NOT NULL,
  region               text,
  account_name         text NOT NULL,
  config               jsonb NOT NULL DEFAULT '{}',
  status               text NOT NULL DEFAULT 'pending',
  sync_interval        interval NOT NULL DEFAULT '15 minutes',
  last_synced_at       timestamptz,
  next_sync_at         timestamptz DEFAULT now(),
  -- Orders changed before this are in: the next sync lists from here minus
  -- nexus.sync_overlap.  Advanced only by a run that read every page.
  sync_watermark       timestamptz,
  error_message        text,
  consecutive_failures integer NOT NULL DEFAULT 0,
  created_by           uuid,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT marketplace_connections_pkey PRIMARY KEY (tenant_id, id),
  CONSTRAINT marketplace_connections_account_key UNIQUE (tenant_id, marketplace, account_name),
  CONSTRAINT marketplace_connections_marketplace_check
    CHECK (marketplace IN ('amazon', 'ebay', 'bol', 'kaufland', 'shopify', 'zalando', 'walmart')),
  CONSTRAINT marketplace_connections_region_check CHECK (nexus_private.valid_region(marketplace, region)),
  CONSTRAINT marketplace_connections_account_name_check CHECK (length(btrim(account_name)) BETWEEN 1 AND 200),
  CONSTRAINT marketplace_connections_config_check CHECK (jsonb_typeof(config) = 'object'),
  CONSTRAINT marketplace_connections_status_check
    CHECK (status IN ('pending', 'active', 'error', 'rate_limited')),
  CONSTRAINT marketplace_connections_sync_interval_check
    CHECK (sync_interval IN ('15 minutes', '1 hour', '4 hours', '1 day')),
  CONSTRAINT marketplace_connections_failures_check CHECK (consecutive_failures >= 0)
);
COMMENT ON TABLE nexus.marketplace_connections IS
  'A tenant''s account on one marketplace; its credentials are stored encrypted in nexus_private';
CREATE INDEX marketplace_connections_due_idx ON nexus.marketplace_connections (next_sync_at)
  WHERE status <> 'error';

CREATE TABLE nexus_private.connection_credentials (
  tenant_id     uuid NOT NULL,
  connection_id uuid NOT NULL,
  key_version   integer NOT NULL,
  nonce         bytea NOT NULL,
  ciphertext    bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT connection_credentials_pkey PRIMARY KEY (tenant_id, connection_id),
  CONSTRAINT connection_credentials_connection_fkey FOREIGN KEY (tenant_id, connection_id)
    REFERENCES nexus.marketplace_connections (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE nexus_private.connection_credentials IS
  'AES-256-GCM ciphertext of each connection''s credentials, under the key version named';

DO $tables$
DECLARE
  t regclass;
BEGIN
  FOREACH t IN ARRAY ARRAY['nexus.tenants', 'nexus.memberships', 'nexus.api_keys',
                           'nexus_private.api_key_hashes', 'nexus.marketplace_connections',
                           'nexus_private.connection_credentials']::regclass[] LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
    PERFORM pg_catalog.pg_extension_config_dump(t, '');
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = t AND attname = 'updated_at') THEN
      EXECUTE format('CREATE TRIGGER touch_updated_at BEFORE UPDATE ON %s
                      FOR EACH ROW EXECUTE FUNCTION nexus_private.touch_updated_at()', t);
    END IF;
  END LOOP;
END
$tables$;
