# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# leaktrace -k keeps the outstanding allocations in BPF: held pipes, eventfds and sockets of
# tests/progs/kpipes.c counted exactly under -k -p while other processes churn the same slab
# caches at full speed (tests/bench/kernel_bench), nothing left once they are closed, loss
# counters for the target only, and --sample-bytes scaled back.

# kind_sum FUNC KIND: allocations of KIND (slab:filp, kmalloc...) on the last report's stacks
# through FUNC, not counting slab metadata (allocate_slab).
kind_sum() {
	local s
	s=$(kstacks "$1" allocate_slab) || return 1
	awk -v k="$2" '$1 == k { c += $2 } END { print c + 0 }' <<< "$s"
}

# churn: kernel_bench mixed in the background, two processes, until the test ends
churn() {
	PROGS_NO_WAIT=1 "$OUTPUT/bench/kernel_bench" mixed 100000000 2 > "$TDIR/churn.out" 2>&1 &
	echo $! >> "$(PIDS_FILE)"
	CHURN_PID=$!
	wait_for "$TDIR/churn.out" '^ready'
}

# its children die with it (PR_SET_PDEATHSIG)
stop_churn() {
	kill -KILL "$CHURN_PID" 2> /dev/null || true
	wait "$CHURN_PID" 2> /dev/null || true
}

# expect_held N: kpipes all N's objects on the last report, to the allocation
expect_held() {
	local n=$1
	expect_eq "pipe files" "$(kind_sum create_pipe_files slab:filp)" $((2 * n))
	expect_eq "pipe dentries" "$(kind_sum create_pipe_files slab:dentry)" "$n"
	expect_eq "pipe inodes" "$(kind_sum create_pipe_files slab:inode_cache)" "$n"
	expect_eq "eventfd files" "$(kind_sum do_eventfd slab:filp)" "$n"
	expect_eq "eventfd dentries" "$(kind_sum do_eventfd slab:dentry)" "$n"
	expect_eq "socket files" "$(kind_sum __sys_socketpair slab:filp)" $((2 * n))
	expect_eq "socket inodes" "$(kind_sum __sys_socketpair slab:sock_inode_cache)" $((2 * n))
}

# until_none: wait (up to 16 reports) until none of kpipes' objects is outstanding; inodes go
# after an RCU grace period
until_none() {
	local i t
	for ((i = 0; i < 16; i++)); do
		t=$(($(kind_sum create_pipe_files slab:filp) + $(kind_sum create_pipe_files slab:inode_cache)
			+ $(kind_sum do_eventfd slab:filp) + $(kind_sum __sys_socketpair slab:filp)
			+ $(kind_sum __sys_socketpair slab:sock_inode_cache)))
		[ "$t" = 0 ] && return 0
		settle
	done
	die "still outstanding after 16 reports: $(last_report | head -20)"
}

test_kcost_held_exact_while_others_churn() {
	local n=128 json rc=0
	start_prog kpipes all "$n"
	churn
	"$LT" -k -p "$PROG_PID" 1 --format json -w "$TDIR/out.json" 2> "$TDIR/json.err" &
	json=$!
	echo "$json" >> "$(PIDS_FILE)"
	wait_for "$TDIR/json.err" 'tracing kernel|leaktrace: .*(error|cannot|no )' 15
	start_tracer -k -p "$PROG_PID" 1 -T 1000
	go
	settle
	expect_held "$n"
	kill -USR1 "$PROG_PID"
	wait_for "$PROG_OUT" '^closed'
	settle
	until_none
	stop_churn
	stop_tracer
	kill -INT "$json"
	wait "$json" || rc=$?
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "exit status (json)" "$rc" 0
	# the target's own counts: its allocations were recorded (6 per pipe, 4 per eventfd,
	# 10 per socketpair, and some more) while the churners' millions were not
	tail -n 1 "$TDIR/out.json" | jq -e --argjson n "$n" '.final and
		.losses.bpf.kallocs >= 20 * $n and .losses.bpf.kallocs < 100 * $n and
		.losses.bpf.kfrees >= 20 * $n and .losses.bpf.ringbuf_drop == 0 and
		.losses.bpf.klive_full == 0 and .losses.bpf.stack_fail == 0' > /dev/null ||
		die "target counts: $(tail -n 1 "$TDIR/out.json" | jq -c .losses)"
	grep -qE '^	kernel: [0-9]+ allocations recorded, [0-9]+ of them freed; 0 not recorded' \
		"$TDIR/lt.out" || die "no kernel counters line: $(last_report | head -3)"
}

# Nothing held while the churners run: the target's pipes opened and closed leave nothing.
test_kcost_churn_nothing_left() {
	start_prog kpipes churn 4096
	churn
	start_tracer -k -p "$PROG_PID" 1 -T 1000
	go
	settle
	until_none
	stop_churn
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	local a
	a=$(sed -nE 's/^	kernel: ([0-9]+) allocations recorded, ([0-9]+) of them freed.*/\1 \2/p' \
		"$TDIR/lt.out" | tail -n 1)
	[ "${a% *}" -ge $((6 * 4096)) ] || die "the churn was not recorded: '$a'"
}

