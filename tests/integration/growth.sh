# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Telling a leak from a cache and from allocator retention.

# verdict FUNC: the verdict word on the last report's stack whose site is FUNC
verdict() {
	last_report | awk -v fn="$1" '
		/^\t[0-9]+ bytes in [0-9]+ allocations from stack/ {
			v = $9; sub(/[:;]$/, "", v); want = 1; next }
		want && /^\t\t/ {
			if ($0 ~ /\[(libc\.so\.6|ld-linux-x86-64\.so\.2)\]/) next
			f = $1; sub(/\+0x[0-9a-f]+$/, "", f)
			if (f == fn) print v
			want = 0 }'
}

test_leak_is_growing_and_cache_is_stable() {
	start_prog growth
	start_tracer -p "$PROG_PID" 1 --sort growth
	go
	sleep 6.5
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "leak_slowly verdict" "$(verdict leak_slowly)" leak
	expect_eq "cache_fill verdict" "$(verdict cache_fill)" cache
	expect_eq "cache bytes" "$(site_stat cache_fill bytes)" $((256 * 4096))
	first=$(last_report | awk '/allocations from stack/{getline; print $1; exit}')
	[[ $first == leak_slowly+* ]] || die "--sort growth ranks $first first: $(last_report)"
}

test_sort_size_ranks_the_cache_first() {
	start_prog growth
	start_tracer -p "$PROG_PID" 1
	go
	stop_tracer
	first=$(last_report | awk '/allocations from stack/{getline; print $1; exit}')
	[[ $first == cache_fill+* ]] || die "default sort ranks $first first"
}

test_baseline_hides_warm_up() {
	start_prog growth
	start_tracer -p "$PROG_PID" 1 --baseline 1
	go
	sleep 2.5
	stop_tracer
	expect_eq "warm_up bytes" "$(site_stat warm_up bytes)" 0
	[ "$(site_stat leak_slowly count)" -ge 5 ] || die "leak after warm-up not shown"
	last_report | grep -q 'baseline: allocations of the first 1.0s are not shown' ||
		die "baseline not stated"
}

test_retention_is_not_called_a_leak() {
	start_prog retention
	start_tracer -p "$PROG_PID" 1
	go
	sleep 0.5
	stop_tracer
	expect_eq "pin_top bytes" "$(site_stat pin_top bytes)" 100
	expect_eq "fill_heap bytes" "$(site_stat fill_heap bytes)" 0
	last_report | grep -qE 'note: RSS grew [0-9.]+ MiB while the traced live heap is .*not a leak' ||
		die "retention not explained: $(last_report | head -5)"
}

test_thread_stacks_are_labelled_internal() {
	leaker_traced
	last_report | grep -q 'allocator internal: glibc thread stack' ||
		die "thread stacks not labelled: $(last_report | head -8)"
	first=$(last_report | awk '/allocations from stack/{print; exit}')
	[[ $first != *"allocator internal"* ]] || die "an internal holder ranks first: $first"
}
