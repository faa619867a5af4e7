# Helpers for the sync integration tests (sourced): a cluster with pg_cron
# and nexus whose sync workers run in database postgres, the marketplace
# simulator (test/sim), one connection per marketplace pointed at it, and
# the comparison of what nexus stored with what the simulator holds.
#
# Each test sets $dir (a scratch directory it removes) before sourcing, and
# calls sync_cleanup from its EXIT trap.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
. "$here/scripts/lib.sh"
MARKETS=(amazon ebay bol kaufland shopify zalando walmart)
SIM_PIDS=()

sync_cleanup() {
  local p
  stop_cluster "$dir/pg"
  for p in "${SIM_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${SIM_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ "${KEEP:-0}" = 1 ] || rm -rf "$dir"
}

# sim_start NAME [sim args...]: a simulator on a free port; sets SIM_<NAME>=port.
sim_start() {
  local name=$1
  shift
  node "$here/test/sim/sim.js" --port 0 --port-file "$dir/sim-$name.port" "$@" > "$dir/sim-$name.log" 2>&1 &
  SIM_PIDS+=($!)
  for _ in $(seq 1 100); do
    [ -s "$dir/sim-$name.port" ] && break
    sleep 0.1
  done
  [ -s "$dir/sim-$name.port" ] || { cat "$dir/sim-$name.log"; return 1; }
  printf -v "SIM_$name" '%s' "$(cat "$dir/sim-$name.port")"
}

# sim PORT METHOD PATH [JSON]: call the control API, print the response body.
sim() {
  curl -sS --max-time 10 -X "$2" -H 'Content-Type: application/json' ${4:+--data "$4"} \
    "http://127.0.0.1:$1$3"
}

# sync_cluster PORT [conf lines...]: start the cluster, install the extensions, make tenant "t".
sync_cluster() {
  local port=$1
  shift
  PGPORT_=$port
  init_cluster "$dir/pg" "$port" \
    "shared_preload_libraries = 'pg_cron,nexus'" \
    "cron.database_name = 'postgres'" \
    "nexus.sync_database = 'postgres'" \
    "nexus.credentials_key_file = 'nexus.key'" \
    "nexus.sync_poll_interval = '1s'" \
    "nexus.sync_backoff = '100ms'" \
    "nexus.sync_backoff_max = '5s'" \
    "nexus.sync_timeout = '5s'" \
    "max_worker_processes = 16" \
    "$@" || return 1
  printf '1:%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" > "$dir/pg/nexus.key"
  chown postgres: "$dir/pg/nexus.key"
  chmod 600 "$dir/pg/nexus.key"
  start_cluster "$dir/pg" || { cat "$dir/pg/server.log"; return 1; }
  q "CREATE EXTENSION pg_cron; CREATE EXTENSION nexus;
     SELECT nexus.create_tenant('Sync Test', 'sync', '00000000-0000-4000-8000-000000000001') IS NOT NULL;" >/dev/null
}

# q SQL: run as superuser in postgres, unaligned, tuples only.
q() { psql_at "$dir/pg" "$PGPORT_" "${PGDB_:-postgres}" -At -c "$1"; }

# The credentials and region of connection number N of a marketplace.
creds_for() {
  local m=$1 n=$2
  case $m in
    amazon) echo "{\"lwa_client_id\": \"amzn1.app.$n\", \"lwa_client_secret\": \"amzn-secret-$n\", \"refresh_token\": \"Atzr|refresh-$n\"}" ;;
    ebay) echo "{\"client_id\": \"ebay-$n\", \"client_secret\": \"ebay-secret-$n\", \"refresh_token\": \"v^1.1#r-$n\"}" ;;
    bol) echo "{\"client_id\": \"bol-$n\", \"client_secret\": \"bol-secret-$n\"}" ;;
    kaufland) echo "{\"client_key\": \"kl-key-$n\", \"secret_key\": \"kl-secret-$n\"}" ;;
    shopify) echo "{\"shop_domain\": \"sim-$n.myshopify.com\", \"access_token\": \"shpat_$n\"}" ;;
    zalando) echo "{\"client_id\": \"zal-$n\", \"client_secret\": \"zal-secret-$n\", \"merchant_id\": \"0e6b7c2a-1f4d-4b8e-9c3a-$(printf '%012d' "$n")\"}" ;;
    walmart) echo "{\"client_id\": \"wm-$n\", \"client_secret\": \"wm-secret-$n\"}" ;;
  esac
}
region_for() {
  case $1 in amazon) echo ATVPDKIKX0DER ;; ebay) echo 77 ;; kaufland) echo de ;; *) echo "" ;; esac
}

