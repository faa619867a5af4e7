#!/bin/bash
# Build one libFuzzer target per adapter entry point (normalize, parse_page,
# webhook, sync responses, webhook key responses) and run each for a bounded
# time on a seed corpus made from the shared fixtures and the repository's
# own (test/fixtures/<marketplace>_*/, e.g. Amazon's Orders v2026-01-01).
# Any crash, leak or sanitizer report fails the run and leaves the
# reproducer in test/fuzz/build/<target>/.
#   usage: test/fuzz/run.sh [seconds per target, default 3] [marketplace...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fixtures=${NEXUS_FIXTURES:-$(cd "$root/../shared/fixtures" 2>/dev/null && pwd)}
seconds=${1:-3}
shift || true
markets=("$@")
[ ${#markets[@]} -gt 0 ] || markets=(amazon ebay bol kaufland shopify zalando walmart)
build="$here/build"
mkdir -p "$build"
common="canonical.c country.c crypto.c json_parse.c json_util.c keys.c keyset.c money.c request.c timeutil.c"
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I$root/adapters $(pkg-config --cflags jansson libcrypto)"
libs="$(pkg-config --libs jansson libcrypto)"
fail=0

# The repository's own fixture files of marketplace $1 matching $2, each
# copied into corpus $3 under its folder's name (the shared fixtures use
# the same file names).
own_fixtures() {
  local f
  for f in "$root/test/fixtures/$1"_*/$2; do
    [ -f "$f" ] && cp "$f" "$3/$(basename "$(dirname "$f")")-$(basename "$f")"
  done
  return 0
}

# A headers file ("Name: value" lines) as one line of JSON, lower-case names.
headers_json() {
  awk 'BEGIN { printf "{"; n = 0 }
       /^HTTP\// { next }
       { i = index($0, ":"); if (i == 0) next
         k = tolower(substr($0, 1, i - 1)); v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/\r$/, "", v)
         gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v)
         printf "%s\"%s\": \"%s\"", (n++ ? ", " : ""), k, v }
       END { printf "}\n" }' "$1"
}

for m in "${markets[@]}"; do
  [ -f "$root/adapters/$m.c" ] || continue
  for entry in 1 2 3 4 5; do
    case $entry in 1) kind=normalize ;; 2) kind=page ;; 3) kind=webhook ;; 4) kind=sync ;; 5) kind=keys ;; esac
    name=$m-$kind
    dir="$build/$name"
    mkdir -p "$dir/corpus"
    case $entry in
      1) find "$fixtures/$m" -name '*.json' -exec cp {} "$dir/corpus/" \;
         own_fixtures "$m" '*.json' "$dir/corpus" ;;
      2) cp "$fixtures/$m"/orders_page*.json "$dir/corpus/" 2>/dev/null
         own_fixtures "$m" 'orders_page*.json' "$dir/corpus" ;;
      3) ls "$fixtures/$m"/webhook_*.headers >/dev/null 2>&1 || continue
         for h in "$fixtures/$m"/webhook_*.headers; do
           { headers_json "$h"; cat "${h%.headers}.json"; } > "$dir/corpus/$(basename "${h%.headers}")"
         done ;;
      4) for f in "$fixtures/$m"/orders_page*.json "$fixtures/$m"/order_details/*.json "$fixtures/$m"/order_items/*.json; do
           [ -f "$f" ] || continue
           h=${f%.json}.headers
           { if [ -f "$h" ]; then headers_json "$h"; else echo '{}'; fi; cat "$f"; } > "$dir/corpus/$(basename "$f")"
         done
         # the repository's own pages (Amazon's searchOrders, paced at its documented rate)
         for f in "$root/test/fixtures/$m"_*/orders_page*.json; do
           [ -f "$f" ] || continue
           { echo '{"x-amzn-ratelimit-limit": "0.0056"}'; cat "$f"; } > "$dir/corpus/$(basename "$(dirname "$f")")-$(basename "$f")"
         done
         for h in "$fixtures/$m"/throttled_429.headers; do
           [ -f "$h" ] && { headers_json "$h"; echo '{"access_token": "t", "expires_in": 299}'; } > "$dir/corpus/throttled"
         done ;;
      # eBay's and bol's key responses; the others fetch no keys
      5) ls "$fixtures/$m"/*key*_response.json >/dev/null 2>&1 || continue
         cp "$fixtures/$m"/*key*_response.json "$dir/corpus/" ;;
    esac
    # the adapter and its other halves (amazon_v2026.c)
    srcs=$(echo "$root/adapters/$m"*.c)
    for c in $common; do srcs="$srcs $root/adapters/$c"; done
    if ! clang $cflags -DNX_ADAPTER=nx_${m}_adapter -DNX_ENTRY=$entry \
         -o "$dir/fuzz" "$here/fuzz_adapter.c" $srcs $libs 2> "$dir/build.log"; then
      echo "FAILED fuzz/$name (build)"; cat "$dir/build.log" | head -20; fail=1; continue
    fi
    if (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 ./fuzz -max_total_time="$seconds" -rss_limit_mb=2048 \
          -timeout=10 -print_final_stats=0 corpus > run.log 2>&1); then
      echo "ok fuzz/$name $(grep -o 'stat::number_of_executed_units: [0-9]*' "$dir/run.log" | tail -1 | awk '{print $2}')$(grep -oE '#[0-9]+\s+DONE' "$dir/run.log" | tail -1 | tr -d '#' | awk '{print $1}') runs"
    else
      echo "FAILED fuzz/$name"; grep -E 'ERROR|SUMMARY|==[0-9]+==' "$dir/run.log" | head -10; fail=1
    fi
  done
done
# The fast JSON loader against jansson's own, on arbitrary bytes.
dir="$build/json-parse"
mkdir -p "$dir/corpus"
find "$fixtures" -name '*.json' -size -64k -exec cp {} "$dir/corpus/" \;
srcs=""
for c in $common; do srcs="$srcs $root/adapters/$c"; done
if clang $cflags -o "$dir/fuzz" "$here/fuzz_json.c" $srcs $libs 2> "$dir/build.log" &&
   (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 ./fuzz -max_total_time="$seconds" -rss_limit_mb=2048 \
      -timeout=10 -print_final_stats=0 corpus > run.log 2>&1); then
  echo "ok fuzz/json-parse"
else
  echo "FAILED fuzz/json-parse"; grep -E 'ERROR|SUMMARY|==[0-9]+==|differ' "$dir/run.log" "$dir/build.log" | head -10; fail=1
fi
exit $fail
