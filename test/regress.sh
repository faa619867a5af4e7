#!/bin/bash
# Run the pg_regress suite against a temporary instance, as the postgres OS
# user (initdb refuses root), from a scratch copy that user can write.
# The installed nexus (make install) is what gets tested.
#   usage: test/regress.sh [test ...]     default: the REGRESS list of the Makefile
# Leaves results/ (with a one-line-per-test results/summary) and, on
# failure, regression.diffs in the checkout.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
pg_regress=$(dirname "$("$PG_CONFIG" --pgxs)")/../test/regress/pg_regress
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  read -r -a tests <<<"$(make -s -C "$here" --no-print-directory PG_CONFIG="$PG_CONFIG" print-regress)"
fi
work=$(mktemp -d /tmp/nexus-regress.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$here/sql" "$here/expected" "$here/test" "$work/"
# The marketplace fixtures, read by the tests with psql's backticks.
fixtures=${NEXUS_FIXTURES:-$here/../shared/fixtures}
[ -d "$fixtures" ] && cp -r "$fixtures" "$work/fixtures"
cp "$here/test/headers_json.sh" "$work/" 2>/dev/null
chown -R postgres: "$work"
cd "$work" || exit 2
as_postgres "$pg_regress" --bindir="$("$PG_CONFIG" --bindir)" --inputdir=. \
  --temp-instance=tmp_check --temp-config=test/nexus.conf \
  --load-extension=pg_cron --dbname=contrib_regression \
  --port="$(free_port 26000)" "${tests[@]}" > regress.log 2>&1
rc=$?
cat regress.log
rm -rf "$here/results" "$here/regression.diffs"
mkdir -p "$here/results"
cp results/*.out "$here/results/" 2>/dev/null
[ -f regression.diffs ] && cp regression.diffs "$here/"
# One line per test, "ok NAME" or "FAILED NAME", for the suite's summary.
for t in "${tests[@]}"; do
  if grep -qE "^(ok|test) +[0-9]* *[+-]? *$t +\.\.\. ok" regress.log ||
     grep -qE "^ok +[0-9]+ +[+-] +$t +[0-9]+ ms" regress.log; then
    echo "ok $t"
  else
    echo "FAILED $t"
  fi
done > "$here/results/summary"
exit $rc
