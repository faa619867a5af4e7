#!/usr/bin/env bash
# bench/sync/run.sh: the sync engine end to end against the marketplace
# simulator: CONNECTIONS connections, pages of 100 orders, fetched by the
# sync workers (libcurl multi), parsed by nexus's adapters, upserted, and
# the run's cursor committed with each page.
#
# Starts the simulator (test/sim, by PID) and a throwaway PostgreSQL cluster
# (as the postgres OS user, on 127.0.0.1 and a free port) with pg_cron and
# nexus preloaded and the sync workers in database postgres.  Setup, not
# timed: CONNECTIONS lean simulator accounts of ORDERS_PER_CONNECTION orders
# each (accounts.js), spread over MARKETS (default shopify, walmart, ebay,
# zalando: marketplaces whose list pages carry whole orders, one request
# per page, no detail calls) and TENANTS tenants, connected with
# nexus.connect_marketplace (setup.sql).
#
# A timed pass is one statement that calls nexus.sync_now() for every
# connection, then waits until every run has finished; its time is from the
# queueing transaction's start to the last run's finished_at, and pages,
# requests and orders are counted from nexus.sync_runs.  The passes:
#   warmup       (informational) the simulator serializes every order the
#                first time it serves it and caches the bytes; this pass
#                fills its cache so that the passes below all see the same
#                simulator cost.  Same work as "new".
# then for each worker count in WORKERS (nexus.sync_workers; each worker
# keeps nexus.sync_max_in_flight = MAX_IN_FLIGHT transfers in flight):
#   new          every order is new: fetch, parse, insert, commit per page
#   unchanged    the same pages again, every order unchanged (the watermark
#                is reset, so runs list from the start): fetch and parse,
#                then an upsert that finds nothing to write
# Before each pass the cached access tokens are dropped (each pass asks for
# the same tokens: ebay, zalando and walmart need one per connection), the
# tables are vacuumed and analyzed and a checkpoint is taken.  Before a
# "new" pass the order tables are emptied but for HISTORY older orders per
# connection, so that the store is in a steady state with statistics that
# know the tenants and connections (setup.sql, bench.add_history, says why:
# planned on an empty table, the foreign-key check of every item reads the
# whole tenant).  After each pass it checks
# that every run succeeded and that nexus.orders holds exactly the
# simulator's orders (each once, same last-modified time and item count):
# a pass that lost work fails the benchmark rather than report a speed.
# Last, informational: the store's limit, COPY FROM of the same orders and
# items into the same tables from the same starting state (no fetching, no
# parsing), in pages of 100 per second.
#
# For each pass it prints pages/s, orders/s, requests/s, the CPU seconds of
# the simulator, the sync workers and the other PostgreSQL processes during
# the pass (/proc/<pid>/stat), the machine's busy CPU and what of it was
# outside these processes (other work on the machine: it slows the passes),
# the peak RSS of the workers (VmHWM, reset before each pass via
# /proc/<pid>/clear_refs; it counts the shared buffers a worker touched, so
# their private memory, RssAnon, is sampled too) and the transfers in
# flight (both sampled from nexus.worker_status every 200 ms).  It
# ends with the RATIO lines, for the "new" pass of the first WORKERS entry:
# pages/s against the target of 2,000, and against pg_net's documented
# ~200 requests/s (one page = one request for these marketplaces).
#
# About 3 minutes at the default size here (2 cores; the simulator needs
# about 3 GB), results in $OUT_DIR/results.csv.
#
# Usage (as root, with nexus and pg_cron installed, node 18+):
#   bench/sync/run.sh
# Environment: CONNECTIONS (default 1000), ORDERS_PER_CONNECTION (default
# 300: 3 pages of 100), MARKETS (comma-separated, default
# shopify,walmart,ebay,zalando), TENANTS (default 100), HISTORY (older
# orders per connection in the store before a "new" pass, default 100),
# WORKERS (worker
# counts to measure, default "1 2"), MAX_IN_FLIGHT (default 64),
# MAX_PER_HOST (nexus.sync_max_per_host, default 64: every marketplace of
# the simulator is one host, 127.0.0.1:PORT, where the real ones are many,
# so the default per-host cap of 16 would stand for a limit production does
# not hit here), DURABLE=1 for fsync and synchronous commits (default off,
# as in bench/ingest: a throwaway cluster), PASS_TIMEOUT (s, default 240),
# PROFILE=1 to record the workers in the "new" pass of the first worker
# count with perf (by component with profile.awk, and by function:
# profile.txt; perf slows that pass a little), FIXTURES (default
# ../shared/fixtures beside the checkout), OUT_DIR (default bench/sync/out:
# results.csv, server and simulator logs), KEEP_CLUSTER=1 to leave the
# cluster and the simulator running.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"
CONNECTIONS=${CONNECTIONS:-1000}
ORDERS_PER_CONNECTION=${ORDERS_PER_CONNECTION:-300}
MARKETS=${MARKETS:-shopify,walmart,ebay,zalando}
TENANTS=${TENANTS:-100}
HISTORY=${HISTORY:-100}
WORKERS=${WORKERS:-1 2}
MAX_IN_FLIGHT=${MAX_IN_FLIGHT:-64}
MAX_PER_HOST=${MAX_PER_HOST:-64}
DURABLE=${DURABLE:-0}
PASS_TIMEOUT=${PASS_TIMEOUT:-240}
PROFILE=${PROFILE:-0}
FIXTURES=${FIXTURES:-$(cd "$repo/.." && pwd)/shared/fixtures}
OUT_DIR=${OUT_DIR:-$here/out}
PG_NET_RPS=200		# pg_net's documented throughput, requests/s (not measured here)
TARGET_PAGES=2000	# the issue's target, pages/s with 64 in flight

