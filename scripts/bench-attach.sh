#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make bench, attaching and detaching (run by scripts/bench.sh, or alone): medians of RUNS runs
#   start_to_tracing_ms  leaktrace -p PID 1 1, to its "tracing" line, PID mapping 40 libraries
#   report_to_exit_ms    the same run, from its report's last line to its exit
#   true_wall_ms         leaktrace -- /bin/true, wall
#   ..._perf             the same with LEAKTRACE_NO_MULTI=1 (a perf-event uprobe per site)
#   detach_ms MODE       tests/bench/detach: empty programs on leaktrace's glibc sites, each
#                        link type (perf, perf_par, multi, session, session1), attach and detach
# Root, real BPF; ~1 minute.
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-$PWD/.output}
LT=${LT:-$PWD/leaktrace}
RUNS=${RUNS:-5}
. scripts/bench-lib.sh
bench_init bench-attach

ms() { echo $(($(date +%s%N) / 1000000)); }

# lt_times ARGS...: "START REPORT_TO_EXIT WALL" (ms) of one leaktrace run
lt_times() {
	local t0 t1 now line tr=0 last=0
	t0=$(ms)
	while IFS= read -r line; do
		now=$(ms)
		[[ $tr = 0 && $line == *"leaktrace: tracing"* ]] && tr=$now
		[[ $line == "["* || $line == $'\t'* || $line == Top* ]] && last=$now
	done < <(env "${ENVS[@]}" "$LT" "$@" 2>&1)
	t1=$(ms)
	echo $((tr - t0)) $((t1 - last)) $((t1 - t0))
}

# a target mapping 40 shared libraries of its own (and libc), allocating now and then
mk_target() {
	local i
	mkdir -p "$WORK/libs"
	for i in $(seq 1 40); do
		echo "int lib$i(int x) { return x + $i; }" > "$WORK/libs/l$i.c"
		cc -shared -fPIC -O1 "$WORK/libs/l$i.c" -o "$WORK/libs/liblt$i.so" || return 1
	done
	{
		echo '#include <stdio.h>'
		echo '#include <stdlib.h>'
		echo '#include <unistd.h>'
		for i in $(seq 1 40); do echo "int lib$i(int);"; done
		echo 'int main(void) { int s = 0;'
		for i in $(seq 1 40); do echo "s += lib$i(s);"; done
		echo 'printf("ready %d\n", s); fflush(stdout);'
		echo 'for (;;) { free(malloc(100)); usleep(1000); } }'
	} > "$WORK/libs/main.c"
	cc -O1 "$WORK/libs/main.c" -L"$WORK/libs" $(seq -f '-llt%g' 1 40) \
		-Wl,-rpath,"$WORK/libs" -o "$WORK/many"
}

mk_target || die "cannot build the 40-library target"
start_ready "$WORK/many.out" "the 40-library target" "$WORK/many"
TP=$BG_PID
disown
echo "attach and detach: $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg), $RUNS runs each"
echo "target: pid $TP mapping $(grep -c '\.so' /proc/$TP/maps) library mappings"
for mode in multi perf; do
	: > "$WORK/p.$mode"
	: > "$WORK/t.$mode"
	ENVS=(LEAKTRACE_BENCH=1)
	[ "$mode" = perf ] && ENVS=(LEAKTRACE_NO_MULTI=1)
	for ((r = 0; r < RUNS; r++)); do
		lt_times -p "$TP" 1 1 -T 1 --no-lines >> "$WORK/p.$mode"
		lt_times -T 1 -- /bin/true >> "$WORK/t.$mode"
	done
done
echo
echo "| link type | start_to_tracing_ms (-p, 40 libs) | report_to_exit_ms (-p) | true_wall_ms (-- /bin/true) | report_to_exit_ms (/bin/true) |"
echo "| --- | --- | --- | --- | --- |"
for mode in multi perf; do
	printf "| %s | %s | %s | %s | %s |\n" "$mode" "$(median_of 1 "$WORK/p.$mode")" \
		"$(median_of 2 "$WORK/p.$mode")" "$(median_of 3 "$WORK/t.$mode")" \
		"$(median_of 2 "$WORK/t.$mode")"
done

# the sites leaktrace probes in glibc (placement included); ":r" for those with a return
libc=$(awk '$6 ~ /\/libc\.so\.6$/ { print $6; exit }' /proc/$TP/maps)
sites=$("$LT" -v -p "$TP" 1 1 2>&1 >/dev/null |
	sed -nE 's/^leaktrace: probe ([a-z_]+) at libc\.so\.6\+(0x[0-9a-f]+) \(\+([0-9]+).*/\1 \2 \3/p' |
	while read -r sym off plus; do
		case $sym in free | cfree) r= ;; *) r=:r ;; esac
		printf '0x%x%s ' $((off + plus)) "$r"
	done)
[ -n "$sites" ] || die "no libc sites in leaktrace -v output"
echo
echo "| link type ($(wc -w <<< "$sites") glibc sites) | links | attach_ms | detach_ms |"
echo "| --- | --- | --- | --- |"
for mode in perf perf_par multi session session1; do
	: > "$WORK/d.$mode"
	for ((r = 0; r < RUNS; r++)); do
		"$OUTPUT/bench/detach" "$mode" "$TP" "$libc" $sites >> "$WORK/d.$mode" ||
			die "detach $mode failed"
	done
	printf "| %s | %s | %s | %s |\n" "$mode" "$(awk '{print $3; exit}' "$WORK/d.$mode")" \
		"$(median_of 5 "$WORK/d.$mode")" "$(median_of 7 "$WORK/d.$mode")"
done
