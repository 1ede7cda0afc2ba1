# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Holds: a process BPF stopped (a launched command at exit(), with -f its children at exec) is
# continued whatever happens to leaktrace: SIGKILL at any moment, or a tracer that stops
# answering. The ground truth is tests/progs/holdtree.c.

# proc_state PID: its state letter (R, S, T, Z...), or "gone"
proc_state() {
	local s
	s=$(cat "/proc/$1/stat" 2> /dev/null) || { echo gone; return 0; }
	s=${s##*) }
	echo "${s%% *}"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_state PID REGEX MS: until its state matches; sets WAITED_MS
wait_state() {
	local t0 st
	t0=$(now_ms)
	while :; do
		st=$(proc_state "$1")
		WAITED_MS=$(($(now_ms) - t0))
		[[ $st =~ $2 ]] && return 0
		[ "$WAITED_MS" -le "$3" ] || die "pid $1 in state $st after $3 ms, want /$2/"
		sleep 0.01
	done
}

# session_procs SID: "PID STATE COMM" of each process in the session
session_procs() {
	cat /proc/[0-9]*/stat 2> /dev/null | awk -v sid="$1" '{
		comm = $0; sub(/^[0-9]+ \(/, "", comm); sub(/\) [A-Za-z] .*/, "", comm)
		s = $0; sub(/.*\) /, "", s); split(s, a, " ")
		if (a[4] == sid) print $1, a[1], comm }'
}

# the BPF objects a process holds open: "prog_id N", "link_id N", "map_type N" lines
bpf_fds_of() {
	cat /proc/"$1"/fdinfo/* 2> /dev/null | awk '$1 ~ /^(prog_id|link_id|map_type):$/ {print $1, $2}' |
		sort -u
}

# held_at_exit: the launched holdtree reaches exit() while leaktrace is stopped, so BPF holds
# it there and nobody continues it. Sets LT_PID and PROG.
held_at_exit() {
	"$LT" -T 10 -- "$OUTPUT/tests/holdtree" > "$TDIR/lt.out" 2> "$TDIR/lt.err" < /dev/null &
	LT_PID=$!
	echo "$LT_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/lt.out" '^ready' 15
	PROG=$(awk '/^ready/ {print $2}' "$TDIR/lt.out")
	echo "$PROG" >> "$(PIDS_FILE)"
	kill -STOP "$LT_PID"
	kill -USR1 "$PROG"
	wait_state "$PROG" '^T$' 2000
	grep -q "^exiting $PROG" "$TDIR/lt.out" || die "stopped, but not in exit(): $(cat "$TDIR/lt.out")"
}

test_holds_exit_sigkill_resumes_command() {
	local rc=0 wd
	# held at exit, its maps are read there: exact bytes, frames named
	PROGS_NO_WAIT=1 timeout 60 "$LT" -T 10 -- "$OUTPUT/tests/holdtree" > "$TDIR/lt.out" \
		2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	expect_eq "exit_leak bytes" "$(site_stat exit_leak bytes)" 3000
	held_at_exit
	# the watchdog keeps the map of holds and nothing that would outlive leaktrace
	for wd in $(cat /proc/"$LT_PID"/task/*/children); do
		[ "$(cat /proc/"$wd"/comm)" = leaktrace-wd ] && break
	done
	[ "$(cat /proc/"$wd"/comm)" = leaktrace-wd ] || die "no watchdog among leaktrace's children"
	bpf_fds_of "$wd" | grep -qE '^(prog_id|link_id)|^map_type: 27$' &&
		die "the watchdog holds more than its map: $(bpf_fds_of "$wd")"
	bpf_fds_of "$wd" | grep -q '^map_type: 1$' || die "the watchdog holds no hash map"
	kill -KILL "$LT_PID"
	wait_state "$PROG" '^(Z|gone)$' 1000 # the deadline would take 5 s
	# said once leaktrace is gone (detaching its probes takes it up to a second)
	wait_for "$TDIR/lt.err" 'ended with 1 process held: continued' 5
	wait_state "$wd" '^(Z|gone)$' 2000
}

