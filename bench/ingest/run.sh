#!/usr/bin/env bash
# bench/ingest/run.sh: order ingestion, nexus.ingest_orders() against a
# PL/pgSQL implementation and against COPY.
#
# Starts a throwaway PostgreSQL cluster (as the postgres OS user, on
# 127.0.0.1 and a free port), generates ORDERS marketplace orders as list
# pages of 100 (half Shopify orders.json, half Walmart /v3/orders, built
# from the fixture orders, 3 line items each; gen_*.sql), checks a sample
# normalizes as generated, then times, twice each in alternating order
# (bench.sql):
#   nexus    nexus.ingest_orders(connection, page::json) per page
#   plpgsql  the same normalization and upsert in PL/pgSQL over jsonb (plpgsql.sql)
#   copy     COPY FROM of the rows nexus wrote, orders then items (the limit)
# Every timed run writes the same ORDERS orders into the same tables and
# indexes, starting from the same state: only HISTORY older orders on each of
# the way's two connections, freshly analyzed (setup.sql explains why), each
# page in its own transaction.  It checks that every way wrote the same rows
# (all of them, orders and items, compared with nexus's), prints orders/s
# and ends with the RATIO lines (best run of each way).  Informational passes,
# once each: nexus again over the same pages (every order unchanged), and
# nexus and PL/pgSQL over the pages with every order in a newer version
# (bench.make_changed_pages: each updated, its items replaced).  About 5
# minutes here (6 with PROFILE=1).
#
# Usage (as root, with nexus and pg_cron installed):
#   bench/ingest/run.sh
# Environment: ORDERS (total, a multiple of 200; default 100000), HISTORY
# (older orders on each connection at the start of every timed run, default
# 25000), FIXTURES (default ../shared/fixtures beside the checkout), OUT_DIR
# (default bench/ingest/out: server log, results.csv), PROFILE=1 to record
# one more nexus pass with perf and say where its time goes (profile.txt: by
# component, with profile.awk; perf_top.txt: by function), KEEP_CLUSTER=1
# to leave the cluster running for inspection.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"
ORDERS=${ORDERS:-100000}
HISTORY=${HISTORY:-25000}
FIXTURES=${FIXTURES:-$(cd "$repo/.." && pwd)/shared/fixtures}
OUT_DIR=${OUT_DIR:-$here/out}
PROFILE=${PROFILE:-0}

bench_require
[ -f "$FIXTURES/shopify/orders_page1.json" ] && [ -f "$FIXTURES/walmart/orders_page1.json" ] ||
	die "no fixtures in $FIXTURES (set FIXTURES)"
[ $((ORDERS % 200)) = 0 ] && [ "$ORDERS" -gt 0 ] || die "ORDERS must be a positive multiple of 200"
if [ "$PROFILE" = 1 ]; then command -v perf >/dev/null || die "PROFILE=1 needs perf"; fi

bench_tmp ingest 54330

echo "== load average at the start: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
cluster_init
cat >>"$data/postgresql.conf" <<EOF
shared_buffers = 2GB			# pages, orders, items and indexes stay cached
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 8GB			# no checkpoint inside a timed run ...
checkpoint_timeout = 30min		# ... bench.reset() checkpoints before each
wal_level = replica			# the default: COPY into a table truncated earlier still writes WAL
fsync = off					# throwaway cluster, the same for every way
synchronous_commit = off
full_page_writes = off
autovacuum = off				# nothing runs beside the benchmark
jit = off
max_parallel_workers_per_gather = 0	# 2 cores: keep everything serial
default_toast_compression = lz4
EOF
cluster_start

t_start=$(date +%s)
echo "== setup: tenant, connections, the PL/pgSQL implementation"
timeout 60 "${psql[@]}" -f "$here/setup.sql" || die "setup failed"
timeout 60 "${psql[@]}" -f "$here/plpgsql.sql" || die "plpgsql.sql failed"
timeout 60 "${psql[@]}" -c "CALL bench.make_history($HISTORY)" || die "history failed"

