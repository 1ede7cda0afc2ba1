# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# leaktrace -- COMMAND: held before exec until probed, allocator found without flags, report at
# exit, the command's exit status. The ground truth is tests/progs/leaker.c (and cxxnew.cc).

# launch PROG [LEAKTRACE ARGS]: run it to completion under the tracer; sets LT_RC
launch() {
	local prog=$1
	shift
	LT_RC=0
	PROGS_NO_WAIT=1 timeout 120 "$LT" -T 1000 "$@" -- "$OUTPUT/tests/$prog" \
		> "$TDIR/lt.out" 2> "$TDIR/lt.err" < /dev/null || LT_RC=$?
	grep -q ' final: ' "$TDIR/lt.out" || die "no final report: $(cat "$TDIR/lt.err")"
}

expect_leaker_truth() {
	expect_eq "leak_malloc bytes" "$(site_stat leak_malloc bytes)" 10000
	expect_eq "leak_malloc count" "$(site_stat leak_malloc count)" 10
	expect_eq "leak_calloc bytes" "$(site_stat leak_calloc bytes)" 5000
	expect_eq "leak_big bytes" "$(site_stat leak_big bytes)" 2097152
	expect_eq "leak_realloc bytes" "$(site_stat leak_realloc bytes)" 12000
	expect_eq "leak_posix_memalign bytes" "$(site_stat leak_posix_memalign bytes)" 2048
	expect_eq "leak_aligned_alloc bytes" "$(site_stat leak_aligned_alloc bytes)" 1024
	expect_eq "thread_leak bytes" "$(site_stat thread_leak bytes)" 9324
	for fn in churn_step no_leak_edge_cases grow worker; do
		expect_eq "$fn bytes" "$(site_stat $fn bytes)" 0
	done
	expect_eq "missed frees" "$(header_stat missed_frees)" 0
	expect_eq "lost events" "$(header_stat lost_events)" 0
}

expect_allocator() {
	grep -q "through [^ ]*$1[^ ]*: " "$TDIR/lt.err" ||
		die "allocator is not $1: $(head -n 1 "$TDIR/lt.err")"
}

test_launch_glibc_exact_bytes() {
	launch leaker
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libc.so.6
	expect_leaker_truth
	expect_eq "leak_mmap bytes" "$(site_stat leak_mmap bytes)" 196608
	# the loader's own mappings before main are the image, not leaks
	last_report | grep -q '_dl_map_object' && die "ld.so's mappings reported: $(last_report)"
	true
}

test_launch_jemalloc_exact_bytes() {
	launch leaker-jemalloc
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libjemalloc.so
	expect_leaker_truth
}

test_launch_tcmalloc_exact_bytes() {
	launch leaker-tcmalloc
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libtcmalloc.so
	expect_leaker_truth
}

test_launch_static_binary_exact_bytes() {
	launch leaker-static
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator leaker-static
	expect_leaker_truth
}

expect_cxx_truth() {
	expect_eq "leak_new bytes" "$(site_stat 'leak_new()' bytes)" 384
	expect_eq "leak_new count" "$(site_stat 'leak_new()' count)" 8
	expect_eq "leak_new_array bytes" "$(site_stat 'leak_new_array()' bytes)" 3000
	expect_eq "leak_new_aligned bytes" "$(site_stat 'leak_new_aligned()' bytes)" 256
	expect_eq "leak_new_nothrow bytes" "$(site_stat 'leak_new_nothrow()' bytes)" 1000
	expect_eq "churn bytes (every delete seen)" "$(site_stat 'churn()' bytes)" 0
	expect_eq "unknown frees (no delete counted twice)" "$(header_stat unknown_frees)" 0
	last_report | grep -qE '^		leak_new\(\)\+0x[0-9a-f]+ \[cxxnew' ||
		die "frame 0 of new is not leak_new: $(last_report | head -20)"
}

test_launch_cxx_new_libstdcxx() {
	launch cxxnew
	expect_eq "exit status" "$LT_RC" 0
	expect_cxx_truth
}

test_launch_cxx_new_delete_jemalloc() {
	launch cxxnew-jemalloc
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libjemalloc.so
	expect_cxx_truth
}

test_pid_jemalloc_without_flags() {
	start_prog leaker-jemalloc
	start_tracer -p "$PROG_PID" 1 -T 1000
	go
	stop_tracer
	expect_allocator libjemalloc.so
	expect_leaker_truth
}

test_launch_passes_args_stdin_stdout_and_exit_status() {
	local rc=0
	echo "from stdin" | LT_TEST_VAR=passed "$LT" 60 -- sh -c 'read x; echo "$x|$1|$2|$LT_TEST_VAR"; exit 7' sh 'a b' c \
		> "$TDIR/out" 2> "$TDIR/err" || rc=$?
	expect_eq "exit status" "$rc" 7
	grep -qx 'from stdin|a b|c|passed' "$TDIR/out" || die "output: $(cat "$TDIR/out") $(cat "$TDIR/err")"
	grep -q ' final: ' "$TDIR/out" || die "no final report"
}

test_launch_memleak_dash_c() {
	local rc=0
	PROGS_NO_WAIT=1 "$LT" -T 1000 -c "$OUTPUT/tests/leaker" > "$TDIR/lt.out" 2> "$TDIR/lt.err" || rc=$?
	expect_eq "exit status" "$rc" 0
	expect_eq "leak_malloc bytes" "$(site_stat leak_malloc bytes)" 10000
}

test_launch_killed_command_status() {
	local rc=0
	"$LT" -- sh -c 'kill -TERM $$' > "$TDIR/out" 2> "$TDIR/err" || rc=$?
	expect_eq "exit status" "$rc" 143
}

test_launch_bad_commands() {
	expect_error "cannot run 'no-such-command-xyz': command not found" -- no-such-command-xyz
	expect_error "cannot run '/nonexistent/prog': No such file or directory" -- /nonexistent/prog
	expect_error "cannot run '/etc/passwd': Permission denied" -- /etc/passwd
	expect_error "cannot run '/tmp': Is a directory" -c /tmp
	expect_error "no command after '--'" --
	expect_error "not both" -p 1 -- true
}

test_launch_stripped_static_binary() {
	cp "$OUTPUT/tests/leaker-static" "$TDIR/stripped"
	strip "$TDIR/stripped"
	expect_error "stripped-?.* is statically linked and defines no 'malloc' symbol" -- "$TDIR/stripped"
}

test_pid_in_chroot_with_its_own_libc() {
	local root=$TDIR/root lib
	mkdir -p "$root/lib64" "$root/lib/x86_64-linux-gnu"
	cp "$OUTPUT/tests/leaker" "$root/leaker"
	for lib in $(ldd "$OUTPUT/tests/leaker" | grep -oE '/[^ ]+'); do
		cp "$lib" "$root$lib" # copies: other inodes than the host's libc
	done
	chroot "$root" /leaker > "$TDIR/prog.out" 2>&1 &
	PROG_PID=$!
	echo "$PROG_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/prog.out" '^ready'
	start_tracer -p "$PROG_PID" 1 -T 1000
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	expect_leaker_truth
	last_report | grep -qE '^		leak_malloc\+0x[0-9a-f]+ \[leaker\] \(tests/progs/leaker.c' ||
		die "not symbolized from the chroot's copy: $(last_report | head)"
}
