# A cluster with nexus preloaded, one tenant, and one Shopify connection
# made the way a member makes it (through the emulated PostgREST request):
# what the ingestion tests start from.  Expects $dir (a scratch folder)
# and $port; sets $conn to the connection's id.  Stop the cluster with
# stop_cluster "$dir/pg".
shopify_tenant_cluster() {
  init_cluster "$dir/pg" "$port" "shared_preload_libraries = 'nexus'" \
    "nexus.credentials_key_file = '$dir/pg/key'"
  printf '1:%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" > "$dir/pg/key"
  chown postgres: "$dir/pg/key"
  chmod 600 "$dir/pg/key"
  start_cluster "$dir/pg"
  psql_at "$dir/pg" "$port" postgres > "$dir/setup.out" <<'SQL'
CREATE EXTENSION nexus;
SELECT nexus.create_tenant('T', 't', '00000000-0000-4000-8000-000000000001') IS NOT NULL;
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-000000000001", "app_metadata": {"tenant_id": "' || (SELECT tenant_id FROM nexus.tenants) || '"}}', true) IS NULL;
SET LOCAL ROLE authenticated;
SELECT nexus.connect_marketplace('shopify', 'S', '{"shop_domain": "s.myshopify.com", "access_token": "t"}') IS NOT NULL;
COMMIT;
SQL
  conn=$(psql_at "$dir/pg" "$port" postgres -At -c "SELECT id FROM nexus.marketplace_connections")
}
