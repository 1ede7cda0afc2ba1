# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --reachable: the live process scanned, each stack's bytes split into unreachable, possibly
# lost and reachable. Ground truth: tests/progs/reachable.c (its header lists every class).

# reach_stat FUNC bytes|unreachable|possibly: summed over the last report's stacks whose site
# (the first frame outside libc and ld.so) is FUNC
reach_stat() {
	last_report | awk -v fn="$1" -v what="$2" '
		/^\t[0-9]+ bytes in [0-9]+ allocations from stack/ {
			b = $1; u = 0; p = 0
			if (match($0, /; unreachable [0-9]+ bytes/)) {
				u = substr($0, RSTART + 14, RLENGTH - 20) }
			if (match($0, /; possibly lost [0-9]+ bytes/)) {
				p = substr($0, RSTART + 16, RLENGTH - 22) }
			want = 1; next }
		want && /^\t\t/ {
			if ($0 ~ /\[(libc\.so(\.6)?|ld-linux-x86-64\.so\.2)\]/) next
			f = $1; sub(/\+0x[0-9a-f]+$/, "", f)
			if (f == fn) { bytes += b; unr += u; pos += p }
			want = 0 }
		END { printf "%.0f\n", what == "bytes" ? bytes : what == "unreachable" ? unr : pos }'
}

# the number of the last "ticks N" line the program printed after SIGUSR2 (it is running)
ticks() {
	local n i
	n=$(grep -c '^ticks' "$PROG_OUT" || true)
	kill -USR2 "$PROG_PID"
	wait_for "$PROG_OUT" "^ticks" 5
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^ticks' "$PROG_OUT")" -gt "$n" ] && break
		sleep 0.05
	done
	grep '^ticks' "$PROG_OUT" | tail -n 1 | awk '{print $2}'
}

# a field of /proc/PID/status
status_of() {
	awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2> /dev/null
}

# every thread of PID in a stop (t: traced, T: stopped)? Prints the stopped ones.
stopped_threads() {
	local t s
	for t in /proc/"$1"/task/*; do
		s=$(cat "$t/stat" 2> /dev/null) || continue
		s=${s##*) }
		case ${s%% *} in t | T) echo "${t##*/}" ;; esac
	done
}

test_reachable_ground_truth() {
	local t0 t1
	start_prog reachable
	start_tracer -p "$PROG_PID" --reachable -v -T 30 1
	go
	t0=$(ticks)
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	check_classes
	last_report | grep -qP '^\treachability scan: paused [0-9.]+ ms, scanned [1-9][0-9]* bytes \(4 threads' ||
		die "-v: no pause line: $(last_report | head -n 5)"
	# unreachable from the first report on: a leak, not 'new'
	last_report | grep -P '^\t4000 bytes in 4 allocations from stack \(malloc\) leak[:;]' > /dev/null ||
		die "lost_direct not called a leak: $(last_report | grep -P '^\t4000 bytes')"
	# the program goes on after every scan: stopped by none, it counts on
	[ -z "$(stopped_threads "$PROG_PID")" ] || die "threads still stopped: $(stopped_threads "$PROG_PID")"
	expect_eq "TracerPid" "$(status_of "$PROG_PID" TracerPid)" 0
	t1=$(ticks)
	[ "$t1" -gt "$t0" ] || die "the program did not run on after the scans: ticks $t0, then $t1"
}

# every class of reachable.c in the last report: outstanding bytes, what the scan made of them
check_classes() {
	while read -r fn bytes unr pos; do
		expect_eq "$fn bytes" "$(reach_stat "$fn" bytes)" "$bytes"
		expect_eq "$fn unreachable" "$(reach_stat "$fn" unreachable)" "$unr"
		expect_eq "$fn possibly lost" "$(reach_stat "$fn" possibly)" "$pos"
	done <<- EOF
		lost_direct 4000 4000 0
		lost_list 2000 2000 0
		held_global 1500 0 0
		held_parent 512 0 0
		held_child 3200 0 0
		held_pretable 4200 0 0
		held_interior 2400 0 2400
		stack_alloc 10000 0 0
		reg_malloc 6000 0 0
	EOF
	last_report | grep -qP '^\treachability: unreachable 6000 bytes in 14 allocations; ' ||
		die "no total, or not 6000 bytes: $(last_report | head -n 4)"
}

