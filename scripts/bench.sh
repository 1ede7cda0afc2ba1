#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make bench: tests/bench/malloc_bench uninstrumented, under leaktrace (full and sampled) and
# under tests/bench/memleak.bt (bpftrace, the peer baseline), 1 and 2 threads, medians of RUNS
# runs interleaved so that load from other users of the machine hits every mode alike; the trap
# floor (tests/bench/floor: empty programs on leaktrace's own probe sites, with its link types)
# in the same rounds; then the tracker at 1M outstanding allocations (tests/bench/scale). Root,
# real BPF. ~4-5 minutes.
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-$PWD/.output}
LT=${LT:-$PWD/leaktrace}
BENCH=$OUTPUT/bench/malloc_bench
FLOOR=$OUTPUT/bench/floor
RUNS=${RUNS:-3}
OPS=${OPS:-40000}
LEAK_BLOCKS=${LEAK_BLOCKS:-65536}
SAMPLE=524288
. tests/lib.sh # header_stat, site_stat
. scripts/bench-lib.sh
bench_init bench
TDIR=$WORK
# the reference tracer: installed like the build dependencies, from Debian's archive
command -v bpftrace > /dev/null || scripts/deps.sh bpftrace ||
	die "bpftrace not installed and could not be (apt-get install bpftrace)"
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing

# probe_sites PID: FLOOR_ARGS="PATH MALLOC CALLOC REALLOC FREE", the probe sites `leaktrace -v`
# reports for the process (placement included), so that the floor probes exactly those
probe_sites() {
	# leaktrace: probe free at libc.so.6+0x98ef0 (+3, emulated)
	local re='^leaktrace: probe (malloc|calloc|realloc|free) at (.*)\+(0x[0-9a-f]+) \(\+([0-9]+).*'
	local sym obj off plus lib path
	declare -A site
	timeout 30 "$LT" -v -p "$1" 1 1 --no-lines > /dev/null 2> "$WORK/sites.err"
	while read -r sym obj off plus; do
		site[$sym]=$(printf '0x%x' $((off + plus)))
		lib=$obj
	done < <(sed -nE "s/$re/\\1 \\2 \\3 \\4/p" "$WORK/sites.err")
	for sym in malloc calloc realloc free; do
		[ -n "${site[$sym]:-}" ] || die "no $sym site for pid $1: $(cat "$WORK/sites.err")"
	done
	# leaktrace prints the object's base name; the process's maps have its path
	path=$(awk -v b="$lib" '{ n = split($6, p, "/") } n && p[n] == b { print $6; exit }' \
		"/proc/$1/maps")
	[ -n "$path" ] || die "cannot find $lib in the maps of pid $1"
	FLOOR_ARGS="$path ${site[malloc]} ${site[calloc]} ${site[realloc]} ${site[free]}"
}

# learn_sites: probe_sites of malloc_bench
learn_sites() {
	start_ready "$WORK/sites.out" benchmark "$BENCH" 1 1 0
	probe_sites "$BG_PID"
	stop "$BG_PID"
}

# run_one MODE THREADS: one result line "mode threads cpu_ns wall_ns lost est truth sd"
run_one() {
	local mode=$1 th=$2 d=$WORK/$1.$2 bp tp=0
	mkdir -p "$d"
	# the same files serve each of the 3 runs: emptied before each (start_ready, start_lt), or
	# wait_line could find the previous run's "ready" or "tracing" line
	: > "$d/t.out"
	: > "$d/t.err"
	# the leak comes after the timed loop; only the sampled estimate needs it large
	local leak=1000
	[[ $mode == sampled* ]] && leak=$LEAK_BLOCKS
	start_ready "$d/b.out" benchmark "$BENCH" "$OPS" "$th" "$leak"
	bp=$BG_PID
	case $mode in
	full | sampled | sampled_classic | full_free0)
		local args=() LT_ENV=()
		[[ $mode == sampled* ]] && args=(--sample-bytes $SAMPLE)
		[ "$mode" = sampled_classic ] && LT_ENV=(LEAKTRACE_NO_SESSION=1)
		[ "$mode" = full_free0 ] && LT_ENV=(LEAKTRACE_PROBE_AT_ENTRY=1)
		start_lt "$d/t.out" "$d/t.err" -p "$bp" 3600 -T 5 --no-lines "${args[@]}"
		tp=$BG_PID
		;;
	floor_*)
		"$FLOOR" "${mode#floor_}" "$bp" $FLOOR_ARGS > "$d/t.out" 2> "$d/t.err" &
		tp=$!
		STARTED+=("$tp")
		wait_line "$d/t.out" '^attached' 30 || die "floor: $(cat "$d/t.err")"
		;;
	bpftrace)
		bpftrace -p "$bp" tests/bench/memleak.bt > "$d/t.out" 2> "$d/t.err" &
		tp=$!
		STARTED+=("$tp")
		wait_line "$d/t.out" '^Attaching' 30 || die "bpftrace: $(cat "$d/t.err")"
		sleep 3 # bpftrace prints before it attaches (1 s was too short under load)
		;;
	esac
	kill -USR1 "$bp"
	wait_line "$d/b.out" '^done' 600 || die "benchmark did not finish ($mode)"
	local lost=- est=-
	if [ "$tp" != 0 ]; then
		if [ "$mode" = bpftrace ]; then
			stop "$tp"
		elif [[ $mode == floor_* ]]; then
			kill -INT "$tp"
			wait "$tp"
		else
			kill -INT "$tp"
			wait "$tp"
			lost=$(header_stat lost_events "$d/t.out")
			est=$(site_stat leak_known bytes "$d/t.out")
		fi
	fi
	stop "$bp"
	awk -v m="$mode" -v t="$th" -v lost="$lost" -v est="$est" '
		{ v[$1] = $2 }
		END { printf "%s %s %s %s %s %s %s %s %s\n", m, t, v["cpu_ns_per_op"],
			v["wall_ns_per_op"], lost, est, v["leaked_bytes"], v["leak_sd_bytes"],
			v["wall_s"] }' "$d/b.out"
}

