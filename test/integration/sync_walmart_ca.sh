#!/bin/bash
# Walmart Canada: a connection of region ca and a US one (region null),
# synced by the sync workers against the simulator, each pull exactly their
# account's orders, the Canadian ones in CAD shipping to Canada, through
# /v3/ca/orders and /v3/orders respectively (the simulator refuses either
# account on the other market's path or WM_MARKET).  Then orders change
# and new ones arrive on both accounts, and the next sync brings exactly
# those changes.
set -u
dir=$(mktemp -d /tmp/nexus-sync-walmart-ca.XXXXXX)
chmod 755 "$dir"
. "$(dirname "$0")/lib/sync.sh"
trap sync_cleanup EXIT
failures=0

sim_start main || exit 1
sync_cluster "$(free_port 27900)" "nexus.sync_workers = 2" || exit 1
# 60 orders in pages of 25: three pages, so nextCursor is followed twice.
read -r US US_ACCT < <(connect "$SIM_main" walmart 1 60 25) || exit 1
read -r CA CA_ACCT < <(connect "$SIM_main" walmart 2 60 25 '' ca) || exit 1

check "the connections' regions are null (US) and ca" \
  test "$(q "SELECT string_agg(coalesce(region, '-'), ',' ORDER BY account_name) FROM nexus.marketplace_connections")" = "-,ca"
q "SELECT count(*) FROM nexus.marketplace_connections c, nexus.sync_now(c.id) s" >/dev/null
check "both runs finished" wait_idle 60
check "both runs succeeded over three pages each" \
  test "$(q "SELECT count(*) FROM nexus.sync_runs WHERE status = 'succeeded' AND pages = 3 AND orders_inserted = 60")" = 2
check "US: nexus holds exactly the simulator's orders" compare "$SIM_main" "$US" "$US_ACCT"
check "CA: nexus holds exactly the simulator's orders" compare "$SIM_main" "$CA" "$CA_ACCT"
check "CA: every order is in CAD and ships to Canada" \
  test "$(q "SELECT count(*) FILTER (WHERE currency = 'CAD' AND ship_country = 'CA') || '/' || count(*) FROM nexus.orders WHERE connection_id = '$CA'")" = 60/60
check "US: every order is in USD" \
  test "$(q "SELECT count(*) FILTER (WHERE currency = 'USD') || '/' || count(*) FROM nexus.orders WHERE connection_id = '$US'")" = 60/60
stats=$(sim "$SIM_main" GET /_sim/stats)
check "the Canadian list was read at /v3/ca/orders, the US one at /v3/orders, three pages each" \
  bash -c "grep -q '\"walmart GET /v3/ca/orders\":3[,}]' <<<'$stats' && grep -q '\"walmart GET /v3/orders\":3[,}]' <<<'$stats'"
check "the simulator rejected no request" \
  test "$(grep -o '"rejected_total":[0-9]*' <<<"$stats")" = '"rejected_total":0'

# Changes on the marketplace: 5 orders change and 3 are new, per account.
for a in "$US_ACCT" "$CA_ACCT"; do
  sim "$SIM_main" POST "/_sim/accounts/$a/update" '{"count": 5}' >/dev/null
  sim "$SIM_main" POST "/_sim/accounts/$a/create" '{"count": 3}' >/dev/null
done
sleep 1
q "SELECT count(*) FROM nexus.marketplace_connections c, nexus.sync_now(c.id) s" >/dev/null
check "the sync after the changes finished" wait_idle 60
check "US: the changes arrived" compare "$SIM_main" "$US" "$US_ACCT"
check "CA: the changes arrived" compare "$SIM_main" "$CA" "$CA_ACCT"
check "each last run inserted the 3 new orders and updated the 5 changed ones" \
  test "$(q "SELECT count(*) FROM (SELECT DISTINCT ON (connection_id) * FROM nexus.sync_runs ORDER BY connection_id, id DESC) r
             WHERE status = 'succeeded' AND orders_inserted = 3 AND orders_updated = 5")" = 2
check "CA: the new orders are in CAD too" \
  test "$(q "SELECT count(*) FROM nexus.orders WHERE connection_id = '$CA' AND currency <> 'CAD'")" = 0
check "the simulator still rejected no request" \
  test "$(sim "$SIM_main" GET /_sim/stats | grep -o '"rejected_total":[0-9]*')" = '"rejected_total":0'
check "no error in the server log" bash -c "! grep -E 'ERROR|FATAL|PANIC|TRAP' '$dir/pg/server.log'"
q "SELECT c.region, r.trigger, r.status, r.since, r.pages, r.orders_inserted, r.orders_updated, r.http_requests, r.error FROM nexus.sync_runs r JOIN nexus.marketplace_connections c ON c.id = r.connection_id ORDER BY 1, r.id" >&2
[ $failures = 0 ] || { grep -E 'ERROR|WARNING|FATAL' "$dir/pg/server.log" | tail -20; exit 1; }
