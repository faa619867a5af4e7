#!/bin/bash
# Self-test of the marketplace simulator (test/sim/README.md).
#
# Starts the simulator on a free port and, for every marketplace, does what
# doc/sync_protocol.md says nexus does, with curl: token, first page, every
# next page, details or items.  Checks that the pages cover exactly the
# account's orders, that nexus's own adapters (built into parse_page) read
# every order with no failure and derive the simulator's updated_at, that
# wrong requests are refused, that every fault behaves as documented, and
# that the webhook key endpoints verify what /_sim/webhooks/sign signs.
# Then stops the simulator by its PID.
#
# Prints "ok <check>" or "FAILED <check>" per check and ends with
# "N passed, N failed"; exits non-zero on any failure.  Needs bash, curl,
# openssl, node, and cc with jansson and libcrypto for parse_page.
set -u
# The whole run is bounded: a hung request must not hang the suite.
if [ -z "${SIM_SELFTEST_BOUNDED:-}" ]; then
  SIM_SELFTEST_BOUNDED=1 exec timeout -k 20 "${SELFTEST_TIMEOUT:-115}" bash "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/simtest.XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "FAILED selftest: ran out of time"; echo "$pass passed, $((fail + 1)) failed"; exit 1' TERM

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "FAILED $1${2:+: $2}"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit $?
}

UA="nexus/selftest"
J() { node "$here/jsontool.js" "$@"; }

# req OUT METHOD URL [curl args]: body in OUT, headers in OUT.hdr, status in $code.
req() {
  local out=$1 method=$2 url=$3
  shift 3
  code=$(curl -sS -g --max-time 10 -X "$method" -A "$UA" -o "$out" -D "$out.hdr" -w '%{http_code}' "$@" "$url" 2>"$out.err") || code=000
}
# hdr OUT NAME: the value of a response header.
hdr() { sed -n "s/^$2: *//Ip" "$1.hdr" | tr -d '\r' | tail -1; }
ctl() { curl -sS -g --max-time 10 -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} "$SIM/_sim$2"; }
mkacct() { ctl POST /accounts "$1" > "$tmp/acct.json"; J get "$tmp/acct.json" account; }
uuid() { cat /proc/sys/kernel/random/uuid; }
is_code() { [ "$code" = "$1" ]; }

# ---------------------------------------------------------------- start
node "$here/sim.js" --port 0 --port-file "$tmp/port" > "$tmp/sim.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port" 2>/dev/null)
if [ -z "$port" ]; then
  bad "simulator starts" "$(tail -5 "$tmp/sim.log")"
  finish
fi
SIM="http://127.0.0.1:$port"
for _ in $(seq 20); do grep -q listening "$tmp/sim.log" && break; sleep 0.05; done
check "simulator listens on a free port, writes it to --port-file and says so" grep -q "^sim listening on 127.0.0.1:$port$" "$tmp/sim.log"
check "control API answers" test "$(ctl GET /health)" = '{"ok":true}'

# ---------------------------------------------------------------- parse_page
PP=
if cc -std=gnu11 -O1 -I"$root/adapters" $(pkg-config --cflags jansson libcrypto) -o "$tmp/parse_page" \
    "$here/parse_page.c" "$root"/adapters/{canonical,country,crypto,json_parse,json_util,keys,keyset,money,request,timeutil,registry,amazon,amazon_v2026,ebay,bol,kaufland,shopify,zalando,walmart}.c \
    $(pkg-config --libs jansson libcrypto) > "$tmp/cc.log" 2>&1; then
  PP=$tmp/parse_page
  ok "parse_page builds against the adapters"
else
  bad "parse_page builds against the adapters" "$(grep -m3 error "$tmp/cc.log")"
fi

start=$(date -u -d '-3 days' +%Y-%m-%dT%H:%M:%SZ)
since=$(date -u -d '-4 days' +%Y-%m-%dT%H:%M:%SZ)
since_ms=${since%Z}.000Z
since_day=${since%%T*}

AZ_REGION=ATVPDKIKX0DER
AZ=$(mkacct '{"marketplace":"amazon","credentials":{"lwa_client_id":"amzn1.app.sim","lwa_client_secret":"az-secret","refresh_token":"Atzr|sim-refresh"},"region":"'$AZ_REGION'","orders":8,"seed":"az","start":"'$start'","step_seconds":1800,"items_page_size":1}')
# An Amazon seller on Orders API v2026-01-01: searchOrders, items inline.
AZ26=$(mkacct '{"marketplace":"amazon","credentials":{"lwa_client_id":"amzn1.app.sim","lwa_client_secret":"az-secret","refresh_token":"Atzr|sim-refresh-26"},"region":"'$AZ_REGION'","orders":8,"seed":"az26","start":"'$start'","step_seconds":1800,"orders_api":"2026-01-01"}')
check "an Amazon account on Orders API 2026-01-01 is created" test -n "$AZ26"
code=$(curl -s -o "$tmp/r" -w '%{http_code}' -X POST -d '{"marketplace":"amazon","credentials":{"lwa_client_id":"a","lwa_client_secret":"b","refresh_token":"r-x"},"region":"'$AZ_REGION'","orders_api":"2026"}' "$SIM/_sim/accounts")
check "an Amazon account with an orders_api other than v0 or 2026-01-01 is refused (400)" test "$code" = 400
EB=$(mkacct '{"marketplace":"ebay","credentials":{"client_id":"eb-client","client_secret":"eb-secret","refresh_token":"v^1.1#r"},"orders":7,"seed":"eb","start":"'$start'","step_seconds":1800}')
BO=$(mkacct '{"marketplace":"bol","credentials":{"client_id":"bol-client","client_secret":"bol-secret"},"orders":120,"seed":"bo","start":"'$start'","step_seconds":600}')
KL_KEY=35f5dba43b471cd2ad28fd68e4825e2b
KL_SECRET=b3575f222f7b768c25160b879699118b331c6883dd6010864b7ead130be77cd5
KL=$(mkacct '{"marketplace":"kaufland","credentials":{"client_key":"'$KL_KEY'","secret_key":"'$KL_SECRET'"},"region":"de","orders":9,"seed":"kl","start":"'$start'","step_seconds":1800}')
SH_TOKEN=shpat_sim_0001
SH=$(mkacct '{"marketplace":"shopify","credentials":{"shop_domain":"sim-shop.myshopify.com","access_token":"'$SH_TOKEN'"},"orders":8,"seed":"sh","start":"'$start'","step_seconds":1800}')
ZM=bad85fa1-6522-5c04-a20d-9f4903f33bde
ZA=$(mkacct '{"marketplace":"zalando","credentials":{"client_id":"za-client","client_secret":"za-secret","merchant_id":"'$ZM'"},"orders":7,"seed":"za","start":"'$start'","step_seconds":1800}')
WM=$(mkacct '{"marketplace":"walmart","credentials":{"client_id":"wm-client","client_secret":"wm-secret"},"orders":8,"seed":"wm","start":"'$start'","step_seconds":1800}')
# A Walmart Canada seller: walked and read like any account, as "walmart_ca".
WC=$(mkacct '{"marketplace":"walmart","credentials":{"client_id":"wm-ca-client","client_secret":"wm-ca-secret"},"region":"ca","orders":8,"seed":"wc","start":"'$start'","step_seconds":1800}')
check "a Walmart Canada account is created" test -n "$WC"
code=$(curl -s -o "$tmp/r" -w '%{http_code}' -X POST -d '{"marketplace":"walmart","credentials":{"client_id":"wm-mx","client_secret":"x"},"region":"mx"}' "$SIM/_sim/accounts")
check "a Walmart account of a region other than us or ca is refused (400)" test "$code" = 400
check "accounts are created for all seven marketplaces" test -n "$AZ" -a -n "$EB" -a -n "$BO" -a -n "$KL" -a -n "$SH" -a -n "$ZA" -a -n "$WM"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"marketplace":"bol","credentials":{"client_id":"bol-client","client_secret":"x"}}' "$SIM/_sim/accounts")
check "an account the simulator could not tell apart from another is refused (409)" test "$code" = 409