# --sample-bytes in kernel mode: the estimate of what is held is within 5% of the exact
# figure, taken by a second, unsampled tracer of the same process at the same time.
test_kcost_sampled_estimate() {
	local n=1024 full est
	start_prog kpipes all "$n"
	"$LT" -k -p "$PROG_PID" 1 -T 1000 > "$TDIR/full.out" 2> "$TDIR/full.err" &
	echo $! >> "$(PIDS_FILE)"
	wait_for "$TDIR/full.err" 'tracing kernel|leaktrace: .*(error|cannot|no )' 15
	start_tracer -k -p "$PROG_PID" 1 -T 1000 --sample-bytes 1024
	go
	settle
	wait_for "$TDIR/full.out" '^\[' 10
	full=$(header_stat bytes "$TDIR/full.out")
	est=$(header_stat bytes)
	[ "$full" -ge $((5000 * n)) ] || die "full: only $full bytes held"
	awk -v f="$full" -v e="$est" 'BEGIN { d = (e - f) / f; exit !(d < 0.05 && d > -0.05) }' ||
		die "sampled estimate $est, exact $full: off by more than 5%"
	grep -qE '^	sampling: one record per ~1024 bytes' "$TDIR/lt.out" || die "no sampling line"
	stop_tracer
}

# 6.18's caches with sheaves (maple_node, vm_area_struct) free objects in bulk without a
# tracepoint: what they hold is shown apart as uncertain, never as a plain slab stack.
test_kcost_sheaf_caches_uncertain() {
	local s
	start_tracer -k 3 1 -T 100000
	# new processes make the kernel allocate VMAs and maple nodes, held while they live
	for _ in 1 2 3 4; do
		sleep 30 &
		echo $! >> "$(PIDS_FILE)"
	done
	LT_RC=0
	wait "$LT_PID" || LT_RC=$? # the one report, after 3 s
	expect_eq "exit status" "$LT_RC" 0
	s=$(last_report)
	grep -qE 'from stack \(uncertain slab:(maple_node|vm_area_struct)\) .*fate unknown' <<< "$s" ||
		die "no uncertain maple_node or vm_area_struct stack: $(head -3 <<< "$s")"
	if grep -qE 'from stack \(slab:(maple_node|vm_area_struct)\)' <<< "$s"; then
		die "a sheaf cache shown as certain: $(grep -F '(slab:maple_node)' <<< "$s" | head -3)"
	fi
}

# path_filp FUNC [UNLESS]: filp objects on the last report's stacks through FUNC (not UNLESS)
path_filp() {
	local s
	s=$(kstacks "$1" "${2:-}") || return 1
	awk '$1 == "slab:filp" { c += $2 } END { print c + 0 }' <<< "$s"
}

# The stack of a call site is cached in BPF (walked only to check): pipe2 allocates its two
# files at one call site (alloc_empty_file, filp, same gfp and syscall) through two paths,
# alloc_file_pseudo and alloc_file_clone. Each must be told apart, to the allocation, while
# most stacks come from the cache.
# pipes_two_paths N [ARGS...]: kpipes holding N pipes under leaktrace -k -p ARGS (text, and
# JSON to $TDIR/out.json): each path's files exact, then all closed; the last JSON report kept
pipes_two_paths() {
	local n=$1 json rc=0
	shift
	start_prog kpipes pipes "$n"
	"$LT" -k -p "$PROG_PID" "$@" 1 --format json -w "$TDIR/out.json" 2> "$TDIR/json.err" &
	json=$!
	echo "$json" >> "$(PIDS_FILE)"
	wait_for "$TDIR/json.err" 'tracing kernel|leaktrace: .*(error|cannot|no )' 15
	start_tracer -k -p "$PROG_PID" "$@" 1 -T 1000
	go
	settle
	expect_eq "files through alloc_file_clone" "$(path_filp alloc_file_clone)" "$n"
	expect_eq "files through alloc_file_pseudo" \
		"$(path_filp create_pipe_files alloc_file_clone)" "$n"
	kill -USR1 "$PROG_PID"
	wait_for "$PROG_OUT" '^closed'
	stop_tracer
	kill -INT "$json"
	wait "$json" || rc=$?
	expect_eq "exit status (json)" "$rc" 0
}

test_kcost_site_cache_tells_paths_apart() {
	local n=1024
	pipes_two_paths "$n"
	tail -n 1 "$TDIR/out.json" | jq -e --argjson n "$n" '.losses.bpf.kstack_cached > 3 * $n and
		.losses.bpf.ksite_ambiguous >= 1' > /dev/null ||
		die "site cache not used: $(tail -n 1 "$TDIR/out.json" | jq -c .losses.bpf)"
}

# --kstack-exact: the call-site cache off, every stack walked; the two paths still exact
test_kcost_kstack_exact_walks_every_stack() {
	pipes_two_paths 256 --kstack-exact
	expect_eq "stacks from the cache" \
		"$(tail -n 1 "$TDIR/out.json" | jq .losses.bpf.kstack_cached)" 0
}
