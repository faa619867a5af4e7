#!/bin/bash
# Faults: for every marketplace, a sync that meets each fault the simulator
# can inject (429 with and without Retry-After, 500, 503, a timeout, a
# truncated body, a body that is not JSON, a token that expires early,
# orders that change between pages) still ends with every order present
# exactly once.  Then: refused credentials put a connection in error at
# once, without retries; a marketplace that keeps failing is retried a
# bounded number of times, and after nexus.sync_max_failures runs the
# connection goes to error; a success makes it active again.
set -u
dir=$(mktemp -d /tmp/nexus-sync-faults.XXXXXX)
chmod 755 "$dir"
. "$(dirname "$0")/lib/sync.sh"
trap sync_cleanup EXIT
failures=0

sim_start main || exit 1
sync_cluster "$(free_port 27500)" "nexus.sync_workers = 2" "nexus.sync_timeout = '2s'" \
  "nexus.sync_retries = 3" "nexus.sync_max_failures = 2" || exit 1
declare -A C A
for m in "${MARKETS[@]}"; do
  read -r C[$m] A[$m] < <(connect "$SIM_main" "$m" 1 60 20) || exit 1
done
sync_all() {
  q "SELECT count(*) FROM nexus.marketplace_connections c, nexus.sync_now(c.id) s" >/dev/null
  wait_idle "${1:-60}"
}
all_equal() {
  local m rc=0
  for m in "${MARKETS[@]}"; do compare "$SIM_main" "${C[$m]}" "${A[$m]}" || rc=1; done
  return $rc
}
last_runs_ok() {
  test "$(q "SELECT count(*) FROM (SELECT DISTINCT ON (connection_id) status FROM nexus.sync_runs
                                   ORDER BY connection_id, id DESC) r WHERE status = 'succeeded'")" = 7
}
check "first sync" sync_all
check "first sync: every order once" all_equal

# One fault kind at a time, on every marketplace, on the list endpoint and
# (where there is one) the detail endpoint; orders change in between so
# that each sync has something to fetch.
fault() {
  local kind=$1 extra=${2:-} m
  for m in "${MARKETS[@]}"; do
    sim "$SIM_main" POST "/_sim/accounts/${A[$m]}/update" '{"count": 3}' >/dev/null
    sim "$SIM_main" POST "/_sim/faults" "{\"marketplace\": \"$m\", \"account\": \"${A[$m]}\", \"kind\": \"$kind\", \"count\": 2 ${extra:+, $extra}}" >/dev/null
  done
}
for kind in 429 500 503 timeout truncate malformed; do
  fault "$kind" "$([ "$kind" = 429 ] && echo '"retry_after": 1')"
  if [ "$kind" = 429 ]; then
    # What a seller's dashboard would see while the marketplaces say "wait".
    ( for _ in $(seq 1 60); do
        q "SELECT string_agg(DISTINCT status, ',') FROM nexus.marketplace_connections"
        sleep 0.1
      done ) > "$dir/states.log" 2>&1 &
    sampler=$!
  fi
  check "$kind: the sync finished" sync_all
  check "$kind: every run succeeded after retrying" last_runs_ok
  check "$kind: every order once, changes in" all_equal
done
check "429: the runs counted their throttled waits" \
  test "$(q "SELECT count(*) FROM nexus.sync_runs WHERE throttled_waits > 0")" -ge 7
wait "$sampler"
check "429 with Retry-After: the connections showed rate_limited while they waited" \
  grep -q 'rate_limited' "$dir/states.log"
check "429: and were active again afterwards" \
  test "$(q "SELECT count(*) FROM nexus.marketplace_connections WHERE status = 'active'")" = 7

# A 429 without Retry-After on a detail endpoint, and faults on item pages.
for m in amazon bol kaufland; do
  sim "$SIM_main" POST "/_sim/accounts/${A[$m]}/create" '{"count": 5}' >/dev/null
  sim "$SIM_main" POST "/_sim/faults" "{\"marketplace\": \"$m\", \"kind\": \"429\", \"count\": 3, \"path\": \"/orders/\"}" >/dev/null
  sim "$SIM_main" POST "/_sim/faults" "{\"marketplace\": \"$m\", \"kind\": \"500\", \"count\": 2, \"path\": \"/orders/\"}" >/dev/null
done
check "detail faults: the sync finished" sync_all
check "detail faults: every order once" all_equal

# Tokens that expire early: the next call gets 401/403, nexus renews once.
for m in amazon ebay bol zalando walmart; do
  sim "$SIM_main" POST "/_sim/accounts/${A[$m]}/update" '{"count": 2}' >/dev/null
  sim "$SIM_main" POST "/_sim/faults" "{\"marketplace\": \"$m\", \"account\": \"${A[$m]}\", \"kind\": \"expire_token\"}" >/dev/null
done
check "expired tokens: the sync finished" sync_all
check "expired tokens: every run succeeded" last_runs_ok
check "expired tokens: every order once" all_equal
check "expired tokens: each was renewed exactly once more" \
  test "$(sim "$SIM_main" GET /_sim/stats | grep -o '"token_requests":{[^}]*}' | grep -o ':2' | wc -l)" = 5

# Orders change while a walk is between pages.
for m in "${MARKETS[@]}"; do
  sim "$SIM_main" POST "/_sim/faults" "{\"marketplace\": \"$m\", \"account\": \"${A[$m]}\", \"kind\": \"change_between_pages\", \"count\": 3}" >/dev/null
