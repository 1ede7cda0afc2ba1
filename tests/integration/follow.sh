# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# -f/--follow: the processes the target forks (and what they exec) are traced too, each in a
# report of its own. The ground truth is tests/progs/forker.c.

# forker_pids FILE: "PARENT CHILD1 CHILD2 CHILD3 GRANDCHILD" from the program's own lines
forker_pids() {
	local f=$1
	echo "$(awk '/^ready/ {print $2}' "$f") $(awk '/^child 1 / {print $3}' "$f")" \
		"$(awk '/^child 2 / {print $3}' "$f") $(awk '/^child 3 / {print $3}' "$f")" \
		"$(awk '/^grandchild / {print $2}' "$f")"
}

# stat_of PID FUNC bytes|count
stat_of() {
	proc_report "$1" > "$TDIR/proc.$1"
	site_stat "$2" "$3" "$TDIR/proc.$1"
}

expect_forker_truth() {
	local parent=$1 c1=$2 c2=$3 c3=$4 gc=$5
	[ -n "$gc" ] || die "the program did not say all its pids: '$*'"
	expect_eq "parent: parent_leak" "$(stat_of "$parent" parent_leak bytes)" 2000
	expect_eq "parent: parent_leak count" "$(stat_of "$parent" parent_leak count)" 4
	expect_eq "parent: after its children exited" "$(stat_of "$parent" parent_leak_late bytes)" 777
	expect_eq "parent: children's leaks not its own" "$(stat_of "$parent" child_leak bytes)" 0
	expect_eq "child 1: child_leak" "$(stat_of "$c1" child_leak bytes)" 4200
	expect_eq "child 1: count" "$(stat_of "$c1" child_leak count)" 6
	expect_eq "child 1: after its child exited" \
		"$(stat_of "$c1" child_leak_after_grandchild bytes)" 1234
	expect_eq "child 1: the parent's leak is not its own" "$(stat_of "$c1" parent_leak bytes)" 0
	expect_eq "child 1: freed what the parent allocated" \
		"$(header_stat unknown_frees "$TDIR/proc.$c1")" 1
	expect_eq "child 1: churn" "$(stat_of "$c1" churn bytes)" 0
	expect_eq "grandchild" "$(stat_of "$gc" grandchild_leak bytes)" 1800
	expect_eq "child 2 (exec'ed)" "$(stat_of "$c2" exec_child_leak bytes)" 9000
	expect_eq "child 2: churn" "$(stat_of "$c2" churn bytes)" 0
	expect_eq "child 3 (short-lived)" "$(stat_of "$c3" short_child_leak bytes)" 500
	grep -q "^\[[0-9:]*\] pid $c1 (forker, child of $parent)" "$TDIR/lt.out" ||
		die "no report names child 1's parent"
	grep -q "^\[[0-9:]*\] pid $gc (forker, child of $c1) final" "$TDIR/lt.out" ||
		die "no final report of the grandchild"
	for p in "$parent" "$c1" "$c2" "$c3" "$gc"; do
		expect_eq "lost events of $p" "$(header_stat lost_events "$TDIR/proc.$p")" 0
	done
}

test_follow_launch_children_exact_bytes() {
	local rc=0
	PROGS_NO_WAIT=1 timeout 120 "$LT" -f -T 1000 1 -- "$OUTPUT/tests/forker" \
		> "$TDIR/lt.out" 2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	grep -q 'and its children' "$TDIR/lt.err" || die "$(head -n 1 "$TDIR/lt.err")"
	expect_forker_truth $(forker_pids "$TDIR/lt.out")
}

# With -p nothing is ever stopped (a parent may wait for stopped children), so leaktrace reads
# an exec'ed child's new maps when it gets to the exec record: 2 to 20 ms after it on a loaded
# machine, while child 2 lives 7 to 35 ms; one gone by then keeps its frames unnamed (a launched
# command's children are held instead: test_follow_launch_children_exact_bytes). Child 2 stays
# until its leak is named in a report.
test_follow_pid_children_exact_bytes() {
	local c2
	FORKER_EXEC_CHILD_WAITS=1 start_prog forker
	start_tracer -f -p "$PROG_PID" 1 -T 1000
	kill -USR1 "$PROG_PID"
	wait_for "$PROG_OUT" '^child 2 ' 60
	c2=$(awk '/^child 2 / {print $3}' "$PROG_OUT")
	wait_for "$TDIR/lt.out" $'^\t\texec_child_leak\\+' 10
	kill -USR1 "$c2"
	wait_for "$PROG_OUT" '^done' 60
	# the final reports of the children that exit (2, 3 and the grandchild), given at the
	# first report after each exited; child 1 and the parent get theirs at the end
	for p in $(forker_pids "$PROG_OUT" | cut -d' ' -f3-); do
		wait_for "$TDIR/lt.out" "^\[[0-9:]*\] pid $p \(.*\) final" 10
	done
	stop_tracer
	expect_eq "tracer exit status" "$LT_RC" 0
	expect_forker_truth $(forker_pids "$PROG_OUT")
}