# Headers every API call of a marketplace carries.
amazon_h() { H=(-H 'Accept: application/json' -H "x-amz-access-token: $1"); }
ebay_h() { H=(-H 'Accept: application/json' -H "Authorization: Bearer $1"); }
bol_h() { H=(-H 'Accept: application/vnd.retailer.v10+json' -H "Authorization: Bearer $1"); }
shopify_h() { H=(-H 'Accept: application/json' -H "X-Shopify-Access-Token: $1"); }
zalando_h() { H=(-H 'Accept: application/vnd.api+json' -H "Authorization: Bearer $1"); }
walmart_h() { H=(-H 'Accept: application/json' -H 'WM_SVC.NAME: Walmart Marketplace' -H "WM_QOS.CORRELATION_ID: $(uuid)" ${1:+-H "WM_SEC.ACCESS_TOKEN: $1"}); }
walmart_ca_h() { walmart_h "${1:-}"; H+=(-H 'WM_MARKET: ca'); }

# Tokens, as doc/sync_protocol.md has nexus ask for them.
amazon_token() {
  req "$tmp/tok" POST "$SIM/amazon/auth/o2/token" -H 'Accept: application/json' -H 'Content-Type: application/x-www-form-urlencoded' \
    -d "grant_type=refresh_token&refresh_token=${1:-Atzr%7Csim-refresh}&client_id=amzn1.app.sim&client_secret=${2:-az-secret}"
  is_code 200 && J get "$tmp/tok" access_token
}
ebay_token() {
  req "$tmp/tok" POST "$SIM/ebay/identity/v1/oauth2/token" -u "eb-client:${1:-eb-secret}" -H 'Accept: application/json' \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    -d "grant_type=refresh_token&refresh_token=v%5E1.1%23r&scope=${2:-https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.fulfillment}"
  is_code 200 && J get "$tmp/tok" access_token
}
bol_token() {
  req "$tmp/tok" POST "$SIM/bol/token?grant_type=client_credentials" -u "bol-client:${1:-bol-secret}" -H 'Accept: application/json'
  is_code 200 && J get "$tmp/tok" access_token
}
zalando_token() {
  req "$tmp/tok" POST "$SIM/zalando/auth/token" -u "za-client:${1:-za-secret}" -H 'Accept: application/json' \
    -H 'Content-Type: application/x-www-form-urlencoded' -d 'grant_type=client_credentials'
  is_code 200 && J get "$tmp/tok" access_token
}
walmart_token() {
  walmart_h
  req "$tmp/tok" POST "$SIM/walmart/v3/token" -u "wm-client:${1:-wm-secret}" "${H[@]}" \
    -H 'Content-Type: application/x-www-form-urlencoded' -d 'grant_type=client_credentials'
  is_code 200 && J get "$tmp/tok" access_token
}
walmart_ca_token() {
  walmart_ca_h
  req "$tmp/tok" POST "$SIM/walmart/v3/token" -u "wm-ca-client:wm-ca-secret" "${H[@]}" \
    -H 'Content-Type: application/x-www-form-urlencoded' -d 'grant_type=client_credentials'
  is_code 200 && J get "$tmp/tok" access_token
}
# kreq OUT URL [curl args]: a signed Kaufland GET (KTS overrides the timestamp).
kreq() {
  local out=$1 url=$2 ts sig
  shift 2
  ts=${KTS:-$(date +%s)}
  sig=$(printf 'GET\n%s\n\n%s' "$url" "$ts" | openssl dgst -sha256 -hmac "$KL_SECRET" | sed 's/^.*= //')
  req "$out" GET "$url" -H 'Accept: application/json' -H "Shop-Client-Key: $KL_KEY" -H "Shop-Timestamp: $ts" -H "Shop-Signature: $sig" "$@"
}

# ---------------------------------------------------------------- walks
# Each walk_<m> DIR fetches everything into DIR: page<n>.json (+ .hdr),
# ids (order ids in page order), and details/items; returns non-zero when
# a request failed (after saying which).
walk_amazon() {
  local d=$1 n=1 tok next id k nt
  tok=$(amazon_token) || { bad "amazon token" "HTTP $code"; return 1; }
  amazon_h "$tok"
  req "$d/page1.json" GET "$SIM/amazon/orders/v0/orders?MarketplaceIds=$AZ_REGION&LastUpdatedAfter=$since&MaxResultsPerPage=3" "${H[@]}"
  while :; do
    is_code 200 || { bad "amazon page $n" "HTTP $code"; return 1; }
    J amazon-split "$d/page$n.json" "$d" >> "$d/ids"
    next=$(J get "$d/page$n.json" payload.NextToken)
    [ -n "$next" ] || break
    n=$((n + 1))
    [ $n -le 60 ] || { bad "amazon pages end"; return 1; }
    req "$d/page$n.json" GET "$SIM/amazon/orders/v0/orders" -G --data-urlencode "MarketplaceIds=$AZ_REGION" --data-urlencode "NextToken=$next" "${H[@]}"
  done
  while read -r id; do
    k=1
    req "$d/$id.items.$k.json" GET "$SIM/amazon/orders/v0/orders/$id/orderItems" "${H[@]}"
    while is_code 200; do
      nt=$(J get "$d/$id.items.$k.json" payload.NextToken)
      [ -n "$nt" ] || break
      k=$((k + 1))
      req "$d/$id.items.$k.json" GET "$SIM/amazon/orders/v0/orders/$id/orderItems" -G --data-urlencode "NextToken=$nt" "${H[@]}"
    done
    is_code 200 || { bad "amazon items of $id" "HTTP $code"; return 1; }
    J amazon-merge "$d" "$id"
  done < "$d/ids"
}

# searchOrders: every page sends the same filters, the next ones with paginationToken.
AZ26_Q="lastUpdatedAfter=$since&marketplaceIds=$AZ_REGION&includedData=BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,PACKAGES&maxResultsPerPage=3"
walk_amazon_v2026() {
  local d=$1 n=1 tok next
  tok=$(amazon_token Atzr%7Csim-refresh-26) || { bad "amazon_v2026 token" "HTTP $code"; return 1; }
  amazon_h "$tok"
  req "$d/page1.json" GET "$SIM/amazon/orders/2026-01-01/orders?$AZ26_Q" "${H[@]}"
  while :; do
    is_code 200 || { bad "amazon_v2026 page $n" "HTTP $code $(head -c 200 "$d/page$n.json")"; return 1; }
    J amazon-v2026-split "$d/page$n.json" "$d" >> "$d/ids"
    next=$(J get "$d/page$n.json" pagination.nextToken)
    [ -n "$next" ] || break
    n=$((n + 1))
    [ $n -le 60 ] || { bad "amazon_v2026 pages end"; return 1; }
    req "$d/page$n.json" GET "$SIM/amazon/orders/2026-01-01/orders?$AZ26_Q" -G --data-urlencode "paginationToken=$next" "${H[@]}"
  done
}

walk_ebay() {
  local d=$1 n=1 tok next
  tok=$(ebay_token) || { bad "ebay token" "HTTP $code"; return 1; }
  ebay_h "$tok"
  req "$d/page1.json" GET "$SIM/ebay/sell/fulfillment/v1/order?filter=lastmodifieddate:%5B$since_ms..%5D&limit=3&offset=0" "${H[@]}"
  while :; do
    is_code 200 || { bad "ebay page $n" "HTTP $code"; return 1; }
    J ids ebay "$d/page$n.json" >> "$d/ids"
    next=$(J get "$d/page$n.json" next)
    [ -n "$next" ] || break
    case $next in "$SIM/ebay/"*) ;; *) bad "ebay next link is on the simulator" "$next"; return 1 ;; esac
    n=$((n + 1))
    req "$d/page$n.json" GET "$next" "${H[@]}"
  done
}