echo "== generating $ORDERS orders ($((ORDERS / 2)) Shopify, $((ORDERS / 2)) Walmart) as pages of 100"
# The two marketplaces in parallel (2 cores).
half=$((ORDERS / 2))
timeout 300 "${psql[@]}" -v fixtures="$FIXTURES" -v orders="$half" -f "$here/gen_shopify.sql" &
gen1=$!
timeout 300 "${psql[@]}" -v fixtures="$FIXTURES" -v orders="$half" -f "$here/gen_walmart.sql" &
gen2=$!
gen_rc=0
wait $gen1 || gen_rc=1
wait $gen2 || gen_rc=1
[ $gen_rc = 0 ] || die "data generation failed"
timeout 120 "${psql[@]}" -c 'VACUUM (ANALYZE) bench.pages' -c 'VACUUM (ANALYZE) bench.expected' || die "vacuum failed"
"${psql[@]}" -At -c "SELECT format('   %s: %s pages, %s of JSON text (%s stored), ~%s bytes per order',
                                   marketplace, count(*), pg_size_pretty(sum(octet_length(page))::bigint),
                                   pg_size_pretty(sum(pg_column_size(page))::bigint),
                                   round(sum(octet_length(page)) / count(*) / 100.0))
                              FROM bench.pages GROUP BY marketplace ORDER BY marketplace"
echo "   generation took $(( $(date +%s) - t_start )) s"

t_bench=$(date +%s)
timeout 600 "${psql[@]}" -v orders="$ORDERS" -v orders_file="$tmp/orders.copy" -v items_file="$tmp/items.copy" \
	-v ratio_file="$tmp/ratios" -f "$here/bench.sql" ||
	die "bench failed (see messages above)"
echo "   bench took $(( $(date +%s) - t_bench )) s"
"${psql[@]}" -c "\\copy (SELECT way, round, orders, items, seconds FROM bench.results ORDER BY way, round) TO '$OUT_DIR/results.csv' CSV HEADER"

echo "== summary: orders/s, best of 2 runs each ($ORDERS orders + $((3 * ORDERS)) items per run)"
"${psql[@]}" -At -c "SELECT format('   %-44s %8s orders/s  (%s)', label, round(max(orders / seconds)),
                                   string_agg(round(seconds::numeric, 2) || ' s', ', ' ORDER BY round))
                      FROM bench.results
                      JOIN (VALUES ('nexus', 1, 'nexus.ingest_orders() per page'),
                                   ('plpgsql', 2, 'PL/pgSQL over jsonb per page'),
                                   ('copy', 3, 'COPY FROM of the normalized rows'),
                                   ('nexus_unchanged', 4, 'nexus again, all unchanged (informational)'),
                                   ('nexus_updated', 5, 'nexus, every order newer (informational)'),
                                   ('plpgsql_updated', 6, 'PL/pgSQL, every order newer (informational)'),
                                   ('read_json', 7, 'driver + json_in only (informational)'),
                                   ('read_jsonb', 8, 'driver + jsonb_in only (informational)')) w(way, k, label)
                        USING (way)
                     GROUP BY label, k ORDER BY k"

if [ "$PROFILE" = 1 ]; then
	# One more nexus pass from the same starting state, its backend recorded
	# with DWARF call graphs (PostgreSQL and jansson have no frame pointers),
	# each sample bucketed by profile.awk.
	echo "== profile: one more nexus pass under perf -> $OUT_DIR/profile.txt, $OUT_DIR/perf_top.txt"
	"${psql[@]}" -c "CALL bench.reset('nexus')"
	"${psql[@]}" -c "SELECT pg_sleep(2) /* bench-profile */" -c "CALL bench.run('nexus', 9)" >/dev/null &
	prof_psql=$!
	bpid=
	for _ in $(seq 1 40); do
		bpid=$("${psql[@]}" -At -c "SELECT pid FROM pg_stat_activity
		                             WHERE query LIKE 'SELECT pg_sleep(2) /* bench-profile */%' AND pid <> pg_backend_pid()")
		[ -n "$bpid" ] && break
		sleep 0.05
	done
	[ -n "$bpid" ] || die "profile: backend not found"
	perf record -F 250 --call-graph dwarf,32768 -p "$bpid" -o "$tmp/perf.data" >"$tmp/perf.log" 2>&1 &
	perf_pid=$!
	wait "$prof_psql" || die "profile run failed"
	stop_perf
	perf script -i "$tmp/perf.data" -F ip,sym 2>/dev/null >"$tmp/stacks.txt" || true
	awk -f "$here/profile.awk" "$tmp/stacks.txt" >"$OUT_DIR/profile.txt" || true
	perf report -i "$tmp/perf.data" --no-children --sort dso,symbol --percent-limit 0.4 -g none \
		--stdio 2>/dev/null | grep '%' >"$OUT_DIR/perf_top.txt" || true
	"${psql[@]}" -At -c "SELECT format('   profiled pass: %s s (perf overhead included)', round(seconds::numeric, 2))
	                       FROM bench.results WHERE round = 9"
	sed 's/^/   /' "$OUT_DIR/profile.txt"
fi

echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine slows every way alike)"
echo "== total $(( $(date +%s) - t_start )) s"
[ -s "$tmp/ratios" ] || die "no ratios computed"
cat "$tmp/ratios"