# The other side of the test above: leaktrace stopped while child 2 execs and exits, so it
# comes to the exec after the maps are gone. Its bytes are all there, unnamed, and it says why.
test_follow_pid_exec_child_gone_is_said() {
	local c2
	start_prog forker
	start_tracer -f -p "$PROG_PID" 60
	kill -STOP "$LT_PID"
	go
	kill -CONT "$LT_PID"
	stop_tracer
	expect_eq "tracer exit status" "$LT_RC" 0
	c2=$(awk '/^child 2 / {print $3}' "$PROG_OUT")
	grep -q "pid $c2 (forker) exited before leaktrace read the maps of what it exec'ed" \
		"$TDIR/lt.err" || die "not said: $(cat "$TDIR/lt.err")"
	proc_report "$c2" > "$TDIR/proc.$c2"
	grep -q $'^\t9000 bytes in 3 allocations' "$TDIR/proc.$c2" ||
		die "child 2's 9000 bytes are not there: $(head -n 12 "$TDIR/proc.$c2")"
	expect_eq "child 3 (forked, not exec'ed): named" "$(stat_of "$(awk '/^child 3 / {print $3}' \
		"$PROG_OUT")" short_child_leak bytes)" 500
}

test_without_follow_children_are_not_traced() {
	start_prog forker
	start_tracer -p "$PROG_PID" 1 -T 1000
	go
	stop_tracer
	grep -q 'child of' "$TDIR/lt.out" && die "a child reported without -f"
	expect_eq "parent_leak" "$(site_stat parent_leak bytes)" 2000
	expect_eq "child_leak" "$(site_stat child_leak bytes)" 0
	expect_eq "short_child_leak" "$(site_stat short_child_leak bytes)" 0
}

test_follow_json_names_the_parent() {
	local rc=0 parent c1
	PROGS_NO_WAIT=1 timeout 120 "$LT" -f --format json -w "$TDIR/r.json" 1 \
		-- "$OUTPUT/tests/forker" > "$TDIR/prog.out" 2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	parent=$(awk '/^ready/ {print $2}' "$TDIR/prog.out")
	c1=$(awk '/^child 1 / {print $3}' "$TDIR/prog.out")
	expect_eq "child 1's final report: ppid" "$(jq -r --argjson p "$c1" \
		'select(.final and .target.pid == $p) | .target.ppid' "$TDIR/r.json")" "$parent"
	expect_eq "the target has no ppid" "$(jq -r --argjson p "$parent" \
		'select(.final and .target.pid == $p) | .target.ppid' "$TDIR/r.json")" null
}

test_follow_pprof_file_per_process() {
	local rc=0 c1
	PROGS_NO_WAIT=1 timeout 120 "$LT" -f --format pprof -w "$TDIR/heap.pb.gz" 1 \
		-- "$OUTPUT/tests/forker" > "$TDIR/prog.out" 2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	c1=$(awk '/^child 1 / {print $3}' "$TDIR/prog.out")
	[ -s "$TDIR/heap.pb.gz" ] || die "no profile of the target"
	[ -s "$TDIR/heap.pb.gz.$c1" ] || die "no profile of child 1: $(ls "$TDIR")"
	zcat "$TDIR/heap.pb.gz.$c1" | strings | grep -q child_leak || die "child 1's profile lacks child_leak"
	zcat "$TDIR/heap.pb.gz" | strings | grep -q child_leak && die "the target's profile has child_leak"
	true
}

test_follow_bad_input() {
	expect_error "leaktrace: -f follows the children of -p PID or of a command" -f
	expect_error "leaktrace: -f follows the children of -p PID or of a command" -f -k -p 1
	expect_error "leaktrace: -f with --format pprof writes a file per process: give -w FILE" \
		-f --format pprof -- true
}