walk_bol() {
  local d=$1 n=1 tok id
  tok=$(bol_token) || { bad "bol token" "HTTP $code"; return 1; }
  bol_h "$tok"
  while :; do
    req "$d/page$n.json" GET "$SIM/bol/retailer/orders?page=$n&status=ALL&fulfilment-method=ALL&latest-change-date=$since_day" "${H[@]}"
    is_code 200 || { bad "bol page $n" "HTTP $code"; return 1; }
    [ "$(cat "$d/page$n.json")" = "{ }" ] && break
    J ids bol "$d/page$n.json" >> "$d/ids"
    n=$((n + 1))
    [ $n -le 60 ] || { bad "bol pages end"; return 1; }
  done
  while read -r id; do
    req "$d/$id.detail.json" GET "$SIM/bol/retailer/orders/$id" "${H[@]}"
    is_code 200 || { bad "bol detail $id" "HTTP $code"; return 1; }
  done < "$d/ids"
}

walk_kaufland() {
  local d=$1 n=1 offset=0 total got id
  while :; do
    kreq "$d/page$n.json" "$SIM/kaufland/v2/orders?storefront=de&ts_units_updated_from_iso=$since&limit=4&offset=$offset"
    is_code 200 || { bad "kaufland page $n" "HTTP $code $(cat "$d/page$n.json")"; return 1; }
    J ids kaufland "$d/page$n.json" >> "$d/ids"
    got=$(J ids kaufland "$d/page$n.json" | wc -l)
    total=$(J get "$d/page$n.json" pagination.total)
    offset=$((offset + got))
    [ "$got" -gt 0 ] && [ "$offset" -lt "$total" ] || break
    n=$((n + 1))
  done
  while read -r id; do
    kreq "$d/$id.detail.json" "$SIM/kaufland/v2/orders/$id"
    is_code 200 || { bad "kaufland detail $id" "HTTP $code"; return 1; }
  done < "$d/ids"
}

walk_shopify() {
  local d=$1 n=1 next
  shopify_h "$SH_TOKEN"
  req "$d/page1.json" GET "$SIM/shopify/admin/api/2024-10/orders.json?status=any&updated_at_min=$since&limit=3" "${H[@]}"
  while :; do
    is_code 200 || { bad "shopify page $n" "HTTP $code"; return 1; }
    J ids shopify "$d/page$n.json" >> "$d/ids"
    next=$(hdr "$d/page$n.json" Link | sed -n 's/.*<\([^>]*\)>; rel="next".*/\1/p')
    [ -n "$next" ] || break
    case $next in "$SIM/shopify/admin/api/2024-10/orders.json?limit=3&page_info="*) ;; *) bad "shopify next link" "$next"; return 1 ;; esac
    n=$((n + 1))
    req "$d/page$n.json" GET "$next" "${H[@]}"
  done
}

walk_zalando() {
  local d=$1 n=1 tok next
  tok=$(zalando_token) || { bad "zalando token" "HTTP $code"; return 1; }
  zalando_h "$tok"
  req "$d/page1.json" GET "$SIM/zalando/merchants/$ZM/orders?include=order_items,order_lines&last_updated_after=$since&page%5Bnumber%5D=0&page%5Bsize%5D=3" "${H[@]}"
  while :; do
    is_code 200 || { bad "zalando page $n" "HTTP $code"; return 1; }
    J ids zalando "$d/page$n.json" >> "$d/ids"
    next=$(J get "$d/page$n.json" links.next)
    [ -n "$next" ] || break
    case $next in "$SIM/zalando/merchants/$ZM/orders?"*) ;; *) bad "zalando next link is on the simulator" "$next"; return 1 ;; esac
    n=$((n + 1))
    req "$d/page$n.json" GET "$next" "${H[@]}"
  done
}

walk_walmart() {
  local d=$1 n=1 tok next
  tok=$(walmart_token) || { bad "walmart token" "HTTP $code"; return 1; }
  walmart_h "$tok"
  req "$d/page1.json" GET "$SIM/walmart/v3/orders?lastModifiedStartDate=$since&limit=3&productInfo=false" "${H[@]}"
  while :; do
    is_code 200 || { bad "walmart page $n" "HTTP $code"; return 1; }
    J ids walmart "$d/page$n.json" >> "$d/ids"
    next=$(J get "$d/page$n.json" list.meta.nextCursor)
    [ -n "$next" ] || break
    case $next in '?'*) ;; *) bad "walmart nextCursor starts with ?" "$next"; return 1 ;; esac
    n=$((n + 1))
    walmart_h "$tok"
    req "$d/page$n.json" GET "$SIM/walmart/v3/orders$next" "${H[@]}"
  done
}

walk_walmart_ca() {
  local d=$1 n=1 tok next
  tok=$(walmart_ca_token) || { bad "walmart_ca token" "HTTP $code"; return 1; }
  walmart_ca_h "$tok"
  req "$d/page1.json" GET "$SIM/walmart/v3/ca/orders?lastModifiedStartDate=$since&limit=3&productInfo=false" "${H[@]}"
  while :; do
    is_code 200 || { bad "walmart_ca page $n" "HTTP $code"; return 1; }
    J ids walmart "$d/page$n.json" >> "$d/ids"
    next=$(J get "$d/page$n.json" list.meta.nextCursor)
    [ -n "$next" ] || break
    case $next in '?'*) ;; *) bad "walmart_ca nextCursor starts with ?" "$next"; return 1 ;; esac
    n=$((n + 1))
    walmart_ca_h "$tok"
    req "$d/page$n.json" GET "$SIM/walmart/v3/ca/orders$next" "${H[@]}"
  done
}

# ---------------------------------------------------------------- parsing
# parse_<m> DIR: run the adapters over DIR, writing DIR/canon ("id
# updated_at items" per order) and DIR/failures (anything refused).
pp_page() { # pp_page M FILE [headers]: append orders to canon, problems to failures
  local m=$1 f=$2 out
  if ! out=$("$PP" "$m" "$f" ${3:+"$3"} 2>&1); then
    echo "$f: $out" >> "$d/failures"
    return
  fi
  echo "$out" | grep -v '^failed 0$' | grep -E '^(failed|failed_order|warning)' | sed "s|^|$f: |" >> "$d/failures"
  echo "$out" | awk -F'\t' '$1 == "order" { print $2, $3, $4 }' >> "$d/canon"
  echo "$out" | awk -F'\t' '$1 == "detail" { print $2 }' >> "$d/details"
  echo "$out" | awk -F'\t' '$1 == "next" { print $2 }' >> "$d/nexts"
}
pp_order() { # pp_order M FILE: one order; its canonical JSON into canon.json
  if ! "$PP" "$1" --order "$2" >> "$d/canon.json" 2>> "$d/failures.tmp"; then
    sed "s|^|$2: |" "$d/failures.tmp" >> "$d/failures"
  elif [ -s "$d/failures.tmp" ]; then
    sed "s|^|$2: |" "$d/failures.tmp" >> "$d/failures"
  fi
  rm -f "$d/failures.tmp"
}
parse_dir() { # parse_dir M DIR
  local m=$1 f n id
  d=$2
  : > "$d/canon"
  : > "$d/failures"
  : > "$d/details"
  : > "$d/nexts"
  : > "$d/canon.json"
  case $m in
    amazon)
      for f in "$d"/page*.json; do pp_page amazon "$f"; done
      : > "$d/canon"   # list orders carry no items yet; the merged ones count
      while read -r id; do pp_order amazon "$d/$id.merged.json"; done < "$d/ids"
      ;;
    bol)
      n=1
      while [ -f "$d/page$n.json" ]; do pp_page bol "$d/page$n.json" "{\"x-nexus-cursor\":\"$n\"}"; n=$((n + 1)); done
      while read -r id; do pp_order bol "$d/$id.detail.json"; done < "$d/ids"
      ;;
    kaufland)
      for f in "$d"/page*.json; do pp_page kaufland "$f"; done
      while read -r id; do pp_order kaufland "$d/$id.detail.json"; done < "$d/ids"
      ;;
    shopify)
      for f in "$d"/page*.json; do pp_page shopify "$f" "$(J headers "$f.hdr")"; done
      ;;
    walmart_ca)
      for f in "$d"/page*.json; do pp_page walmart "$f"; done
      ;;
    amazon_v2026)
      # the pages for ids and items; each order alone for its money
      for f in "$d"/page*.json; do pp_page amazon "$f"; done
      : > "$d/totals.json"
      while read -r id; do "$PP" amazon --order "$d/$id.order.json" >> "$d/totals.json" 2>> "$d/failures"; done < "$d/ids"
      ;;
    *)
      for f in "$d"/page*.json; do pp_page "$m" "$f"; done
      ;;
  esac
  [ -s "$d/canon.json" ] && J canon "$d/canon.json" >> "$d/canon"
}