ALL_MODES="base floor_full floor_sampled floor_multi floor_stack floor_stack_fp full sampled bpftrace"
ALL_MODES+=" full_free0 sampled_classic"
MODES=${MODES:-$ALL_MODES}
# PARTS="kernel": the kernel rows only (scripts/bench-kernel.sh); "user": the user ones only
PARTS=${PARTS:-user kernel}
echo "leaktrace bench: $(uname -r), $(nproc) CPUs ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(date -u +%FT%TZ)"
echo "NOTE: this machine is shared (other builds and tests run on it); every number below is the"
echo "      median of $RUNS interleaved runs, and ratios are taken within this one invocation."
echo "workload: $OPS ops per run (malloc|calloc 16..527 B + free, realloc every 8th op), then a"
echo "          known leak (sampled runs: $LEAK_BLOCKS blocks of 8..120 KiB, others 1000); ns/op is thread CPU time"
echo "          (user + kernel, so uprobe handling counts) per op"
: > "$WORK/results"
if [ "$PARTS" = kernel ]; then
	. scripts/bench-kernel.sh
	exit 0
fi
[[ " $MODES " == *" floor_"* ]] && learn_sites
[[ " $MODES " == *" floor_"* ]] && echo "floor: empty BPF programs at $FLOOR_ARGS (malloc calloc realloc free)"
for ((r = 1; r <= RUNS; r++)); do
	for th in 1 2; do
		for m in $MODES; do
			# the micro-benchmarks (placement, link types, stacks) need one thread only
			[[ $m =~ ^(full_free0|sampled_classic|floor_stack.*)$ ]] &&
				[ "$th" = 2 ] && continue
			run_one "$m" "$th" >> "$WORK/results" || exit 1
		done
	done
	echo "  run $r/$RUNS done" >&2
done

