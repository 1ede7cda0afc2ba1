# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Allocator detection without flags, beyond glibc, jemalloc, tcmalloc and -static (launch.sh):
# musl (its libc.so is its dynamic linker), mimalloc, and allocators called by prefixed names
# beside malloc (a je_-prefixed jemalloc, mimalloc's mi_*). Ground truth: tests/progs/leaker.c
# and tests/progs/prefix/prefixleak.c; helpers from launch.sh.

# expect_frame0 FUNC...: every stack that holds FUNC starts with it: the stack was taken where
# the allocator returned to FUNC, not inside the allocator (musl's libc has no frame pointers)
expect_frame0() {
	local fn counts
	for fn in "$@"; do
		counts=$(last_report | awk -v fn="$fn" '
			/^\t[0-9]+ bytes in/ { n = 0; next }
			/^\t\t/ { f = $1; sub(/\+0x[0-9a-f]+$/, "", f)
				if (f == fn) { any++; if (n == 0) first++ }
				n++ }
			END { print any + 0, first + 0 }')
		[ "${counts% *}" -gt 0 ] || die "no stack holds $fn: $(last_report | head -20)"
		[ "${counts% *}" = "${counts#* }" ] ||
			die "$fn is not frame 0 of all its stacks ($counts): $(last_report | head -30)"
	done
}

# bytes_through FUNC: bytes of the last report's stacks that hold FUNC in any frame
bytes_through() {
	last_report | awk -v fn="$1" '
		function flush() { if (hit) sum += b; hit = 0 }
		/^\t[0-9]+ bytes in/ { flush(); b = $1; next }
		/^\t\t/ { f = $1; sub(/\+0x[0-9a-f]+$/, "", f); if (f == fn) hit = 1 }
		END { flush(); print sum + 0 }'
}

expect_musl_truth() {
	expect_leaker_truth
	# musl's mmap is C with a frame of its own: its caller is found above it on the stack
	expect_eq "stacks through leak_mmap" "$(bytes_through leak_mmap)" 196608
	expect_eq "unknown frees" "$(header_stat unknown_frees)" 0
	expect_frame0 leak_malloc leak_calloc leak_big leak_realloc leak_posix_memalign \
		leak_aligned_alloc thread_leak
}

test_launch_musl_exact_bytes() {
	launch leaker-musl
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator ld-musl-x86_64.so.1
	expect_musl_truth
}

test_pid_musl_without_flags() {
	start_prog leaker-musl
	start_tracer -p "$PROG_PID" 1 -T 1000
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator x86_64-linux-musl/libc.so
	expect_musl_truth
}

test_launch_musl_static_exact_bytes() {
	launch leaker-musl-static
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator leaker-musl-static
	expect_musl_truth
}

test_launch_mimalloc_exact_bytes() {
	launch leaker-mimalloc
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libmimalloc.so
	expect_leaker_truth
	expect_eq "unknown frees" "$(header_stat unknown_frees)" 0
}

test_pid_mimalloc_without_flags() {
	start_prog leaker-mimalloc
	start_tracer -p "$PROG_PID" 1 -T 1000
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libmimalloc.so
	expect_leaker_truth
}

# expect_prefix_truth [mallocx] [no-plain]: tests/progs/prefix/prefixleak.c's ground truth
expect_prefix_truth() {
	local fn
	expect_eq "pfx_leak_malloc bytes" "$(site_stat pfx_leak_malloc bytes)" 4200
	expect_eq "pfx_leak_malloc count" "$(site_stat pfx_leak_malloc count)" 6
	expect_eq "pfx_leak_calloc bytes" "$(site_stat pfx_leak_calloc bytes)" 2100
	expect_eq "pfx_leak_calloc count" "$(site_stat pfx_leak_calloc count)" 3
	expect_eq "pfx_leak_realloc bytes" "$(site_stat pfx_leak_realloc bytes)" 6000
	expect_eq "pfx_leak_realloc count" "$(site_stat pfx_leak_realloc count)" 2
	expect_eq "pfx_leak_posix_memalign bytes" "$(site_stat pfx_leak_posix_memalign bytes)" 1280
	expect_eq "pfx_leak_posix_memalign count" "$(site_stat pfx_leak_posix_memalign count)" 2
	expect_eq "pfx_leak_aligned_alloc bytes" "$(site_stat pfx_leak_aligned_alloc bytes)" 256
	expect_eq "pfx_leak_aligned_alloc count" "$(site_stat pfx_leak_aligned_alloc count)" 2
	if [ "${1:-}" = mallocx ]; then
		expect_eq "pfx_leak_mallocx bytes" "$(site_stat pfx_leak_mallocx bytes)" 2700
		expect_eq "pfx_leak_mallocx count" "$(site_stat pfx_leak_mallocx count)" 3
		expect_eq "pfx_leak_rallocx bytes" "$(site_stat pfx_leak_rallocx bytes)" 1500
	fi
	if [ "${2:-}" = no-plain ]; then
		expect_eq "plain_leak_malloc bytes (malloc not probed)" \
			"$(site_stat plain_leak_malloc bytes)" 0
	else
		expect_eq "plain_leak_malloc bytes" "$(site_stat plain_leak_malloc bytes)" 5000
		expect_eq "plain_leak_malloc count" "$(site_stat plain_leak_malloc count)" 5
	fi
	for fn in pfx_churn no_leak_edge_cases; do
		expect_eq "$fn bytes" "$(site_stat $fn bytes)" 0
	done
	expect_eq "unknown frees (no free counted twice)" "$(header_stat unknown_frees)" 0
	expect_eq "missed frees" "$(header_stat missed_frees)" 0
	expect_eq "lost events" "$(header_stat lost_events)" 0
}

test_launch_je_prefixed_beside_glibc() {
	launch prefixleak-je
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libc.so.6
	expect_prefix_truth mallocx
}

test_pid_je_prefixed_without_flags() {
	start_prog prefixleak-je
	start_tracer -p "$PROG_PID" 1 -T 1000
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	expect_prefix_truth mallocx
}

test_launch_je_prefix_and_obj_flags() {
	launch prefixleak-je -S je_ -O "$OUTPUT/tests/libjeprefixed.so"
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libjeprefixed.so
	expect_prefix_truth mallocx no-plain
}

test_launch_mimalloc_mi_calls_counted_once() {
	launch prefixleak-mi
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libmimalloc.so
	expect_prefix_truth
}
