#!/bin/bash
# The main job at this stage: a local PostgreSQL 15 cluster with pg_cron and
# nexus preloaded, the Supabase roles, a demo tenant with a member of each
# role, a marketplace connection with encrypted credentials and an API key;
# then how to connect and what to try.  Safe to run again: it reuses the
# cluster and the demo data, and replaces the demo API key.
#   usage: bash scripts/demo.sh [stop]
#   NEXUS_DATA (default: .data in the checkout) holds the cluster and its key file.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
data=${NEXUS_DATA:-$here/.data}
pg="$data/pg"

if [ "${1:-}" = stop ]; then
  stop_cluster "$pg"
  echo "nexus demo: stopped"
  exit 0
fi

bash "$here/scripts/deps.sh"
make -s -C "$here" PG_CONFIG="$PG_CONFIG" >/dev/null
make -s -C "$here" PG_CONFIG="$PG_CONFIG" install >/dev/null

mkdir -p "$data"
chown postgres: "$data"
if ! as_postgres test -w "$data"; then
  echo "nexus demo: the postgres OS user cannot write $data (a parent directory is private)." >&2
  echo "Run it with NEXUS_DATA set to a directory that user can reach, e.g. NEXUS_DATA=/var/tmp/nexus-demo." >&2
  exit 1
fi

if [ ! -f "$pg/PG_VERSION" ]; then
  port=$(free_port 54320)
  init_cluster "$pg" "$port" \
    "shared_preload_libraries = 'pg_cron,nexus'" \
    "cron.database_name = 'nexus'" \
    "nexus.credentials_key_file = '$data/credentials.key'"
  echo "$port" > "$data/port"
fi
port=$(cat "$data/port")
if [ ! -f "$data/credentials.key" ]; then
  # The key that encrypts marketplace credentials: outside the database.
  (umask 077; printf '1:%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" > "$data/credentials.key")
  chown postgres: "$data/credentials.key"
fi
if ! as_postgres "$("$PG_CONFIG" --bindir)/pg_ctl" -D "$pg" status >/dev/null 2>&1; then
  start_cluster "$pg"
fi

psql_at "$pg" "$port" postgres -At -c "SELECT 1 FROM pg_database WHERE datname = 'nexus'" | grep -q 1 ||
  psql_at "$pg" "$port" postgres -c "CREATE DATABASE nexus"
psql_at "$pg" "$port" nexus -f "$here/scripts/demo.sql" > "$data/demo.out"

# Orders: the Shopify fixture pages ingested into the demo connection, the
# way the sync engine will.  Safe to repeat: the second time nothing changes.
fixtures=${NEXUS_FIXTURES:-$here/../shared/fixtures}
orders_summary="  (no fixtures found at $fixtures: no demo orders)"
if [ -f "$fixtures/shopify/orders_page1.json" ]; then
  cp "$fixtures/shopify/orders_page1.json" "$fixtures/shopify/orders_page2.json" "$data/"
  chmod 644 "$data"/orders_page*.json
  orders_summary=$(psql_at "$pg" "$port" nexus -At -F ' ' <<SQL
\set p1 \`cat $data/orders_page1.json\`
\set p2 \`cat $data/orders_page2.json\`
SELECT set_config('request.jwt.claims', json_build_object('sub', '33333333-3333-4333-8333-333333333333',
         'app_metadata', json_build_object('tenant_id', (SELECT tenant_id FROM nexus.tenants WHERE slug = 'demo')))::text,
         false) IS NULL AS as_mia \g /dev/null
SET ROLE authenticated;
SELECT '  ingest page 1: ' || nexus.ingest_orders(c.id, :'p1')::text FROM nexus.marketplace_connections c WHERE account_name = 'Demo Shopify';
SELECT '  ingest page 2: ' || nexus.ingest_orders(c.id, :'p2')::text FROM nexus.marketplace_connections c WHERE account_name = 'Demo Shopify';
SELECT '  ' || rpad(status, 10) || count(*) || ' order(s), ' || sum(total_amount) || ' ' || min(currency)
  FROM nexus.orders GROUP BY status ORDER BY status;
SQL
)
fi

key=$(sed -n 's/^api_key=//p' "$data/demo.out")
cat <<EOF2

nexus $(psql_at "$pg" "$port" nexus -At -c "SELECT nexus.version()") is running: PostgreSQL 15 on 127.0.0.1:$port, database "nexus",
with pg_cron and nexus preloaded.  Data and the credentials key: $data

Demo tenant "Demo Store" (slug demo):
$(sed -n 's/^member=//p' "$data/demo.out" | sed 's/^/  /')
  connection: $(sed -n 's/^connection=//p' "$data/demo.out")
  API key (shown once, replaced on every run): $key

Orders (Shopify fixture pages, ingested as Mia the manager):
$orders_summary

Connect:
  runuser -u postgres -- psql -h $pg -p $port nexus

Try, as PostgREST would run a request of the owner:
  BEGIN;
  SET LOCAL ROLE authenticated;
  SELECT set_config('request.jwt.claims', '{"sub": "11111111-1111-4111-8111-111111111111", "app_metadata": {"tenant_id": "$(sed -n 's/^tenant=//p' "$data/demo.out")"}}', true);
  SELECT nexus.tenant_id(), nexus.tenant_role(), nexus.has_scope('connections:write');
  SELECT marketplace, account_name, status FROM nexus.marketplace_connections;
  SELECT order_number, status, total_amount, currency FROM nexus.orders ORDER BY ordered_at DESC;
  COMMIT;

...and a request carrying the API key (PostgREST runs it as anon):
  BEGIN;
  SET LOCAL ROLE anon;
  SELECT set_config('request.headers', '{"x-api-key": "$key"}', true);
  SELECT nexus.pre_request();
  SELECT current_setting('response.headers'), name, plan FROM nexus.tenants;
  COMMIT;

Stop it with: bash scripts/demo.sh stop
EOF2
