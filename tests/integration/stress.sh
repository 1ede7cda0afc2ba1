# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Stress: threads allocating, reallocating and freeing at full speed, a known leak at the end.
# The leak is exact and nothing else is outstanding, or every difference is in the loss
# counters; the tracer's memory stays flat. LEAKTRACE_STRESS_SECONDS=N runs longer (make
# stress: 120 s); the summary line goes to $LEAKTRACE_STRESS_LOG when set.

# rss_kb PID
rss_kb() { awk '/^VmRSS:/{print $2}' /proc/"$1"/status 2>/dev/null || echo 0; }

test_stress_threads_exact_leak_flat_memory() {
	local secs=${LEAKTRACE_STRESS_SECONDS:-12} threads=4 t rss rss_warm=0 rss_max=0 j
	run_alone # the tracer's memory and losses at full speed
	start_prog stress "$threads" "$secs"
	start_tracer -p "$PROG_PID" 1 --format json -w "$TDIR/out.json"
	kill -USR1 "$PROG_PID"
	echo "t_s rss_kb" > "$TDIR/rss"
	for ((t = 1; ; t++)); do
		sleep 1
		rss=$(rss_kb "$LT_PID")
		echo "$t $rss" >> "$TDIR/rss"
		[ "$t" -eq 3 ] && rss_warm=$rss
		[ "$t" -ge 3 ] && [ "$rss" -gt "$rss_max" ] && rss_max=$rss
		grep -q '^done' "$TDIR/prog.out" && break
		[ "$t" -lt $((secs + 60)) ] || die "stress program did not finish"
	done
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	j=$(tail -n 1 "$TDIR/out.json")
	[ "$(jq .final <<< "$j")" = true ] || die "no final JSON report"
	# first frame outside libc: its symbol, bytes and count of each stack
	local site='[.stacks[] | {b: .bytes, c: .count, f: ([.frames[] | select(.module !=
		"libc.so.6" and .module != "ld-linux-x86-64.so.2")][0].symbol // "?")}]'
	local leak_b leak_c false_b false_c lost inflight oom stack_fail missed allocs frees calls
	leak_b=$(jq "$site | map(select(.f == \"stress_leak\") | .b) | add // 0" <<< "$j")
	leak_c=$(jq "$site | map(select(.f == \"stress_leak\") | .c) | add // 0" <<< "$j")
	# the churn is all freed; glibc's own mappings (thread stacks, arenas) are not churn
	local churn='map(select(.f == "churn_alloc" or .f == "churn_realloc" or .f == "worker"))'
	false_b=$(jq "$site | $churn | map(.b) | add // 0" <<< "$j")
	false_c=$(jq "$site | $churn | map(.c) | add // 0" <<< "$j")
	lost=$(jq .losses.bpf.ringbuf_drop <<< "$j")
	inflight=$(jq .losses.bpf.inflight_full <<< "$j")
	stack_fail=$(jq .losses.bpf.stack_fail <<< "$j")
	oom=$(jq .losses.oom <<< "$j")
	missed=$(jq .losses.tracker.missed_frees <<< "$j")
	allocs=$(jq .losses.tracker.allocs <<< "$j")
	frees=$(jq .losses.tracker.frees <<< "$j")
	calls=$(awk '/^calls/{print $2}' "$TDIR/prog.out")
	local summary
	summary="stress ${secs}s x $threads threads: $calls allocator calls, $((allocs + frees)) events applied ($(((allocs + frees) / secs))/s); lost events $lost, untracked $inflight, stack failures $stack_fail, oom $oom, missed frees $missed; leak $leak_b B in $leak_c (want $((threads * 4800)) in $((threads * 100))), churn outstanding $false_b B in $false_c; tracer RSS $((rss_warm / 1024)) MiB at 3 s, max $((rss_max / 1024)) MiB"
	echo "$summary"
	[ -n "${LEAKTRACE_STRESS_LOG:-}" ] && { echo "$summary"; cat "$TDIR/rss"; } > "$LEAKTRACE_STRESS_LOG"
	# user mode counts no failed stack capture (stack_fail is kernel mode's): check the walk,
	# every stack of stress_leak goes on to the thread function that called it
	expect_eq "callers of stress_leak" "$(jq -r '[.stacks[] | .frames | map(.symbol) |
		index("stress_leak") as $i | select($i != null) | .[$i + 1]] | unique | join(" ")' \
		<<< "$j")" worker
	if [ $((lost + inflight + oom)) -eq 0 ]; then
		expect_eq "leak bytes" "$leak_b" $((threads * 4800))
		expect_eq "leak count" "$leak_c" $((threads * 100))
		expect_eq "false leaks (bytes)" "$false_b" 0
	else
		# each lost event leaves at most one allocation wrongly outstanding or missing
		local off=$((false_c + threads * 100 - leak_c))
		[ "$off" -le $((lost + inflight + oom)) ] ||
			die "$off allocations wrong, only $((lost + inflight + oom)) losses counted: $summary"
		[ "$leak_c" -le $((threads * 100)) ] || die "more leaks than made: $summary"
	fi
	# flat: the tracer holds what is outstanding, little; allow 8 MiB of allocator noise
	[ $((rss_max - rss_warm)) -lt 8192 ] ||
		die "tracer RSS grew from $rss_warm to $rss_max kB: $(cat "$TDIR/rss")"
}
