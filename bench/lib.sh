# shellcheck shell=bash
# bench/lib.sh: the throwaway cluster every benchmark runs in, sourced by
# bench/*/run.sh after `set -euo pipefail`.  One cluster per run, owned by
# the postgres OS user, reachable on 127.0.0.1 only, and stopped by its PID
# (never by name: other clusters may run on the same machine).
#
# On sourcing: PG_CONFIG (default pg_config), KEEP_CLUSTER (default 0) and
# BENCH_LOCALE (the cluster's locale, default C.UTF-8; en_US.UTF-8 is what
# many deployments run, its text comparisons going through strcoll) get
# their defaults; bindir and pkglibdir are PG_CONFIG's.
#
# die MSG...             "run.sh: MSG" on stderr, exit 1.
# bench_require          dies unless run as root, with a postgres OS user and
#                        nexus and pg_cron installed.
# bench_tmp NAME FIRST_PORT
#                        makes OUT_DIR (the caller sets it) and tmp, a new
#                        /tmp/nexus-bench-NAME.XXXXXX owned by postgres, mode
#                        700; sets data ($tmp/data), port (see free_port),
#                        pid, perf_pid, kept_note and kept_stop (empty), and
#                        makes cleanup run on exit, Ctrl-C and TERM.
# free_port FIRST_PORT   prints a port free on 127.0.0.1.
# cluster_init [NOTE]    prints the "== cluster:" line (NOTE appended), runs
#                        initdb in $data and writes the settings every
#                        benchmark shares to its postgresql.conf; the caller
#                        then appends its own.
# cluster_start          starts the server; sets pid (the postmaster's) and
#                        psql (an array: psql as postgres in database
#                        postgres, stopping at the first error).
# stop_perf              ends the perf record of perf_pid, if any, so that it
#                        writes its data; clears perf_pid.
# cleanup                (the exit trap) stop_perf; then, with KEEP_CLUSTER=1
#                        after a successful run, leaves the cluster running
#                        and says how to stop it (kept_note and kept_stop:
#                        what else the caller left running and how to stop
#                        it); otherwise stops the server by pid, calls
#                        cleanup_more if the caller defines it, copies the
#                        server log to OUT_DIR and removes tmp, keeping the
#                        run's exit status.

PG_CONFIG=${PG_CONFIG:-pg_config}
KEEP_CLUSTER=${KEEP_CLUSTER:-0}
BENCH_LOCALE=${BENCH_LOCALE:-C.UTF-8}
bindir=$("$PG_CONFIG" --bindir)
pkglibdir=$("$PG_CONFIG" --pkglibdir)

die() { echo "run.sh: $*" >&2; exit 1; }

bench_require() {
	[ "$(id -u)" = 0 ] || die "run as root (the cluster runs as the postgres OS user)"
	id postgres >/dev/null 2>&1 || die "no postgres OS user"
	[ -f "$pkglibdir/nexus.so" ] || die "nexus is not installed (make && make install)"
	[ -f "$pkglibdir/pg_cron.so" ] || die "pg_cron is not installed"
}

# A port the kernel hands out is free now and differs between benchmarks run
# side by side; without python3, the first of 101 ports from FIRST_PORT that
# nothing listens on (each benchmark passes its own range for that reason).
free_port() {
	if command -v python3 >/dev/null 2>&1 &&
		python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null; then
		return
	fi
	local p
	for p in $(seq "$1" $(($1 + 100))); do
		if ! ss -ltnH "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
	die "no free port"
}

bench_tmp() {
	bench_name=$1
	mkdir -p "$OUT_DIR"
	tmp=$(mktemp -d "/tmp/nexus-bench-$bench_name.XXXXXX")
	chown postgres: "$tmp"
	chmod 700 "$tmp"
	data="$tmp/data"
	port=
	pid=
	perf_pid=
	kept_note=
	kept_stop=
	# Armed before anything else can fail, so that tmp never outlives the run.
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	port=$(free_port "$2")
}

cluster_init() {
	echo "== cluster: $data, port $port, locale $BENCH_LOCALE, nexus.so md5 $(md5sum "$pkglibdir/nexus.so" | cut -c1-12)${1:+; $1}"
	runuser -u postgres -- "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale="$BENCH_LOCALE" --no-sync \
		>"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; die "initdb failed"; }
	cat >>"$data/postgresql.conf" <<EOF

# bench/$bench_name
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$tmp'
shared_preload_libraries = 'pg_cron,nexus'
cron.database_name = 'postgres'
logging_collector = on			# cleanup copies log/server.log to OUT_DIR
log_directory = 'log'
log_filename = 'server.log'
EOF
}

cluster_start() {
	runuser -u postgres -- "$bindir/pg_ctl" start -D "$data" -w -t 60 -l "$tmp/pg_ctl.log" >/dev/null ||
		{ cat "$tmp/pg_ctl.log" >&2; die "the server did not start"; }
	pid=$(head -1 "$data/postmaster.pid")
	psql=("$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
}

stop_perf() {
	if [ -n "$perf_pid" ] && kill -0 "$perf_pid" 2>/dev/null; then
		kill -INT "$perf_pid" 2>/dev/null || true
		wait "$perf_pid" 2>/dev/null || true
	fi
	perf_pid=
}

cleanup() {
	local rc=$?
	stop_perf
	if [ "$KEEP_CLUSTER" = 1 ] && [ $rc = 0 ]; then
		echo "cluster kept: psql -h 127.0.0.1 -p $port -U postgres;${kept_note:+ $kept_note;}" \
			"stop: runuser -u postgres -- $bindir/pg_ctl stop -D $data${kept_stop:+; $kept_stop} && rm -rf $tmp" >&2
		return
	fi
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		runuser -u postgres -- "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null 2>&1 ||
			kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	fi
	if declare -F cleanup_more >/dev/null; then cleanup_more; fi
	[ -f "$data/log/server.log" ] && cp "$data/log/server.log" "$OUT_DIR/server.log" 2>/dev/null || true
	rm -rf "$tmp"
	exit $rc
}
