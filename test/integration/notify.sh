#!/bin/bash
# Realtime: every transaction that changes orders sends at most one NOTIFY
# per tenant, at commit, with a compact payload; rolled-back work sends
# nothing, and orders changed in a rolled-back subtransaction are not
# counted.  A session hears its own notifications, so one psql session can
# listen and ingest.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/scripts/lib.sh"
. "$here/test/integration/lib/shopify_tenant.sh"
fixtures=${NEXUS_FIXTURES:-$here/../shared/fixtures}
dir=$(mktemp -d /tmp/nexus-notify.XXXXXX)
chmod 755 "$dir"
port=$(free_port 27200)
trap 'stop_cluster "$dir/pg"; rm -rf "$dir"' EXIT
shopify_tenant_cluster
cp "$fixtures/shopify/orders_page1.json" "$fixtures/shopify/orders_page2.json" "$dir/"
chmod 644 "$dir"/*.json
channel=$(psql_at "$dir/pg" "$port" postgres -At -c "SELECT 'nexus_' || replace(tenant_id::text, '-', '') FROM nexus.tenants")

out=$(psql_at "$dir/pg" "$port" postgres -At 2>&1 <<SQL
\set p1 \`cat $dir/orders_page1.json\`
\set p2 \`cat $dir/orders_page2.json\`
LISTEN $channel;
-- 1: three ingests, one commit: one notification, counting 3 + 0 + 2.
BEGIN;
SELECT 'first' || (nexus.ingest_orders('$conn', :'p1') ->> 'inserted');
SELECT 'again' || (nexus.ingest_orders('$conn', :'p1') ->> 'unchanged');
SELECT 'second' || (nexus.ingest_orders('$conn', :'p2') ->> 'inserted');
COMMIT;
SELECT 'after commit 1';
-- 2: rolled back: nothing.
BEGIN;
SELECT nexus.ingest_orders('$conn', jsonb_set((:'p1'::jsonb) -> 'orders' -> 0, '{updated_at}', '"2031-01-01T00:00:00Z"')::json) IS NOT NULL;
ROLLBACK;
SELECT 'after rollback';
-- 3: a rolled-back savepoint's change is not counted.
BEGIN;
SAVEPOINT s;
SELECT nexus.ingest_orders('$conn', jsonb_set((:'p1'::jsonb) -> 'orders' -> 0, '{updated_at}', '"2032-01-01T00:00:00Z"')::json) IS NOT NULL;
ROLLBACK TO s;
SELECT nexus.ingest_orders('$conn', jsonb_set((:'p1'::jsonb) -> 'orders' -> 1, '{updated_at}', '"2032-01-01T00:00:00Z"')::json) IS NOT NULL;
COMMIT;
SELECT 'after commit 3';
-- 4: nothing changed: no notification.
BEGIN;
SELECT nexus.ingest_orders('$conn', :'p2') IS NOT NULL;
COMMIT;
SELECT 'end';
SELECT 'maxseq=' || max(change_seq) FROM nexus.orders;
SQL
)
echo "$out" | sed -E 's/process with PID [0-9]+/process with PID N/'
notes=$(grep -c '^Asynchronous notification' <<<"$out" || true)
[ "$notes" = 2 ] || { echo "expected 2 notifications, got $notes"; exit 1; }
# The first arrives after commit 1, with count 5; the second after commit 3, count 1.
payload1=$(grep -m1 '^Asynchronous' <<<"$out" | sed -E 's/.*with payload "(.*)" received.*/\1/')
payload2=$(grep '^Asynchronous' <<<"$out" | tail -1 | sed -E 's/.*with payload "(.*)" received.*/\1/')
grep -q '"event": "orders.changed"' <<<"$payload1"
grep -q '"count": 5,' <<<"$payload1"
grep -q '"count": 1,' <<<"$payload2"
# Order of events: notification 1 before "after commit 1"... psql prints it after COMMIT.
awk '/^Asynchronous/ { n++ } /^after commit 1$/ && n != 1 { bad = 1 } /^after rollback$/ && n != 1 { bad = 1 }
     /^end$/ && n != 2 { bad = 1 } END { exit bad }' <<<"$out"
maxseq=$(sed -n 's/^maxseq=//p' <<<"$out")
grep -q "\"seq\": $maxseq}" <<<"$payload2"
[ ${#payload1} -lt 8000 ]
echo "notify: ok"