# ---------------------------------------------------------------- walk, compare, parse
run_marketplace() { # run_marketplace M ACCOUNT TAG
  local m=$1 acct=$2 tag=$3 dir=$tmp/$1.$3
  mkdir -p "$dir"
  : > "$dir/ids"
  if ! "walk_$m" "$dir"; then
    bad "$m $tag: walk"
    return
  fi
  ok "$m $tag: token, first page, every next page and the details/items are served as documented"
  ctl GET "/accounts/$acct/orders" > "$dir/sim.json"
  J summary "$dir/sim.json" | sort > "$dir/sim"
  cut -d' ' -f1 "$dir/sim" | sort > "$dir/sim.ids"
  sort "$dir/ids" > "$dir/ids.sorted"
  if cmp -s "$dir/sim.ids" "$dir/ids.sorted"; then
    ok "$m $tag: the pages cover exactly the account's $(wc -l < "$dir/sim.ids") orders, each once"
  else
    bad "$m $tag: the pages cover exactly the account's orders" "$(diff "$dir/sim.ids" "$dir/ids.sorted" | head -5 | tr '\n' ' ')"
  fi
  [ -n "$PP" ] || { bad "$m $tag: adapters read the orders" "parse_page not built"; return; }
  parse_dir "$m" "$dir"
  if [ ! -s "$dir/failures" ]; then
    ok "$m $tag: nexus's adapter reads every page and order with 0 failed orders and no warnings"
  else
    bad "$m $tag: nexus's adapter reads every order" "$(head -3 "$dir/failures" | tr '\n' ' ')"
  fi
  sort "$dir/canon" > "$dir/canon.sorted"
  if cmp -s "$dir/sim" "$dir/canon.sorted"; then
    ok "$m $tag: canonical updated_at (and item count) equals the simulator's for every order"
  else
    bad "$m $tag: canonical updated_at equals the simulator's" "$(diff "$dir/sim" "$dir/canon.sorted" | head -4 | tr '\n' ' ')"
  fi
  case $m in
    bol)
      if cmp -s "$dir/ids" "$dir/details"; then ok "bol $tag: list pages give the order ids as detail ids"; else bad "bol $tag: detail ids"; fi
      check "bol $tag: full pages have a next page number, the last one none" \
        test "$(tr '\n' ' ' < "$dir/nexts")" = "2 3 - - "
      check "bol $tag: a page past the end is exactly '{ }'" test "$(cat "$(ls "$dir"/page*.json | sort -V | tail -1)")" = "{ }"
      ;;
    kaufland)
      if cmp -s "$dir/ids" "$dir/details"; then ok "kaufland $tag: list pages give the id_order values as detail ids"; else bad "kaufland $tag: detail ids"; fi
      ;;
    amazon_v2026)
      check "amazon_v2026 $tag: no order needs a request of its own (no detail ids)" test ! -s "$dir/details"
      if out=$(J amazon-totals "$dir/sim.json" "$dir/totals.json"); then
        ok "amazon_v2026 $tag: nexus's total_amount and subtotal equal the simulator's for every order"
      else
        bad "amazon_v2026 $tag: totals equal the simulator's" "$(head -3 <<<"$out" | tr '\n' ' ')"
      fi
      ;;
    walmart_ca)
      check "walmart_ca $tag: every charge is in CAD and every order ships to Canada" \
        test "$(cat "$dir"/page*.json | grep -o '"currency":"[A-Z]*"' | sort -u)" = '"currency":"CAD"' -a \
        "$(cat "$dir"/page*.json | grep -o '"country":"[A-Z]*"' | sort -u)" = '"country":"CAN"'
      ;;
  esac
}

ACCOUNTS=("amazon $AZ" "amazon_v2026 $AZ26" "ebay $EB" "bol $BO" "kaufland $KL" "shopify $SH" "zalando $ZA" "walmart $WM" "walmart_ca $WC")
for a in "${ACCOUNTS[@]}"; do run_marketplace $a initial; done

# Every order moves along its lifecycle twice and two new ones appear; the
# changed documents must still be ones nexus reads.
t_update=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for a in "${ACCOUNTS[@]}"; do
  set -- $a
  r1=$(ctl POST "/accounts/$2/update" '{"count":1000}')
  r2=$(ctl POST "/accounts/$2/update" '{"count":1000}')
  r3=$(ctl POST "/accounts/$2/create" '{"count":2}')
  case $r1$r2$r3 in *'"changed":["'*'"changed":["'*'"created":["'*) ;; *) bad "$1 update/create" "$r1 $r3" ;; esac
done
sleep 1
for a in "${ACCOUNTS[@]}"; do run_marketplace $a updated; done
check "updated and new orders carry a last change of now" \
  test "$(J summary "$tmp/walmart.updated/sim.json" | awk -v t="$t_update" '$2 < t' | wc -l)" = 0