# A launched command is scanned as BPF holds it in exit(): the final report has the split
test_reachable_launched_command_scanned_at_exit() {
	local rc=0
	PROGS_NO_WAIT=1 timeout 60 "$LT" --reachable -T 30 -- "$OUTPUT/tests/reachable" \
		> "$TDIR/lt.out" 2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	last_report | grep -q ' final: ' || die "no final report"
	check_classes
}

# documented_keys FILE: every leaf key path of FILE's last JSON line is in docs/json-schema.md's
# table, with the type it says
documented_keys() {
	local doc bad
	doc=$(awk -F'|' '/^\| `/ { p = $2; t = $3; gsub(/[ `]/, "", p); gsub(/^ +| +$/, "", t)
		printf "%s\t%s\n", p, t }' docs/json-schema.md |
		jq -R -s 'split("\n") | map(select(length > 0) | split("\t") |
			{key: .[0], value: .[1]}) | from_entries')
	bad=$(tail -n 1 "$1" | jq -r --argjson doc "$doc" '
		def ok($t): if $t == "integer" then type == "number" and . == floor
			elif $t == "string or null" then . == null or type == "string"
			elif $t == "integer or null" then . == null or (type == "number" and . == floor)
			else type == $t end;
		paths(type != "object" and type != "array") as $p
		| ($p | map(if type == "number" then "[]" else "." + . end) | join("") | ltrimstr("."))
		as $k | getpath($p) as $v
		| if $doc[$k] == null then "undocumented: \($k)"
		  elif ($v | ok($doc[$k]) | not) then "\($k) is \($v | type), documented \($doc[$k])"
		  else empty end' | sort -u)
	[ -z "$bad" ] || die "$bad"
	tail -n 1 "$1" | jq -e '.reachability and (.stacks[0] | has("unreachable_bytes"))' > /dev/null ||
		die "no reachability keys to check"
}

test_reachable_bad_usage() {
	local rc=0
	"$LT" -k --reachable 1 1 > /dev/null 2> "$TDIR/err" || rc=$?
	expect_eq "-k --reachable exit status" "$rc" 2
	grep -qx 'leaktrace: --reachable scans a process.s memory, not with -k' "$TDIR/err" ||
		die "message: $(cat "$TDIR/err")"
	rc=0
	"$LT" -p 1 --sort unreachable 1 1 > /dev/null 2> "$TDIR/err" || rc=$?
	expect_eq "--sort unreachable alone exit status" "$rc" 2
	grep -qx 'leaktrace: --sort unreachable needs --reachable' "$TDIR/err" ||
		die "message: $(cat "$TDIR/err")"
	# the same options are taken together
	start_prog reachable
	start_tracer -p "$PROG_PID" --reachable --sort unreachable 1
	stop_tracer
	expect_eq "valid options exit status" "$LT_RC" 0
}

test_reachable_json_and_sort() {
	start_prog reachable
	start_tracer -p "$PROG_PID" --reachable --format json --sort unreachable 1
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	tail -n 1 "$TDIR/lt.out" | jq -e '.reachability.done and .reachability.unreachable_bytes == 6000
		and .reachability.unreachable_count == 14 and .reachability.pause_ms > 0
		and .reachability.scanned_bytes > 0 and .reachability.note == null' > /dev/null ||
		die "json totals: $(tail -n 1 "$TDIR/lt.out" | jq -c .reachability)"
	# every key documented, with its type (as formats.sh checks the keys of every report)
	documented_keys "$TDIR/lt.out"
	# --sort unreachable: the lost ones first, the most lost bytes first
	expect_eq "first two stacks by unreachable bytes" \
		"$(tail -n 1 "$TDIR/lt.out" | jq -c '[.stacks[0:2][] | [.unreachable_bytes, .possibly_bytes, .bytes]]')" \
		'[[4000,0,4000],[2000,0,2000]]'
	expect_eq "interior stack" \
		"$(tail -n 1 "$TDIR/lt.out" | jq -c '[.stacks[] | select(.bytes == 2400) | [.possibly_bytes, .possibly_count, .unreachable_bytes]]')" \
		'[[2400,3,0]]'
}