bench_require
command -v node >/dev/null || die "node is not installed"
[ -d "$FIXTURES/shopify" ] || die "no fixtures in $FIXTURES (set FIXTURES)"
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || die "CONNECTIONS must be a positive integer"
[[ "$ORDERS_PER_CONNECTION" =~ ^[1-9][0-9]*$ ]] || die "ORDERS_PER_CONNECTION must be a positive integer"
[[ "$TENANTS" =~ ^[1-9][0-9]*$ ]] || die "TENANTS must be a positive integer"
[[ "$HISTORY" =~ ^[0-9]+$ ]] || die "HISTORY must be a non-negative integer"
[ "$TENANTS" -le "$CONNECTIONS" ] || TENANTS=$CONNECTIONS
for w in $WORKERS; do [[ "$w" =~ ^[1-9][0-9]?$ ]] && [ "$w" -le 8 ] || die "WORKERS: 1 to 8 each"; done
first_workers=${WORKERS%% *}
if [ "$PROFILE" = 1 ]; then command -v perf >/dev/null || die "PROFILE=1 needs perf"; fi

sim_pid=
# The simulator goes down with the cluster; KEEP_CLUSTER=1 keeps both.
cleanup_more() {
	if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
		kill -TERM "$sim_pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$sim_pid" 2>/dev/null && kill -KILL "$sim_pid" 2>/dev/null || true
	fi
	[ -f "$tmp/sim.log" ] && cp "$tmp/sim.log" "$OUT_DIR/sim.log" 2>/dev/null || true
}
bench_tmp sync 54440

t_start=$(date +%s)
echo "== load average at the start: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $(awk '/MemAvailable/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) available"

# ---------------------------------------------------------------- simulator
# Lean orders of these marketplaces take 3-15 KB each in the simulator's heap.
node --max-old-space-size=12288 "$repo/test/sim/sim.js" --port 0 --port-file "$tmp/sim.port" --fixtures "$FIXTURES" \
	>"$tmp/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/sim.port" ] && break; sleep 0.1; done
[ -s "$tmp/sim.port" ] || { cat "$tmp/sim.log" >&2; die "the simulator did not start"; }
sim_port=$(cat "$tmp/sim.port")
kept_note="simulator pid $sim_pid on port $sim_port"
kept_stop="kill $sim_pid"
sim() { curl -sS --max-time 30 -X "$1" -H 'Content-Type: application/json' "http://127.0.0.1:$sim_port$2"; }

