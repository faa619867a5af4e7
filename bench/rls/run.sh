#!/usr/bin/env bash
# bench/rls/run.sh: the cost of row-level security with nexus's C helpers.
#
# Starts a throwaway PostgreSQL cluster (as the postgres OS user, on
# 127.0.0.1 and a free port), loads 100 tenants and three copies of 1M
# orders (setup.sql), checks that every variant returns the same rows, times
# a tenant-scoped count(*) and a 50-row page as `authenticated` inside
# emulated PostgREST requests (bench.sql), and ends with the RATIO lines.
# Plans go to $OUT_DIR/plans.log, per-round timings to $OUT_DIR/timing.csv.
#
# Usage (as root, with nexus and pg_cron installed):
#   bench/rls/run.sh
# Environment: ROUNDS (default 60), PER (requests per variant per round,
# default 30), OUT_DIR (default bench/rls/out), POLICIES=1 to also time
# alternative nexus policies (policies.sql; restores the original),
# KEEP_CLUSTER=1 to leave the cluster running for inspection.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib.sh"
ROUNDS=${ROUNDS:-60}
PER=${PER:-30}
OUT_DIR=${OUT_DIR:-$here/out}
POLICIES=${POLICIES:-0}

bench_require

bench_tmp rls 54320
plans="$OUT_DIR/plans.log"

cluster_init
cat >>"$data/postgresql.conf" <<EOF
shared_buffers = 1GB			# the three tables and their indexes stay cached
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
fsync = off					# throwaway cluster; reads are what we time
synchronous_commit = off
full_page_writes = off
autovacuum = off				# setup.sql vacuums; nothing else runs
jit = off
max_parallel_workers_per_gather = 0	# 2 cores: keep plans and timings serial
EOF
cluster_start

t_start=$(date +%s)
echo "== setup (100 tenants, 3 x 1,000,000 rows)"
timeout 300 "${psql[@]}" -At -f "$here/setup.sql" ||
	die "setup failed"
echo "   setup took $(( $(date +%s) - t_start )) s"

echo "== plans -> $plans"
timeout 120 "${psql[@]}" -f "$here/explain.sql" >"$plans" 2>&1 || { cat "$plans" >&2; die "explain failed"; }

echo "== bench: ROUNDS=$ROUNDS PER=$PER (per mode: $((ROUNDS * PER)) requests per variant and shape)"
t_bench=$(date +%s)
timeout 600 "${psql[@]}" -v rounds="$ROUNDS" -v per="$PER" -v ratio_file="$tmp/ratios" \
	-v timing_file="$OUT_DIR/timing.csv" -f "$here/bench.sql" ||
	die "bench failed (see messages above)"
echo "   bench took $(( $(date +%s) - t_bench )) s"

if [ "$POLICIES" = 1 ]; then
	echo "== alternative nexus policies (POLICIES=1)"
	timeout 600 "${psql[@]}" -v rounds="$(( (ROUNDS + 1) / 2 ))" -v per="$PER" -f "$here/policies.sql" ||
		die "policies.sql failed"
fi

# What the planner did with the nexus policy.
echo "== nexus plans (tenant 1; full log in $plans)"
awk '/^######## EXPLAIN \(VERBOSE\) -- .*, nexus/ { on = 1; print; next }
     /^######## generic plan -- .*, nexus/ { on = 1; print; next }
     /^########/ { on = 0 }
     on' "$plans" | sed 's/^/   /'
nexus_plans=$(awk '/^######## EXPLAIN \(VERBOSE\) -- .*, nexus/ { on = 1; next } /^########/ { on = 0 } on' "$plans")
idx=$(grep -c "Index Cond: (bench_orders_nexus.tenant_id = nexus.tenant_id('orders:read'::text))" <<<"$nexus_plans" || true)
rowf=$(grep -c '^ *Filter: .*nexus\.' <<<"$nexus_plans" || true)
echo "   nexus.tenant_id('orders:read') as index key (runtime key) in $idx of 2 plans;" \
	"a per-row Filter calling nexus in $rowf of 2"

echo "== total $(( $(date +%s) - t_start )) s"
[ -s "$tmp/ratios" ] || die "no ratios computed"
cat "$tmp/ratios"
