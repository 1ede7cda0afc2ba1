# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# memleak's flags, each with memleak's meaning, against tests/progs/leaker.c and sampler.c.

test_memleak_obj_by_short_name_and_soname() {
	# memleak -O c: lib<NAME>.so* found in the ld.so cache (the command is held at exec, its
	# libraries not yet mapped), the same file the target maps
	launch leaker -O c
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libc.so.6
	expect_leaker_truth
	launch leaker -O libc.so.6
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libc.so.6
	expect_eq "leak_malloc bytes" "$(site_stat leak_malloc bytes)" 10000
	# -p: found among the files the process maps
	start_prog leaker
	start_tracer -p "$PROG_PID" -T 1000 -O c
	expect_allocator libc.so.6
	go
	stop_tracer
	expect_eq "leak_malloc bytes (-p)" "$(site_stat leak_malloc bytes)" 10000
	expect_error "leaktrace: -O nosuchlib: pid [0-9]+ maps no such file and the ld.so cache has no such" \
		-O nosuchlib -p "$PROG_PID"
}

test_memleak_sample_rate_is_one_allocation_in_n() {
	# 20000 leaked blocks, one in 4 recorded: ~5000 records, 1 sd of the estimate 1.2%
	sampler_traced -s 4
	local est cnt
	est=$(site_stat leak_sampled bytes)
	cnt=$(site_stat leak_sampled count)
	within "$est" 11990000 8 || die "leak_sampled bytes estimate $est, want 11990000 +-8%"
	within "$cnt" 20000 8 || die "leak_sampled count estimate $cnt, want 20000 +-8%"
	expect_eq "churn_sampled bytes" "$(site_stat churn_sampled bytes)" 0
	grep -qE 'sampling: one allocation in 4 recorded .*\([1-9][0-9]* allocations not recorded' \
		"$TDIR/lt.out" || die "no sampling line: $(grep sampling "$TDIR/lt.out")"
	# the byte sampler is another, its line absent
	grep -q 'one record per' "$TDIR/lt.out" && die "byte sampling line with -s"
	expect_error 'give -s N .* or --sample-bytes N, not both' -p 1 -s 4 --sample-bytes 4096
	expect_error 'sampling is for user-space tracing, not -k' -k -s 4
	expect_error "invalid --sample-rate '0'" -p 1 -s 0
}

test_memleak_trace_prints_each_allocation_and_free() {
	launch leaker -t
	expect_eq "exit status" "$LT_RC" 0
	# leak_malloc's 10 x malloc(1000), the only mallocs of that size, never freed
	grep -E '^[0-9.]+ alloc pid [0-9]+ tid [0-9]+ \(malloc\) size = 1000, result = 0x' \
		"$TDIR/lt.err" > "$TDIR/m1000" || true
	expect_eq "traced malloc(1000) lines" "$(wc -l < "$TDIR/m1000")" 10
	local a
	for a in $(sed -E 's/.*result = (0x[0-9a-f]+),.*/\1/' "$TDIR/m1000"); do
		grep -q "free pid .* address = $a\$" "$TDIR/lt.err" && die "leaked $a traced as freed"
	done
	# the churn's frees are traced: about as many free lines as allocations
	local allocs frees
	allocs=$(grep -cE ' alloc pid .*\((malloc|calloc|realloc)\)' "$TDIR/lt.err")
	frees=$(grep -cE ' free pid .*\((malloc|calloc|realloc|free)\) address' "$TDIR/lt.err")
	[ "$allocs" -gt 80000 ] || die "only $allocs allocations traced"
	[ "$frees" -gt $((allocs - 200)) ] || die "$frees frees traced for $allocs allocations"
	# the report is unchanged by tracing
	expect_leaker_truth
	expect_error 'leaktrace: -t traces user-space allocations, not -k' -k -t
}

test_memleak_accepted_flags_change_nothing() {
	# -C, -F, -P and --stack-storage-size are what leaktrace always does
	launch leaker -C -F -P --stack-storage-size 1024 -o 0
	expect_eq "exit status" "$LT_RC" 0
	expect_leaker_truth
	expect_error "invalid --stack-storage-size 'x'" -p 1 --stack-storage-size x
	expect_error 'leaktrace: --ebpf: the BPF programs are compiled in' -p 1 --ebpf
}

# frames under the stack line of the last report's block from FUNC
frames_of() {
	last_report | awk -v fn="$1" '
		/^\t[0-9]+ bytes in/ { if (hit) exit; n = 0; inblk = 1; next }
		inblk && /^\t\t/ { n++; f = $1; sub(/\+0x[0-9a-f]+$/, "", f); if (f == fn) hit = 1 }
		END { print hit ? n : -1 }'
}

test_memleak_perf_max_stack_depth_cuts_stacks() {
	launch leaker
	local full
	full=$(frames_of leak_malloc)
	[ "$full" -ge 3 ] || die "leak_malloc's stack has $full frames without a limit"
	launch leaker --perf-max-stack-depth 2
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "leak_malloc frames with depth 2" "$(frames_of leak_malloc)" 2
	expect_eq "leak_malloc bytes" "$(site_stat leak_malloc bytes)" 10000
	# memleak's default, 127, is taken and walked to leaktrace's 64
	launch leaker --perf-max-stack-depth 127
	expect_eq "exit status" "$LT_RC" 0
	grep -q 'perf-max-stack-depth 127: stacks are walked to 64 frames at most' "$TDIR/lt.err" ||
		die "no note for depth 127: $(cat "$TDIR/lt.err")"
	expect_eq "leak_malloc frames with depth 127" "$(frames_of leak_malloc)" "$full"
}

# tty COMMAND...: run it with a terminal on stdout (script(1)); output in $TDIR/tty.out
tty_run() {
	PROGS_NO_WAIT=1 timeout 60 script -qec "$*" /dev/null < /dev/null | tr -d '\r' > "$TDIR/tty.out"
}

test_memleak_block_line_and_compact_header() {
	# memleak's block line, as its users' scripts parse it, with leaker.c's truth
	launch leaker
	last_report | grep -qE $'^\t10000 bytes in 10 allocations from stack( |$)' ||
		die "no memleak block line for leak_malloc: $(last_report | grep 'from stack')"
	# a file gets every counter (header_stat parses it); a terminal only what is not zero
	header_stat lost_events > /dev/null
	tty_run "$LT" -T 3 -- "$OUTPUT/tests/leaker"
	grep -qE '^\[[0-9:]+\] pid [0-9]+ \(leaker\) final: [0-9]+ bytes in [0-9]+ allocations from [0-9]+ stacks; no losses(; unknown frees: [0-9]+)?$' \
		"$TDIR/tty.out" || die "no compact header at a terminal: $(grep -a '^\[' "$TDIR/tty.out")"
	grep -q 'lost: 0 events' "$TDIR/tty.out" && die "zero counters at a terminal"
	tty_run "$LT" -v -T 3 -- "$OUTPUT/tests/leaker"
	grep -qE 'final: .*; lost: 0 events, 0 stacks, 0 untracked threads, 0 out of memory; unknown frees: [0-9]+, missed frees: 0$' \
		"$TDIR/tty.out" || die "-v header is not the full one: $(grep -a '^\[' "$TDIR/tty.out")"
}
