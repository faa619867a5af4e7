#!/bin/bash
# pg_cron-triggered syncs: one connection per marketplace against the
# simulator; nexus.schedule_syncs() installs the job, pg_cron's next minute
# queues every connection, the workers pull exactly the simulator's orders
# (pages, details, items), and the runs, connections, health view and
# notifications say so.  Then orders change and new ones arrive on the
# simulator, and the next sync brings exactly those changes.
set -u
dir=$(mktemp -d /tmp/nexus-sync-cron.XXXXXX)
chmod 755 "$dir"
. "$(dirname "$0")/lib/sync.sh"
trap sync_cleanup EXIT
failures=0

sim_start main || exit 1
sync_cluster "$(free_port 27400)" "nexus.sync_workers = 2" || exit 1
declare -A C A
for m in "${MARKETS[@]}"; do
  read -r C[$m] A[$m] < <(connect "$SIM_main" "$m" 1 130 25) || exit 1
done

# A session listening on the tenant's channel for the whole test.
channel=$(q "SELECT 'nexus_' || replace(tenant_id::text, '-', '') FROM nexus.tenants WHERE slug = 'sync'")
# (psql prints notifications after each statement: many short sleeps.)
{ echo "LISTEN $channel;"; for _ in $(seq 1 400); do echo "SELECT pg_sleep(0.5);"; done; } > "$dir/listen.sql"
as_postgres "$(pg_bindir)/psql" -X -h "$dir/pg" -p "$PGPORT_" -d postgres -At -f "$dir/listen.sql" > "$dir/listen.out" 2>&1 &
listener=$!

check "schedule_syncs installs the pg_cron job" \
  test "$(q "SELECT nexus.schedule_syncs() > 0; SELECT count(*) FROM cron.job WHERE command = 'SELECT nexus.enqueue_due_syncs()'" | tail -1)" = 1
# pg_cron runs it at the start of the next minute.
for _ in $(seq 1 150); do
  [ "$(q "SELECT count(*) FROM nexus.sync_runs WHERE trigger = 'schedule'")" = 7 ] && break
  sleep 0.5
done
check "pg_cron queued one scheduled run per connection" \
  test "$(q "SELECT count(*) FROM nexus.sync_runs WHERE trigger = 'schedule'")" = 7
check "every run finished" wait_idle 60
check "every run succeeded" \
  test "$(q "SELECT count(*) FROM nexus.sync_runs WHERE status = 'succeeded'")" = 7
for m in "${MARKETS[@]}"; do
  check "$m: nexus holds exactly the simulator's orders" compare "$SIM_main" "${C[$m]}" "${A[$m]}"
done
check "pending connections became active, with a watermark and a last sync" \
  test "$(q "SELECT count(*) FROM nexus.marketplace_connections WHERE status = 'active' AND sync_watermark IS NOT NULL AND last_synced_at IS NOT NULL")" = 7
check "the runs count pages, orders and requests" \
  test "$(q "SELECT count(*) FROM nexus.sync_runs WHERE pages >= 3 AND orders_inserted = 130 AND http_requests >= pages")" = 7
check "health: every connection healthy" \
  test "$(q "SELECT count(*) FROM nexus.connection_health WHERE health = 'healthy'")" = 7
check "the simulator rejected no request" \
  test "$(sim "$SIM_main" GET /_sim/stats | grep -o '"rejected_total":[0-9]*')" = '"rejected_total":0'
check "one token request per token-based connection" \
  test "$(sim "$SIM_main" GET /_sim/stats | grep -o '"token_requests":{[^}]*}' | grep -o ':1' | wc -l)" = 5
q "SELECT count(*) FROM nexus.marketplace_connections c, nexus.sync_now(c.id) s" >/dev/null
wait_idle 60
check "a second sync with nothing new finds every order unchanged" \
  test "$(q "SELECT count(*) FROM nexus.sync_runs WHERE trigger = 'manual' AND status = 'succeeded' AND orders_inserted = 0 AND orders_updated = 0")" = 7

# Changes on the marketplace: 6 orders change, 4 are new, per account.
for m in "${MARKETS[@]}"; do
  sim "$SIM_main" POST "/_sim/accounts/${A[$m]}/update" '{"count": 6}' >/dev/null
  sim "$SIM_main" POST "/_sim/accounts/${A[$m]}/create" '{"count": 4}' >/dev/null
done
sleep 1
q "SELECT count(*) FROM nexus.marketplace_connections c, nexus.sync_now(c.id) s" >/dev/null
check "the sync after the changes finished" wait_idle 60
for m in "${MARKETS[@]}"; do
  check "$m: the changes arrived" compare "$SIM_main" "${C[$m]}" "${A[$m]}"
done
check "each last run inserted the 4 new orders and updated the 6 changed ones" \
  test "$(q "SELECT count(*) FROM (SELECT DISTINCT ON (connection_id) * FROM nexus.sync_runs ORDER BY connection_id, id DESC) r
             WHERE orders_inserted = 4 AND orders_updated = 6")" = 7
check "the last runs listed from the watermark, not from the start" \
  test "$(q "SELECT count(*) FROM (SELECT DISTINCT ON (connection_id) * FROM nexus.sync_runs ORDER BY connection_id, id DESC) r
             WHERE since > now() - interval '1 hour'")" = 7

kill "$listener" 2>/dev/null
wait "$listener" 2>/dev/null
check "run start and finish were notified on the tenant's channel" \
  bash -c "grep -q 'sync.started' '$dir/listen.out' && grep -q 'sync.finished' '$dir/listen.out' && grep -q 'orders.changed' '$dir/listen.out'"
check "no error in the server log" bash -c "! grep -E 'ERROR|FATAL|PANIC|TRAP' '$dir/pg/server.log'"
q "SELECT c.marketplace, r.trigger, r.status, r.since, r.as_of, r.pages, r.orders_inserted, r.orders_updated, r.orders_unchanged, r.http_requests, r.error FROM nexus.sync_runs r JOIN nexus.marketplace_connections c ON c.id = r.connection_id ORDER BY 1, r.id" >&2
[ $failures = 0 ] || { grep -E 'ERROR|WARNING|FATAL' "$dir/pg/server.log" | tail -20; exit 1; }