# ---------------------------------------------------------------- refusals
expect() { # expect NAME CODE [BODY-SUBSTRING]
  if [ "$code" = "$2" ] && { [ -z "${3:-}" ] || grep -qF -- "$3" "$tmp/r"; }; then ok "$1"; else bad "$1" "HTTP $code $(head -c 200 "$tmp/r")"; fi
}
tok=$(amazon_token)
amazon_h "$tok"
req "$tmp/r" GET "$SIM/amazon/orders/v0/orders?MarketplaceIds=$AZ_REGION&LastUpdatedAfter=$since" -H 'Accept: application/json' -H 'x-amz-access-token: nope'
expect "amazon refuses an unknown token with 403 Unauthorized" 403 '"code":"Unauthorized"'
req "$tmp/r" GET "$SIM/amazon/orders/v0/orders?LastUpdatedAfter=$since" "${H[@]}"
expect "amazon refuses a list without MarketplaceIds (400 InvalidInput)" 400 InvalidInput
req "$tmp/r" GET "$SIM/amazon/orders/v0/orders?MarketplaceIds=$AZ_REGION" "${H[@]}"
expect "amazon refuses a list without LastUpdatedAfter or NextToken" 400
req "$tmp/r" GET "$SIM/amazon/orders/v0/orders?MarketplaceIds=$AZ_REGION&LastUpdatedAfter=${since%Z}%2B01:00" "${H[@]}"
expect "amazon refuses a time with an offset other than Z" 400
req "$tmp/r" GET "$SIM/amazon/orders/v0/orders?MarketplaceIds=$AZ_REGION&LastUpdatedAfter=$since&MaxResultsPerPage=101" "${H[@]}"
expect "amazon refuses MaxResultsPerPage above 100" 400
req "$tmp/r" GET "$SIM/amazon/orders/v0/orders?MarketplaceIds=A1PA6795UKMFR9&LastUpdatedAfter=$since" "${H[@]}"
expect "amazon refuses a marketplace id that is not the account's" 400
# Each Amazon account lists with its own Orders API version only.
req "$tmp/r" GET "$SIM/amazon/orders/2026-01-01/orders?$AZ26_Q" "${H[@]}"
expect "amazon refuses searchOrders for an account on Orders API v0 (400)" 400 'Orders API v0'
amazon_h "$(amazon_token Atzr%7Csim-refresh-26)"
req "$tmp/r" GET "$SIM/amazon/orders/v0/orders?MarketplaceIds=$AZ_REGION&LastUpdatedAfter=$since" "${H[@]}"
expect "amazon refuses getOrders for an account on Orders API 2026-01-01 (400)" 400 '2026-01-01/orders'
req "$tmp/r" GET "$SIM/amazon/orders/v0/orders/$(J get <(ctl GET "/accounts/$AZ26/orders") 0.external_order_id)/orderItems" "${H[@]}"
expect "amazon refuses getOrderItems for an account on Orders API 2026-01-01 (400)" 400 '2026-01-01/orders'
Q26="$SIM/amazon/orders/2026-01-01/orders"
req "$tmp/r" GET "$Q26?marketplaceIds=$AZ_REGION&includedData=FULFILLMENT" "${H[@]}"
expect "searchOrders refuses a request without lastUpdatedAfter or createdAfter" 400 lastUpdatedAfter
req "$tmp/r" GET "$Q26?lastUpdatedAfter=$since&includedData=FULFILLMENT" "${H[@]}"
expect "searchOrders refuses a request without marketplaceIds" 400 marketplaceIds
req "$tmp/r" GET "$Q26?lastUpdatedAfter=$since&marketplaceIds=A1PA6795UKMFR9" "${H[@]}"
expect "searchOrders refuses a marketplace id that is not the account's" 400 A1PA6795UKMFR9
req "$tmp/r" GET "$Q26?lastUpdatedAfter=$since&marketplaceIds=$AZ_REGION&includedData=BUYER,ITEMS" "${H[@]}"
expect "searchOrders refuses an includedData value the model does not list" 400 ITEMS
for n in 0 101; do
  req "$tmp/r" GET "$Q26?lastUpdatedAfter=$since&marketplaceIds=$AZ_REGION&maxResultsPerPage=$n" "${H[@]}"
  expect "searchOrders refuses maxResultsPerPage=$n (1..100)" 400 maxResultsPerPage
done
req "$tmp/r" GET "$Q26?$AZ26_Q&paginationToken=bm90LWEtdG9rZW4" "${H[@]}"
expect "searchOrders refuses a paginationToken it did not issue" 400 paginationToken
next=$(J get "$tmp/amazon_v2026.initial/page1.json" pagination.nextToken)
req "$tmp/r" GET "$Q26?${AZ26_Q/lastUpdatedAfter=$since/lastUpdatedAfter=$start}" -G --data-urlencode "paginationToken=$next" "${H[@]}"
expect "searchOrders refuses a paginationToken sent with other filter values" 400 'other filter values'
req "$tmp/r" GET "$Q26?${AZ26_Q/maxResultsPerPage=3/maxResultsPerPage=2}" -G --data-urlencode "paginationToken=$next" "${H[@]}"
expect "searchOrders takes another maxResultsPerPage with a paginationToken" 200
amazon_h "$(amazon_token)"
amazon_token wrong >/dev/null; cp "$tmp/tok" "$tmp/r"
expect "amazon token endpoint refuses a bad refresh token (400 invalid_grant)" 400 invalid_grant
amazon_token Atzr%7Csim-refresh wrong >/dev/null; cp "$tmp/tok" "$tmp/r"
expect "amazon token endpoint refuses bad client credentials (401 invalid_client)" 401 invalid_client

tok=$(ebay_token)
ebay_h "$tok"
req "$tmp/r" GET "$SIM/ebay/sell/fulfillment/v1/order?filter=lastmodifieddate:%5B$since..%5D&limit=3" "${H[@]}"
expect "ebay refuses a filter time without milliseconds" 400 errorId
req "$tmp/r" GET "$SIM/ebay/sell/fulfillment/v1/order?filter=lastmodifieddate:$since_ms&limit=3" "${H[@]}"
expect "ebay refuses bad filter syntax" 400
req "$tmp/r" GET "$SIM/ebay/sell/fulfillment/v1/order?filter=lastmodifieddate:%5B$since_ms..%5D&limit=201" "${H[@]}"
expect "ebay refuses limit above 200" 400
req "$tmp/r" GET "$SIM/ebay/sell/fulfillment/v1/order?limit=3" -H 'Accept: application/json' -H 'Authorization: Bearer nope'
expect "ebay refuses an unknown token with 401" 401 '"errorId":1001'
ebay_token wrong >/dev/null; cp "$tmp/tok" "$tmp/r"
expect "ebay token endpoint refuses bad Basic credentials (401 invalid_client)" 401 invalid_client
ebay_token eb-secret https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory >/dev/null; cp "$tmp/tok" "$tmp/r"
expect "ebay token endpoint refuses a scope without sell.fulfillment" 400 invalid_scope

BOL_TOK=$(bol_token)
bol_h "$BOL_TOK"
req "$tmp/r" GET "$SIM/bol/retailer/orders?page=1&status=ALL&fulfilment-method=ALL&latest-change-date=$since_day" -H 'Accept: application/json' -H "Authorization: Bearer $BOL_TOK"
expect "bol refuses Accept other than application/vnd.retailer.v10+json (406)" 406
req "$tmp/r" GET "$SIM/bol/retailer/orders?page=1&status=ALL" -H 'Accept: application/vnd.retailer.v10+json' -H 'Authorization: Bearer nope'
expect "bol refuses an unknown token with 401" 401
req "$tmp/r" GET "$SIM/bol/retailer/orders?page=1&status=ALL&fulfilment-method=ALL&latest-change-date=$(date -u -d '-200 days' +%F)" "${H[@]}"
expect "bol refuses a latest-change-date more than 3 months back" 400 violations
req "$tmp/r" GET "$SIM/bol/retailer/orders?page=1&status=ALL&fulfilment-method=ALL&latest-change-date=$since_day" "${H[@]}"
check "bol answers with its media type and X-RateLimit headers" \
  test "$(hdr "$tmp/r" Content-Type)" = "application/vnd.retailer.v10+json;charset=UTF-8" -a -n "$(hdr "$tmp/r" X-RateLimit-Remaining)"
bol_token wrong >/dev/null; cp "$tmp/tok" "$tmp/r"
expect "bol token endpoint refuses bad Basic credentials (401 invalid_client)" 401 invalid_client

KS=$(printf 'GET\n%s\n\n%s' "$SIM/kaufland/v2/orders?storefront=de&limit=5&offset=0" "$(date +%s)" | openssl dgst -sha256 -hmac "$KL_SECRET" | sed 's/^.*= //')
req "$tmp/r" GET "$SIM/kaufland/v2/orders?storefront=de&limit=4&offset=0" -H 'Accept: application/json' -H "Shop-Client-Key: $KL_KEY" -H "Shop-Timestamp: $(date +%s)" -H "Shop-Signature: $KS"
expect "kaufland refuses a signature over another URL (401)" 401
KTS=$(( $(date +%s) - 400 )) kreq "$tmp/r" "$SIM/kaufland/v2/orders?storefront=de&limit=4&offset=0"
expect "kaufland refuses a timestamp more than 300 s off (401)" 401
kreq "$tmp/r" "$SIM/kaufland/v2/orders?storefront=de&limit=4&offset=0" -A ''
expect "kaufland refuses a request without User-Agent" 400
kreq "$tmp/r" "$SIM/kaufland/v2/orders?storefront=cz&limit=4&offset=0"
expect "kaufland refuses a storefront that is not the account's" 400
kreq "$tmp/r" "$SIM/kaufland/v2/orders?storefront=de&limit=101&offset=0"
expect "kaufland refuses limit above 100" 400

