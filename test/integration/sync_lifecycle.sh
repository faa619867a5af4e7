#!/bin/bash
# The sync workers' life: they wait (without crash-looping) while the
# extension is missing from the sync database and start working when it
# appears; SIGHUP changes their number; a fast shutdown in the middle of a
# run stops them within seconds and the run resumes after the restart;
# DROP EXTENSION and DROP DATABASE are never blocked by them.
set -u
dir=$(mktemp -d /tmp/nexus-sync-life.XXXXXX)
chmod 755 "$dir"
. "$(dirname "$0")/lib/sync.sh"
trap sync_cleanup EXIT
failures=0
port=$(free_port 27800)
PGPORT_=$port
qs() { psql_at "$dir/pg" "$port" shop -At -c "$1"; }
workers() { q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'nexus sync worker'"; }

sim_start main --latency-ms 300 || exit 1
init_cluster "$dir/pg" "$port" "shared_preload_libraries = 'pg_cron,nexus'" "cron.database_name = 'postgres'" \
  "nexus.sync_database = 'shop'" "nexus.credentials_key_file = 'nexus.key'" "nexus.sync_poll_interval = '500ms'" \
  "nexus.sync_workers = 1" "max_worker_processes = 16" || exit 1
printf '1:%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" > "$dir/pg/nexus.key"
chown postgres: "$dir/pg/nexus.key"
chmod 600 "$dir/pg/nexus.key"
start_cluster "$dir/pg" || exit 1

check "no worker while the sync database does not exist" test "$(sleep 2; workers)" = 0
q "CREATE DATABASE shop" >/dev/null
for _ in $(seq 1 40); do [ "$(workers)" = 1 ] && break; sleep 0.5; done
check "a worker starts once it exists" test "$(workers)" = 1
pid1=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'nexus sync worker'")
sleep 3
check "without the extension it waits, the same process, saying so once" \
  test "$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'nexus sync worker'"),$(grep -c 'extension is not installed in database "shop"' "$dir/pg/server.log")" = "$pid1,1"

# The extension appears: the same worker syncs.
qs "CREATE EXTENSION nexus; SELECT nexus.create_tenant('Shop', 'sync', '00000000-0000-4000-8000-000000000001')" >/dev/null
PGDB_=shop
read -r conn acct < <(connect "$SIM_main" walmart 1 50 10)
q "SELECT count(*) FROM nexus.sync_now('$conn')" >/dev/null
check "after CREATE EXTENSION the waiting worker syncs" wait_idle 30
check "the sync succeeded" compare "$SIM_main" "$conn" "$acct"

# SIGHUP: more workers, then fewer.
q "ALTER SYSTEM SET nexus.sync_workers = 3" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 40); do [ "$(workers)" = 3 ] && break; sleep 0.5; done
check "nexus.sync_workers = 3 after a reload: three workers" test "$(workers)" = 3
check "nexus.worker_status shows them" test "$(q "SELECT count(pid) FROM nexus.worker_status")" = 3
q "ALTER SYSTEM SET nexus.sync_workers = 1" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 1 40); do [ "$(workers)" = 1 ] && break; sleep 0.5; done
check "back to one after another reload" test "$(workers)" = 1

# A fast shutdown in the middle of a run (300 ms per answer, 10 pages).
sim "$SIM_main" POST "/_sim/accounts/$acct/create" '{"count": 100}' >/dev/null
q "SELECT count(*) FROM nexus.sync_now('$conn')" >/dev/null
for _ in $(seq 1 100); do
  [ "$(q "SELECT pages > 0 FROM nexus.sync_runs WHERE status = 'running'")" = t ] && break
  sleep 0.1
done
t0=$(date +%s%N)
as_postgres "$(pg_bindir)/pg_ctl" -D "$dir/pg" -m fast -w -t 60 stop >/dev/null
stop_ms=$((($(date +%s%N) - t0) / 1000000))
check "a fast shutdown mid-run took ${stop_ms} ms (< 5 s)" test "$stop_ms" -lt 5000
check "the worker handed its run back" grep -q 'handed 1 sync run(s) back' "$dir/pg/server.log"
start_cluster "$dir/pg"
check "after the restart the run finishes" wait_idle 60
check "resumed, not restarted: claimed twice, one run" \
  test "$(q "SELECT attempts FROM nexus.sync_runs ORDER BY id DESC LIMIT 1")" = 2
check "every order once" compare "$SIM_main" "$conn" "$acct"

# DROP EXTENSION: not blocked, and the worker goes back to waiting.
pid2=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'nexus sync worker'")
t0=$(date +%s%N)
q "DROP EXTENSION nexus CASCADE" >/dev/null 2>&1
drop_ms=$((($(date +%s%N) - t0) / 1000000))
check "DROP EXTENSION took ${drop_ms} ms" test "$drop_ms" -lt 3000
sleep 2
check "the worker lives on, waiting" \
  test "$(psql_at "$dir/pg" "$port" postgres -At -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'nexus sync worker'")" = "$pid2"

# DROP DATABASE (no FORCE) while the worker is connected to it.
t0=$(date +%s%N)
check "DROP DATABASE of the sync database succeeds" \
  psql_at "$dir/pg" "$port" postgres -c "DROP DATABASE shop"
drop_ms=$((($(date +%s%N) - t0) / 1000000))
check "and took ${drop_ms} ms (< 6 s)" test "$drop_ms" -lt 6000
sleep 2
check "no worker comes back for a database that is gone" \
  test "$(psql_at "$dir/pg" "$port" postgres -At -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'nexus sync worker'")" = 0
check "no crash in the server log" bash -c "! grep -E 'PANIC|TRAP|terminated by signal' '$dir/pg/server.log'"
[ $failures = 0 ] || { tail -30 "$dir/pg/server.log" >&2; exit 1; }