# connect SIMPORT MARKET N ORDERS [PAGE_SIZE] [EXTRA_ACCOUNT_JSON] [REGION]
# [EXTRA_CONFIG_JSON]: a simulator account with ORDERS orders and a nexus
# connection to it, both of REGION when given (else the marketplace's usual
# one), the connection's config with the members of EXTRA_CONFIG_JSON
# (`"orders_api": "2026-01-01"`) added; prints "<connection id> <account id>".
connect() {
  local sp=$1 m=$2 n=$3 orders=$4 page=${5:-0} extra=${6:-} region=${7:-} cfg_extra=${8:-}
  local creds acct conn base cfg
  creds=$(creds_for "$m" "$n")
  [ -n "$region" ] || region=$(region_for "$m")
  acct=$(sim "$sp" POST /_sim/accounts "{\"marketplace\": \"$m\", \"credentials\": $creds,
           \"region\": $([ -n "$region" ] && echo "\"$region\"" || echo null), \"orders\": $orders,
           \"seed\": \"$m-$n\", \"start\": \"$(date -u -d '-10 days' +%Y-%m-%dT%H:%M:%SZ)\",
           \"step_seconds\": 300 ${extra:+, $extra}}" | sed -n 's/.*"account": *"\([^"]*\)".*/\1/p')
  [ -n "$acct" ] || { echo "sim account for $m failed" >&2; return 1; }
  base="http://127.0.0.1:$sp/$m"
  cfg="{\"api_base_url\": \"$base\", \"auth_base_url\": \"$base\"$([ "$page" != 0 ] && echo ", \"page_size\": $page")${cfg_extra:+, $cfg_extra}}"
  conn=$(q "SELECT nexus.connect_marketplace('$m', '$m $n', '$creds', '$cfg', region => $([ -n "$region" ] && echo "'$region'" || echo NULL))
            FROM (SELECT set_config('request.jwt.claims', json_build_object('sub', '00000000-0000-4000-8000-000000000001',
                    'app_metadata', json_build_object('tenant_id', (SELECT tenant_id FROM nexus.tenants WHERE slug = 'sync')))::text, true)) x")
  [ -n "$conn" ] || return 1
  echo "$conn $acct"
}

# wait_idle SECONDS: until no run is queued or running; fails on timeout.
wait_idle() {
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(q "SELECT count(*) FROM nexus.sync_runs WHERE status IN ('queued', 'running')")" = 0 ] && return 0
    sleep 0.5
  done
  echo "runs still open after $1 s:" >&2
  q "SELECT connection_id, status, attempts, pages, error FROM nexus.sync_runs WHERE status IN ('queued', 'running')" >&2
  return 1
}

# compare SIMPORT CONN ACCOUNT: nexus holds exactly the simulator's orders of
# the account, each once, with the same last-modified time.  Prints the
# differences and fails if there are any.
compare() {
  local sp=$1 conn=$2 acct=$3 json out
  json=$(sim "$sp" GET "/_sim/accounts/$acct/orders") || return 1
  out=$(psql_at "$dir/pg" "$PGPORT_" "${PGDB_:-postgres}" -At -v sim="$json" -v conn="$conn" <<'SQL'
WITH s AS (
  SELECT external_order_id, updated_at::timestamptz AS updated_at
    FROM json_to_recordset(:'sim'::json) AS x(external_order_id text, updated_at text)
), n AS (
  SELECT external_order_id, marketplace_updated_at AS updated_at FROM nexus.orders WHERE connection_id = :'conn'
)
SELECT coalesce(s.external_order_id, n.external_order_id) || ': ' ||
       CASE WHEN n.external_order_id IS NULL THEN 'missing in nexus'
            WHEN s.external_order_id IS NULL THEN 'not on the marketplace'
            ELSE format('updated_at %s in nexus, %s on the marketplace', n.updated_at, s.updated_at) END
  FROM s FULL JOIN n USING (external_order_id)
 WHERE s.external_order_id IS NULL OR n.external_order_id IS NULL OR s.updated_at IS DISTINCT FROM n.updated_at
 ORDER BY 1 LIMIT 20;
SQL
)
  if [ -n "$out" ]; then
    echo "connection $conn differs from simulator account $acct:" >&2
    echo "$out" >&2
    return 1
  fi
}

# compare_items SIMPORT CONN ACCOUNT: each of nexus's orders of the
# connection has as many items as the simulator's order.
compare_items() {
  local sp=$1 conn=$2 acct=$3 json out
  json=$(sim "$sp" GET "/_sim/accounts/$acct/orders") || return 1
  out=$(psql_at "$dir/pg" "$PGPORT_" "${PGDB_:-postgres}" -At -v sim="$json" -v conn="$conn" <<'SQL'
SELECT s.external_order_id || format(': %s items in nexus, %s on the marketplace', count(i.*), s.items)
  FROM json_to_recordset(:'sim'::json) AS s(external_order_id text, items integer)
  LEFT JOIN nexus.orders o ON o.connection_id = :'conn' AND o.external_order_id = s.external_order_id
  LEFT JOIN nexus.order_items i ON i.tenant_id = o.tenant_id AND i.order_id = o.id
 GROUP BY s.external_order_id, s.items
HAVING count(i.*) <> s.items
 ORDER BY 1 LIMIT 20;
SQL
)
  if [ -n "$out" ]; then
    echo "connection $conn: items differ from simulator account $acct:" >&2
    echo "$out" >&2
    return 1
  fi
}

# Count of the simulator's orders of an account.
sim_count() { sim "$1" GET "/_sim/accounts/$2/orders" | grep -o '"external_order_id"' | wc -l; }

check() {
  local what=$1
  shift
  if "$@"; then echo "ok - $what"; else echo "not ok - $what"; failures=$((failures + 1)); fi
}