shopify_h "$SH_TOKEN"
req "$tmp/r" GET "$SIM/shopify/admin/api/2024-10/orders.json?status=any&updated_at_min=$since&limit=3" "${H[@]}"
next=$(hdr "$tmp/r" Link | sed -n 's/.*<\([^>]*\)>; rel="next".*/\1/p')
req "$tmp/r" GET "$next&status=any" "${H[@]}"
expect "shopify refuses a filter parameter next to page_info" 400 page_info
req "$tmp/r" GET "$SIM/shopify/admin/api/2024-10/orders.json?status=any&limit=251" "${H[@]}"
expect "shopify refuses limit above 250" 400
req "$tmp/r" GET "$SIM/shopify/admin/api/2024-10/orders.json?status=any&limit=3" -H 'Accept: application/json' -H 'X-Shopify-Access-Token: nope'
expect "shopify refuses an unknown access token with 401" 401 '[API] Invalid API key'
req "$tmp/r" GET "$SIM/shopify/admin/api/2024-10/orders.json?updated_at_min=$since&limit=250" "${H[@]}"
open_n=$(J ids shopify "$tmp/r" | wc -l)
check "shopify without status=any lists open orders only ($open_n of $(wc -l < "$tmp/shopify.updated/ids"))" test "$open_n" -lt "$(wc -l < "$tmp/shopify.updated/ids")"
check "shopify reports X-Shopify-Shop-Api-Call-Limit below 40/40" test -n "$(hdr "$tmp/r" X-Shopify-Shop-Api-Call-Limit | grep -E '^[0-9]+/40$' | grep -v '^40/')"

tok=$(zalando_token)
zalando_h "$tok"
req "$tmp/r" GET "$SIM/zalando/merchants/$ZM/orders?include=order_items,order_lines&last_updated_after=$since" -H 'Accept: application/json' -H "Authorization: Bearer $tok"
expect "zalando refuses Accept other than application/vnd.api+json (406)" 406
req "$tmp/r" GET "$SIM/zalando/merchants/00000000-0000-0000-0000-000000000000/orders?include=order_items,order_lines" "${H[@]}"
expect "zalando refuses another merchant_id in the path (403)" 403
req "$tmp/r" GET "$SIM/zalando/merchants/$ZM/orders?include=order_items,order_lines&page%5Bsize%5D=101" "${H[@]}"
expect "zalando refuses page[size] above 100" 400
req "$tmp/r" GET "$SIM/zalando/merchants/$ZM/orders?last_updated_after=${since%Z}+01:00" "${H[@]}"
expect "zalando refuses an unencoded + in a time" 400
req "$tmp/r" GET "$SIM/zalando/merchants/$ZM/orders?include=order_items,order_lines" -H 'Accept: application/vnd.api+json' -H 'Authorization: Bearer nope'
expect "zalando refuses an unknown token with 401" 401

tok=$(walmart_token)
req "$tmp/r" GET "$SIM/walmart/v3/orders?limit=3" -H 'Accept: application/json' -H "WM_QOS.CORRELATION_ID: $(uuid)" -H "WM_SEC.ACCESS_TOKEN: $tok"
expect "walmart refuses a request without WM_SVC.NAME" 400 WM_SVC.NAME
req "$tmp/r" GET "$SIM/walmart/v3/orders?limit=3" -H 'Accept: application/json' -H 'WM_SVC.NAME: Walmart Marketplace' -H "WM_SEC.ACCESS_TOKEN: $tok"
expect "walmart refuses a request without WM_QOS.CORRELATION_ID" 400 WM_QOS.CORRELATION_ID
walmart_h nope
req "$tmp/r" GET "$SIM/walmart/v3/orders?limit=3" "${H[@]}"
expect "walmart refuses an unknown token with 401" 401 UNAUTHORIZED
walmart_h "$tok"
req "$tmp/r" GET "$SIM/walmart/v3/orders?limit=201" "${H[@]}"
expect "walmart refuses limit above 200" 400
req "$tmp/r" DELETE "$SIM/walmart/v3/orders" "${H[@]}"
expect "a wrong method is refused with 404" 404
req "$tmp/r" GET "$SIM/walmart/v3/nothing" "${H[@]}"
expect "an unknown path is refused with 404" 404
req "$tmp/r" GET "$SIM/walmart/v3/ca/orders?lastModifiedStartDate=$since" "${H[@]}"
expect "walmart refuses a US account's list at /v3/ca/orders" 400 "not registered in market 'ca'"
walmart_ca_h "$tok"
req "$tmp/r" GET "$SIM/walmart/v3/orders?lastModifiedStartDate=$since" "${H[@]}"
expect "walmart refuses WM_MARKET: ca for a US account" 400 WM_MARKET
tok=$(walmart_ca_token)
walmart_ca_h "$tok"
req "$tmp/r" GET "$SIM/walmart/v3/orders?lastModifiedStartDate=$since" "${H[@]}"
expect "walmart refuses a Canadian account's list at /v3/orders" 400 "not registered in market 'us'"
walmart_h "$tok"
req "$tmp/r" GET "$SIM/walmart/v3/ca/orders?lastModifiedStartDate=$since" "${H[@]}"
expect "walmart refuses a Canadian account's list without WM_MARKET: ca" 400 WM_MARKET
walmart_h
req "$tmp/r" POST "$SIM/walmart/v3/token" -u "wm-ca-client:wm-ca-secret" "${H[@]}" \
  -H 'Content-Type: application/x-www-form-urlencoded' -d 'grant_type=client_credentials'
expect "walmart refuses a Canadian account's token request without WM_MARKET: ca" 400 WM_MARKET

# ---------------------------------------------------------------- faults
fault() { ctl POST /faults "$1" > "$tmp/fault.json"; }
list_url() { # list_url M: a valid first-page request of M into the array L
  case $1 in
    amazon) amazon_h "$(amazon_token)"; L=("$SIM/amazon/orders/v0/orders?MarketplaceIds=$AZ_REGION&LastUpdatedAfter=$since&MaxResultsPerPage=3" "${H[@]}") ;;
    ebay) ebay_h "$(ebay_token)"; L=("$SIM/ebay/sell/fulfillment/v1/order?filter=lastmodifieddate:%5B$since_ms..%5D&limit=3&offset=0" "${H[@]}") ;;
    bol) bol_h "$(bol_token)"; L=("$SIM/bol/retailer/orders?page=1&status=ALL&fulfilment-method=ALL&latest-change-date=$since_day" "${H[@]}") ;;
    shopify) shopify_h "$SH_TOKEN"; L=("$SIM/shopify/admin/api/2024-10/orders.json?status=any&updated_at_min=$since&limit=3" "${H[@]}") ;;
    zalando) zalando_h "$(zalando_token)"; L=("$SIM/zalando/merchants/$ZM/orders?include=order_items,order_lines&last_updated_after=$since&page%5Bnumber%5D=0&page%5Bsize%5D=3" "${H[@]}") ;;
    walmart) local t; t=$(walmart_token); walmart_h "$t"; L=("$SIM/walmart/v3/orders?lastModifiedStartDate=$since&limit=3" "${H[@]}") ;;
  esac
}
get_list() { # get_list M: one first-page request (kaufland signed afresh)
  if [ "$1" = kaufland ]; then kreq "$tmp/r" "$SIM/kaufland/v2/orders?storefront=de&limit=3&offset=0"; else req "$tmp/r" GET "${L[@]}"; fi
}
acct_of() { case $1 in amazon) echo "$AZ" ;; ebay) echo "$EB" ;; bol) echo "$BO" ;; kaufland) echo "$KL" ;; shopify) echo "$SH" ;; zalando) echo "$ZA" ;; walmart) echo "$WM" ;; esac; }