test_holds_hung_tracer_deadline() {
	held_at_exit
	wait_state "$PROG" '^(Z|gone)$' 8000
	[ "$WAITED_MS" -ge 4000 ] || die "continued after $WAITED_MS ms, before the deadline"
	grep -q "pid $PROG held over 5000 ms" "$TDIR/lt.err" ||
		die "the watchdog did not say: $(cat "$TDIR/lt.err")"
	# the tracer, once it answers again, ends as usual: a final report, the command's status
	kill -CONT "$LT_PID"
	wait_for "$TDIR/lt.out" ' final: ' 10
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	# what it allocated is all there; which mappings are its image leaktrace may learn too
	# late (stopped before it read them at the exec), so no exact total here
	[ "$(header_stat bytes)" -ge 3000 ] || die "lost what it allocated: $(last_report | head -n 1)"
}

test_holds_follow_sigkill_random_moments() {
	local i delay when sid t0 left started=0 attach=0 stopped procs early=0
	# a tree traced to its end: each leaf held at exec (probed) and at exit (maps read)
	timeout 60 "$LT" -f -T 10 -- "$OUTPUT/tests/holdtree" tree 3 > "$TDIR/lt.out" \
		2> "$TDIR/lt.err" < /dev/null
	expect_eq "leaves with leaf_leak 1000 bytes" \
		"$(grep -B1 -P '^\t\tleaf_leak\+' "$TDIR/lt.out" | grep -c $'^\t1000 bytes in 1 ')" 3
	for ((i = 0; i < 10; i++)); do
		delay=$((RANDOM % 1500))
		when="after its exec"
		setsid "$LT" -f -- "$OUTPUT/tests/holdtree" tree 60 > "$TDIR/lt.$i.out" \
			2> "$TDIR/lt.$i.err" < /dev/null &
		sid=$!
		echo "$sid" >> "$(PIDS_FILE)"
		# the delay counts from leaktrace's exec: a loaded machine can take tens of ms to get
		# from the fork through setsid's exec to leaktrace's, and a kill before that is no
		# kill of leaktrace at all
		t0=$(now_ms)
		until [ "$(cat /proc/"$sid"/comm 2> /dev/null)" = leaktrace ]; do
			[ $(($(now_ms) - t0)) -lt 5000 ] ||
				die "$sid is not leaktrace 5 s after its start (setsid forked?): $(cat /proc/"$sid"/comm 2>&1)"
			sleep 0.002
		done
		# every other kill comes after the probes are in place, however long attaching takes
		# (over 1.5 s at load average 15: all ten kills came during attach)
		if ((i % 2)); then
			t0=$(now_ms)
			until grep -q '^leaktrace: tracing' "$TDIR/lt.$i.err"; do
				[ $(($(now_ms) - t0)) -lt 60000 ] ||
					die "not attached in 60 s: $(cat "$TDIR/lt.$i.err")"
				sleep 0.01
			done
			delay=$((RANDOM % 1000))
			when="after it attached"
		fi
		sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
		procs=$(session_procs "$sid" | wc -l) # 1: the command is not forked yet
		kill -KILL "$sid"
		t0=$(now_ms)
		while stopped=$(session_procs "$sid" | awk '$2 == "T"') && [ -n "$stopped" ]; do
			[ $(($(now_ms) - t0)) -lt 3000 ] ||
				die "killed $delay ms $when; 3 s later still stopped: $stopped"
			sleep 0.02
		done
		# the tree runs to its end untraced, the watchdog exits: nothing left but zombies
		while left=$(session_procs "$sid" | awk '$2 != "Z"') && [ -n "$left" ]; do
			[ $(($(now_ms) - t0)) -lt 20000 ] ||
				die "killed $delay ms $when; 20 s later still there: $left"
			sleep 0.05
		done
		if grep -q '^tree done' "$TDIR/lt.$i.out"; then
			started=$((started + 1))
		elif grep -q "ended before '.*' started: not run" "$TDIR/lt.$i.err"; then
			attach=$((attach + 1))
		elif [ "$procs" -le 1 ] && [ ! -s "$TDIR/lt.$i.out" ] && [ ! -s "$TDIR/lt.$i.err" ]; then
			early=$((early + 1)) # killed before it forked the command: nothing to run
		else
			die "killed $delay ms $when: the tree neither ran nor said why: $(cat "$TDIR/lt.$i.err")"
		fi
	done
	[ "$started" -gt 0 ] || die "every kill came during attach: nothing held was tested"
}