awk -v sample=$SAMPLE -v modelist="$ALL_MODES" "$AWK_MEDIAN"'
{
	k = $1 SUBSEP $2; n[k]++
	cpu[k, n[k]] = $3; wall[k, n[k]] = $4; wall_s[k, n[k]] = $9
	if ($5 != "-") lost[k] += $5
	if ($6 != "-") { err = ($6 - $7) / $7 * 100; errs[k] = errs[k] sprintf(" %+.1f%%", err)
		if (err < 0) err = -err; if (err > maxerr[k]) maxerr[k] = err }
	if ($1 == "sampled") { truth = $7; sd = $8 }
}
END {
	nm = split(modelist, modes, " ")
	# the trap floor of each mode: empty programs on the same sites with the same link types
	# full tracing attaches uprobe_multi links (one for entries, one for returns) since issue 13
	floor_of["full"] = "floor_multi"; floor_of["sampled_classic"] = "floor_full"
	floor_of["sampled"] = "floor_sampled"
	for (t = 1; t <= 2; t++) {
		for (mi = 1; mi <= nm; mi++) {
			k = modes[mi] SUBSEP t
			if (!n[k]) continue
			delete a; for (i = 1; i <= n[k]; i++) a[i] = cpu[k, i]; mc[k] = median(a, n[k])
			delete a; for (i = 1; i <= n[k]; i++) a[i] = wall[k, i]; mw[k] = median(a, n[k])
			delete a; for (i = 1; i <= n[k]; i++) a[i] = wall_s[k, i]; ms[k] = median(a, n[k])
		}
	}
	printf "\n| threads | mode | ns/op (CPU) | ns/op (wall) | added ns/op | vs bpftrace added | above its floor | vs its floor | lost events | leak estimate error |\n"
	printf "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
	for (t = 1; t <= 2; t++) {
		b = mc["base" SUBSEP t]; bt = mc["bpftrace" SUBSEP t] - b
		for (mi = 1; mi <= nm; mi++) {
			k = modes[mi] SUBSEP t
			if (!n[k]) continue
			add = mc[k] - b
			ratio = (modes[mi] == "base" || bt <= 0) ? "-" : sprintf("%.2fx", add / bt)
			above = "-"; fratio = "-"
			f = floor_of[modes[mi]] SUBSEP t
			if ((modes[mi] in floor_of) && n[f] && mc[f] > b) {
				above = sprintf("%.0f", mc[k] - mc[f])
				fratio = sprintf("%.2fx", add / (mc[f] - b))
			}
			printf "| %d | %s | %.0f | %.0f | %.0f | %s | %s | %s | %s | %s |\n", t,
				modes[mi], mc[k], mw[k], add, ratio, above, fratio,
				(k in lost) ? lost[k] : "-", (k in errs) ? errs[k] : "-"
		}
	}
	if (truth > 0)
		printf "\nleak: %.0f bytes; sampled estimate 1 sd = %.2f%% (from the block sizes)\n",
			truth, sd / truth * 100
	k = "full" SUBSEP 1
	if (n[k]) printf "one thread, full tracing: %.0f events/s sustained (2 events per op: alloc, free), %d lost\n", 2 / (mw[k] * 1e-9), lost[k]
	if (n["full_free0" SUBSEP 1]) printf "free probed at +0 (single-stepped test) instead of +3: %+.0f ns/op\n", mc["full_free0" SUBSEP 1] - mc[k]
	k = "sampled" SUBSEP 1
	if (n["sampled_classic" SUBSEP 1]) printf "sampled with classic return probes instead of session probes: %+.0f ns/op\n", mc["sampled_classic" SUBSEP 1] - mc[k]
	f = mc["floor_full" SUBSEP 1]
	if (n["floor_multi" SUBSEP 1] && f) printf "floor with two uprobe_multi links instead of perf-event uprobes and uretprobes: %+.0f ns/op\n", mc["floor_multi" SUBSEP 1] - f
	if (n["floor_stack" SUBSEP 1] && f) printf "floor + a user stack per allocation by bpf_get_stack(): %+.0f ns/op\n", mc["floor_stack" SUBSEP 1] - f
	if (n["floor_stack_fp" SUBSEP 1] && f) printf "floor + the same stack by a frame-pointer walk in BPF: %+.0f ns/op\n", mc["floor_stack_fp" SUBSEP 1] - f
}' "$WORK/results" | tee "$WORK/table"
echo
echo "raw: mode threads cpu_ns wall_ns lost estimate truth sd wall_s"
sort "$WORK/results"

# --- allocator rows and the real-server row (issue 21) ---------------------------------------
# malloc_bench linked against each allocator, one thread: full and sampled tracing against
# their own trap floor (empty programs on the sites leaktrace -v names for that allocator);
# then redis-server (Debian's, jemalloc) under redis-benchmark, traced / untraced.
alloc_rows() {
	local a bin saved=$BENCH r m
	: > "$WORK/alloc_results"
	for a in glibc jemalloc tcmalloc mimalloc; do
		bin=$OUTPUT/bench/malloc_bench-$a
		[ "$a" = glibc ] && bin=$saved
		[ -x "$bin" ] || { echo "allocator rows: no $bin, $a skipped"; continue; }
		BENCH=$bin
		learn_sites
		echo "$a floor sites: $FLOOR_ARGS"
		for ((r = 1; r <= RUNS; r++)); do
			for m in base floor_multi full floor_sampled sampled; do
				run_one "$m" 1 > "$WORK/alloc_one" || exit 1
				echo "$a $(cat "$WORK/alloc_one")" >> "$WORK/alloc_results"
			done
		done
	done
	BENCH=$saved
	awk "$AWK_MEDIAN"'
	{ k = $1 SUBSEP $2; n[k]++; v[k, n[k]] = $4; if (!($1 in seen)) { seen[$1]; o[++na] = $1 } }
	END {
		printf "\n| allocator | base ns/op | full added | its floor added | full vs floor | sampled added | its floor added | sampled vs floor |\n"
		printf "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
		for (i = 1; i <= na; i++) {
			a = o[i]
			split("base floor_multi full floor_sampled sampled", ms, " ")
			for (j = 1; j <= 5; j++) {
				k = a SUBSEP ms[j]; delete t
				for (x = 1; x <= n[k]; x++) t[x] = v[k, x]
				med[ms[j]] = median(t, n[k])
			}
			b = med["base"]
			printf "| %s | %.0f | %.0f | %.0f | %.2fx | %.0f | %.0f | %.2fx |\n", a, b,
				med["full"] - b, med["floor_multi"] - b,
				(med["full"] - b) / (med["floor_multi"] - b), med["sampled"] - b,
				med["floor_sampled"] - b,
				(med["sampled"] - b) / (med["floor_sampled"] - b)
		}
	}' "$WORK/alloc_results"
}