# pprof: two more sample types, unreachable counts and bytes, read by go tool pprof
test_reachable_pprof_sample_types() {
	local top
	start_prog reachable
	start_tracer -p "$PROG_PID" --reachable --format pprof -w "$TDIR/out.pb.gz" 1
	go
	stop_tracer
	expect_eq "pprof exit status" "$LT_RC" 0
	type -P go > /dev/null || die "go missing: scripts/deps.sh installs golang-go"
	top=$(HOME=$TDIR command go tool pprof -top -nodefraction=0 -nodecount=1000 -unit=B \
		-sample_index=unreachable_space "$TDIR/out.pb.gz" 2>&1) || die "go tool pprof failed: $top"
	# flat column: the functions that call malloc
	expect_eq "lost_direct unreachable_space" "$(awk '$6 == "lost_direct" { print $1 }' <<< "$top")" 4000B
	expect_eq "lost_list unreachable_space" "$(awk '$6 == "lost_list" { print $1 }' <<< "$top")" 2000B
	# nothing of held_global is unreachable: it is not among the nodes at all
	expect_eq "held_global unreachable_space" "$(awk '$6 == "held_global" { print $1 }' <<< "$top")" ""
	top=$(HOME=$TDIR command go tool pprof -top -nodefraction=0 -nodecount=1000 -unit=B \
		-sample_index=inuse_space "$TDIR/out.pb.gz" 2>&1) || die "go tool pprof failed: $top"
	expect_eq "held_global inuse_space" "$(awk '$6 == "held_global" { print $1 }' <<< "$top")" 1500B
}

test_reachable_debugger_attached_gets_a_note() {
	start_prog reachable traced
	[ "$(status_of "$PROG_PID" TracerPid)" -gt 0 ] || die "the program is not traced"
	start_tracer -p "$PROG_PID" --reachable 1
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	last_report | grep -qP "^\tnote: pid $PROG_PID is traced by pid [0-9]+ \(a debugger\): no reachability split" ||
		die "no note: $(last_report | head -n 4)"
	last_report | grep -q 'reachability: unreachable' && die "a split although not scanned"
	# the report is whole all the same
	expect_eq "lost_direct bytes" "$(reach_stat lost_direct bytes)" 4000
	expect_eq "unreachable, unknown" "$(reach_stat lost_direct unreachable)" 0
}

# signal_mid_scan SIGNAL: with a 128 MiB heap scanned every second, send SIGNAL to leaktrace
# while it holds the program stopped (TracerPid is leaktrace, a thread in tracing stop)
signal_mid_scan() {
	local i k v tracer st t0
	start_prog reachable big 128 4096
	start_tracer -p "$PROG_PID" --reachable 1
	go
	for ((i = 0; i < 20000; i++)); do
		tracer=0
		while read -r k v; do
			[ "$k" = TracerPid: ] && { tracer=$v; break; }
		done < "/proc/$PROG_PID/status"
		if [ "$tracer" = "$LT_PID" ]; then
			st=$(stopped_threads "$PROG_PID")
			if [ -n "$st" ]; then
				kill -"$1" "$LT_PID"
				break
			fi
		fi
	done
	[ -n "${st:-}" ] || die "never saw a scan in progress"
	t0=$(date +%s%N)
	LT_RC=0
	wait "$LT_PID" || LT_RC=$?
	# resumed: no tracer, no thread stopped, and it counts on
	for ((i = 0; i < 100; i++)); do
		[ "$(status_of "$PROG_PID" TracerPid)" = 0 ] && [ -z "$(stopped_threads "$PROG_PID")" ] &&
			break
		sleep 0.02
	done
	expect_eq "TracerPid after leaktrace ended" "$(status_of "$PROG_PID" TracerPid)" 0
	[ -z "$(stopped_threads "$PROG_PID")" ] || die "still stopped: $(stopped_threads "$PROG_PID")"
	echo "resumed $((($(date +%s%N) - t0) / 1000000)) ms after the signal"
	v=$(ticks)
	[ "$(ticks)" -gt "$v" ] || die "the program does not run on"
}

test_reachable_sigkill_mid_scan_resumes_target() {
	signal_mid_scan KILL
	expect_eq "leaktrace killed" "$LT_RC" 137
}

test_reachable_sigint_mid_scan_finishes_and_resumes() {
	signal_mid_scan INT
	expect_eq "exit status" "$LT_RC" 0
	# the scan in progress ended, detached, and the final report has its split
	last_report | grep -q ' final: ' || die "no final report"
	last_report | grep -qP '^\treachability: unreachable 0 bytes' ||
		die "final report without the split: $(last_report | head -n 4)"
	expect_eq "big_chain bytes" "$(reach_stat big_chain bytes)" $((128 << 20))
}

