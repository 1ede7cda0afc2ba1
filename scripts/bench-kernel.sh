# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The kernel rows of make bench, sourced by scripts/bench.sh (its helpers, WORK, LT, OUTPUT,
# RUNS). tests/bench/kernel_bench untraced, under leaktrace -k (system-wide), leaktrace -k -p
# (the benchmark only) and tests/bench/kmemleak.bt (bpftrace, system-wide, the peer baseline),
# medians of RUNS interleaved runs. Workloads: "pipes" (one process, pipe2 + two close per op)
# and "mixed" (KPROCS processes, each op a pipe with a page through it, an eventfd and a
# socketpair). Events per op are counted once per workload by tests/bench/kcount.bt.
KOPS=${KOPS:-300000}
KMIXED_OPS=${KMIXED_OPS:-100000}
KPROCS=${KPROCS:-4}
KSAMPLE=${KSAMPLE:-65536}
KMODES=${KMODES:-base lt_k lt_kp lt_k_sampled lt_kp_sampled bpftrace}
# LT_OLD=PATH adds a row for another leaktrace binary (-k -p), e.g. before a change
[ -n "${LT_OLD:-}" ] && KMODES+=" lt_kp_old"
KBENCH=$OUTPUT/bench/kernel_bench

# krun_one MODE WORKLOAD: "kernel MODE WORKLOAD cpu_ns wall_ns lost wall_s" or "kcount WORKLOAD N OPS"
krun_one() {
	local mode=$1 w=$2 d=$WORK/k.$1.$2 bp tp=0 ops=$KOPS
	[ "$w" = mixed ] && ops=$KMIXED_OPS
	mkdir -p "$d"
	: > "$d/t.out"
	start_ready "$d/b.out" kernel_bench "$KBENCH" "$w" "$ops" "$KPROCS"
	bp=$BG_PID
	case $mode in
	lt_*)
		local args=(-k) lt=$LT
		[[ $mode == lt_kp* ]] && args=(-k -p "$bp")
		[[ $mode == *_sampled ]] && args+=(--sample-bytes "$KSAMPLE")
		[ "$mode" = lt_kp_old ] && lt=$LT_OLD
		LT=$lt start_lt "$d/t.out" "$d/t.err" "${args[@]}" 3600 -T 100000
		tp=$BG_PID
		;;
	bpftrace | kcount)
		local bt=tests/bench/kmemleak.bt
		[ "$mode" = kcount ] && bt=tests/bench/kcount.bt
		BPFTRACE_MAP_KEYS_MAX=1048576 bpftrace "$bt" > "$d/t.out" 2> "$d/t.err" &
		tp=$!
		STARTED+=("$tp")
		wait_line "$d/t.out" '^Attaching' 30 || die "bpftrace: $(cat "$d/t.err")"
		sleep 3 # bpftrace prints before it attaches
		;;
	esac
	kill -USR1 "$bp"
	wait_line "$d/b.out" '^done' 600 || die "kernel_bench did not finish ($mode)"
	wait "$bp"
	local lost=- tcpu=0 left=-
	# the tracer's own CPU time (leaktrace reads its ring buffer on the other CPU), in ms
	[ "$tp" != 0 ] && tcpu=$(awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / t }' \
		"/proc/$tp/stat" 2>/dev/null || echo 0)
	if [ "$mode" = kcount ]; then
		kill -INT "$tp"
		wait "$tp"
		echo "kcount $w $(sed -nE 's/^@events: ([0-9]+)/\1/p' "$d/t.out") $ops"
		return 0
	elif [ "$mode" = bpftrace ]; then
		stop "$tp"
	elif [ "$tp" != 0 ]; then
		kill -INT "$tp" 2> /dev/null # with -p it ends when the benchmark does
		wait "$tp"
		lost=$(header_stat lost_events "$d/t.out")
		# every pipe of the benchmark was closed: its two files are freed at once (not after
		# RCU), so any left outstanding are false leaks (system-wide, other processes' pipes
		# are really held)
		if [ "$w" = pipes ] && [[ $mode == lt_kp* ]]; then
			cp "$d/t.out" "$TDIR/lt.out"
			left=$(kstacks create_pipe_files allocate_slab |
				awk '$1 == "slab:filp" { c += $2 } END { print c + 0 }')
		fi
	fi
	awk -v m="$mode" -v w="$w" -v lost="$lost" -v tcpu="$tcpu" -v left="$left" '{ v[$1] = $2 }
		END { printf "kernel %s %s %s %s %s %s %s %s\n", m, w, v["cpu_ns_per_op"],
			v["wall_ns_per_op"], lost, v["wall_s"], tcpu, left }' "$d/b.out"
}