# redis_rps PORT: "SET GET" requests per second from a short redis-benchmark run
redis_rps() {
	redis-benchmark -p "$1" -t set,get -c 20 -n "${REDIS_REQS:-100000}" -q 2> /dev/null |
		tr '\r' '\n' | awk '/^SET:/ { s = $2 } /^GET:/ { g = $2 } END { print s + 0, g + 0 }'
}

redis_row() {
	local port rp tp d=$WORK/redis r mode args res
	command -v redis-server > /dev/null && command -v redis-benchmark > /dev/null ||
		scripts/deps.sh redis-server redis-tools || { echo "redis row: no redis"; return; }
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$d"
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
		--dir "$d" > "$d/server.out" 2>&1 &
	rp=$!
	STARTED+=("$rp")
	for _ in $(seq 100); do redis-cli -p "$port" ping 2> /dev/null | grep -q PONG && break; sleep 0.1; done
	probe_sites "$rp"
	echo "redis floor sites: $FLOOR_ARGS"
	: > "$d/results"
	for ((r = 1; r <= RUNS; r++)); do
		for mode in untraced floor_multi full floor_sampled sampled; do
			tp=0
			if [[ $mode == floor_* ]]; then
				: > "$d/f.out"
				"$FLOOR" "${mode#floor_}" "$rp" $FLOOR_ARGS > "$d/f.out" 2> "$d/f.err" &
				tp=$!
				STARTED+=("$tp")
				wait_line "$d/f.out" '^attached' 30 || die "floor: $(cat "$d/f.err")"
			elif [ "$mode" != untraced ]; then
				args=()
				[ "$mode" = sampled ] && args=(--sample-bytes $SAMPLE)
				start_lt "$d/t.out" "$d/t.err" -p "$rp" 3600 -T 5 --no-lines "${args[@]}"
				tp=$BG_PID
			fi
			res=$(redis_rps "$port")
			echo "$mode $res" >> "$d/results"
			if [ "$tp" != 0 ]; then
				kill -INT "$tp"
				wait "$tp"
			fi
		done
	done
	stop "$rp"
	awk -v reqs="${REDIS_REQS:-100000}" "$AWK_MEDIAN"'
	{ n[$1]++; s[$1, n[$1]] = $2; g[$1, n[$1]] = $3 }
	END {
		printf "\nredis-server (jemalloc) under redis-benchmark -t set,get -c 20 -n %d -q, medians:\n", reqs
		printf "| mode | SET req/s | GET req/s | SET vs untraced | GET vs untraced |\n| --- | --- | --- | --- | --- |\n"
		split("untraced floor_multi full floor_sampled sampled", ms, " ")
		for (j = 1; j <= 5; j++) {
			m = ms[j]; delete t; for (x = 1; x <= n[m]; x++) t[x] = s[m, x]; ms_[m] = median(t, n[m])
			delete t; for (x = 1; x <= n[m]; x++) t[x] = g[m, x]; mg[m] = median(t, n[m])
			printf "| %s | %.0f | %.0f | %.0f%% | %.0f%% |\n", m, ms_[m], mg[m],
				100 * ms_[m] / ms_["untraced"], 100 * mg[m] / mg["untraced"]
		}
	}' "$d/results"
}

[ "${ALLOC_ROWS:-1}" = 1 ] && alloc_rows
[ "${REDIS_ROW:-1}" = 1 ] && redis_row
# --- end of allocator and real-server rows ----------------------------------------------------

echo
"$OUTPUT/bench/scale" 1000000
echo "uprobe link types this kernel takes (leaktrace makes session links by hand when sampling):"
"$OUTPUT/bench/uprobe_session" | sed 's/^/  /'
echo
OUTPUT=$OUTPUT LT=$LT scripts/bench-attach.sh
echo
OUTPUT=$OUTPUT LT=$LT scripts/bench-reach.sh
echo
OUTPUT=$OUTPUT LT=$LT scripts/bench-unwind.sh
echo
# CPython: an allocation loop untraced, traced with native frames only, and with Python frames
OUTPUT=$OUTPUT LT=$LT RUNS=$RUNS scripts/bench-python.sh
[[ " $PARTS " == *" kernel "* ]] && . scripts/bench-kernel.sh
exit 0