# verdict FUNC: the verdict word on the last report's stack whose site is FUNC
reach_verdict() {
	last_report | awk -v fn="$1" '
		/^\t[0-9]+ bytes in [0-9]+ allocations from stack/ {
			v = $9; sub(/[:;]$/, "", v); want = 1; next }
		want && /^\t\t/ {
			if ($0 ~ /\[(libc\.so\.6|ld-linux-x86-64\.so\.2)\]/) next
			f = $1; sub(/\+0x[0-9a-f]+$/, "", f)
			if (f == fn) print v
			want = 0 }'
}

test_reachable_growing_reachable_is_a_collection() {
	start_prog reachable grow
	start_tracer -p "$PROG_PID" --reachable 1
	go
	wait_for "$TDIR/lt.out" 'grow_held' 10
	# five reports of history: both grow steadily
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^\[' "$TDIR/lt.out")" -ge 5 ] && break
		sleep 0.1
	done
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "grow_held verdict" "$(reach_verdict grow_held)" collection
	expect_eq "grow_lost verdict" "$(reach_verdict grow_lost)" leak
	expect_eq "grow_held unreachable" "$(reach_stat grow_held unreachable)" 0
	# the latest block may still be in a register of the thread that dropped it
	[ "$(reach_stat grow_lost unreachable)" -ge "$(($(reach_stat grow_lost bytes) - 100))" ] ||
		die "grow_lost: $(reach_stat grow_lost unreachable) of $(reach_stat grow_lost bytes) unreachable"
	# without --reachable the same steady growth of a table is called a leak
	start_tracer -p "$PROG_PID" 1
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^\[' "$TDIR/lt.out")" -ge 4 ] && break
		sleep 0.1
	done
	stop_tracer
	expect_eq "grow_held verdict without the scan" "$(reach_verdict grow_held)" leak
}

test_reachable_demo_leak_unreachable_cache_reachable() {
	start_prog demo
	start_tracer -p "$PROG_PID" --reachable 1
	wait_for "$TDIR/lt.out" 'cache_session' 10
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "cache_session unreachable" "$(reach_stat cache_session unreachable)" 0
	[ "$(reach_stat cache_session bytes)" -gt 0 ] || die "no cache_session stack"
	# every leaked request buffer, but maybe the latest (a stale copy in a register or below
	# a frame of the loop)
	[ "$(reach_stat read_request unreachable)" -ge "$(($(reach_stat read_request bytes) - 4096))" ] ||
		die "read_request: $(reach_stat read_request unreachable) of $(reach_stat read_request bytes) unreachable"
	[ "$(reach_stat read_request bytes)" -ge 8192 ] || die "too few leaks seen"
}

# A process stopped by job control (SIGSTOP, Ctrl-Z) is scanned and stays stopped: the scan
# neither continues it nor stops it again
test_reachable_stopped_process_stays_stopped() {
	local n t s
	start_prog reachable
	start_tracer -v -p "$PROG_PID" --reachable 1
	go
	kill -STOP "$PROG_PID"
	n=$(grep -c 'reachability scan of' "$TDIR/lt.err" || true)
	for ((t = 0; t < 200; t++)); do
		[ "$(grep -c 'reachability scan of' "$TDIR/lt.err")" -ge $((n + 2)) ] && break
		sleep 0.05
	done
	[ "$(grep -c 'reachability scan of' "$TDIR/lt.err")" -ge $((n + 2)) ] ||
		die "no scan while it was stopped"
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	check_classes
	expect_eq "TracerPid" "$(status_of "$PROG_PID" TracerPid)" 0
	for t in /proc/"$PROG_PID"/task/*; do
		s=$(cat "$t/stat")
		s=${s##*) }
		expect_eq "state of thread ${t##*/}" "${s%% *}" T
	done
	kill -CONT "$PROG_PID"
	# the ticker counts every 5 ms: two reads back to back may both come before it runs
	n=$(ticks)
	for ((t = 0; t < 20; t++)); do
		[ "$(ticks)" -gt "$n" ] && break
		sleep 0.05
	done
	[ "$t" -lt 20 ] || die "does not run on after SIGCONT (ticks stayed at $n)"
}
