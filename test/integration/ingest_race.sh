#!/bin/bash
# Two ingests of the same new orders at once.  nexus.ingest_orders() inserts
# the orders its look-up did not find with a plain INSERT in a
# subtransaction; when another session inserted them in between (here: it
# holds them uncommitted until the second session has looked up), that
# INSERT waits, then fails with a unique violation, which must be caught
# and the orders decided again against the winner's rows: unchanged when
# identical (B's page is re-encoded through jsonb, its keys in another
# order), updated when newer.  Also one transaction ingesting many pages
# (past the subtransactions nexus allows itself per transaction), and the
# tenant deleted while an ingest holds its new orders uncommitted.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/scripts/lib.sh"
. "$here/test/integration/lib/shopify_tenant.sh"
fixtures=${NEXUS_FIXTURES:-$here/../shared/fixtures}
dir=$(mktemp -d /tmp/nexus-race.XXXXXX)
chmod 755 "$dir"
port=$(free_port 27300)
trap 'stop_cluster "$dir/pg"; rm -rf "$dir"' EXIT
shopify_tenant_cluster
cp "$fixtures/shopify/orders_page1.json" "$dir/p1.json"
chmod 644 "$dir"/*.json
q() { psql_at "$dir/pg" "$port" postgres -At -c "$1"; }
fail=0
check() { # name got want
  if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAILED: $1: got '$2', want '$3'"; fail=1; fi
}
norders=$(q "SELECT json_array_length(pg_read_file('$dir/p1.json')::json -> 'orders')")
nitems=$(q "SELECT sum(json_array_length(o -> 'line_items')) FROM json_array_elements(pg_read_file('$dir/p1.json')::json -> 'orders') o")

# The race: session A ingests the page and keeps its transaction open
# (waiting for an advisory lock a holder session has), session B ingests
# then, and must wait on A's uncommitted rows; ending the holder lets A
# commit, and B's INSERT meets A's orders.
holder_start() {
  psql_at "$dir/pg" "$port" postgres -At >/dev/null 2>&1 <<'SQL' &
SET application_name = 'race_holder';
SELECT pg_advisory_lock(42);
SELECT pg_sleep(300);
SQL
  for _ in $(seq 1 100); do
    [ "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 1 ] && return
    sleep 0.1
  done
  echo "FAILED: the holder session did not take its lock"; exit 1
}
wait_for() { # SQL that must return 1
  for _ in $(seq 1 150); do
    [ "$(q "$1")" = 1 ] && { echo 1; return; }
    sleep 0.1
  done
  echo 0
}
counts="(r ->> 'inserted') || '/' || (r ->> 'updated') || '/' || (r ->> 'unchanged') || '/' || (r ->> 'stale') || '/' || jsonb_array_length(r -> 'failed')"
run_race() { # label, SQL of the second session
  local label=$1 b_sql=$2 a b
  q "TRUNCATE nexus.orders, nexus.order_items" >/dev/null
  holder_start
  psql_at "$dir/pg" "$port" postgres -At > "$dir/a.out" 2>&1 <<SQL &
SET application_name = 'race_a';
BEGIN;
SELECT 'a ' || (nexus.ingest_orders('$conn', pg_read_file('$dir/p1.json')::json) ->> 'inserted');
SELECT pg_advisory_lock(42) IS NULL;
COMMIT;
SQL
  a=$!
  check "$label: the first ingest holds its new orders uncommitted" \
    "$(wait_for "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'race_a' AND wait_event = 'advisory'")" 1
  psql_at "$dir/pg" "$port" postgres -At > "$dir/b.out" 2>&1 <<SQL &
SET application_name = 'race_b';
$b_sql
SQL
  b=$!
  check "$label: the second session waits for the first one's transaction" \
    "$(wait_for "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'race_b' AND wait_event = 'transactionid'")" 1
  q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'race_holder'" >/dev/null
  wait "$a" || true
  wait "$b" || true
  check "$label: the first ingest inserted the page" "$(grep '^a ' "$dir/a.out" || cat "$dir/a.out")" "a $norders"
}

# The second session's ingest of a payload expression.
ingest_b() { echo "SELECT 'b ' || $counts FROM nexus.ingest_orders('$conn', $1) r;"; }

# 1: the same page twice: the second finds every order there, unchanged.
run_race "same page" "$(ingest_b "pg_read_file('$dir/p1.json')::json")"
check "same page: the second ingest's counts (inserted/updated/unchanged/stale/failed)" \
  "$(grep '^b ' "$dir/b.out" || cat "$dir/b.out")" "b 0/0/$norders/0/0"
check "same page: each order once" "$(q "SELECT count(*) || '/' || count(DISTINCT external_order_id) FROM nexus.orders")" "$norders/$norders"
check "same page: items once" "$(q "SELECT count(*) FROM nexus.order_items")" "$nitems"

# 2: the second page has a newer version of its first order: that one is updated.
run_race "newer copy" "$(ingest_b "jsonb_set(pg_read_file('$dir/p1.json')::jsonb, '{orders,0,updated_at}', '\"2031-01-01T00:00:00Z\"')::json")"
check "newer copy: the second ingest's counts" "$(grep '^b ' "$dir/b.out" || cat "$dir/b.out")" "b 0/1/$((norders - 1))/0/0"
check "newer copy: each order once, the newer time kept" \
  "$(q "SELECT count(*) || '/' || count(DISTINCT external_order_id) || '/' || count(*) FILTER (WHERE marketplace_updated_at = '2031-01-01T00:00:00Z') FROM nexus.orders")" \
  "$norders/$norders/1"
check "newer copy: items once" "$(q "SELECT count(*) FROM nexus.order_items")" "$nitems"

# 3: one transaction, 60 pages of one new order each: past the
# subtransactions nexus takes per transaction, every order still lands.
q "TRUNCATE nexus.orders, nexus.order_items" >/dev/null
got=$(psql_at "$dir/pg" "$port" postgres -At 2>&1 <<SQL
BEGIN;
CREATE TEMP TABLE res AS
SELECT nexus.ingest_orders('$conn',
         jsonb_set(pg_read_file('$dir/p1.json')::jsonb -> 'orders' -> 0, '{id}', to_jsonb(900000 + g))::json) AS r
  FROM generate_series(1, 60) g;
COMMIT;
SELECT sum((r ->> 'inserted')::int) FROM res;
SQL
)
check "one transaction, 60 ingests: inserted" "$got" 60
check "one transaction, 60 ingests: orders stored" "$(q "SELECT count(DISTINCT external_order_id) FROM nexus.orders")" 60

# 4: the tenant is deleted while an ingest holds new orders uncommitted.  The
# ingest writes orders without a foreign-key check per row (src/bulk.c); it
# locks the tenant row once instead, so the delete must wait for it and then
# cascade to its orders: no order outlives its tenant.
run_race "tenant deleted" "DELETE FROM nexus.tenants;"
check "tenant deleted: orders and items went with the tenant" \
  "$(q "SELECT (SELECT count(*) FROM nexus.tenants) || '/' || (SELECT count(*) FROM nexus.orders) || '/' || (SELECT count(*) FROM nexus.order_items)")" "0/0/0"

[ $fail = 0 ] && echo "ingest_race: all passed" || { echo "ingest_race: failures"; exit 1; }
