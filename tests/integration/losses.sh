# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Data loss is never silent: every loss counter is in every report of every format that has
# room for it (folded has none), in user and kernel mode.

TEXT_COUNTERS=('lost: [0-9]+ events' '[0-9]+ stacks, [0-9]+ untracked threads'
	'[0-9]+ out of memory' 'unknown frees: [0-9]+' 'missed frees: [0-9]+')

# every_report_has FILE: each report header line in FILE carries every text counter
every_report_has() {
	local n re
	n=$(grep -cE '^\[[0-9:]+\] (pid|kernel)' "$1")
	[ "$n" -ge 2 ] || die "only $n reports in $(basename "$1")"
	for re in "${TEXT_COUNTERS[@]}"; do
		expect_eq "reports with /$re/" "$(grep -E '^\[[0-9:]+\] (pid|kernel)' "$1" | grep -cE "$re")" "$n"
	done
}

test_every_counter_in_every_report() {
	local pids=() f
	start_prog leaker
	"$LT" -p "$PROG_PID" 1 3 > "$TDIR/text" 2> "$TDIR/text.err" &
	pids+=($!)
	"$LT" -p "$PROG_PID" 1 3 --format json -w "$TDIR/json" 2> "$TDIR/json.err" &
	pids+=($!)
	"$LT" -p "$PROG_PID" 1 3 --format svg -w "$TDIR/svg" 2> "$TDIR/svg.err" &
	pids+=($!)
	"$LT" -p "$PROG_PID" 1 3 --format pprof -w "$TDIR/pprof" 2> "$TDIR/pprof.err" &
	pids+=($!)
	echo "${pids[@]}" >> "$(PIDS_FILE)"
	for f in text json svg pprof; do wait_for "$TDIR/$f.err" 'tracing pid' 15; done
	go
	for f in "${pids[@]}"; do wait "$f" || die "a tracer failed"; done
	every_report_has "$TDIR/text"
	local names='["ringbuf_drop","stack_fail","inflight_full","nested","failed_alloc","sampled_out",
		"free_unsampled","sampled_full","pids_full","healed","calls",
		"kallocs","kfrees","klive_full","kreused","kstack_spill","kskip_alloc","kfree_rescued",
		"kfree_unseen","kuncertain_full","fds_unread","kstack_cached","ksite_ambiguous",
		"kevent_skipped"]'
	expect_eq "json reports" "$(wc -l < "$TDIR/json")" 3
	jq -e --argjson n "$names" '(.losses.bpf | keys_unsorted) == $n and
		(.losses.tracker | keys_unsorted) == ["allocs", "frees", "unknown_frees",
			"missed_frees", "untracked_unmaps"] and (.losses.oom | type) == "number"' \
		"$TDIR/json" | grep -vq true && die "a JSON report lacks counters: $(head -n 1 "$TDIR/json")"
	grep -qE 'lost: [0-9]+ events, [0-9]+ stacks, [0-9]+ untracked threads, [0-9]+ out of memory; unknown frees: [0-9]+, missed frees: [0-9]+</text>' \
		"$TDIR/svg" || die "svg has no loss line"
	local c
	c=$(zcat "$TDIR/pprof" | strings)
	for n in ringbuf_drop stack_fail inflight_full nested failed_alloc sampled_out; do
		grep -q "bpf $n: [0-9]" <<< "$c" || die "pprof comments lack $n"
	done
	grep -qE 'unknown frees: [0-9]+, missed frees: [0-9]+, out of memory: [0-9]+, untracked unmaps: [0-9]+' <<< "$c" ||
		die "pprof comments lack tracker counters"
}

test_every_counter_in_every_kernel_report() {
	run_alone # a time bound
	start_prog kpipes pipes 4
	timeout 20 "$LT" -k -p "$PROG_PID" 1 2 > "$TDIR/text" 2> "$TDIR/err" ||
		die "status $?: $(cat "$TDIR/err")"
	every_report_has "$TDIR/text"
}
