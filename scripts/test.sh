#!/bin/bash
# The whole test suite: installs what it needs, builds nexus with warnings
# as failures, installs it, runs the pg_regress suite and the shell-level
# tests, and ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. scripts/lib.sh
pass=0
fail=0
failed=()
record() {
  if [ "$2" = ok ]; then
    pass=$((pass + 1)); echo "ok $1"
  else
    fail=$((fail + 1)); failed+=("$1"); echo "FAILED $1"
  fi
}

bash scripts/deps.sh || { echo "deps: failed"; echo "0 passed, 1 failed"; exit 1; }

# Build from clean: -Wall -Wextra, and any warning fails the build test.
make -s clean >/dev/null 2>&1
if make PG_CONFIG="$PG_CONFIG" > build.log 2>&1 && ! grep -q 'warning:' build.log; then
  record build ok
else
  grep -E 'warning:|error:' build.log | head -20
  record build fail
fi
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null 2>&1 || { record install fail; echo "$pass passed, $fail failed"; exit 1; }

# adapters/keys.c is generated from the adapters' sources: stale, it could
# leave out a key an adapter reads.
keys_tmp=$(mktemp)
if bash scripts/adapter_keys.sh "$keys_tmp" && cmp -s "$keys_tmp" adapters/keys.c; then
  record adapter-keys-current ok
else
  diff "$keys_tmp" adapters/keys.c | head -10
  echo "adapters/keys.c is out of date: run scripts/adapter_keys.sh"
  record adapter-keys-current fail
fi
rm -f "$keys_tmp"

echo "== adapter unit tests (AddressSanitizer, UBSan, leaks)"
make -s -C test/unit clean >/dev/null 2>&1
make -s -C test/unit run > unit.log 2>&1
grep -E '^    ' unit.log | head -40
if grep -qE '^[0-9]+ passed, [0-9]+ failed$' unit.log; then
  while read -r status name _; do
    record "unit/$name" "$([ "$status" = ok ] && echo ok || echo fail)"
  done < <(grep -E '^(ok|FAILED) ' unit.log)
  grep -q 'ERROR: \(AddressSanitizer\|LeakSanitizer\)\|runtime error:' unit.log && { grep -A20 'ERROR:\|runtime error:' unit.log | head -40; record unit/sanitizers fail; }
else
  tail -30 unit.log
  record unit/build fail
fi

echo "== fuzzing each adapter entry point (${FUZZ_SECONDS:-3} s each)"
test/fuzz/run.sh "${FUZZ_SECONDS:-3}" > fuzz.log 2>&1
while read -r status name _; do
  record "$name" "$([ "$status" = ok ] && echo ok || echo fail)"
done < <(grep -E '^(ok|FAILED) fuzz/' fuzz.log)
grep -vE '^(ok|FAILED) fuzz/' fuzz.log | head -20

echo "== pg_regress"
test/regress.sh > regress.log 2>&1
sed -n '/^===/,$p' regress.log | head -40
if [ -s results/summary ]; then
  while read -r status name; do
    record "regress/$name" "$([ "$status" = ok ] && echo ok || echo fail)"
  done < results/summary
else
  cat regress.log
  record regress fail
fi
[ -f regression.diffs ] && head -100 regression.diffs

for t in test/integration/*.sh; do
  name=integration/$(basename "$t" .sh)
  echo "== $name"
  if timeout 600 bash "$t" > "$t.log" 2>&1; then
    record "$name" ok
  else
    tail -30 "$t.log"
    record "$name" fail
  fi
done

[ $fail -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