# catches_int PID: leaktrace has its SIGINT handler (it installs it just before attaching)
catches_int() {
	local m
	m=$(awk '/^SigCgt:/ {print $2}' /proc/"$1"/status 2> /dev/null)
	[ -n "$m" ] && (((16#$m >> 1) & 1))
}

test_holds_sigint_while_attaching() {
	local i rc=0
	setsid "$LT" -f -T 10 -- "$OUTPUT/tests/holdtree" tree 20 > "$TDIR/lt.out" \
		2> "$TDIR/lt.err" < /dev/null &
	LT_PID=$!
	echo "$LT_PID" >> "$(PIDS_FILE)"
	for ((i = 0; i < 2000; i++)); do catches_int "$LT_PID" && break; sleep 0.005; done
	grep -q 'tracing pid' "$TDIR/lt.err" && die "attached before the test could interrupt it"
	kill -INT "$LT_PID"
	wait "$LT_PID" || rc=$?
	expect_eq "exit status" "$rc" 130
	grep -q "interrupted before 'holdtree' started: not run" "$TDIR/lt.err" ||
		die "not said: $(cat "$TDIR/lt.err")"
	grep -q ' final: ' "$TDIR/lt.out" || die "no final report: $(cat "$TDIR/lt.out")"
	grep -qE 'tree done|child of' "$TDIR/lt.out" && die "the command ran: $(cat "$TDIR/lt.out")"
	[ -z "$(session_procs "$LT_PID" | awk '$2 != "Z"')" ] ||
		die "left behind: $(session_procs "$LT_PID")"
}

test_holds_sigint_with_holds_in_flight() {
	local t0 rc=0
	setsid "$LT" -f -T 10 -- "$OUTPUT/tests/holdtree" tree 100000 > "$TDIR/lt.out" \
		2> "$TDIR/lt.err" < /dev/null &
	LT_PID=$!
	echo "$LT_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/lt.out" 'child of .* final: ' 30 # leaves held at exec and exit, traced
	sed -n 's/^leaktrace: tracing pid \([0-9]*\).*/\1/p' "$TDIR/lt.err" >> "$(PIDS_FILE)"
	kill -INT "$LT_PID"
	t0=$(now_ms)
	while ! grep -vq 'child of' <(grep ' final: ' "$TDIR/lt.out"); do
		[ $(($(now_ms) - t0)) -lt 10000 ] || die "no final report 10 s after SIGINT"
		sleep 0.02
	done
	echo "final report $(($(now_ms) - t0)) ms after SIGINT" >&2
	wait "$LT_PID" || rc=$?
	# the command outlived the tracer by a second: SIGTERM, its status
	expect_eq "exit status" "$rc" 143
	grep -q 'leaf_leak+' "$TDIR/lt.out" || die "no leaf traced: $(head -n 20 "$TDIR/lt.out")"
	t0=$(now_ms)
	while [ -n "$(session_procs "$LT_PID" | awk '$2 != "Z"')" ]; do
		[ $(($(now_ms) - t0)) -lt 3000 ] || die "left behind: $(session_procs "$LT_PID")"
		sleep 0.05
	done
}
