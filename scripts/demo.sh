#!/bin/bash
# The main job: a local PostgreSQL 15 cluster with pg_cron and nexus
# preloaded (its sync workers included), the Supabase roles, the marketplace
# simulator (test/sim) standing in for the seven marketplaces on 127.0.0.1,
# a demo tenant with a member of each role, one connection per marketplace
# with encrypted credentials, the pg_cron job that keeps them current, a
# sync of all seven, and a summary: orders per marketplace and status, last
# sync, health.  Then how to connect and what to try.  Safe to run again: it
# reuses the cluster, the simulator and the demo data (the second sync finds
# every order unchanged), and replaces the demo API key.
#   usage: bash scripts/demo.sh [stop]
#   NEXUS_DATA (default: .data in the checkout) holds the cluster, its key
#   file and the simulator's log.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
data=${NEXUS_DATA:-$here/.data}
pg="$data/pg"

sim_running() { [ -f "$data/sim.pid" ] && kill -0 "$(cat "$data/sim.pid")" 2>/dev/null; }

if [ "${1:-}" = stop ]; then
  stop_cluster "$pg"
  sim_running && kill "$(cat "$data/sim.pid")"
  rm -f "$data/sim.pid"
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
    "nexus.sync_database = 'nexus'" \
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
# The marketplace simulator: the seven APIs on 127.0.0.1, one demo seller
# account each.  The accounts start on a date kept in $data, so that a
# simulator started again serves the same orders.
if ! sim_running; then
  rm -f "$data/sim.port"
  nohup node "$here/test/sim/sim.js" --port 0 --port-file "$data/sim.port" > "$data/sim.log" 2>&1 &
  echo $! > "$data/sim.pid"
  for _ in $(seq 1 100); do [ -s "$data/sim.port" ] && break; sleep 0.1; done
  [ -s "$data/sim.port" ] || { cat "$data/sim.log" >&2; exit 1; }
fi
sim="http://127.0.0.1:$(cat "$data/sim.port")"
[ -s "$data/sim.start" ] || date -u -d '-6 days' +%Y-%m-%dT00:00:00Z > "$data/sim.start"
accounts='['
for m in amazon ebay bol kaufland shopify zalando walmart; do
  case $m in
    amazon) c='{"lwa_client_id": "amzn1.application-oa2-client.demo", "lwa_client_secret": "demo-lwa-secret", "refresh_token": "Atzr|demo-refresh"}'; r=ATVPDKIKX0DER ;;
    ebay) c='{"client_id": "demo-ebay-app", "client_secret": "demo-ebay-secret", "refresh_token": "v^1.1#demo-refresh"}'; r=77 ;;
    bol) c='{"client_id": "demo-bol-client", "client_secret": "demo-bol-secret"}'; r= ;;
    kaufland) c='{"client_key": "demo-kaufland-key", "secret_key": "demo-kaufland-secret"}'; r=de ;;
    shopify) c='{"shop_domain": "demo-store.myshopify.com", "access_token": "shpat_demo"}'; r= ;;
    zalando) c='{"client_id": "demo-zalando-client", "client_secret": "demo-zalando-secret", "merchant_id": "6c9d0c5e-3f7a-4c1b-9a2e-5b8d7e6f4a31"}'; r= ;;
    walmart) c='{"client_id": "demo-walmart-client", "client_secret": "demo-walmart-secret"}'; r= ;;
  esac
  if ! curl -sf --max-time 5 "$sim/_sim/accounts" | grep -q "\"marketplace\":\"$m\""; then
    curl -sf --max-time 30 -X POST -H 'Content-Type: application/json' "$sim/_sim/accounts" \
      --data "{\"marketplace\": \"$m\", \"credentials\": $c, \"region\": $([ -n "$r" ] && echo "\"$r\"" || echo null),
               \"orders\": 60, \"seed\": \"demo-$m\", \"start\": \"$(cat "$data/sim.start")\", \"step_seconds\": 7200}" >/dev/null ||
      { echo "nexus demo: the simulator refused the $m account (see $data/sim.log)" >&2; exit 1; }
  fi
  name="Demo $(tr '[:lower:]' '[:upper:]' <<<"${m:0:1}")${m:1}"
  accounts+="{\"marketplace\": \"$m\", \"account_name\": \"$name\", \"credentials\": $c, \"region\": $([ -n "$r" ] && echo "\"$r\"" || echo null)},"
done
accounts="${accounts%,}]"

psql_at "$pg" "$port" nexus -v sim="$sim" -v accounts="$accounts" -f "$here/scripts/demo.sql" > "$data/demo.out"