for m in amazon ebay bol kaufland shopify zalando walmart; do
  [ $m = kaufland ] || list_url $m
  fault '{"marketplace":"'$m'","account":"'"$(acct_of $m)"'","kind":"429","retry_after":3}'
  get_list $m
  ra=$(hdr "$tmp/r" Retry-After)
  case $m in
    bol) want="$ra $(hdr "$tmp/r" X-RateLimit-Remaining)"; [ "$want" = "3 0" ] ;;
    shopify) [ "$ra $(hdr "$tmp/r" X-Shopify-Shop-Api-Call-Limit)" = "3.0 40/40" ] ;;
    zalando) [ "$ra" = 3 ] ;;
    walmart) nr=$(hdr "$tmp/r" X-Next-Replenishment-Time); [ -z "$ra" ] && [ "${nr:-0}" -gt "$(( $(date +%s) * 1000 ))" ] ;;
    *) [ -z "$ra" ] ;;
  esac
  sig=$?
  if is_code 429 && [ $sig = 0 ]; then ok "$m 429 fault carries the marketplace's throttling signals"; else bad "$m 429 fault" "HTTP $code Retry-After '$ra'"; fi
  get_list $m
  expect "$m answers normally once the fault is used up" 200
done

list_url ebay
fault '{"marketplace":"ebay","kind":"500"}'
get_list ebay; expect "500 fault answers 500 in the marketplace's error shape" 500 errorId
list_url walmart
fault '{"marketplace":"walmart","kind":"503","count":2}'
get_list walmart; c1=$code; get_list walmart; c2=$code; get_list walmart; c3=$code
check "503 fault with count 2 applies to exactly two requests" test "$c1 $c2 $c3" = "503 503 200"

amazon_h "$(amazon_token)"
fault '{"marketplace":"amazon","account":"'"$AZ"'","kind":"500","path":"orderItems"}'
req "$tmp/r" GET "$SIM/amazon/orders/v0/orders?MarketplaceIds=$AZ_REGION&LastUpdatedAfter=$since&MaxResultsPerPage=3" "${H[@]}"; c1=$code
first=$(J get "$tmp/r" payload.Orders.0.AmazonOrderId)
req "$tmp/r" GET "$SIM/amazon/orders/v0/orders/$first/orderItems" "${H[@]}"; c2=$code
check "a fault with a path applies only to requests whose path contains it" test "$c1 $c2" = "200 500"

list_url zalando
fault '{"marketplace":"zalando","kind":"timeout"}'
t0=$(date +%s%N)
curl -sS -g --max-time 1 -o /dev/null -A "$UA" "${L[@]}" 2>/dev/null; rc=$?
check "timeout fault never answers: the client gives up (curl exit 28)" test "$rc" = 28
sleep 0.3
check "a request given up on no longer counts as in flight" test "$(J get <(ctl GET /stats) in_flight)" = 0

fault '{"marketplace":"kaufland","kind":"slow","delay_ms":800}'
t0=$(date +%s%N); get_list kaufland; t1=$(date +%s%N)
check "slow fault answers after delay_ms ($(( (t1 - t0) / 1000000 )) ms, HTTP $code)" test $(( (t1 - t0) / 1000000 )) -ge 800 -a "$code" = 200

list_url ebay
fault '{"marketplace":"ebay","kind":"truncate"}'
curl -sS -g --max-time 5 -o "$tmp/r" -A "$UA" "${L[@]}" 2>/dev/null; rc=$?
check "truncate fault: Content-Length beyond the body, then close (curl exit 18)" test "$rc" = 18

list_url shopify
fault '{"marketplace":"shopify","kind":"malformed"}'
get_list shopify
if is_code 200 && [ -s "$tmp/r" ] && ! J is-json "$tmp/r"; then ok "malformed fault answers 200 with a body that is not JSON"; else bad "malformed fault" "HTTP $code"; fi

tok=$(bol_token)
bol_h "$tok"
req "$tmp/r" GET "$SIM/bol/retailer/orders/$(head -1 "$tmp/bol.updated/ids")" "${H[@]}"; c1=$code
fault '{"marketplace":"bol","account":"'"$BO"'","kind":"expire_token"}'
req "$tmp/r" GET "$SIM/bol/retailer/orders/$(head -1 "$tmp/bol.updated/ids")" "${H[@]}"; c2=$code
bol_h "$(bol_token)"
req "$tmp/r" GET "$SIM/bol/retailer/orders/$(head -1 "$tmp/bol.updated/ids")" "${H[@]}"; c3=$code
check "expire_token invalidates the current token at once; a new one works ($c1 $c2 $c3)" test "$c1 $c2 $c3" = "200 401 200"
amazon_h "$(amazon_token)"
fault '{"marketplace":"amazon","kind":"expire_token"}'
req "$tmp/r" GET "$SIM/amazon/orders/v0/orders?MarketplaceIds=$AZ_REGION&LastUpdatedAfter=$since" "${H[@]}"
expect "amazon answers an expired token with 403 'has expired'" 403 'The access token you provided has expired.'

# change_between_pages: after the next list page, two orders of that page change.
ctl GET "/accounts/$WM/orders" > "$tmp/before.json"
list_url walmart
fault '{"marketplace":"walmart","account":"'"$WM"'","kind":"change_between_pages","count":2}'
get_list walmart
J ids walmart "$tmp/r" | sort > "$tmp/page1.ids"
ctl GET "/accounts/$WM/orders" > "$tmp/after.json"
J summary "$tmp/before.json" | sort > "$tmp/before"
J summary "$tmp/after.json" | sort > "$tmp/after"
comm -13 "$tmp/before" "$tmp/after" | cut -d' ' -f1 | sort > "$tmp/changed"
check "change_between_pages changes count orders of the page just served ($(tr '\n' ' ' < "$tmp/changed"))" \
  test "$(wc -l < "$tmp/changed")" = 2 -a -z "$(comm -23 "$tmp/changed" "$tmp/page1.ids")"
get_list walmart
check "change_between_pages applies once" cmp -s <(J summary <(ctl GET "/accounts/$WM/orders") | sort) "$tmp/after"

# Per-account latency and token lifetime.
SLOW=$(mkacct '{"marketplace":"shopify","credentials":{"shop_domain":"slow.myshopify.com","access_token":"shpat_slow"},"orders":2,"latency_ms":400,"lean":true}')
t0=$(date +%s%N)
req "$tmp/r" GET "$SIM/shopify/admin/api/2024-10/orders.json?status=any&limit=3" -H 'Accept: application/json' -H 'X-Shopify-Access-Token: shpat_slow'
t1=$(date +%s%N)
shopify_h "$SH_TOKEN"; req "$tmp/r" GET "$SIM/shopify/admin/api/2024-10/orders.json?status=any&limit=3" "${H[@]}"
t2=$(date +%s%N)
check "latency_ms delays only that account's answers ($(( (t1 - t0) / 1000000 )) ms vs $(( (t2 - t1) / 1000000 )) ms)" \
  test $(( (t1 - t0) / 1000000 )) -ge 400 -a $(( (t2 - t1) / 1000000 )) -lt 300
