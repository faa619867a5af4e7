#!/bin/bash
# Without shared_preload_libraries, nexus installs and the request context
# works, but what needs shared memory (API key rate limits) refuses with a
# hint instead of half-working.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/scripts/lib.sh"
dir=$(mktemp -d /tmp/nexus-nopreload.XXXXXX)
chmod 755 "$dir"
port=$(free_port 27000)
trap '[ -n "${KEEP:-}" ] || { stop_cluster "$dir/pg"; rm -rf "$dir"; }' EXIT
init_cluster "$dir/pg" "$port"
start_cluster "$dir/pg"
out=$(psql_at "$dir/pg" "$port" postgres -At 2>&1 <<'SQL' || true
CREATE EXTENSION nexus;
SELECT nexus.version();
SELECT slug FROM nexus.create_tenant('T', 't', '00000000-0000-4000-8000-000000000001');
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-000000000001"}', true);
SELECT set_config('request.headers', json_build_object('x-tenant-id', (SELECT tenant_id FROM nexus.tenants))::text, true);
SELECT 'role=' || nexus.tenant_role();
CREATE TEMP TABLE k AS SELECT nexus.create_api_key('k', ARRAY['*']) ->> 'key' AS key;
SELECT set_config('request.headers', json_build_object('x-api-key', (SELECT key FROM k))::text, true);
SELECT nexus.pre_request();
COMMIT;
SQL
)
echo "$out"
grep -q '^t$' <<<"$out"
grep -q '^role=owner$' <<<"$out"
grep -q 'API key rate limiting requires nexus to be loaded via shared_preload_libraries' <<<"$out"
grep -q 'HINT:  Add nexus to shared_preload_libraries' <<<"$out"
# With limits switched off, keys work without preloading.
psql_at "$dir/pg" "$port" postgres -At -c "LOAD 'nexus'" -c "ALTER SYSTEM SET nexus.rate_limit_enabled = off" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.3
out=$(psql_at "$dir/pg" "$port" postgres -At <<'SQL'
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-000000000001"}', true);
SELECT set_config('request.headers', json_build_object('x-tenant-id', (SELECT tenant_id FROM nexus.tenants))::text, true);
CREATE TEMP TABLE k AS SELECT nexus.create_api_key('k2', ARRAY['*']) ->> 'key' AS key;
SELECT set_config('request.jwt.claims', '', true);
SELECT set_config('request.headers', json_build_object('x-api-key', (SELECT key FROM k))::text, true);
SELECT nexus.pre_request();
SELECT 'key tenant ok=' || (nexus.tenant_id() = (SELECT tenant_id FROM nexus.tenants));
COMMIT;
SQL
)
echo "$out"
grep -q '^key tenant ok=true$' <<<"$out"
# A webhook naming a key nexus lacks asks the sync workers for it through
# shared memory; without preloading there is none, and it is refused as usual.
fixtures=${NEXUS_FIXTURES:-$here/../shared/fixtures}
out=$(psql_at "$dir/pg" "$port" postgres -At -v body="$(cat "$fixtures/ebay/webhook_order_confirmation.json")" \
        -v headers="$(sh "$here/test/headers_json.sh" "$fixtures/ebay/webhook_order_confirmation.headers")" 2>&1 <<'SQL' || true
\set VERBOSITY verbose
INSERT INTO nexus.marketplace_connections (tenant_id, marketplace, account_name, config, region)
SELECT tenant_id, 'ebay', 'e', '{"seller_username": "nexus_demo_store"}', '77' FROM nexus.tenants;
SELECT nexus.receive_webhook('ebay', :'headers'::jsonb, :'body');
SQL
)
echo "$out"
grep -q 'PT401: invalid ebay webhook signature' <<<"$out"
grep -q 'unknown key id' <<<"$out"
[ "$(psql_at "$dir/pg" "$port" postgres -At -c 'SELECT 1')" = 1 ]
echo "no_preload: ok"