# A sync of every connection now (pg_cron would start one within the
# minute), as Mia the manager asks for it from the dashboard.
psql_at "$pg" "$port" nexus -At >/dev/null <<'SQL'
BEGIN;
SELECT set_config('request.jwt.claims', json_build_object('sub', '33333333-3333-4333-8333-333333333333',
         'app_metadata', json_build_object('tenant_id', (SELECT tenant_id FROM nexus.tenants WHERE slug = 'demo')))::text, true);
SET LOCAL ROLE authenticated;
SELECT count(*) FROM nexus.sync_now();
COMMIT;
SQL
for _ in $(seq 1 240); do
  open=$(psql_at "$pg" "$port" nexus -At -c "SELECT count(*) FROM nexus.sync_runs WHERE status IN ('queued', 'running')")
  [ "$open" = 0 ] && break
  sleep 0.5
done
[ "$open" = 0 ] || echo "nexus demo: $open sync run(s) still going after 2 minutes; the summary shows what is in so far" >&2
summary=$(psql_at "$pg" "$port" nexus -P footer=off <<'SQL'
\echo 'Connections (last sync, health over the last runs):'
SELECT h.marketplace, h.status, h.health, to_char(h.last_synced_at, 'YYYY-MM-DD HH24:MI:SS') AS last_sync,
       r.pages, r.orders_inserted AS new, r.orders_updated AS changed, r.orders_unchanged AS unchanged,
       r.http_requests AS requests, coalesce(h.error_message, '') AS error
  FROM nexus.connection_health h
  LEFT JOIN LATERAL (SELECT * FROM nexus.sync_runs s WHERE s.connection_id = h.connection_id
                      ORDER BY s.id DESC LIMIT 1) r ON true
 ORDER BY 1;
\echo 'Orders per marketplace and status:'
SELECT marketplace, count(*) AS orders,
       count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
       count(*) FILTER (WHERE status = 'processing') AS processing,
       count(*) FILTER (WHERE status IN ('shipped', 'delivered', 'completed')) AS shipped,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE status IN ('return_initiated', 'return_received', 'refunded')) AS returned,
       string_agg(DISTINCT currency, ',') AS currencies
  FROM nexus.orders GROUP BY ROLLUP (marketplace) ORDER BY marketplace NULLS LAST;
SQL
)

key=$(sed -n 's/^api_key=//p' "$data/demo.out")
cat <<EOF2

nexus $(psql_at "$pg" "$port" nexus -At -c "SELECT nexus.version()") is running: PostgreSQL 15 on 127.0.0.1:$port, database "nexus",
with pg_cron and nexus preloaded.  Data and the credentials key: $data

Demo tenant "Demo Store" (slug demo):
$(sed -n 's/^member=//p' "$data/demo.out" | sed 's/^/  /')
  $(sed -n 's/^connections=//p' "$data/demo.out")
  API key (shown once, replaced on every run): $key

Marketplace simulator: $sim (log: $data/sim.log)
pg_cron job "nexus-enqueue-due-syncs" every minute; a sync of all seven just ran:

$summary

Connect:
  runuser -u postgres -- psql -h $pg -p $port nexus

Try, as PostgREST would run a request of the owner:
  BEGIN;
  SET LOCAL ROLE authenticated;
  SELECT set_config('request.jwt.claims', '{"sub": "11111111-1111-4111-8111-111111111111", "app_metadata": {"tenant_id": "$(sed -n 's/^tenant=//p' "$data/demo.out")"}}', true);
  SELECT nexus.tenant_id(), nexus.tenant_role(), nexus.has_scope('connections:write');
  SELECT marketplace, account_name, status FROM nexus.marketplace_connections;
  SELECT marketplace, order_number, status, total_amount, currency FROM nexus.orders ORDER BY ordered_at DESC LIMIT 10;
  SELECT * FROM nexus.sync_now();        -- "Sync Now" for every connection
  SELECT marketplace, health FROM nexus.connection_health;
  COMMIT;

As a DBA:
  SELECT * FROM nexus.worker_status;
  SELECT connection_id, trigger, status, pages, orders_inserted, http_requests, error FROM nexus.sync_runs ORDER BY id DESC LIMIT 10;

...and a request carrying the API key (PostgREST runs it as anon):
  BEGIN;
  SET LOCAL ROLE anon;
  SELECT set_config('request.headers', '{"x-api-key": "$key"}', true);
  SELECT nexus.pre_request();
  SELECT current_setting('response.headers'), name, plan FROM nexus.tenants;
  COMMIT;

Stop it (cluster and simulator) with: bash scripts/demo.sh stop
EOF2
