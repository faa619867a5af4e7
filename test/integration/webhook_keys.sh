#!/bin/bash
# Webhook signing keys: an eBay or bol webhook signed with a key nexus does
# not hold is refused (PT401) and stores nothing, but sync worker 1 fetches
# the key from the marketplace (the simulator) within seconds; the
# marketplace's next delivery of the same webhook is then accepted and its
# order fetched.  Webhooks naming random key ids are refused and make nexus
# ask the marketplace at most once per nexus.webhook_key_retry_interval.
# A key about to expire is fetched again while it still verifies.
set -u
dir=$(mktemp -d /tmp/nexus-webhook-keys.XXXXXX)
chmod 755 "$dir"
. "$(dirname "$0")/lib/sync.sh"
trap sync_cleanup EXIT
failures=0
RETRY=10

sim_start main || exit 1
sync_cluster "$(free_port 27700)" "nexus.sync_workers = 1" \
  "nexus.webhook_key_retry_interval = '${RETRY}s'" || exit 1
read -r CE AE < <(connect "$SIM_main" ebay 1 5) || exit 1
read -r CB AB < <(connect "$SIM_main" bol 1 5) || exit 1
# Which connection a webhook is for: eBay's seller, bol's retailer.
q "UPDATE nexus.marketplace_connections SET config = config || '{\"seller_username\": \"sim_seller\"}' WHERE id = '$CE';
   UPDATE nexus.marketplace_connections SET config = config || '{\"retailer_id\": \"1234567\"}' WHERE id = '$CB'" >/dev/null
q "SELECT count(*) FROM nexus.marketplace_connections c, nexus.sync_now(c.id) s" >/dev/null
check "first sync" wait_idle 60

json_of() { node -e "const v = JSON.parse(process.argv[1])$2; console.log(typeof v === 'string' ? v : JSON.stringify(v))" "$1"; }
# sign MARKET BODY [KEY_ID]: the webhook's headers as PostgREST puts them in request.headers.
sign() {
  local req
  req=$(node -e 'const [m, b, k] = process.argv.slice(1);
                 console.log(JSON.stringify(Object.assign({marketplace: m, body: b}, k ? {key_id: k} : {})))' "$1" "$2" "${3:-}")
  sim "$SIM_main" POST /_sim/webhooks/sign "$req" |
    node -e 'let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
               const h = JSON.parse(s).headers, o = {"content-type": "application/json"};
               for (const k in h) o[k.toLowerCase()] = h[k];
               console.log(JSON.stringify(o)); })'
}
# hook MARKET BODY HEADERS: POST /rpc/webhook_<market> as PostgREST runs it (anon); prints the result or the error.
hook() {
  psql_at "$dir/pg" "$PGPORT_" postgres -At -v body="$2" -v headers="$3" 2>&1 <<SQL
\set VERBOSITY verbose
BEGIN;
SET LOCAL ROLE anon;
SELECT set_config('request.headers', :'headers', true) IS NULL AS unset;
SELECT nexus.webhook_$1(:'body'::json);
COMMIT;
SQL
}
key_requests() { json_of "$(sim "$SIM_main" GET /_sim/stats)" ".key_requests.$1 || 0"; }
events() { q "SELECT count(*) FROM nexus.webhook_events WHERE marketplace = '$1'"; }
# wait_key MARKET KEY_ID SECONDS: until nexus holds the key.
wait_key() {
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(q "SELECT count(*) FROM nexus_private.webhook_keys WHERE marketplace = '$1' AND key_id = '$2'")" = 1 ] && return 0
    sleep 0.2
  done
  grep 'webhook' "$dir/pg/server.log" | tail -5 >&2
  return 1
}
# The webhook's result: the event waits for the sync it queued.
accepted() { grep -q '"sync": "queued"' <<<"$1" && grep -q '"status": "needs_fetch"' <<<"$1" || { echo "$1" >&2; return 1; }; }
has_order() { [ "$(q "SELECT count(*) FROM nexus.orders WHERE connection_id = '$1' AND external_order_id = '$2'")" = 1 ]; }
wait_order() {
  local deadline=$((SECONDS + 30))
  while [ $SECONDS -lt $deadline ]; do has_order "$1" "$2" && return 0; sleep 0.3; done
  return 1
}
sim "$SIM_main" POST /_sim/stats/reset >/dev/null

