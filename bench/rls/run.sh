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
ROUNDS=${ROUNDS:-60}
PER=${PER:-30}
OUT_DIR=${OUT_DIR:-$here/out}
KEEP_CLUSTER=${KEEP_CLUSTER:-0}
POLICIES=${POLICIES:-0}
PG_CONFIG=${PG_CONFIG:-pg_config}
bindir=$("$PG_CONFIG" --bindir)

die() { echo "run.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (the cluster runs as the postgres OS user)"
id postgres >/dev/null 2>&1 || die "no postgres OS user"
[ -f "$("$PG_CONFIG" --pkglibdir)/nexus.so" ] || die "nexus is not installed (make && make install)"
[ -f "$("$PG_CONFIG" --pkglibdir)/pg_cron.so" ] || die "pg_cron is not installed"

mkdir -p "$OUT_DIR"
plans="$OUT_DIR/plans.log"

free_port() {
	if command -v python3 >/dev/null 2>&1 &&
		python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null; then
		return
	fi
	local p
	for p in $(seq 54320 54420); do
		if ! ss -ltnH "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
	die "no free port"
}

tmp=$(mktemp -d /tmp/nexus-bench-rls.XXXXXX)
chown postgres: "$tmp"
chmod 700 "$tmp"
data="$tmp/data"
port=$(free_port)
pid=

cleanup() {
	local rc=$?
	if [ "$KEEP_CLUSTER" = 1 ] && [ $rc = 0 ]; then
		echo "cluster kept: psql -h 127.0.0.1 -p $port -U postgres;" \
			"stop: runuser -u postgres -- $bindir/pg_ctl stop -D $data && rm -rf $tmp" >&2
		return
	fi
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		runuser -u postgres -- "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null 2>&1 ||
			kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	fi
	[ -f "$data/log/server.log" ] && cp "$data/log/server.log" "$OUT_DIR/server.log" 2>/dev/null || true
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== cluster: $data, port $port, nexus.so md5 $(md5sum "$("$PG_CONFIG" --pkglibdir)/nexus.so" | cut -c1-12)"
runuser -u postgres -- "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
	>"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; die "initdb failed"; }
cat >>"$data/postgresql.conf" <<EOF

# bench/rls
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$tmp'
shared_preload_libraries = 'pg_cron,nexus'
cron.database_name = 'postgres'
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
logging_collector = on
log_directory = 'log'
log_filename = 'server.log'
EOF
runuser -u postgres -- "$bindir/pg_ctl" start -D "$data" -w -t 60 -l "$tmp/pg_ctl.log" >/dev/null ||
	{ cat "$tmp/pg_ctl.log" >&2; die "the server did not start"; }
pid=$(head -1 "$data/postmaster.pid")

psql=("$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)

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
idx=$(awk '/^######## EXPLAIN \(VERBOSE\) -- .*, nexus/ { on = 1; next } /^########/ { on = 0 } on' "$plans" |
	grep -c 'Index Cond: (bench_orders_nexus.tenant_id = nexus.tenant_id())' || true)
otf=$(awk '/^######## EXPLAIN \(VERBOSE\) -- .*, nexus/ { on = 1; next } /^########/ { on = 0 } on' "$plans" |
	grep -c "One-Time Filter: nexus.has_scope('orders:read'::text)" || true)
rowf=$(awk '/^######## EXPLAIN \(VERBOSE\) -- .*, nexus/ { on = 1; next } /^########/ { on = 0 } on' "$plans" |
	grep -c "^ *Filter: nexus.has_scope('orders:read'::text)" || true)
echo "   nexus.tenant_id() as index key (runtime key) in $idx of 2 plans;" \
	"has_scope() as One-Time Filter in $otf of 2, as per-row Filter in $rowf of 2"

echo "== total $(( $(date +%s) - t_start )) s"
[ -s "$tmp/ratios" ] || die "no ratios computed"
cat "$tmp/ratios"
