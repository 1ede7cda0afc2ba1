#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --reachable: the pause of one scan of a 1 GiB heap (MIB MiB in blocks of BYTES, a list from a
# global: the scan cannot batch what it has not reached yet). tests/progs/reachable allocates it
# under leaktrace; the final report scans it. Medians of RUNS runs of the pause, leaktrace's CPU
# time in it (the pause without waiting for a CPU: the figure that does not depend on load),
# and the bytes read. Root, real BPF. ~1 minute.
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-$PWD/.output}
LT=${LT:-$PWD/leaktrace}
PROG=$OUTPUT/tests/reachable
RUNS=${RUNS:-3}
MIB=${MIB:-1024}
WORK=$(mktemp -d /tmp/leaktrace-bench-reach.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT
die() { echo "bench-reach: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (real BPF)"
[ -x "$PROG" ] || die "$PROG not built (make test builds it)"

# wait_line FILE REGEX SECONDS
wait_line() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# one_run BYTES: "pause_ms cpu_ms scanned_bytes" of the final scan
one_run() {
	local p t
	: > "$WORK/p.out"
	: > "$WORK/t.err"
	"$PROG" big "$MIB" "$1" > "$WORK/p.out" 2>&1 &
	p=$!
	PIDS+=("$p")
	wait_line "$WORK/p.out" '^ready' 10 || die "program did not start"
	"$LT" -v -T 1 --no-lines -p "$p" --reachable 86400 > /dev/null 2> "$WORK/t.err" &
	t=$!
	PIDS+=("$t")
	wait_line "$WORK/t.err" 'tracing pid' 30 || die "tracer did not start: $(tail -n 2 "$WORK/t.err")"
	kill -USR1 "$p"
	wait_line "$WORK/p.out" '^done' 600 || die "program did not finish allocating"
	kill -INT "$t"
	wait "$t" || die "leaktrace failed: $(tail -n 2 "$WORK/t.err")"
	kill -KILL "$p"
	wait "$p" 2>/dev/null
	sed -nE 's/.*reachability scan of pid [0-9]+: paused ([0-9.]+) ms \(([0-9.]+) ms of CPU\), scanned ([0-9]+) bytes.*/\1 \2 \3/p' \
		"$WORK/t.err" | tail -n 1 | grep . || die "no scan line: $(tail -n 3 "$WORK/t.err")"
}

echo "reachability scan of a $MIB MiB heap (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
printf "| block size | blocks | pause ms | CPU ms | read MiB | pause s/GiB | CPU s/GiB |\n"
printf "| --- | --- | --- | --- | --- | --- | --- |\n"
# median COLUMN FILE
median() {
	awk -v c="$1" '{ print $c }' "$2" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

for bytes in 4096 65536; do
	: > "$WORK/runs"
	for ((i = 0; i < RUNS; i++)); do one_run "$bytes" >> "$WORK/runs" || exit 1; done
	awk -v b="$bytes" -v mib="$MIB" -v p="$(median 1 "$WORK/runs")" -v c="$(median 2 "$WORK/runs")" \
		-v r="$(median 3 "$WORK/runs")" 'BEGIN {
		gib = r / 1073741824
		printf "| %d | %d | %.0f | %.0f | %.0f | %.2f | %.2f |\n", b, mib * 1048576 / b, p, c,
			r / 1048576, p / 1000 / gib, c / 1000 / gib }'
done