# ---- eBay: ECDSA, one key per request, an application token
order=$(json_of "$(sim "$SIM_main" POST "/_sim/accounts/$AE/create" '{"count": 1}')" ".created[0]")
body="{\"metadata\":{\"topic\":\"ORDER_CONFIRMATION\",\"schemaVersion\":\"1.0\",\"deprecated\":false},\"notification\":{\"notificationId\":\"sim-$order\",\"eventDate\":\"2025-03-11T14:02:15.000Z\",\"publishDate\":\"2025-03-11T14:02:19.221Z\",\"publishAttemptCount\":1,\"data\":{\"orderId\":\"$order\",\"sellerUsername\":\"sim_seller\"}}}"
headers=$(sign ebay "$body")
kid=$(json_of "$headers" "['x-ebay-signature']" | base64 -d | node -e 'let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => console.log(JSON.parse(s).kid))')
out=$(hook ebay "$body" "$headers")
check "ebay: a webhook signed with a key nexus lacks is refused with PT401" grep -q 'PT401.*invalid ebay webhook signature' <<<"$out"
check "ebay: and stores nothing" test "$(events ebay)" = 0
check "ebay: the sync worker fetches the key within 15 s" wait_key ebay "$kid" 15
check "ebay: it is trusted for about an hour" \
  test "$(q "SELECT expires_at BETWEEN now() + interval '55 minutes' AND now() + interval '61 minutes'
               FROM nexus_private.webhook_keys WHERE marketplace = 'ebay' AND key_id = '$kid'")" = t
check "ebay: with one key request, on an application token" test "$(key_requests ebay)" = 1
out=$(hook ebay "$body" "$headers")
check "ebay: the same webhook again is accepted and queues a sync" accepted "$out"
check "ebay: the event is recorded once" test "$(events ebay)" = 1
check "ebay: the order it names arrives" wait_order "$CE" "$order"
ebay_order=$order

# ---- bol: RSA, the whole list, the sync's own token
tokens_before=$(json_of "$(sim "$SIM_main" GET /_sim/stats)" ".token_requests['$AB'] || 0")
order=$(json_of "$(sim "$SIM_main" POST "/_sim/accounts/$AB/create" '{"count": 1}')" ".created[0]")
body="{\"retailerId\":1234567,\"timestamp\":\"$(date +%Y-%m-%dT%H:%M:%S+01:00)\",\"event\":{\"resource\":\"ORDER\",\"type\":\"ORDER_CREATED\",\"resourceId\":\"$order\"}}"
headers=$(sign bol "$body")
out=$(hook bol "$body" "$headers")
check "bol: a webhook signed with a key nexus lacks is refused with PT401" grep -q 'PT401.*invalid bol webhook signature' <<<"$out"
check "bol: and stores nothing" test "$(events bol)" = 0
check "bol: the sync worker fetches the key list within 15 s" wait_key bol 1 15
check "bol: a listed key is trusted for a day" \
  test "$(q "SELECT expires_at BETWEEN now() + interval '23 hours' AND now() + interval '25 hours'
               FROM nexus_private.webhook_keys WHERE marketplace = 'bol' AND key_id = '1'")" = t
check "bol: with one request for the list" test "$(key_requests bol)" = 1
check "bol: on the sync's cached token (no new token requested)" \
  test "$(json_of "$(sim "$SIM_main" GET /_sim/stats)" ".token_requests['$AB'] || 0")" = "$tokens_before"
