# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# leaktrace -p PID against tests/progs/leaker.c, whose leaks are known to the byte.

leaker_traced() {
	start_prog leaker
	start_tracer -p "$PROG_PID" 1 -T 1000 "$@"
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	grep -q ' final: ' "$TDIR/lt.out" || die "no final report"
}

test_exact_bytes_per_leaking_function() {
	leaker_traced
	expect_eq "leak_malloc bytes" "$(site_stat leak_malloc bytes)" 10000
	expect_eq "leak_malloc count" "$(site_stat leak_malloc count)" 10
	expect_eq "leak_calloc bytes" "$(site_stat leak_calloc bytes)" 5000
	expect_eq "leak_calloc count" "$(site_stat leak_calloc count)" 5
	expect_eq "leak_big bytes" "$(site_stat leak_big bytes)" 2097152
	expect_eq "leak_big count" "$(site_stat leak_big count)" 2
	expect_eq "leak_realloc bytes" "$(site_stat leak_realloc bytes)" 12000
	expect_eq "leak_realloc count" "$(site_stat leak_realloc count)" 3
	expect_eq "leak_posix_memalign bytes" "$(site_stat leak_posix_memalign bytes)" 2048
	expect_eq "leak_aligned_alloc bytes" "$(site_stat leak_aligned_alloc bytes)" 1024
	expect_eq "leak_mmap bytes" "$(site_stat leak_mmap bytes)" 196608
	expect_eq "leak_mmap count" "$(site_stat leak_mmap count)" 3
	expect_eq "thread_leak bytes" "$(site_stat thread_leak bytes)" 9324
	expect_eq "thread_leak count" "$(site_stat thread_leak count)" 28
}

# caller_of FUNC: the distinct frames found right after FUNC in the last report's stacks
caller_of() {
	local r
	r=$(last_report) || return 1
	awk -v fn="$1" '
		/^\t\t/ { f = $1; sub(/\+0x[0-9a-f]+$/, "", f)
			if (next_is) { seen[f] = 1; next_is = 0 }
			if (f == fn) next_is = 1; next }
		{ next_is = 0 }
		END { for (f in seen) print f }' <<< "$r" | sort | tr '\n' ' ' | sed 's/ $//'
}

test_freed_churn_and_edge_cases_leave_nothing() {
	leaker_traced -T 1000
	for fn in churn_step no_leak_mmap no_leak_edge_cases grow worker; do
		expect_eq "$fn bytes" "$(site_stat $fn bytes)" 0
	done
	expect_eq "lost events" "$(header_stat lost_events)" 0
	expect_eq "missed frees" "$(header_stat missed_frees)" 0
	# what leaked is there, its stacks walked past the leaking function (user mode counts no
	# failed stack capture: a walk that stopped early only shows as a short stack)
	expect_eq "leak_malloc bytes" "$(site_stat leak_malloc bytes)" 10000
	for fn in leak_malloc leak_calloc leak_realloc leak_mmap; do
		expect_eq "$fn called from" "$(caller_of $fn)" main
	done
	expect_eq "thread_leak called from" "$(caller_of thread_leak)" worker
	# free(NULL) x1000 is no event; the few unknown frees are glibc's tcache flush at thread exit
	[ "$(header_stat unknown_frees)" -lt 200 ] || die "unknown frees: $(header_stat unknown_frees)"
}

test_large_malloc_is_one_allocation_not_an_mmap() {
	leaker_traced -T 1000
	last_report | grep -A3 'from stack (mmap' | grep -q 'leak_big' &&
		die "leak_big charged as mmap: $(last_report)"
	last_report | grep -A1 '^	1048576 bytes in 1 allocations from stack (malloc' |
		grep -q 'leak_big+' || die "1 MiB malloc not charged to leak_big"
}

test_frames_are_named_with_modules() {
	leaker_traced
	last_report | grep -qE '^		leak_malloc\+0x[0-9a-f]+ \[leaker\]' ||
		die "no 'leak_malloc+0x.. [leaker]' frame: $(last_report | head -20)"
	last_report | grep -qE '^		main\+0x[0-9a-f]+ \[leaker\]' || die "no main frame"
	last_report | grep -qE '^		$' && die "empty frame line"
	true
}

test_filters_top_size_and_show_allocs() {
	leaker_traced -T 2 -z 1000 -Z 5000 -a
	expect_eq "stacks shown" "$(last_report | grep -c 'allocations from stack')" 2
	expect_eq "leak_realloc bytes (4000 each)" "$(site_stat leak_realloc bytes)" 12000
	expect_eq "leak_malloc bytes (1000 each)" "$(site_stat leak_malloc bytes)" 10000
	expect_eq "addresses listed" "$(last_report | grep -c 'addr = 0x.* size = 4000')" 3
	expect_eq "leak_big filtered out" "$(site_stat leak_big bytes)" 0
}

test_older_filter_hides_young_allocations() {
	local older rc=0
	start_prog leaker
	"$LT" -p "$PROG_PID" 1 -T 1000 -o 600000 > "$TDIR/older.out" 2> "$TDIR/older.err" &
	older=$!
	echo "$older" >> "$(PIDS_FILE)"
	wait_for "$TDIR/older.err" 'tracing pid|leaktrace: .*(error|cannot|no )' 15
	start_tracer -p "$PROG_PID" 1 -T 1000
	go
	stop_tracer
	kill -INT "$older"
	wait "$older" || rc=$?
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "exit status (-o)" "$rc" 0
	# the same allocations, traced at the same time without -o, are shown
	expect_eq "leak_malloc bytes (no -o)" "$(site_stat leak_malloc bytes)" 10000
	grep -q ' final: ' "$TDIR/older.out" || die "no final report with -o"
	expect_eq "bytes older than 10 min" "$(header_stat bytes "$TDIR/older.out")" 0
}

test_count_reports_then_exit() {
	run_alone # a time bound: 2 reports and the exit within 20 s
	start_prog leaker
	timeout 20 "$LT" -p "$PROG_PID" 1 2 > "$TDIR/lt.out" 2> "$TDIR/lt.err" ||
		die "exit status $?: $(cat "$TDIR/lt.err")"
	expect_eq "reports" "$(grep -c '^\[..:..:..\] pid' "$TDIR/lt.out")" 2
}

test_target_exit_gives_final_report() {
	start_prog leaker
	start_tracer -p "$PROG_PID" 10
	go
	kill -TERM "$PROG_PID"
	for _ in $(seq 100); do kill -0 "$LT_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$LT_PID" 2>/dev/null && die "tracer still running after the target exited"
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	grep -q "pid $PROG_PID exited" "$TDIR/lt.err" || die "exit not reported: $(cat "$TDIR/lt.err")"
	expect_eq "leak_malloc bytes after exit" "$(site_stat leak_malloc bytes)" 10000
}

test_sigkill_leaves_no_probe_behind() {
	start_prog leaker
	start_tracer -p "$PROG_PID" 1
	local ids id
	ids=$(cat /proc/"$LT_PID"/fdinfo/* 2>/dev/null | awk '/^prog_id:/{print $2}' | sort -u)
	[ -n "$ids" ] || die "no BPF program held by the tracer while tracing"
	kill -KILL "$LT_PID"
	wait "$LT_PID" 2>/dev/null || true
	sleep 0.5
	for id in $ids; do
		bpftool prog show id "$id" > /dev/null 2>&1 && die "program $id left after SIGKILL"
	done
	true
}
