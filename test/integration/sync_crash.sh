#!/bin/bash
# Crashes mid-run lose nothing and duplicate nothing: a sync worker killed
# with SIGKILL in the middle of a walk (the postmaster then restarts every
# backend), and an immediate shutdown of PostgreSQL in the middle of a walk
# followed by a restart.  The runs resume after their last stored page
# (their leases run out, or the stopping worker handed them back) and end
# with every order of the simulator present exactly once.
set -u
dir=$(mktemp -d /tmp/nexus-sync-crash.XXXXXX)
chmod 755 "$dir"
. "$(dirname "$0")/lib/sync.sh"
trap sync_cleanup EXIT
failures=0

sim_start main || exit 1
sync_cluster "$(free_port 27600)" "nexus.sync_workers = 1" "nexus.sync_lease = '5s'" || exit 1
declare -A C A
for m in "${MARKETS[@]}"; do
  read -r C[$m] A[$m] < <(connect "$SIM_main" "$m" 1 90 10) || exit 1
done
all_equal() {
  local m rc=0
  for m in "${MARKETS[@]}"; do compare "$SIM_main" "${C[$m]}" "${A[$m]}" || rc=1; done
  return $rc
}
# Every answer takes 150 ms, so a walk of 9+ pages is still going when we strike.
slow() {
  local m
  for m in "${MARKETS[@]}"; do
    sim "$SIM_main" POST /_sim/faults "{\"marketplace\": \"$m\", \"kind\": \"slow\", \"delay_ms\": 150, \"count\": 100000}" >/dev/null
  done
}
# Wait until some pages are stored but no run has finished.
midway() {
  for _ in $(seq 1 200); do
    [ "$(q "SELECT count(*) FILTER (WHERE pages >= 2) > 0 FROM nexus.sync_runs WHERE status = 'running'" 2>/dev/null)" = t ] && return 0
    sleep 0.05
  done
  return 1
}

# 1. kill -9 of the sync worker.
slow
q "SELECT count(*) FROM nexus.marketplace_connections c, nexus.sync_now(c.id) s" >/dev/null
check "kill -9: the runs got going" midway
wpid=$(q "SELECT pid FROM nexus.worker_status WHERE pid IS NOT NULL LIMIT 1")
stored=$(q "SELECT sum(pages) FROM nexus.sync_runs")
kill -9 "$wpid"
echo "killed worker $wpid after $stored stored pages"
sleep 2
for _ in $(seq 1 60); do q "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5; done
check "kill -9: the postmaster restarted and the runs finished" wait_idle 120
check "kill -9: every run succeeded" \
  test "$(q "SELECT count(*) FROM nexus.sync_runs WHERE status = 'succeeded'")" = 7
check "kill -9: some runs were claimed twice (resumed)" \
  test "$(q "SELECT count(*) FROM nexus.sync_runs WHERE attempts > 1")" -ge 1
check "kill -9: every order once" all_equal
check "kill -9: the server log shows the crash and the recovery" \
  grep -q 'terminated by signal 9' "$dir/pg/server.log"

# 2. Immediate shutdown mid-run, then start again.
sim "$SIM_main" DELETE /_sim/faults >/dev/null
for m in "${MARKETS[@]}"; do
  sim "$SIM_main" POST "/_sim/accounts/${A[$m]}/update" '{"count": 40}' >/dev/null
  sim "$SIM_main" POST "/_sim/accounts/${A[$m]}/create" '{"count": 20}' >/dev/null
done
slow
q "SELECT count(*) FROM nexus.marketplace_connections c, nexus.sync_now(c.id) s" >/dev/null
check "immediate restart: the runs got going" midway
as_postgres "$(pg_bindir)/pg_ctl" -D "$dir/pg" -m immediate -w stop >/dev/null
start_cluster "$dir/pg"
check "immediate restart: the runs finished after the restart" wait_idle 120
check "immediate restart: every last run succeeded" \
  test "$(q "SELECT count(*) FROM (SELECT DISTINCT ON (connection_id) status FROM nexus.sync_runs ORDER BY connection_id, id DESC) r WHERE status = 'succeeded'")" = 7
check "immediate restart: every order once, changes in" all_equal
check "no PANIC" bash -c "! grep -q PANIC '$dir/pg/server.log'"
[ $failures = 0 ] || {
  q "SELECT c.marketplace, r.status, r.attempts, r.pages, r.page_cursor, left(r.error, 200) FROM nexus.sync_runs r JOIN nexus.marketplace_connections c ON c.id = r.connection_id ORDER BY r.id" >&2
  grep -E 'ERROR|FATAL|WARNING' "$dir/pg/server.log" | tail -20 >&2
  exit 1
}