SHORT=$(mkacct '{"marketplace":"zalando","credentials":{"client_id":"short","client_secret":"s","merchant_id":"m-short"},"orders":3,"token_lifetime":1,"lean":true}')
req "$tmp/tok" POST "$SIM/zalando/auth/token" -u short:s -H 'Accept: application/json' -H 'Content-Type: application/x-www-form-urlencoded' -d grant_type=client_credentials
check "token_lifetime sets expires_in" test "$(J get "$tmp/tok" expires_in)" = 1
stok=$(J get "$tmp/tok" access_token)
sleep 1.2
req "$tmp/r" GET "$SIM/zalando/merchants/m-short/orders?include=order_items,order_lines" -H 'Accept: application/vnd.api+json' -H "Authorization: Bearer $stok"
expect "a token past its lifetime is refused with 401" 401
check "lean accounts have one line item per order" test "$(J summary <(ctl GET "/accounts/$SHORT/orders") | awk '$3 != 1' | wc -l)" = 0

# Concurrency is measured.
list_url ebay
fault '{"marketplace":"ebay","kind":"slow","delay_ms":600,"count":6}'
pids=()
for _ in 1 2 3 4 5 6; do curl -s -g --max-time 5 -o /dev/null -A "$UA" "${L[@]}" & pids+=($!); done
wait "${pids[@]}"

# ---------------------------------------------------------------- stats
ctl GET /stats > "$tmp/stats.json"
check "stats count requests per marketplace and endpoint" \
  test "$(J get "$tmp/stats.json" by_marketplace.bol)" -gt 100 -a -n "$(J get "$tmp/stats.json" 'by_endpoint.bol GET /retailer/orders/{orderId}')"
check "stats count token requests per account" test "$(J get "$tmp/stats.json" "token_requests.$BO")" -ge 2
check "stats keep refusals with their reasons" grep -q 'Shop-Timestamp outside the 300 s window' "$tmp/stats.json"
check "stats record max_in_flight ($(J get "$tmp/stats.json" max_in_flight))" test "$(J get "$tmp/stats.json" max_in_flight)" -ge 6
ctl POST /stats/reset > /dev/null
check "stats reset" test "$(J get <(ctl GET /stats) requests)" = 0
check "DELETE /_sim/accounts removes all accounts" test "$(J get <(ctl DELETE /accounts) removed)" = 11 -a "$(ctl GET /accounts)" = '[]'

# ---------------------------------------------------------------- webhook signing keys
# The key endpoints give keys that verify what /_sim/webhooks/sign signs.
KE=$(mkacct '{"marketplace":"ebay","credentials":{"client_id":"k-e","client_secret":"k-es","refresh_token":"k-er"},"orders":1}')
KB=$(mkacct '{"marketplace":"bol","credentials":{"client_id":"k-b","client_secret":"k-bs"},"orders":1}')
# verifies ALG PEM_OR_BASE64_DER BODY SIGNATURE_BASE64
verifies() {
  node -e 'const c = require("node:crypto"); const [alg, key, body, sig] = process.argv.slice(1);
           const k = key.startsWith("-----") ? c.createPublicKey(key.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "\n$&\n"))
                                            : c.createPublicKey({key: Buffer.from(key, "base64"), format: "der", type: "spki"});
           process.exit(c.verify(alg, Buffer.from(body), k, Buffer.from(sig, "base64")) ? 0 : 1)' "$@"
}
ctl POST /webhooks/sign '{"marketplace":"ebay","body":"{\"a\":1}"}' > "$tmp/esign.json"
kid=$(J get "$tmp/esign.json" key_id)
J get "$tmp/esign.json" headers.X-EBAY-SIGNATURE | base64 -d > "$tmp/esig.json"
check "sign: eBay's header is base64 of {alg, kid, signature, digest}" \
  test "$(J get "$tmp/esig.json" alg)/$(J get "$tmp/esig.json" kid)/$(J get "$tmp/esig.json" digest)" = "ecdsa/$kid/SHA1"
req "$tmp/r" POST "$SIM/ebay/identity/v1/oauth2/token" -u k-e:k-es --data 'grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope'
apptok=$(J get "$tmp/r" access_token)
check "ebay issues an application token for client credentials" test "$code" = 200 -a -n "$apptok"
req "$tmp/r" GET "$SIM/ebay/commerce/notification/v1/public_key/$kid" -H 'Accept: application/json' -H "Authorization: Bearer $apptok"
check "ebay getPublicKey answers ECDSA/SHA1 and a one-line PEM" \
  test "$code/$(J get "$tmp/r" algorithm)/$(J get "$tmp/r" digest)/$(J get "$tmp/r" key | wc -l)" = "200/ECDSA/SHA1/1"
check "ebay: the key verifies the signed body" verifies sha1 "$(J get "$tmp/r" key)" '{"a":1}' "$(J get "$tmp/esig.json" signature)"
req "$tmp/r" GET "$SIM/ebay/commerce/notification/v1/public_key/$(uuid)" -H 'Accept: application/json' -H "Authorization: Bearer $apptok"
check "ebay getPublicKey: an unknown key id is 404" is_code 404
req "$tmp/r" POST "$SIM/ebay/identity/v1/oauth2/token" -u k-e:k-es --data 'grant_type=refresh_token&refresh_token=k-er&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.fulfillment'
usertok=$(J get "$tmp/r" access_token)
req "$tmp/r" GET "$SIM/ebay/commerce/notification/v1/public_key/$kid" -H 'Accept: application/json' -H "Authorization: Bearer $usertok"
check "ebay getPublicKey refuses a seller's token (403)" is_code 403
req "$tmp/r" GET "$SIM/ebay/sell/fulfillment/v1/order?limit=1" -H 'Accept: application/json' -H "Authorization: Bearer $apptok"
check "ebay getOrders refuses an application token (403)" is_code 403
ctl POST /webhooks/sign '{"marketplace":"bol","body":"{\"b\":2}"}' > "$tmp/bsign.json"
bsig=$(J get "$tmp/bsign.json" headers.Signature)
check "sign: bol's header is keyId, algorithm rsa-sha256, signature" \
  grep -qE '^keyId=1, algorithm="rsa-sha256", signature=[A-Za-z0-9+/=]+$' <<<"$bsig"
req "$tmp/r" POST "$SIM/bol/token?grant_type=client_credentials" -u k-b:k-bs -H 'Accept: application/json'
boltok=$(J get "$tmp/r" access_token)
req "$tmp/r" GET "$SIM/bol/retailer/subscriptions/signature-keys" -H 'Accept: application/vnd.retailer.v10+json' -H "Authorization: Bearer $boltok"
check "bol signature-keys lists key 1, RSA" test "$code/$(J get "$tmp/r" signatureKeys.0.id)/$(J get "$tmp/r" signatureKeys.0.type)" = "200/1/RSA"
check "bol: the key verifies the signed body" verifies sha256 "$(J get "$tmp/r" signatureKeys.0.publicKey)" '{"b":2}' "${bsig##*signature=}"
req "$tmp/r" GET "$SIM/bol/retailer/subscriptions/signature-keys" -H 'Accept: application/vnd.retailer.v10+json'
check "bol signature-keys wants a token (401)" is_code 401
check "sign: a key_id names another key" \
  test "$(J get <(ctl POST /webhooks/sign '{"marketplace":"bol","body":"x","key_id":"9"}') key_id)" = 9
check "sign: other marketplaces are refused (400)" \
  grep -q 'ebay or bol' <(ctl POST /webhooks/sign '{"marketplace":"shopify","body":"x"}')
ctl GET /stats > "$tmp/stats.json"
check "stats count key requests per marketplace" \
  test "$(J get "$tmp/stats.json" key_requests.ebay)/$(J get "$tmp/stats.json" key_requests.bol)" = "3/2"

# ---------------------------------------------------------------- stop
kill -TERM "$pid"
for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"; rc=$?
pid=
check "simulator exits cleanly on SIGTERM" test "$rc" = 0
check "its port file is removed on exit" test ! -e "$tmp/port"
finish
