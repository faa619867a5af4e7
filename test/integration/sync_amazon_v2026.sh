#!/bin/bash
# Amazon on Orders API v2026-01-01: a connection whose config says
# orders_api "2026-01-01" and a v0 one, synced by the sync workers against
# the simulator (each account refuses the other version's calls), each pull
# exactly their account's orders with their items.  The v2026 run lists
# with searchOrders, one request per page and no getOrderItems; the v0 run
# still makes one getOrderItems call per order.  Then orders change and new
# ones arrive on both accounts, and the next sync brings exactly those
# changes.
set -u
dir=$(mktemp -d /tmp/nexus-sync-amazon-v2026.XXXXXX)
chmod 755 "$dir"
. "$(dirname "$0")/lib/sync.sh"
trap sync_cleanup EXIT
failures=0

sim_start main || exit 1
sync_cluster "$(free_port 28100)" "nexus.sync_workers = 2" || exit 1
# 60 orders in pages of 25: three pages, so the next-page token is followed twice.
read -r V0 V0_ACCT < <(connect "$SIM_main" amazon 1 60 25) || exit 1
read -r V26 V26_ACCT < <(connect "$SIM_main" amazon 2 60 25 '"orders_api": "2026-01-01"' '' '"orders_api": "2026-01-01"') || exit 1

check "the v2026 connection's config says orders_api 2026-01-01, the v0 one nothing" \
  test "$(q "SELECT string_agg(coalesce(config ->> 'orders_api', '-'), ',' ORDER BY account_name) FROM nexus.marketplace_connections")" = "-,2026-01-01"
q "SELECT count(*) FROM nexus.marketplace_connections c, nexus.sync_now(c.id) s" >/dev/null
check "both runs finished" wait_idle 90
check "both runs succeeded over three pages each" \
  test "$(q "SELECT count(*) FROM nexus.sync_runs WHERE status = 'succeeded' AND pages = 3 AND orders_inserted = 60")" = 2
check "v0: nexus holds exactly the simulator's orders" compare "$SIM_main" "$V0" "$V0_ACCT"
check "v2026: nexus holds exactly the simulator's orders" compare "$SIM_main" "$V26" "$V26_ACCT"
check "v0: every order has the simulator's items" compare_items "$SIM_main" "$V0" "$V0_ACCT"
check "v2026: every order has the simulator's items" compare_items "$SIM_main" "$V26" "$V26_ACCT"
check "v2026: the money is there (every priced order has its total and subtotal)" \
  test "$(q "SELECT count(*) FROM nexus.orders WHERE connection_id = '$V26' AND total_amount IS NOT NULL AND subtotal IS NULL")" = 0 -a \
       "$(q "SELECT count(*) > 0 FROM nexus.orders WHERE connection_id = '$V26' AND total_amount IS NOT NULL")" = t
stats=$(sim "$SIM_main" GET /_sim/stats)
check "v2026: three searchOrders requests, one per page" \
  grep -q '"amazon GET /orders/2026-01-01/orders":3[,}]' <<<"$stats"
check "v0: three getOrders pages and one getOrderItems call per order (60), none for v2026" \
  bash -c "grep -q '\"amazon GET /orders/v0/orders\":3[,}]' <<<'$stats' && grep -q '\"amazon GET /orders/v0/orders/{orderId}/orderItems\":60[,}]' <<<'$stats'"
check "v2026: the run made one request per page (and at most one token request)" \
  test "$(q "SELECT http_requests - pages BETWEEN 0 AND 1 FROM nexus.sync_runs WHERE connection_id = '$V26'")" = t
check "the simulator rejected no request" \
  test "$(grep -o '"rejected_total":[0-9]*' <<<"$stats")" = '"rejected_total":0'

# Changes on the marketplace: 5 orders change and 3 are new, per account.
for a in "$V0_ACCT" "$V26_ACCT"; do
  sim "$SIM_main" POST "/_sim/accounts/$a/update" '{"count": 5}' >/dev/null
  sim "$SIM_main" POST "/_sim/accounts/$a/create" '{"count": 3}' >/dev/null
done
sim "$SIM_main" POST /_sim/stats/reset >/dev/null
sleep 1
q "SELECT count(*) FROM nexus.marketplace_connections c, nexus.sync_now(c.id) s" >/dev/null
check "the sync after the changes finished" wait_idle 90
check "v0: the changes arrived" compare "$SIM_main" "$V0" "$V0_ACCT"
check "v2026: the changes arrived" compare "$SIM_main" "$V26" "$V26_ACCT"
check "v2026: the new orders have their items" compare_items "$SIM_main" "$V26" "$V26_ACCT"
check "each last run inserted the 3 new orders and updated the 5 changed ones" \
  test "$(q "SELECT count(*) FROM (SELECT DISTINCT ON (connection_id) * FROM nexus.sync_runs ORDER BY connection_id, id DESC) r
             WHERE status = 'succeeded' AND orders_inserted = 3 AND orders_updated = 5")" = 2
stats=$(sim "$SIM_main" GET /_sim/stats)
check "second runs: one searchOrders page; getOrderItems only for the v0 account's 8 changed and new orders" \
  bash -c "grep -q '\"amazon GET /orders/2026-01-01/orders\":1[,}]' <<<'$stats' && grep -q '\"amazon GET /orders/v0/orders/{orderId}/orderItems\":8[,}]' <<<'$stats'"
check "the simulator still rejected no request" \
  test "$(grep -o '"rejected_total":[0-9]*' <<<"$stats")" = '"rejected_total":0'
check "no error in the server log" bash -c "! grep -E 'ERROR|FATAL|PANIC|TRAP' '$dir/pg/server.log'"
q "SELECT coalesce(c.config ->> 'orders_api', 'v0'), r.trigger, r.status, r.since, r.pages, r.orders_inserted, r.orders_updated, r.http_requests, r.error FROM nexus.sync_runs r JOIN nexus.marketplace_connections c ON c.id = r.connection_id ORDER BY 1, r.id" >&2
[ $failures = 0 ] || { grep -E 'ERROR|WARNING|FATAL' "$dir/pg/server.log" | tail -20; tail -20 "$dir/sim-main.log"; exit 1; }
