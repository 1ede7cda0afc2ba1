#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The cost of CFI unwinding (issue 15): the same workload (malloc+free 10 frames deep, through a
# shared library) built with frame pointers and without, each run untraced and traced; added
# ns/op of the CFI walk on the FP-less build against the FP walk on the FP build, in one run.
# ROUNDS (default 5) alternating runs; medians. Then the BPF time alone: one more traced run of
# each walk with kernel.bpf_stats_enabled=1 (set for that run only: it adds to every program's
# cost), ns per run of each of leaktrace's programs, which no trap cost blurs. Then the table
# build time for libc, libstdc++ and libpython3.11 (leaktrace -v on a process that maps them).
set -u
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh # wait_line
OUTPUT=${OUTPUT:-$PWD/.output}
LT=${LT:-$PWD/leaktrace}
OPS=${OPS:-200000}
ROUNDS=${ROUNDS:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-unwind.XXXXXX")
STATS0=$(sysctl -n kernel.bpf_stats_enabled 2> /dev/null || echo 0)
trap 'sysctl -qw kernel.bpf_stats_enabled="$STATS0" 2> /dev/null; rm -rf "$WORK"' EXIT

die() { echo "bench-unwind: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (real BPF)"

# prog_stats PID: name, runs and ns per run of each program leaktrace PID holds that ran OPS/2+
prog_stats() {
	local f id
	for f in /proc/"$1"/fdinfo/*; do
		id=$(awk '/^prog_id:/ {print $2}' "$f" 2> /dev/null)
		[ -n "$id" ] && bpftool prog show id "$id" 2> /dev/null | head -1
	done | sort -u | awk -v min=$((OPS / 2)) '{
		n = ""; t = 0; c = 0
		for (i = 1; i < NF; i++) {
			if ($i == "name") n = $(i + 1)
			if ($i == "run_time_ns") t = $(i + 1)
			if ($i == "run_cnt") c = $(i + 1)
		}
		if (c >= min) printf "%s %d runs %.0f ns/run; ", n, c, t / c
	}'
}

# run BUILD [LEAKTRACE ARGS...]: prints cpu_ns_per_op of one run, traced when args are given;
# with STATS=1, the programs' bpf_stats to $WORK/stats instead
run() {
	local build=$1 pp lp
	shift
	# emptied here, not by the redirections: a wait_line run before the child opens the file
	# saw the last run's lines (the signal came before the program blocked it: it died)
	: > "$WORK/prog"
	: > "$WORK/lt.err"
	"$OUTPUT/bench/uwbench-$build" "$OPS" > "$WORK/prog" 2>&1 &
	pp=$!
	wait_line "$WORK/prog" '^ready' 10 || die "uwbench-$build did not start"
	if [ $# -gt 0 ]; then
		"$LT" -p "$pp" "$@" > "$WORK/lt.out" 2> "$WORK/lt.err" &
		lp=$!
		wait_line "$WORK/lt.err" 'tracing pid' 30 || die "leaktrace did not start: $(cat "$WORK/lt.err")"
	fi
	[ "${STATS:-0}" = 1 ] && sysctl -qw kernel.bpf_stats_enabled=1
	kill -USR1 "$pp"
	wait_line "$WORK/prog" '^done' 300 || die "uwbench-$build did not finish"
	if [ "${STATS:-0}" = 1 ]; then
		prog_stats "$lp" > "$WORK/stats"
		sysctl -qw kernel.bpf_stats_enabled="$STATS0"
	fi
	[ $# -gt 0 ] && { kill -INT "$lp"; wait "$lp"; }
	kill -TERM "$pp"
	wait "$pp" 2> /dev/null
	awk '/^cpu_ns_per_op/ {print $2}' "$WORK/prog"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

for ((r = 0; r < ROUNDS; r++)); do
	run fp >> "$WORK/base_fp"
	run nofp >> "$WORK/base_nofp"
	run fp --unwind fp >> "$WORK/fp_walk"
	run nofp --unwind auto >> "$WORK/cfi_walk"
	run nofp --unwind fp >> "$WORK/fp_on_nofp"
done
bf=$(median < "$WORK/base_fp")
bn=$(median < "$WORK/base_nofp")
fw=$(median < "$WORK/fp_walk")
cw=$(median < "$WORK/cfi_walk")
fn=$(median < "$WORK/fp_on_nofp")
echo "unwind bench: $OPS malloc+free 10 frames deep, thread CPU ns/op, median of $ROUNDS"
printf "| build | untraced | traced | added ns/op |\n|---|---|---|---|\n"
printf "| frame pointers, --unwind fp | %.0f | %.0f | %.0f |\n" "$bf" "$fw" "$(echo "$fw - $bf" | bc -l)"
printf "| no frame pointers, --unwind auto (CFI) | %.0f | %.0f | %.0f |\n" "$bn" "$cw" "$(echo "$cw - $bn" | bc -l)"
printf "| no frame pointers, --unwind fp (broken stacks) | %.0f | %.0f | %.0f |\n" "$bn" "$fn" "$(echo "$fn - $bn" | bc -l)"
printf "CFI walk added / FP walk added: %.2f\n" "$(echo "($cw - $bn) / ($fw - $bf)" | bc -l)"

if command -v bpftool > /dev/null && sysctl -qw kernel.bpf_stats_enabled="$STATS0" 2> /dev/null; then
	echo "BPF time (bpf_stats, one traced run each):"
	STATS=1 run fp --unwind fp > /dev/null
	echo "  frame pointers, --unwind fp: $(cat "$WORK/stats")"
	STATS=1 run nofp --unwind auto > /dev/null
	echo "  no frame pointers, --unwind auto (CFI): $(cat "$WORK/stats")"
fi

# table build time for the three big FP-less libraries, from leaktrace -v's own lines
libs=()
for l in libc.so.6 libstdc++.so.6 libpython3.11.so.1.0; do
	f=$(ldconfig -p | awk -v l="$l" '$1 == l && /x86-64/ {print $NF; exit}')
	[ -n "$f" ] && libs+=("$f")
done
cat > "$WORK/maplibs.py" <<'PY'
import ctypes, os, sys, signal
for l in sys.argv[1:]:
    ctypes.CDLL(l)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGTERM})
print("ready", flush=True)
signal.sigwait({signal.SIGUSR1, signal.SIGTERM})
PY
/usr/bin/python3 "$WORK/maplibs.py" "${libs[@]}" > "$WORK/py" 2>&1 &
pp=$!
wait_line "$WORK/py" '^ready' 10 || die "python3 did not start"
timeout 20 "$LT" -v -p "$pp" 1 1 > /dev/null 2> "$WORK/lt.err"
kill -TERM "$pp"
wait "$pp" 2> /dev/null
echo "table build time (leaktrace -v):"
grep -E 'unwind: .*(libc\.so|libstdc\+\+|libpython3\.11)[^:]*: [0-9]+ rows' "$WORK/lt.err" | sed 's/^/  /'
grep -E 'unwind: .*(libc\.so|libstdc\+\+|libpython3\.11)[^:]*: [0-9]+ rows' "$WORK/lt.err" |
	awk '{s += $(NF - 1); r += $4} END {printf "  together: %d rows, %.1f ms, %.0f KiB\n", r, s, r * 8 / 1024}'
