#!/usr/bin/env bash
# bench/sync/procs.sh OUT POSTMASTER_PID SIM_PID: one snapshot of the CPU
# time and memory of the simulator, the postmaster and every process under
# it (run as root, from run.sh and from psql's \! inside a timed pass).
#
# OUT gets one line per process, tab-separated:
#   pid  ppid  utime+stime (clock ticks)  VmHWM  VmRSS  RssAnon  RssShmem (kB)  title
# and a first line "cpu <busy ticks> <all ticks> <ticks per second> <epoch s>" for the whole
# machine (/proc/stat), so that a pair of snapshots gives the CPU time of
# each process between them.
out=$1
pm=$2
sim=$3
tck=$(getconf CLK_TCK)
{
	awk -v tck="$tck" -v now="$(date +%s.%N)" '$1 == "cpu" {
		all = 0; for (i = 2; i <= NF; i++) all += $i
		# idle and iowait are not busy
		printf "cpu\t%d\t%d\t%d\t%s\n", all - $5 - $6, all, tck, now
		exit }' /proc/stat
	for p in "$sim" "$pm" $(ps --ppid "$pm" -o pid= 2>/dev/null); do
		[ -r "/proc/$p/stat" ] || continue
		stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		title=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | sed 's/ *$//')
		mem=$(awk '/^VmHWM:/ { h = $2 } /^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssShmem:/ { s = $2 }
		           END { printf "%d\t%d\t%d\t%d", h, r, a, s }' "/proc/$p/status" 2>/dev/null)
		# Fields after "pid (comm) ": state ppid ... utime (12th) stime (13th).
		rest=${stat##*) }
		set -- $rest
		printf '%s\t%s\t%s\t%s\t%s\n' "$p" "$2" "$((${12} + ${13}))" "$mem" "$title"
	done
} >"$out"
