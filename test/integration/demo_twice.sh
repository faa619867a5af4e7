#!/bin/bash
# The README's first command works, and running it twice is safe: same
# cluster, same tenant and members, a fresh working API key each time.
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
out=$(psql_at "$NEXUS_DATA/pg" "$port" nexus -At <<SQL
SELECT 'tenants=' || count(*) FROM nexus.tenants;
SELECT 'members=' || count(*) FROM nexus.memberships;
SELECT 'connections=' || count(*) FROM nexus.marketplace_connections;
SELECT 'active_keys=' || count(*) FROM nexus.api_keys WHERE revoked_at IS NULL;
SELECT 'cron=' || count(*) FROM pg_extension WHERE extname = 'pg_cron';
BEGIN;
SET LOCAL ROLE anon;
SELECT set_config('request.headers', '{"x-api-key": "$key2"}', true) IS NULL;
SELECT nexus.pre_request();
SELECT 'key_sees=' || name FROM nexus.tenants;
COMMIT;
SQL
)
echo "$out"
for want in tenants=1 members=4 connections=1 active_keys=1 cron=1 'key_sees=Demo Store'; do
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
echo "demo_twice: ok"
