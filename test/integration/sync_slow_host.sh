#!/bin/bash
# A slow marketplace host delays only its own connections: four connections
# on a host that takes 2 s per answer, queued first, and one connection per
# marketplace on a fast host, all on one worker.  nexus.sync_max_per_host
# caps what the slow host holds; the fast connections finish while the
# slow ones are still on their first pages.
set -u
dir=$(mktemp -d /tmp/nexus-sync-slow.XXXXXX)
chmod 755 "$dir"
. "$(dirname "$0")/lib/sync.sh"
trap sync_cleanup EXIT
failures=0

sim_start fast || exit 1
sim_start slow --latency-ms 2000 || exit 1
sync_cluster "$(free_port 27700)" "nexus.sync_workers = 1" "nexus.sync_max_in_flight = 16" \
  "nexus.sync_max_per_host = 2" "nexus.sync_timeout = '30s'" || exit 1
declare -A C A S SA
for n in 1 2 3 4; do
  read -r S[$n] SA[$n] < <(connect "$SIM_slow" shopify "$n" 30 10) || exit 1
done
for m in "${MARKETS[@]}"; do
  read -r C[$m] A[$m] < <(connect "$SIM_fast" "$m" 11 60 20) || exit 1
done
slow_ids=$(printf "'%s'," "${S[@]}")
slow_ids=${slow_ids%,}

t0=$(date +%s%N)
q "SELECT count(*) FROM unnest(ARRAY[$slow_ids]::uuid[]) id, nexus.sync_now(id) s" >/dev/null
q "SELECT count(*) FROM nexus.marketplace_connections c, nexus.sync_now(c.id) s WHERE c.id <> ALL (ARRAY[$slow_ids]::uuid[])" >/dev/null
# The fast connections are done within a few seconds ...
for _ in $(seq 1 100); do
  [ "$(q "SELECT count(*) FROM nexus.sync_runs WHERE status = 'succeeded' AND connection_id <> ALL (ARRAY[$slow_ids]::uuid[])")" = 7 ] && break
  sleep 0.1
done
fast_ms=$((($(date +%s%N) - t0) / 1000000))
echo "fast connections done after ${fast_ms} ms"
check "the fast connections finished" \
  test "$(q "SELECT count(*) FROM nexus.sync_runs WHERE status = 'succeeded' AND connection_id <> ALL (ARRAY[$slow_ids]::uuid[])")" = 7
check "within 4 s, while each slow run needs 3 answers of 2 s" \
  test "$fast_ms" -lt 4000
check "the slow connections were still running then" \
  test "$(q "SELECT count(*) FROM nexus.sync_runs WHERE status IN ('queued', 'running') AND connection_id = ANY (ARRAY[$slow_ids]::uuid[])")" = 4
check "the slow host never had more than nexus.sync_max_per_host requests at once" \
  test "$(sim "$SIM_slow" GET /_sim/stats | grep -o '"max_in_flight":[0-9]*' | cut -d: -f2)" -le 2
check "the slow connections finish too" wait_idle 90
for m in "${MARKETS[@]}"; do
  check "$m (fast host): every order once" compare "$SIM_fast" "${C[$m]}" "${A[$m]}"
done
for n in 1 2 3 4; do
  check "slow shopify $n: every order once" compare "$SIM_slow" "${S[$n]}" "${SA[$n]}"
done
[ $failures = 0 ] || { q "SELECT c.account_name, r.status, r.pages, r.http_requests, r.started_at, r.finished_at, left(r.error, 300) FROM nexus.sync_runs r JOIN nexus.marketplace_connections c ON c.id = r.connection_id ORDER BY r.id" >&2; exit 1; }