out=$(hook bol "$body" "$headers")
check "bol: the same webhook again is accepted and queues a sync" accepted "$out"
check "bol: the order it names arrives" wait_order "$CB" "$order"

# ---- forged key ids: refused, and the marketplace is asked at most once per interval
sleep "$RETRY"					# the last eBay fetch is an interval old: the next may go at once
before=$(key_requests ebay)
refused=0
for i in 1 2 3 4 5; do
  body="{\"metadata\":{\"topic\":\"ORDER_CONFIRMATION\"},\"notification\":{\"notificationId\":\"forged-$i\",\"data\":{\"orderId\":\"1-2-3\",\"sellerUsername\":\"sim_seller\"}}}"
  out=$(hook ebay "$body" "$(sign ebay "$body" "$(cat /proc/sys/kernel/random/uuid)")")
  grep -q PT401 <<<"$out" && refused=$((refused + 1))
done
bol_before=$(key_requests bol)
for i in 1 2 3; do
  body="{\"retailerId\":1234567,\"timestamp\":\"2025-03-12T09:58:4$i+01:00\",\"event\":{\"resource\":\"ORDER\",\"type\":\"ORDER_CREATED\",\"resourceId\":\"9$i\"}}"
  out=$(hook bol "$body" "$(sign bol "$body" "forged-$i")")
  grep -q PT401 <<<"$out" && refused=$((refused + 1))
done
sleep $((RETRY / 2))
check "forged key ids: every webhook is refused" test "$refused" = 8
check "forged key ids: nothing is stored" \
  test "$(events ebay)" = 1 -a "$(events bol)" = 1 -a "$(q "SELECT count(*) FROM nexus_private.webhook_keys")" = 2
check "forged key ids: eBay is asked exactly once within the interval ($(( $(key_requests ebay) - before )))" \
  test "$(( $(key_requests ebay) - before ))" = 1
check "forged key ids: bol is asked at most once within the interval ($(( $(key_requests bol) - bol_before )))" \
  test "$(( $(key_requests bol) - bol_before ))" -le 1
check "forged key ids: the worker logs that eBay has no such key" grep -q 'ebay has no webhook key' "$dir/pg/server.log"

# ---- a key close to its expiry is refreshed while it still verifies
q "UPDATE nexus_private.webhook_keys SET expires_at = now() + interval '5 minutes' WHERE marketplace = 'ebay' AND key_id = '$kid'" >/dev/null
before=$(key_requests ebay)
body="{\"metadata\":{\"topic\":\"ORDER_CONFIRMATION\",\"schemaVersion\":\"1.0\",\"deprecated\":false},\"notification\":{\"notificationId\":\"refresh-$ebay_order\",\"eventDate\":\"2025-03-11T15:02:15.000Z\",\"publishDate\":\"2025-03-11T15:02:19.221Z\",\"publishAttemptCount\":1,\"data\":{\"orderId\":\"$ebay_order\",\"sellerUsername\":\"sim_seller\"}}}"
out=$(hook ebay "$body" "$(sign ebay "$body")")
check "near expiry: a webhook signed with the key is still accepted" accepted "$out"
refreshed() {
  local deadline=$((SECONDS + RETRY + 15))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(q "SELECT expires_at > now() + interval '55 minutes' FROM nexus_private.webhook_keys
            WHERE marketplace = 'ebay' AND key_id = '$kid'")" = t ] && return 0
    sleep 0.3
  done
  return 1
}
check "near expiry: the worker fetches the key again and trusts it for another hour" refreshed
check "near expiry: with one key request ($(( $(key_requests ebay) - before )))" test "$(( $(key_requests ebay) - before ))" = 1
check "the sync worker is still alive" test "$(q "SELECT count(*) FROM nexus.worker_status")" = 1

echo "webhook_keys: $failures failure(s)"
[ "$failures" = 0 ]
