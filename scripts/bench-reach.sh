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
. scripts/bench-lib.sh
bench_init bench-reach
[ -x "$PROG" ] || die "$PROG not built (make test builds it)"

# one_run BYTES: "pause_ms cpu_ms scanned_bytes" of the final scan
one_run() {
	local p t
	start_ready "$WORK/p.out" program "$PROG" big "$MIB" "$1"
	p=$BG_PID
	start_lt /dev/null "$WORK/t.err" -v -T 1 --no-lines -p "$p" --reachable 86400
	t=$BG_PID
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
for bytes in 4096 65536; do
	: > "$WORK/runs"
	for ((i = 0; i < RUNS; i++)); do one_run "$bytes" >> "$WORK/runs" || exit 1; done
	awk -v b="$bytes" -v mib="$MIB" -v p="$(median_of 1 "$WORK/runs")" \
		-v c="$(median_of 2 "$WORK/runs")" -v r="$(median_of 3 "$WORK/runs")" 'BEGIN {
		gib = r / 1073741824
		printf "| %d | %d | %.0f | %.0f | %.0f | %.2f | %.2f |\n", b, mib * 1048576 / b, p, c,
			r / 1048576, p / 1000 / gib, c / 1000 / gib }'
done
