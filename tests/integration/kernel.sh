# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# leaktrace -k: kernel allocations, checked against tests/progs/kpipes.c, which makes the kernel
# hold a known number of pipes or eventfds for it.

N_OBJS=32

# settle: wait until two more reports are out, so the last one covers a full interval since now.
settle() {
	local n i
	n=$(grep -cE '^\[[0-9:]+\] ' "$TDIR/lt.out" || true)
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -cE '^\[[0-9:]+\] ' "$TDIR/lt.out" || true)" -ge $((n + 2)) ] && return 0
		sleep 0.1
	done
	die "no new report: $(tail -n 3 "$TDIR/lt.err")"
}

# expect_each_count FUNC N KINDS...: every stack through FUNC holds exactly N allocations, and
# each of KINDS (regexes) is among them. Slab metadata allocated when an allocation needs a new
# slab (allocate_slab -> alloc_slab_obj_exts) is real and shown, but depends on the slab's state.
expect_each_count() {
	local fn=$1 n=$2 stacks kind
	shift 2
	stacks=$(kstacks "$fn" allocate_slab)
	[ -n "$stacks" ] || die "no stack through $fn: $(last_report | head -30)"
	awk -v n="$n" '$2 != n { bad = 1 } END { exit bad }' <<< "$stacks" ||
		die "stacks through $fn, want $n each: $stacks"
	for kind in "$@"; do
		grep -qE "^$kind " <<< "$stacks" || die "no $kind stack through $fn: $stacks"
	done
}

kernel_traced() {
	start_prog kpipes "$1" "$N_OBJS"
	start_tracer -k -p "$PROG_PID" 1 -T 1000 "${@:2}"
	go
	settle
}

test_kernel_pipes_held_then_freed() {
	kernel_traced pipes
	# per pipe: pipe_inode_info and its buffer array (kmalloc), an inode, a dentry, two files
	expect_each_count create_pipe_files "$N_OBJS" kmalloc slab:filp slab:dentry 'slab:inode.*'
	expect_eq "pipe_inode_info + buffers" \
		"$(kstacks alloc_pipe_info allocate_slab | awk '$1 == "kmalloc" { c += $2 } END { print c + 0 }')" \
		$((2 * N_OBJS))
	expect_eq "files" \
		"$(kstacks create_pipe_files allocate_slab | awk '$1 == "slab:filp" { c += $2 } END { print c + 0 }')" \
		$((2 * N_OBJS))
	kill -USR1 "$PROG_PID"
	wait_for "$TDIR/prog.out" '^closed'
	settle
	until_freed create_pipe_files
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
}

test_kernel_eventfds_held() {
	kernel_traced eventfds
	expect_each_count do_eventfd "$N_OBJS" kmalloc slab:filp
}

# until_freed FUNC: wait (up to 16 reports) for a report with nothing through FUNC. Inode and
# LSM blobs are freed after an RCU grace period, which lazy RCU may stretch to ~10 s.
until_freed() {
	local i s
	for ((i = 0; i < 8; i++)); do
		s=$(kstacks "$1" allocate_slab)
		[ -z "$s" ] && return 0
		settle
	done
	die "still outstanding through $1 after 16 reports: $(kstacks "$1" allocate_slab)"
}

test_kernel_churn_leaves_nothing() {
	local json rc=0
	start_prog kpipes churn "$N_OBJS"
	# a second tracer counts what the first one shows nothing of: the churn's allocations
	"$LT" -k -p "$PROG_PID" 1 --format json -w "$TDIR/out.json" 2> "$TDIR/json.err" &
	json=$!
	echo "$json" >> "$(PIDS_FILE)"
	wait_for "$TDIR/json.err" 'tracing (pid|kernel)|leaktrace: .*(error|cannot|no )' 15
	start_tracer -k -p "$PROG_PID" 1 -T 1000
	go
	settle
	settle
	until_freed create_pipe_files
	stop_tracer
	kill -INT "$json"
	wait "$json" || rc=$?
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "exit status (json)" "$rc" 0
	# per pipe: pipe_inode_info, its buffers, an inode, a dentry, two files
	tail -n 1 "$TDIR/out.json" | jq -e --argjson n $((6 * N_OBJS)) '.final and
		.losses.tracker.allocs >= $n and .losses.tracker.frees >= $n' > /dev/null ||
		die "churn not seen: $(tail -n 1 "$TDIR/out.json" | jq -c .losses)"
}

test_kernel_frames_named_with_modules() {
	kernel_traced pipes
	last_report | grep -qE '^		create_pipe_files\+0x[0-9a-f]+ \[kernel\]$' ||
		die "no 'create_pipe_files+0x.. [kernel]' frame: $(last_report | head -20)"
	last_report | grep -qE '^		do_syscall_64\+0x[0-9a-f]+ \[kernel\]$' ||
		die "stack not complete down to do_syscall_64"
	last_report | grep -qE '^		(bpf_|__bpf_trace|__traceiter)' && die "tracer frames shown"
	last_report | grep -qE '^	[0-9]+ bytes in [0-9]+ allocations from stack \(slab:filp\) ' ||
		die "no slab:filp stack line"
	grep -qE '^\[[0-9:]+\] pid [0-9]+ \(kpipes\) kernel: ' "$TDIR/lt.out" || die "header"
}

test_kernel_system_wide_idle() {
	run_alone # system-wide: no loss of stacks or threads with the other tests' load
	timeout 30 "$LT" -k 10 1 > "$TDIR/lt.out" 2> "$TDIR/lt.err" ||
		die "exit status $?: $(cat "$TDIR/lt.err")"
	grep -qE '^\[[0-9:]+\] kernel: [0-9]+ bytes' "$TDIR/lt.out" || die "header: $(head -1 "$TDIR/lt.out")"
	# lost events can be non-zero and are counted: a free in an interrupt that lands while the
	# same program runs on that CPU is skipped by the kernel (recursion_misses)
	grep -qE 'lost: [0-9]+ events, 0 stacks, 0 untracked threads, 0 out of memory' \
		"$TDIR/lt.out" || die "losses: $(head -1 "$TDIR/lt.out")"
}

test_kernel_default_without_pid_is_kernel() {
	run_alone # a time bound
	timeout 20 "$LT" 1 1 > "$TDIR/lt.out" 2> "$TDIR/lt.err" ||
		die "exit status $?: $(cat "$TDIR/lt.err")"
	grep -q 'tracing kernel allocations system-wide' "$TDIR/lt.err" || die "$(cat "$TDIR/lt.err")"
}

# A kernel without mm_page_alloc (its BTF lacks the tracepoint): the rest still runs.
test_kernel_lacking_a_tracepoint() {
	perl -0777 -pe 's/btf_trace_mm_page_alloc\0/btf_trace_mm_page_allo_\0/' \
		/sys/kernel/btf/vmlinux > "$TDIR/vmlinux"
	export LEAKTRACE_BTF=$TDIR/vmlinux
	kernel_traced pipes -v
	grep -q 'tracepoint mm_page_alloc not in this kernel: mm_page_alloc not loaded' \
		"$TDIR/lt.err" || die "no warning: $(cat "$TDIR/lt.err")"
	expect_each_count create_pipe_files "$N_OBJS" kmalloc slab:filp
	last_report | grep -q 'from stack (page order' && die "pages traced without mm_page_alloc"
	true
}