echo
echo "kernel: pipes = $KOPS x (pipe2 + 2 close), one process; mixed = $KMIXED_OPS x (pipe + 4 KiB"
echo "        through it, eventfd, socketpair) over $KPROCS processes; ns/op is CPU time"
echo "        (user + system) of every process of the workload per op; *_sampled: --sample-bytes $KSAMPLE"
: > "$WORK/kresults"
for w in pipes mixed; do
	krun_one kcount "$w" >> "$WORK/kresults" || exit 1
done
for ((r = 1; r <= RUNS; r++)); do
	for w in pipes mixed; do
		for m in $KMODES; do
			krun_one "$m" "$w" >> "$WORK/kresults" || exit 1
		done
	done
	echo "  kernel run $r/$RUNS done" >&2
done

awk "$AWK_MEDIAN"'
$1 == "kcount" { epo[$2] = $3 / $4; next }
{
	k = $2 SUBSEP $3; if (!n[k]++) order[++no] = k
	cpu[k, n[k]] = $4; wall[k, n[k]] = $5; tc[k, n[k]] = $8; if ($6 != "-") lost[k] += $6
	if ($9 != "-") left[k] += $9
}
END {
	for (i = 1; i <= no; i++) {
		k = order[i]
		delete a; for (j = 1; j <= n[k]; j++) a[j] = cpu[k, j]; mc[k] = median(a, n[k])
		delete a; for (j = 1; j <= n[k]; j++) a[j] = wall[k, j]; mw[k] = median(a, n[k])
		delete a; for (j = 1; j <= n[k]; j++) a[j] = tc[k, j]; mt[k] = median(a, n[k])
	}
	printf "\n| workload | mode | ns/op (CPU) | ns/op (wall) | slowdown | added ns/op | vs bpftrace added | events/s | added ns/event | tracer CPU ms (startup incl.) | lost events | pipe files shown outstanding |\n"
	printf "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
	for (i = 1; i <= no; i++) {
		k = order[i]; split(k, kw, SUBSEP); m = kw[1]; w = kw[2]
		b = mc["base" SUBSEP w]; bt = mc["bpftrace" SUBSEP w] - b
		add = mc[k] - b
		ratio = (m == "base" || bt <= 0) ? "-" : sprintf("%.2fx", add / bt)
		slow = b > 0 ? mc[k] / b : 0
		per_ev = m == "base" ? "-" : sprintf("%.0f", add / epo[w])
		ls = (k in lost) ? lost[k] : "-"
		lf = (k in left) ? left[k] : "-"
		printf "| %s | %s | %.0f | %.0f | %.2fx | %.0f | %s | %.0f | %s | %.0f | %s | %s |\n", w,
			m, mc[k], mw[k], slow, add, ratio, epo[w] / (mw[k] * 1e-9), per_ev, mt[k], ls, lf
	}
	for (w in epo) printf "%s: %.1f kernel allocation events (allocs + frees) per op, system-wide\n", w, epo[w]
}' "$WORK/kresults" | tee "$WORK/ktable"
echo
echo "raw: kernel mode workload cpu_ns wall_ns lost wall_s tracer_cpu_ms pipe_files_left"
sort "$WORK/kresults"
