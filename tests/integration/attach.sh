# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Attaching and detaching: whatever is in flight when the probes go live or go away, every
# attach records, and no in-flight state outlives its call.

# counting_stat calls|nested|healed [FILE]: from the last report's "counting since" line
counting_stat() {
	last_report "${2:-}" | awk -v f="$1" '/^\tcounting since/ {
		if (match($0, /allocator calls: [0-9]+/)) v["calls"] = substr($0, RSTART + 17, RLENGTH - 17)
		if (match($0, /\([0-9]+ nested/)) v["nested"] = substr($0, RSTART + 1, RLENGTH - 8)
		if (match($0, /healed: [0-9]+/)) v["healed"] = substr($0, RSTART + 8, RLENGTH - 8)
		print v[f] + 0; found = 1 }
		END { if (!found) print -1 }'
}

# bpf_ids PID: the BPF programs and links the process holds ("prog N" / "link N" lines)
bpf_ids() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ { print "prog", $2 }
		/^link_id:/ { print "link", $2 }' | sort -u
}

# 8 threads allocate in tight loops with nested calls (new in constructors, realloc(NULL)
# that glibc tail-jumps to malloc); 50 tracers in turn each see the exact leak made while they
# trace, record the churn, and leave no program or link behind.
test_attach_detach_50_times_under_load() {
	local round ids kind id calls start=$SECONDS
	start_prog churner
	for round in $(seq 50); do
		# start_tracer's wait could read the last round's lt.err before the shell truncates it
		rm -f "$TDIR/lt.err" "$TDIR/lt.out"
		start_tracer -p "$PROG_PID" 3600
		[ "$round" = 1 ] && ids=$(bpf_ids "$LT_PID")
		kill -USR1 "$PROG_PID"
		wait_for "$PROG_OUT" "^leaked $round\$" 30
		stop_tracer
		expect_eq "round $round: exit status" "$LT_RC" 0
		expect_eq "round $round: leak_round bytes" "$(site_stat leak_round bytes)" 6170
		calls=$(counting_stat calls)
		[ "$calls" -gt 5 ] || die "round $round: $calls allocator calls seen: $(last_report | head -n 3)"
		[ "$(header_stat allocations)" -gt 5 ] ||
			die "round $round: only the leak recorded: $(last_report | head -n 3)"
		grep -q 'tracing failed' "$TDIR/lt.out" && die "round $round: $(last_report | head -n 4)"
		if [ "$round" = 1 ]; then
			[ -n "$ids" ] || die "no program or link held while tracing"
			grep -q '^link' <<< "$ids" || die "no link held while tracing: $ids"
			while read -r kind id; do
				bpftool "$kind" show id "$id" > /dev/null 2>&1 &&
					die "$kind $id still there after the tracer exited"
			done <<< "$ids"
		fi
	done
	echo "50 rounds in $((SECONDS - start)) s"
}

# A busy Debian python3 (its own allocator above malloc, many threads of nothing): 20
# attaches, each records allocations.
test_busy_python_never_an_empty_trace() {
	local round py
	python3 -c '
import os, sys
print("ready", os.getpid(), flush=True)
keep = []
i = 0
while True:
    keep.append(bytearray(600 + i % 1400))
    i += 1
    if len(keep) > 2000:
        del keep[:1000]
' > "$TDIR/py.out" 2>&1 &
	py=$!
	echo "$py" >> "$(PIDS_FILE)"
	wait_for "$TDIR/py.out" '^ready'
	for round in $(seq 20); do
		"$LT" -p "$py" 1 1 > "$TDIR/lt.out" 2> "$TDIR/lt.err" ||
			die "round $round: status $?: $(cat "$TDIR/lt.err")"
		[ "$(header_stat allocations)" -gt 0 ] ||
			die "round $round: empty trace: $(last_report | head -n 4)"
		[ "$(counting_stat calls)" -gt 0 ] || die "round $round: no call seen: $(last_report | head -n 4)"
		grep -q 'tracing failed' "$TDIR/lt.out" && die "round $round: $(last_report | head -n 4)"
	done
	true
}

# hl_malloc's out-of-memory callback longjmps out 5 times: 5 returns never seen, 5 records
# healed, and what follows (at the same frame level and deeper) is exact.
test_lost_returns_heal() {
	start_prog healer
	start_tracer -p "$PROG_PID" -O "$OUTPUT/tests/healer" -S hl_ 3600
	go
	stop_tracer
	grep -q '^lost 5$' "$PROG_OUT" || die "the program did not lose 5 returns: $(cat "$PROG_OUT")"
	expect_eq "healed" "$(counting_stat healed)" 5
	expect_eq "leak_after bytes" "$(site_stat leak_after bytes)" 6666
	expect_eq "leak_deeper bytes" "$(site_stat deeper_alloc bytes)" 8888
	expect_eq "outstanding bytes" "$(header_stat bytes)" $((6666 + 8888))
}

# The report says when counting began, in text and JSON.
test_report_says_when_counting_began() {
	start_prog leaker
	"$LT" -p "$PROG_PID" --format json 1 1 > "$TDIR/json" 2> "$TDIR/err" || die "$(cat "$TDIR/err")"
	jq -e '(.counting.since | test("^[0-9-]+T[0-9:]+\\.[0-9]{3}Z$")) and
		(.counting.since_unix_ms > 0) and .tracing_failed == null and
		(.losses.bpf.healed | type) == "number"' "$TDIR/json" > /dev/null ||
		die "no counting.since: $(head -c 600 "$TDIR/json")"
	"$LT" -p "$PROG_PID" 1 1 > "$TDIR/text" 2> /dev/null
	grep -qE '^	counting since [0-9:]+\.[0-9]{3}; allocator calls: [0-9]+ \([0-9]+ nested' \
		"$TDIR/text" || die "no counting line: $(head -n 3 "$TDIR/text")"
}

# RSS grows 194 MiB through malloc, but the probes are on an object the process never calls
# (-O healer -S hl_): the report must say tracing failed, not that RSS growth is no leak.
test_nothing_recorded_says_tracing_failed() {
	start_prog retention
	start_tracer -p "$PROG_PID" -O "$OUTPUT/tests/healer" -S hl_ 3600
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "allocations" "$(header_stat allocations)" 0
	grep -q '^	RSS (anon)' "$TDIR/lt.out" || die "no RSS line: $(last_report | head -n 4)"
	grep -q 'note: tracing failed: RSS grew .* no allocator call was seen' "$TDIR/lt.out" ||
		die "no failure note: $(last_report | head -n 5)"
	grep -q 'this is not a leak' "$TDIR/lt.out" && die "called retention: $(last_report | head -n 5)"
	true
}