# tracefs keeps the probes' events while leaktrace runs; they go when it ends, and those of
# a tracer that was killed are removed by the next one.
test_follow_leaves_no_tracefs_events() {
	local tracing=/sys/kernel/tracing lt1 killed
	run_alone # any tracer with -f that starts removes a killed tracer's events
	start_prog forker
	start_tracer -f -p "$PROG_PID" 60
	lt1=$LT_PID
	[ -d "$tracing/events/leaktrace_$lt1" ] || die "no tracefs events while tracing"
	stop_tracer
	[ -d "$tracing/events/leaktrace_$lt1" ] && die "tracefs events left after the end"
	start_tracer -f -p "$PROG_PID" 60
	killed=$LT_PID
	kill -KILL "$killed"
	wait "$killed" 2> /dev/null || true
	[ -d "$tracing/events/leaktrace_$killed" ] || die "the killed tracer's events vanished early"
	start_tracer -f -p "$PROG_PID" 60
	[ -d "$tracing/events/leaktrace_$killed" ] && die "a killed tracer's events were not removed"
	stop_tracer
	true
}

# A child that execs a program on the same libc keeps its inherited probes; one whose malloc
# is in a file not probed (jemalloc here) is held at its exec and probed before it runs.
test_follow_exec_children_through_a_shell() {
	local rc=0 je je2 gl tc p t=$OUTPUT/tests
	PROGS_NO_WAIT=1 timeout 120 "$LT" -f -T 1000 60 -- bash -c \
		"'$t/leaker-jemalloc' > '$TDIR/je.out'; '$t/leaker' > '$TDIR/gl.out'; '$t/leaker-tcmalloc' > '$TDIR/tc.out'; '$t/leaker-jemalloc' > '$TDIR/je2.out'; true" \
		> "$TDIR/lt.out" 2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	je=$(awk '/^ready/ {print $2}' "$TDIR/je.out")
	je2=$(awk '/^ready/ {print $2}' "$TDIR/je2.out")
	# the second jemalloc program joins the probes made for the first: nothing fires twice
	grep -q "pid $je2 (leaker-jemalloc) exec'ed a program allocating through .*libjemalloc.so.2: probed$" \
		"$TDIR/lt.err" || die "second jemalloc child: $(cat "$TDIR/lt.err")"
	gl=$(awk '/^ready/ {print $2}' "$TDIR/gl.out")
	tc=$(awk '/^ready/ {print $2}' "$TDIR/tc.out")
	grep -q "pid $tc (leaker-tcmalloc) exec'ed a program allocating through .*libtcmalloc.so.4: [0-9]* probes added" \
		"$TDIR/lt.err" || die "tcmalloc child not probed: $(cat "$TDIR/lt.err")"
	grep -q "pid $je (leaker-jemalloc) exec'ed a program allocating through .*libjemalloc.so.2: [0-9]* probes added" \
		"$TDIR/lt.err" || die "jemalloc child not probed: $(cat "$TDIR/lt.err")"
	grep -q "pid $gl .*probes added" "$TDIR/lt.err" && die "glibc child probed again"
	grep -q "not probed" "$TDIR/lt.err" && die "$(cat "$TDIR/lt.err")"
	for p in "$je" "$gl" "$tc" "$je2"; do
		expect_eq "$p: leak_malloc" "$(stat_of "$p" leak_malloc bytes)" 10000
		expect_eq "$p: leak_calloc" "$(stat_of "$p" leak_calloc bytes)" 5000
		expect_eq "$p: leak_realloc" "$(stat_of "$p" leak_realloc bytes)" 12000
		expect_eq "$p: thread_leak" "$(stat_of "$p" thread_leak bytes)" 9324
		expect_eq "$p: churn" "$(stat_of "$p" churn_step bytes)" 0
		expect_eq "$p: missed frees" "$(header_stat missed_frees "$TDIR/proc.$p")" 0
	done
	grep -q "^\[[0-9:]*\] pid $gl (leaker, child of " "$TDIR/lt.out" || die "no report of $gl"
}

# A vfork child runs in its parent's memory, so the parent's probes fire in it; one that
# calls _exit() after a failed exec must not be held (the parent is blocked in vfork).
test_holds_never_strand_a_vfork_child() {
	local rc pid
	for f in "" -f; do
		rc=0
		timeout 30 "$LT" $f -T 5 60 -- "$OUTPUT/tests/vforker" > "$TDIR/lt.out" \
			2> "$TDIR/lt.err" < /dev/null || rc=$?
		expect_eq "exit status (leaktrace $f)" "$rc" 0
		grep -q '^vforked 3' "$TDIR/lt.out" || die "$f: $(cat "$TDIR/lt.err")"
		pid=$(sed -n 's/^leaktrace: tracing pid \([0-9]*\).*/\1/p' "$TDIR/lt.err")
		expect_eq "leak_before_vfork ($f)" "$(stat_of "$pid" leak_before_vfork bytes)" 300
	done
}
