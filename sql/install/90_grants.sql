-- Privileges.  Supabase's default privileges grant new functions to anon, so
-- everything is revoked first and only the API is granted back.

REVOKE ALL ON ALL TABLES IN SCHEMA nexus, nexus_private FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA nexus, nexus_private FROM PUBLIC, anon, authenticated, service_role;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA nexus, nexus_private FROM PUBLIC, anon, authenticated, service_role;

-- Tables: reads through RLS; writes only where a column may change by hand,
-- everything else through the functions below.
GRANT SELECT ON nexus.tenants, nexus.memberships, nexus.api_keys, nexus.marketplace_connections,
  nexus.orders, nexus.order_items, nexus.webhook_events, nexus.sync_runs, nexus.connection_health
  TO anon, authenticated;
GRANT UPDATE (name, primary_currency, timezone) ON nexus.tenants TO anon, authenticated;
GRANT UPDATE (account_name, config, sync_interval) ON nexus.marketplace_connections TO anon, authenticated;
GRANT ALL ON ALL TABLES IN SCHEMA nexus TO service_role;

-- Functions that CHECK constraints call run with the writer's rights.
GRANT EXECUTE ON FUNCTION nexus_private.is_timezone(text), nexus_private.valid_region(text, text)
  TO anon, authenticated, service_role;

-- Functions policies call, and the request hook.
GRANT EXECUTE ON FUNCTION
  nexus.version(), nexus.user_id(), nexus.tenant_id(), nexus.tenant_id(text), nexus.tenant_role(),
  nexus.has_role(text), nexus.has_scope(text), nexus.api_key_id(), nexus.pre_request()
  TO anon, authenticated, service_role;

-- RPCs for signed-in users (they check roles themselves).
GRANT EXECUTE ON FUNCTION
  nexus.create_tenant(text, text, uuid), nexus.add_member(uuid, uuid, text, text),
  nexus.set_member_role(uuid, uuid, text), nexus.set_member_status(uuid, uuid, text),
  nexus.remove_member(uuid, uuid), nexus.transfer_ownership(uuid, uuid),
  nexus.delete_tenant(uuid), nexus.my_tenants(),
  nexus.create_api_key(text, text[], timestamptz), nexus.revoke_api_key(uuid)
  TO authenticated, service_role;

-- Connection management also works with an API key (anon + key).
GRANT EXECUTE ON FUNCTION
  nexus.connect_marketplace(text, text, jsonb, jsonb, interval, text),
  nexus.update_credentials(uuid, jsonb), nexus.disconnect_marketplace(uuid)
  TO anon, authenticated, service_role;

-- Orders: normalizing writes nothing; ingesting checks orders:write itself.
GRANT EXECUTE ON FUNCTION
  nexus.normalize_order(text, json), nexus.normalize_page(text, json, json),
  nexus.ingest_orders(uuid, json, json)
  TO anon, authenticated, service_role;

-- Webhooks: marketplaces call as anon and are trusted for their signature only.
GRANT EXECUTE ON FUNCTION
  nexus.receive_webhook(text, jsonb, text), nexus.webhook_shopify(json), nexus.webhook_walmart(json),
  nexus.webhook_kaufland(json), nexus.webhook_ebay(json), nexus.webhook_bol(json)
  TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION nexus.store_webhook_key(text, text, text, timestamptz) TO service_role;

-- Syncs: requests only (the workers do the rest); sync_now and cancel_sync
-- check sync:write themselves.
GRANT EXECUTE ON FUNCTION nexus.sync_now(uuid), nexus.cancel_sync(uuid)
  TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION nexus.enqueue_due_syncs() TO service_role;

-- nexus.rotate_credentials_key(), nexus.schedule_syncs(), nexus.unschedule_syncs()
-- and the rest of nexus_private.* stay superuser-only.
