# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Allocator detection without flags, beyond glibc, jemalloc, tcmalloc and -static (launch.sh):
# musl (its libc.so is its dynamic linker) and mimalloc. Ground truth: tests/progs/leaker.c;
# helpers from launch.sh.

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

expect_musl_truth() {
	expect_leaker_truth
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
	sleep 0.3
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
	sleep 0.3
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libmimalloc.so
	expect_leaker_truth
}
