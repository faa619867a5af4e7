#!/bin/bash
# The README's first command works, and running it twice is safe: same
# cluster, same tenant and members, seven connections synced from the
# simulator (the second sync finds nothing new), a fresh working API key
# each time, and "stop" stops the simulator too.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/scripts/lib.sh"
export NEXUS_DATA
NEXUS_DATA=$(mktemp -d /tmp/nexus-demo.XXXXXX)
chmod 755 "$NEXUS_DATA"
trap 'bash "$here/scripts/demo.sh" stop >/dev/null 2>&1; rm -rf "$NEXUS_DATA"' EXIT
first=$(bash "$here/scripts/demo.sh")
second=$(bash "$here/scripts/demo.sh")
port=$(cat "$NEXUS_DATA/port")
key1=$(grep -o 'nxc_live_[A-Za-z0-9_-]*' <<<"$first" | head -1)
key2=$(grep -o 'nxc_live_[A-Za-z0-9_-]*' <<<"$second" | head -1)
[ -n "$key1" ] && [ -n "$key2" ] && [ "$key1" != "$key2" ]
grep -q 'owner    Olivia Owner' <<<"$second"
# Both summaries list seven healthy connections; the second synced nothing new.
healthy_first=$(grep -cE '^ (amazon|bol|ebay|kaufland|shopify|walmart|zalando) +[|] active +[|] healthy' <<<"$first")
nothing_new=$(grep -cE '^ [a-z]+ +[|] active +[|] healthy +[|] [0-9 :-]+[|] +[0-9]+ [|] +0 [|] +0 [|]' <<<"$second")
test "$healthy_first" = 7
test "$nothing_new" = 7
sim_pid=$(cat "$NEXUS_DATA/sim.pid")
out=$(psql_at "$NEXUS_DATA/pg" "$port" nexus -At <<SQL
SELECT 'tenants=' || count(*) FROM nexus.tenants;
SELECT 'members=' || count(*) FROM nexus.memberships;
SELECT 'connections=' || count(*) FROM nexus.marketplace_connections;
SELECT 'active_keys=' || count(*) FROM nexus.api_keys WHERE revoked_at IS NULL;
SELECT 'cron=' || count(*) FROM pg_extension WHERE extname = 'pg_cron';
SELECT 'syncs=' || count(*) FROM cron.job WHERE command = 'SELECT nexus.enqueue_due_syncs()';
SELECT 'healthy=' || count(*) FROM nexus.connection_health WHERE health = 'healthy';
SELECT 'orders=' || count(*) FROM nexus.orders;
BEGIN;
SET LOCAL ROLE anon;
SELECT set_config('request.headers', '{"x-api-key": "$key2"}', true) IS NULL;
SELECT nexus.pre_request();
SELECT 'key_sees=' || name FROM nexus.tenants;
COMMIT;
SQL
)
echo "$out"
for want in tenants=1 members=4 connections=7 active_keys=1 cron=1 syncs=1 healthy=7 orders=420 'key_sees=Demo Store'; do
  grep -qx "$want" <<<"$out"
done
# The old key was revoked by the second run.
old=$(psql_at "$NEXUS_DATA/pg" "$port" nexus -At 2>&1 <<SQL || true
BEGIN;
SELECT set_config('request.headers', '{"x-api-key": "$key1"}', true) IS NULL;
SELECT nexus.pre_request();
COMMIT;
SQL
)
grep -q 'api key has been revoked' <<<"$old"
bash "$here/scripts/demo.sh" stop >/dev/null
! kill -0 "$sim_pid" 2>/dev/null
echo "demo_twice: ok"