# ---------------------------------------------------------------- cluster
cluster_init "simulator pid $sim_pid, port $sim_port"
if [ "$DURABLE" = 1 ]; then
	durability="fsync = on
synchronous_commit = on
full_page_writes = on"
else
	durability="fsync = off					# throwaway cluster (DURABLE=1: durable commits)
synchronous_commit = off
full_page_writes = off"
fi
cat >>"$data/postgresql.conf" <<EOF
nexus.sync_database = 'postgres'
nexus.credentials_key_file = 'nexus.key'
nexus.sync_workers = $first_workers
nexus.sync_max_in_flight = $MAX_IN_FLIGHT
nexus.sync_max_per_host = $MAX_PER_HOST
max_worker_processes = 16
shared_buffers = 1GB
work_mem = 16MB
maintenance_work_mem = 256MB
max_wal_size = 8GB			# no checkpoint inside a pass ...
checkpoint_timeout = 30min		# ... each pass starts after one
$durability
autovacuum = off				# run.sh vacuums between passes; nothing else runs
jit = off
max_parallel_workers_per_gather = 0	# 2 cores: keep everything serial
EOF
printf '1:%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$data/nexus.key"
chown postgres: "$data/nexus.key"
chmod 600 "$data/nexus.key"
cluster_start
q() { "${psql[@]}" -At -c "$1"; }

# ---------------------------------------------------------------- setup
total_orders=$((CONNECTIONS * ORDERS_PER_CONNECTION))
echo "== setup (not timed): $CONNECTIONS simulator accounts x $ORDERS_PER_CONNECTION lean orders = $total_orders orders" \
	"($MARKETS in turn: list pages only, no detail calls), $TENANTS tenants"
t0=$(date +%s)
timeout 900 node "$here/accounts.js" "$sim_port" "$CONNECTIONS" "$ORDERS_PER_CONNECTION" "$MARKETS" "$tmp" ||
	die "creating the simulator accounts failed"
chmod 644 "$tmp/connections.tsv" "$tmp/expected.tsv"
echo "   simulator accounts: $(( $(date +%s) - t0 )) s, simulator RSS $(awk '/^VmRSS/ { printf "%.0f MB", $2 / 1024 }' /proc/$sim_pid/status)"
t0=$(date +%s)
timeout 600 "${psql[@]}" -v tenants="$TENANTS" -v conn_file="$tmp/connections.tsv" -v exp_file="$tmp/expected.tsv" \
	-f "$here/setup.sql" || die "setup.sql failed"
[ "$(q "SELECT count(*) FROM nexus.marketplace_connections")" = "$CONNECTIONS" ] || die "not every connection was made"
[ "$(q "SELECT count(*) FROM bench.expected")" = "$total_orders" ] || die "the simulator does not list every order"
expected_items=$(q "SELECT sum(items) FROM bench.expected")
echo "   connections: $(( $(date +%s) - t0 )) s ($(q "SELECT string_agg(marketplace || ' ' || n, ', ' ORDER BY marketplace)
                                                   FROM (SELECT marketplace, count(*) n FROM bench.conn GROUP BY 1) x"))"

# The sync workers (nexus.sync_workers of them) are up.
wait_workers() {
	local want=$1
	for _ in $(seq 1 150); do
		[ "$(q "SELECT count(pid) FROM nexus.worker_status")" = "$want" ] && return 0
		sleep 0.2
	done
	q "SELECT * FROM nexus.worker_status" >&2
	die "expected $want sync workers"
}

set_workers() {
	q "ALTER SYSTEM SET nexus.sync_workers = $1" >/dev/null
	q "SELECT pg_reload_conf()" >/dev/null
	sleep 0.5
	wait_workers "$1"
}

