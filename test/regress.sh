#!/bin/bash
# Run the pg_regress suite against a temporary instance, as the postgres OS
# user (initdb refuses root), from a scratch copy that user can write.
# The installed nexus (make install) is what gets tested.
#   usage: test/regress.sh [test ...]     default: the REGRESS list of the Makefile
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
bindir=$(pg_config --bindir)
pg_regress=$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  read -r -a tests <<<"$(make -s -C "$here" --no-print-directory print-regress)"
fi
work=$(mktemp -d /tmp/nexus-regress.XXXXXX)
cp -r "$here/sql" "$here/expected" "$here/test" "$work/"
chown -R postgres: "$work"
cd "$work" || exit 2
runuser -u postgres -- "$pg_regress" --bindir="$bindir" --inputdir=. \
  --temp-instance=tmp_check --temp-config=test/nexus.conf \
  --load-extension=pg_cron --dbname=contrib_regression --port="${NEXUS_TEST_PORT:-55432}" "${tests[@]}" | tee regress.log
rc=${PIPESTATUS[0]}
rm -rf "$here/results" "$here/regression.diffs"
cp -r results "$here/results" 2>/dev/null
[ -f regression.diffs ] && cp regression.diffs "$here/"
# One line per test for the suite summary: "ok NAME" / "not ok NAME".
grep -E '^(test|ok|not ok|     ) ' regress.log | sed -nE 's/^(not ok|ok|test)? *[0-9]* *[-+]? *([a-z_0-9]+) +\.\.\. (ok|FAILED|failed).*/\3 \2/p' > "$here/results/summary" 2>/dev/null
rm -rf "$work"
exit $rc
