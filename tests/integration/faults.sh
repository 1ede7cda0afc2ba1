# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Faults around the tracer: the target execs, the tracer is killed or signalled, its reader
# goes away. Each ends in a clean exit with a final report, or leaves nothing behind.

test_target_exec_stops_with_final_report() {
	start_prog execer
	start_tracer -p "$PROG_PID" 60
	go
	kill -USR1 "$PROG_PID" # exec sleep
	for _ in $(seq 100); do kill -0 "$LT_PID" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$LT_PID" 2>/dev/null && die "tracer still running after the target's exec"
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	grep -q "pid $PROG_PID replaced its image (exec)" "$TDIR/lt.err" ||
		die "exec not reported: $(cat "$TDIR/lt.err")"
	expect_eq "stderr lines" "$(wc -l < "$TDIR/lt.err")" 2
	grep -q ' final: ' "$TDIR/lt.out" || die "no final report"
	# the old image's stacks still resolve: the new image's maps do not replace them
	expect_eq "leak_before_exec bytes" "$(site_stat leak_before_exec bytes)" 3000
}

test_sigterm_and_sigint_give_final_report() {
	local sig
	for sig in TERM INT; do
		start_prog leaker
		start_tracer -p "$PROG_PID" 60
		go
		stop_tracer "$sig"
		expect_eq "SIG$sig exit status" "$LT_RC" 0
		grep -q ' final: ' "$TDIR/lt.out" || die "SIG$sig: no final report"
		expect_eq "SIG$sig: leak_malloc bytes" "$(site_stat leak_malloc bytes)" 10000
		kill -KILL "$PROG_PID"
	done
}

test_closed_stdout_pipe_exits_quietly() {
	run_alone # a time bound
	start_prog leaker
	go_early() { sleep 0.5; kill -USR1 "$PROG_PID"; }
	go_early &
	local rc start=$SECONDS
	set +e
	timeout 20 "$LT" -p "$PROG_PID" 1 2> "$TDIR/lt.err" | head -n 1 > "$TDIR/lt.out"
	rc=${PIPESTATUS[0]}
	set -e
	[ "$rc" -ne 124 ] || die "tracer hung on a closed pipe"
	expect_eq "exit status" "$rc" 0
	[ $((SECONDS - start)) -lt 10 ] || die "took $((SECONDS - start)) s"
	grep -q 'bytes in' "$TDIR/lt.out" || die "head read no report: $(cat "$TDIR/lt.out")"
	grep -v 'tracing pid' "$TDIR/lt.err" | grep -q . && die "stderr: $(cat "$TDIR/lt.err")"
	true
}

# IDs of the BPF programs and links the tracer holds, from its fdinfo.
held_ids() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk -v k="$2:" '$1 == k {print $2}' | sort -u
}

test_sigkill_leaves_no_uprobe_or_link_behind() {
	start_prog leaker
	start_tracer -p "$PROG_PID" 1
	local progs links id
	progs=$(held_ids "$LT_PID" prog_id)
	links=$(held_ids "$LT_PID" link_id)
	[ -n "$progs" ] || die "no BPF program held by the tracer"
	[ -n "$links" ] || die "no BPF link held by the tracer"
	# uprobes: the tracer's uprobe_multi links (one per program and file)
	grep -qs 'link_type:.*uprobe_multi' /proc/"$LT_PID"/fdinfo/* ||
		die "no uprobe_multi link held by the tracer"
	kill -KILL "$LT_PID"
	wait "$LT_PID" 2> /dev/null || true
	sleep 0.5
	for id in $progs; do
		bpftool prog show id "$id" > /dev/null 2>&1 && die "program $id left after SIGKILL"
	done
	for id in $links; do
		bpftool link show id "$id" > /dev/null 2>&1 && die "link $id left after SIGKILL"
	done
	bpftool perf list 2> /dev/null | grep -q "pid $LT_PID " && die "perf event left: $(bpftool perf list)"
	grep -q "libbpf_$LT_PID" /sys/kernel/tracing/uprobe_events 2> /dev/null &&
		die "legacy uprobe left in uprobe_events"
	# the target still runs its workload with no probe left in it
	go
}