done
check "changes between pages: the sync finished" sync_all
check "changes between pages: a second sync catches what moved" sync_all
check "changes between pages: every order once, latest versions" all_equal

# Refused credentials: error at once, one request, a message a seller understands.
read -r bad_conn bad_acct < <(connect "$SIM_main" bol 9 10)
q "UPDATE nexus.marketplace_connections SET config = config WHERE id = '$bad_conn'" >/dev/null
q "SELECT nexus_private.store_credentials(tenant_id, id, '{\"client_id\": \"bol-9\", \"client_secret\": \"wrong\"}') FROM nexus.marketplace_connections WHERE id = '$bad_conn'" >/dev/null
q "SELECT count(*) FROM nexus.sync_now('$bad_conn')" >/dev/null
wait_idle 30
check "refused credentials: the connection is in error" \
  test "$(q "SELECT status FROM nexus.marketplace_connections WHERE id = '$bad_conn'")" = error
msg=$(q "SELECT error_message FROM nexus.marketplace_connections WHERE id = '$bad_conn'")
check "refused credentials: the message names the credentials ($msg)" \
  test "${msg#*refused the connection\'s credentials}" != "$msg"
check "refused credentials: not retried" \
  test "$(q "SELECT http_requests FROM nexus.sync_runs WHERE connection_id = '$bad_conn'")" = 1
q "UPDATE nexus.marketplace_connections SET next_sync_at = now(); SELECT nexus.enqueue_due_syncs()" >/dev/null
check "refused credentials: not scheduled again" \
  test "$(q "SELECT count(*) FROM nexus.sync_runs WHERE connection_id = '$bad_conn' AND status = 'queued'")" = 0
wait_idle 60

# A marketplace that keeps failing: retried nexus.sync_retries times per
# run, error after nexus.sync_max_failures failed runs, back to active after
# a success.
m=walmart
sim "$SIM_main" POST "/_sim/faults" "{\"marketplace\": \"$m\", \"account\": \"${A[$m]}\", \"kind\": \"503\", \"count\": 1000}" >/dev/null
q "SELECT count(*) FROM nexus.sync_now('${C[$m]}')" >/dev/null
wait_idle 60
check "persistent 503: the run failed after its retries" \
  test "$(q "SELECT status || ' ' || http_requests FROM nexus.sync_runs WHERE connection_id = '${C[$m]}' ORDER BY id DESC LIMIT 1")" = "failed 4"
check "persistent 503: one failure is not yet an error" \
  test "$(q "SELECT status || ' ' || consecutive_failures FROM nexus.marketplace_connections WHERE id = '${C[$m]}'")" = "active 1"
q "SELECT count(*) FROM nexus.sync_now('${C[$m]}')" >/dev/null
wait_idle 60
check "persistent 503: the second failed run puts it in error" \
  test "$(q "SELECT status FROM nexus.marketplace_connections WHERE id = '${C[$m]}'")" = error
check "health: unhealthy" \
  test "$(q "SELECT health FROM nexus.connection_health WHERE connection_id = '${C[$m]}'")" = unhealthy
sim "$SIM_main" DELETE /_sim/faults >/dev/null
q "SELECT count(*) FROM nexus.sync_now('${C[$m]}')" >/dev/null
wait_idle 60
check "after a success the connection is active again" \
  test "$(q "SELECT status || ' ' || consecutive_failures FROM nexus.marketplace_connections WHERE id = '${C[$m]}'")" = "active 0"
check "and holds every order once" compare "$SIM_main" "${C[$m]}" "${A[$m]}"

# Amazon announces its sustained rate (x-amzn-RateLimit-Limit): after the
# documented burst (30 order-item calls) nexus paces itself at that rate
# instead of waiting for 429s.  2 per second here: 45 item calls take 7.5 s.
read -r paced_conn paced_acct < <(connect "$SIM_main" amazon 5 45 100 '"amazon_rate_limit": "2.0"')
t0=$(date +%s%N)
q "SELECT count(*) FROM nexus.sync_now('$paced_conn')" >/dev/null
wait_idle 60
paced_ms=$((($(date +%s%N) - t0) / 1000000))
check "amazon at 2 requests/s: paced after the burst (${paced_ms} ms, >= 6 s)" test "$paced_ms" -ge 6000
check "amazon at 2 requests/s: without a single 429" \
  test "$(q "SELECT throttled_waits FROM nexus.sync_runs WHERE connection_id = '$paced_conn'")" = 0
check "amazon at 2 requests/s: every order once" compare "$SIM_main" "$paced_conn" "$paced_acct"

stats=$(sim "$SIM_main" GET /_sim/stats)
check "the simulator rejected only the expired tokens and the wrong secret" \
  test "$(echo "$stats" | grep -o '"rejected_total":[0-9]*'),$(echo "$stats" | grep -o '"reason":"expired access token"' | wc -l)" = '"rejected_total":6,5'
check "no crash in the server log" bash -c "! grep -E 'PANIC|TRAP|terminated by signal' '$dir/pg/server.log'"
[ $failures = 0 ] || {
  q "SELECT c.marketplace, r.status, r.pages, r.http_requests, r.throttled_waits, left(r.error, 200) FROM nexus.sync_runs r JOIN nexus.marketplace_connections c ON c.id = r.connection_id ORDER BY r.id DESC LIMIT 30" >&2
  sim "$SIM_main" GET /_sim/stats | head -c 3000 >&2
  exit 1
}