# ---------------------------------------------------------------- passes
echo "label,workers,runs,pages,requests,orders,inserted,updated,unchanged,seconds,pages_per_s,orders_per_s,requests_per_s,cpu_sim_s,cpu_workers_s,cpu_pg_other_s,cpu_client_s,cpu_machine_busy_s,workers_vmhwm_kb,workers_peak_anon_kb,sim_vmhwm_kb,max_in_flight,avg_in_flight" \
	>"$OUT_DIR/results.csv"
summary=()

# run_pass LABEL WORKERS FRESH(true|false)
run_pass() {
	local label=$1 workers=$2 fresh=$3
	local wpids r ok diffs
	timeout 300 "${psql[@]}" -c "CALL bench.reset($fresh, $HISTORY)" -c "VACUUM ANALYZE nexus.sync_runs" \
		-c "VACUUM ANALYZE nexus.marketplace_connections" -c "VACUUM ANALYZE nexus_private.access_tokens" \
		-c "VACUUM ANALYZE nexus.orders" -c "VACUUM ANALYZE nexus.order_items" -c "CHECKPOINT" ||
		die "$label: reset failed"
	wait_workers "$workers"
	wpids=$(q "SELECT string_agg(pid::text, ' ' ORDER BY worker) FROM nexus.worker_status")
	# Peak RSS counts from here (Linux: 5 > clear_refs resets VmHWM).
	for p in $wpids $sim_pid; do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true; done
	sim POST /_sim/stats/reset >/dev/null

	if [ "$PROFILE" = 1 ] && [ "$label" = "new_w$first_workers" ]; then
		# The workers only (the simulator's share shows in its CPU time),
		# with DWARF call graphs: PostgreSQL and jansson have no frame pointers.
		perf record -F 199 --call-graph dwarf,16384 -o "$tmp/perf.data" -p "$(echo $wpids | tr ' ' ',')" \
			>"$tmp/perf.log" 2>&1 &
		perf_pid=$!
		sleep 1
	fi

	# One session queues the runs and waits for them: its backend is alive
	# (and counted) through the pass.  The snapshots bracket the pass.
	cat >"$tmp/pass.sql" <<EOF
\\o $tmp/client.pid
SELECT pg_backend_pid();
\\o
\\! bash $here/procs.sh $tmp/before $pid $sim_pid
CALL bench.queue('$label', $workers);
CALL bench.wait_done('$label', $PASS_TIMEOUT);
\\! bash $here/procs.sh $tmp/after $pid $sim_pid
EOF
	timeout $((PASS_TIMEOUT + 60)) "${psql[@]}" -At -f "$tmp/pass.sql" ||
		{ q "SELECT status, count(*), max(error) FROM nexus.sync_runs GROUP BY 1" >&2; die "$label: the pass failed"; }

	if [ -n "$perf_pid" ]; then
		stop_perf
		{
			echo "# perf, pass $label: the sync workers' samples by component (profile.awk)"
			perf script -i "$tmp/perf.data" -F ip,sym 2>/dev/null | awk -f "$here/profile.awk"
			echo
			echo "# by library and function (self time)"
			perf report -i "$tmp/perf.data" --no-children --sort dso,symbol -g none --percent-limit 0.7 \
				--stdio 2>/dev/null | grep '%'
		} >"$OUT_DIR/profile.txt" || true
	fi

	# CPU: ticks between the snapshots, per process alive at both.
	local client_pid cpu
	client_pid=$(tr -dc '0-9' <"$tmp/client.pid")
	cpu=$(awk -F'\t' -v sim="$sim_pid" -v client="$client_pid" -v workers=" $wpids " '
		FNR == 1 { if (FILENAME ~ /before$/) { b0 = $2; tck = $4; t0 = $5 } else { b1 = $2; t1 = $5 } next }
		FILENAME ~ /before$/ { before[$1] = $3; next }
		!($1 in before) { next }
		{ d = ($3 - before[$1]) / tck
		  if ($1 == sim) { s += d; shwm = $4 }
		  else if (index(workers, " " $1 " ")) { w += d; whwm += $4; wanon += $6; wshm += $7 }
		  else if ($1 == client) c += d
		  else o += d }
		END { printf "%.2f %.2f %.2f %.2f %.2f %.2f %d %d %d %d", s, w, o, c, (b1 - b0) / tck, t1 - t0, whwm, shwm, wanon, wshm }
	' "$tmp/before" "$tmp/after")
	local c_sim c_w c_o c_c c_busy wall w_hwm s_hwm w_anon w_shm
	read -r c_sim c_w c_o c_c c_busy wall w_hwm s_hwm w_anon w_shm <<<"$cpu"

	r=$("${psql[@]}" -At -F' ' -c "SELECT runs, succeeded, pages, requests, inserted + updated + unchanged, inserted, updated,
	                                      unchanged, failed, throttled, attempts, round(seconds, 3), max_in_flight, avg_in_flight, avg_runs,
	                                      (SELECT max_anon_kb FROM bench.passes WHERE label = '$label')
	                                 FROM bench.pass_result WHERE label = '$label'")
	local runs succeeded pages requests orders inserted updated unchanged failed throttled attempts seconds mx avgfl avgruns anon
	read -r runs succeeded pages requests orders inserted updated unchanged failed throttled attempts seconds mx avgfl avgruns anon <<<"$r"
	local stats rejected
	stats=$(sim GET /_sim/stats)
	rejected=$(echo "$stats" | grep -o '"rejected_total":[0-9]*' | cut -d: -f2)

	# Did the pass do all the work?
	ok=1
	[ "$runs" = "$CONNECTIONS" ] && [ "$succeeded" = "$CONNECTIONS" ] || { echo "   $label: $succeeded of $runs runs succeeded ($CONNECTIONS connections)" >&2; ok=0; }
	[ "$failed" = 0 ] || { echo "   $label: $failed orders failed to parse" >&2; ok=0; }
	[ "${rejected:-x}" = 0 ] || { echo "   $label: the simulator rejected ${rejected:-?} requests" >&2; ok=0; }
	[ "$orders" = "$total_orders" ] || { echo "   $label: the runs read $orders orders, the simulator holds $total_orders" >&2; ok=0; }
	if [ "$fresh" = true ]; then
		[ "$inserted" = "$total_orders" ] || { echo "   $label: $inserted orders inserted, expected $total_orders" >&2; ok=0; }
	else
		[ "$unchanged" = "$total_orders" ] || { echo "   $label: $unchanged orders unchanged, expected $total_orders" >&2; ok=0; }
	fi
	local n_orders n_items n_hist
	read -r n_orders n_hist <<<"$(q "SELECT count(*) FILTER (WHERE external_order_id NOT LIKE 'H-%'),
	                                        count(*) FILTER (WHERE external_order_id LIKE 'H-%') FROM nexus.orders" | tr '|' ' ')"
	n_items=$(q "SELECT count(*) FROM nexus.order_items i JOIN nexus.orders o ON o.tenant_id = i.tenant_id AND o.id = i.order_id
	             WHERE o.external_order_id NOT LIKE 'H-%'")
	[ "$n_orders" = "$total_orders" ] || { echo "   $label: nexus.orders holds $n_orders orders, the simulator $total_orders" >&2; ok=0; }
	[ "$n_hist" = "$((HISTORY * CONNECTIONS))" ] || { echo "   $label: $n_hist history orders, expected $((HISTORY * CONNECTIONS))" >&2; ok=0; }
	[ "$n_items" = "$expected_items" ] || { echo "   $label: nexus.order_items holds $n_items items of those orders, the simulator $expected_items" >&2; ok=0; }
	diffs=$(q "SELECT * FROM bench.differences(10)")
	[ -z "$diffs" ] || { echo "   $label: nexus differs from the simulator:" >&2; echo "$diffs" | sed 's/^/     /' >&2; ok=0; }
	[ $ok = 1 ] || die "$label: the pass lost or changed work; no speed is reported for it"

	local pps ops rps
	pps=$(awk -v p="$pages" -v s="$seconds" 'BEGIN { printf "%.0f", p / s }')
	ops=$(awk -v p="$orders" -v s="$seconds" 'BEGIN { printf "%.0f", p / s }')
	rps=$(awk -v p="$requests" -v s="$seconds" 'BEGIN { printf "%.0f", p / s }')
	echo "   $label: $workers worker(s), $runs runs, $pages pages, $requests requests ($((requests - pages)) token), $orders orders" \
		"(+$inserted ~$updated =$unchanged), $throttled throttled waits, $attempts attempts: ${seconds} s"
	echo "      $pps pages/s, $ops orders/s, $rps requests/s;" \
		"transfers in flight: max $mx, mean $avgfl (runs held: mean $avgruns) over $(q "SELECT samples FROM bench.passes WHERE label = '$label'") samples;" \
		"at the simulator at most $(echo "$stats" | grep -o '"max_in_flight":[0-9]*' | cut -d: -f2) open at once (it answers synchronously)"
	awk -v s="$c_sim" -v w="$c_w" -v o="$c_o" -v c="$c_c" -v b="$c_busy" -v t="$wall" -v n="$(nproc)" 'BEGIN {
		printf "      CPU over %.2f s (%d cores = %.2f core-s): simulator %.2f s (%.0f%% of a core), workers %.2f s (%.0f%%), other postgres %.2f s, bench session %.2f s; machine busy %.2f s (%.0f%% of all cores), not in these processes %.2f s\n",
			t, n, t * n, s, 100 * s / t, w, 100 * w / t, o, c, b, 100 * b / (t * n), b - s - w - o - c }'
	echo "      memory of the workers: peak RSS (VmHWM) $((w_hwm / 1024)) MB, which counts the shared buffers they touched;" \
		"private (RssAnon) peak $((anon / 1024)) MB (sampled), at the end $((w_anon / 1024)) MB private + $((w_shm / 1024)) MB shared;" \
		"simulator VmHWM $((s_hwm / 1024)) MB"
	echo "$label,$workers,$runs,$pages,$requests,$orders,$inserted,$updated,$unchanged,$seconds,$pps,$ops,$rps,$c_sim,$c_w,$c_o,$c_c,$c_busy,$w_hwm,$anon,$s_hwm,$mx,$avgfl" \
		>>"$OUT_DIR/results.csv"
	summary+=("$(printf '   %-14s %7s %6s %8s %8s %9s %8s %9s %7s %7s %7s %7s %7s %8s %8s' "$label" "$workers" "$pages" "$seconds" "$pps" "$ops" \
		"$c_sim" "$c_w" "$c_o" "$(awk -v b="$c_busy" -v s="$c_sim" -v w="$c_w" -v o="$c_o" -v c="$c_c" 'BEGIN { printf "%.2f", b - s - w - o - c }')" "$c_busy" "$(awk -v b="$c_busy" -v t="$wall" -v n="$(nproc)" 'BEGIN { printf "%.0f%%", 100 * b / (t * n) }')" \
		"$mx" "$((w_hwm / 1024))MB" "$((anon / 1024))MB")")
	eval "PPS_$label=$pps"
}

echo "== passes: sync_max_in_flight $MAX_IN_FLIGHT, sync_max_per_host $MAX_PER_HOST, durable commits $([ "$DURABLE" = 1 ] && echo on || echo off)"
wait_workers "$first_workers"
t_bench=$(date +%s)
run_pass warmup "$first_workers" true
echo "      (warm-up: the simulator serialized every order for the first time; informational)"
for w in $WORKERS; do
	[ "$(q "SELECT count(pid) FROM nexus.worker_status")" = "$w" ] || set_workers "$w"
	run_pass "new_w$w" "$w" true
	run_pass "unchanged_w$w" "$w" false
done
echo "   passes took $(( $(date +%s) - t_bench )) s"

# The store's limit: COPY FROM of the very rows the last "new"-style pass
# left (every order of the simulator and its items, ids kept) into the
# same tables, indexes and foreign keys, from the same starting state
# (bench.reset), server-side, one statement per table.  No fetching, no
# parsing, no look-up: whatever nexus does per page costs at least this.
echo "== limit: COPY FROM of the same orders and items (informational)"
q "COPY (SELECT * FROM nexus.orders WHERE external_order_id NOT LIKE 'H-%') TO '$tmp/orders.copy'" >/dev/null
q "COPY (SELECT i.* FROM nexus.order_items i JOIN nexus.orders o ON o.tenant_id = i.tenant_id AND o.id = i.order_id
         WHERE o.external_order_id NOT LIKE 'H-%') TO '$tmp/items.copy'" >/dev/null
timeout 300 "${psql[@]}" -c "CALL bench.reset(true, $HISTORY)" -c "VACUUM ANALYZE nexus.orders" \
	-c "VACUUM ANALYZE nexus.order_items" -c "CHECKPOINT" >/dev/null || die "copy: reset failed"
copy_s=$("${psql[@]}" -At <<EOF | tail -1
CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t;
COPY nexus.orders FROM '$tmp/orders.copy';
COPY nexus.order_items FROM '$tmp/items.copy';
SELECT round(extract(epoch FROM clock_timestamp() - t)::numeric, 3) FROM t0;
EOF
)
copied=$(q "SELECT count(*) FROM nexus.orders WHERE external_order_id NOT LIKE 'H-%'")
[ "$copied" = "$total_orders" ] || die "copy: $copied orders copied, expected $total_orders"
COPY_PPS=$(awk -v o="$copied" -v s="$copy_s" 'BEGIN { printf "%.0f", o / 100 / s }')
echo "   COPY: $copied orders with their items in $copy_s s = $(awk -v o="$copied" -v s="$copy_s" 'BEGIN { printf "%.0f", o / s }') orders/s" \
	"= $COPY_PPS pages of 100/s, one core"

echo "== summary ($CONNECTIONS connections, $ORDERS_PER_CONNECTION orders each, pages of 100, $MARKETS; CPU in seconds during the pass)"
printf '   %-14s %7s %6s %8s %8s %9s %8s %9s %7s %7s %7s %7s %7s %8s %8s\n' pass workers pages seconds pages/s orders/s \
	"cpu sim" "workers" "pg oth" "outside" "busy" "busy%" "inflt" "wrk HWM" "wrk anon"
echo "   (CPU seconds during the pass: simulator, sync workers, other PostgreSQL processes, busy CPU outside these processes"
echo "    (other work on the machine), whole machine busy; inflt = most transfers in flight sampled; HWM = VmHWM with shared buffers; anon = private peak)"
printf '%s\n' "${summary[@]}"
if [ "$PROFILE" = 1 ] && [ -s "$OUT_DIR/profile.txt" ]; then
	echo "== profile of new_w$first_workers ($OUT_DIR/profile.txt)"
	sed -n '1,/^$/p' "$OUT_DIR/profile.txt" | sed 's/^/   /'
fi

echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== total $(( $(date +%s) - t_start )) s"
head_pps=$(eval echo "\$PPS_new_w$first_workers")
echo "(the store's limit measured above: COPY of the same rows, $COPY_PPS pages/s on one core;" \
	"the \"new\" pass reached $(awk -v p="$head_pps" -v c="$COPY_PPS" 'BEGIN { printf "%.2f", p / c }') of it" \
	"while also fetching and parsing, and $TARGET_PAGES pages/s is $(awk -v t="$TARGET_PAGES" -v c="$COPY_PPS" 'BEGIN { printf "%.1f", t / c }')x COPY)"
echo "(RATIO lines: the \"new\" pass with $first_workers worker(s), sync_max_in_flight $MAX_IN_FLIGHT; baseline pg_net ~$PG_NET_RPS requests/s as documented, one page = one request here)"
echo "RATIO sync_pages_per_s $head_pps target >= $TARGET_PAGES"
echo "RATIO sync_pages_per_s_vs_pg_net $(awk -v p="$head_pps" -v b="$PG_NET_RPS" 'BEGIN { printf "%.2f", p / b }') target >= $(awk -v t="$TARGET_PAGES" -v b="$PG_NET_RPS" 'BEGIN { printf "%g", t / b }')"
