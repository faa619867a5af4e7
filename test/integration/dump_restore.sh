#!/bin/bash
# pg_dump keeps nexus's data (pg_extension_config_dump), and a restore into
# a fresh database gives back working tenants, keys and credentials.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/scripts/lib.sh"
dir=$(mktemp -d /tmp/nexus-dump.XXXXXX)
chmod 755 "$dir"
port=$(free_port 27100)
trap 'stop_cluster "$dir/pg"; rm -rf "$dir"' EXIT
init_cluster "$dir/pg" "$port" "shared_preload_libraries = 'nexus'" \
  "nexus.credentials_key_file = '$dir/pg/key'"
printf '1:%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$dir/pg/key"
chown postgres: "$dir/pg/key"
chmod 600 "$dir/pg/key"
start_cluster "$dir/pg"
psql_at "$dir/pg" "$port" postgres <<'SQL'
CREATE DATABASE src;
CREATE DATABASE dst;
\c src
CREATE EXTENSION nexus;
SELECT nexus.create_tenant('Dumped', 'dumped', '00000000-0000-4000-8000-000000000001') IS NOT NULL;
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-000000000001", "app_metadata": {"tenant_id": "' || (SELECT tenant_id FROM nexus.tenants) || '"}}', true);
SET LOCAL ROLE authenticated;
SELECT nexus.connect_marketplace('bol', 'Shop', '{"client_id": "c", "client_secret": "DUMPED-SECRET"}') IS NOT NULL;
CREATE TEMP TABLE k AS SELECT nexus.create_api_key('k', ARRAY['*']) ->> 'key' AS key;
COMMIT;
SQL
as_postgres "$("$PG_CONFIG" --bindir)/pg_dump" -h "$dir/pg" -p "$port" -Fc -f "$dir/pg/src.dump" src
as_postgres "$("$PG_CONFIG" --bindir)/pg_restore" -h "$dir/pg" -p "$port" -d dst "$dir/pg/src.dump"
out=$(psql_at "$dir/pg" "$port" dst -At <<'SQL'
SELECT 'tenants=' || count(*) FROM nexus.tenants;
SELECT 'members=' || count(*) FROM nexus.memberships;
SELECT 'keys=' || count(*) FROM nexus_private.api_key_hashes;
SELECT 'secret=' || (nexus_private.decrypt_credentials(tenant_id, id) ->> 'client_secret') FROM nexus.marketplace_connections;
SQL
)
echo "$out"
grep -qx 'tenants=1' <<<"$out"
grep -qx 'members=1' <<<"$out"
grep -qx 'keys=1' <<<"$out"
grep -qx 'secret=DUMPED-SECRET' <<<"$out"
echo "dump_restore: ok"
