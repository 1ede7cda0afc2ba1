# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Helpers for the integration tests: start a ground-truth program, trace it, read the report.
# tests/run.sh runs each tests/integration/*.sh in a shell of its own, each test_* function of
# it in a subshell with `set -e`: a test passes when it returns, fails at `die` or at any
# command that fails outside a condition, and is skipped at `skip REASON`.
PASSED=0
FAILED=0
SKIPPED=0

pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && sed 's/^/#   /' <<< "$2"; }
# skip NAME REASON: counted as a skip. Inside a test, skip REASON... ends the test as skipped.
skip() {
	if [ -n "${IN_TEST:-}" ]; then
		echo "skip: $*"
		exit 77
	fi
	SKIPPED=$((SKIPPED + 1))
	echo "skip - $1: $2"
}
summary() {
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" -eq 0 ]
}

# run_test FN: run one test function in a subshell with errexit (not under a condition, where
# bash would ignore it); its output is kept in $TDIR/test.log and shown if it fails. Appends
# "SECONDS NAME RESULT" to $TIMES when set.
run_test() {
	local fn=$1 rc t0 secs result
	TDIR="$WORK/$fn"
	mkdir -p "$TDIR"
	if [ -n "${SUITE_LOCK:-}" ]; then
		# shared with the tests of other files running at once; the gate lets a test that
		# waits to run alone stop new ones from starting
		exec {GATE_FD}>> "$SUITE_LOCK.gate" {LOCK_FD}>> "$SUITE_LOCK"
		flock -x "$GATE_FD"
		flock -s "$LOCK_FD"
		flock -u "$GATE_FD"
	fi
	t0=$EPOCHREALTIME
	(
		set -e
		IN_TEST=1
		"$fn"
	) > "$TDIR/test.log" 2>&1 < /dev/null
	rc=$?
	[ -f "$TDIR/.alone" ] && t0=$(cat "$TDIR/.alone")
	if [ -n "${SUITE_LOCK:-}" ]; then
		# unlocked here: what the test started (and cleanup_procs kills) shares these files
		flock -u "$LOCK_FD"
		exec {GATE_FD}>&- {LOCK_FD}>&-
	fi
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	case $rc in
	0)
		result=ok
		pass "${fn#test_} (${secs} s)"
		;;
	77)
		result=skip
		skip "${fn#test_} (${secs} s)" "$(sed -n 's/^skip: //p' "$TDIR/test.log" | tail -n 1)"
		;;
	*)
		result=FAIL
		fail "${fn#test_} (${secs} s)" "$(cat "$TDIR/test.log"; echo "(exit status $rc)")"
		;;
	esac
	[ -z "${TIMES:-}" ] || printf '%s\t%s\t%s\n' "$secs" "${TEST_FILE:+$TEST_FILE/}${fn#test_}" \
		"$result" >> "$TIMES"
	cleanup_procs
}

# run_alone: called first in a test that must not overlap tests of other files (JOBS > 1): it
# measures time or memory, or watches something system-wide. Waits for the others to end;
# the test's time is counted from then.
run_alone() {
	[ -n "${SUITE_LOCK:-}" ] || return 0
	flock -u "$LOCK_FD"
	flock -x "$GATE_FD"
	flock -x "$LOCK_FD"
	flock -u "$GATE_FD"
	echo "$EPOCHREALTIME" > "$TDIR/.alone"
}

PIDS_FILE() { echo "$WORK/pids"; }
cleanup_procs() {
	local p
	[ -f "$(PIDS_FILE)" ] || return 0
	for p in $(cat "$(PIDS_FILE)"); do kill -KILL "$p" 2>/dev/null || true; done
	rm -f "$(PIDS_FILE)"
	wait 2>/dev/null || true
}

die() { echo "$*"; exit 1; }

# wait_for FILE REGEX [SECONDS]
wait_for() {
	local i
	for ((i = 0; i < ${3:-10} * 20; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	die "timed out waiting for /$2/ in $(basename "$1"): $(tail -n 3 "$1" 2>/dev/null)"
}

# start_prog NAME [ARGS...]: sets PROG_PID; the program's stdout is $PROG_OUT ($TDIR/prog.out
# for the first program of a test, prog.N.out for the next ones)
start_prog() {
	PROG_OUT=$TDIR/prog.out
	local n=1
	while [ -e "$PROG_OUT" ]; do n=$((n + 1)); PROG_OUT=$TDIR/prog.$n.out; done
	"$OUTPUT/tests/$1" "${@:2}" > "$PROG_OUT" 2>&1 &
	PROG_PID=$!
	echo "$PROG_PID" >> "$(PIDS_FILE)"
	wait_for "$PROG_OUT" '^ready'
}

# start_tracer ARGS...: leaktrace ARGS in the background; report in $TDIR/lt.out
start_tracer() {
	# emptied here, not by the background job's redirections: wait_for could otherwise read
	# a previous tracer's "tracing" line before the new job has truncated the file
	: > "$TDIR/lt.out"
	: > "$TDIR/lt.err"
	"$LT" "$@" > "$TDIR/lt.out" 2> "$TDIR/lt.err" &
	LT_PID=$!
	echo "$LT_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/lt.err" 'tracing (pid|kernel)|leaktrace: .*(error|cannot|no )' 15
	grep -qE 'tracing (pid|kernel)' "$TDIR/lt.err" || die "tracer did not start: $(cat "$TDIR/lt.err")"
}

# go: let the program run its workload and wait until it says done.
go() {
	kill -USR1 "$PROG_PID"
	wait_for "${PROG_OUT:-$TDIR/prog.out}" '^done' 60
}

# stop_tracer [SIGNAL]: final report, sets LT_RC
stop_tracer() {
	kill -"${1:-INT}" "$LT_PID" 2>/dev/null || true
	LT_RC=0
	wait "$LT_PID" || LT_RC=$?
}

# The last report of $TDIR/lt.out (or FILE): from its header line on. Fails, saying so on
# stderr, when FILE holds no report.
last_report() {
	local f=${1:-$TDIR/lt.out} n
	n=$(grep -nE '^\[[0-9:]+\] (pid|kernel)' "$f" 2> /dev/null | tail -n 1)
	[ -n "$n" ] || { echo "no report in $f: $(head -c 300 "$f" 2> /dev/null)" >&2; return 1; }
	tail -n "+${n%%:*}" "$f"
}

# proc_report PID [FILE]: the last report of one process (-f), for site_stat and header_stat
proc_report() {
	awk -v pid="$1" '
		/^\[[0-9:]+\] pid / { on = ($3 == pid); if (on) n = 0 }
		on { line[++n] = $0 }
		END { for (i = 1; i <= n; i++) print line[i] }' "${2:-$TDIR/lt.out}"
}

# site_stat FUNC bytes|count [FILE]: sum over the last report's stacks whose allocation site,
# the first frame outside libc and ld.so (glibc's, or musl's libc.so, its own loader), is FUNC.
site_stat() {
	local r
	case $2 in bytes | count) ;; *) echo "site_stat: bytes or count, not '$2'" >&2; return 1 ;; esac
	r=$(last_report "${3:-}") || return 1
	awk -v fn="$1" -v what="$2" '
		/^\t[0-9]+ bytes in [0-9]+ allocations from stack/ {
			b = $1; c = $4; want = 1; next }
		want && /^\t\t/ {
			if ($0 ~ /\[(libc\.so(\.6)?|ld-linux-x86-64\.so\.2|ld-musl-[^]]*)\]/) next
			f = $1; sub(/\+0x[0-9a-f]+$/, "", f)
			if (f == fn) { bytes += b; count += c }
			want = 0 }
		END { printf "%.0f\n", (what == "bytes" ? bytes : count) }' <<< "$r"
}

# kstacks FUNC [UNLESS]: "KIND COUNT BYTES" for each stack of the last report with a frame in
# FUNC and none in UNLESS (kernel reports: KIND is kmalloc, slab:NAME, page_order_N, percpu).
# Fails when there is no report: take its output with VAR=$(kstacks ...), not in a condition.
kstacks() {
	local r
	r=$(last_report) || return 1
	awk -v fn="$1" -v unless="${2:-}" '
		function flush() { if (hit && !veto) print kind, c, b; hit = 0; veto = 0 }
		/^\t[0-9]+ bytes in [0-9]+ allocations from stack/ {
			flush(); b = $1; c = $4
			kind = $0; sub(/.*from stack \(/, "", kind); sub(/\) [a-z]+[:;].*/, "", kind)
			gsub(/ /, "_", kind); next }
		/^\t\t/ { f = $1; sub(/\+0x[0-9a-f]+$/, "", f); hit = hit || f == fn
			veto = veto || f == unless }
		END { flush() }' <<< "$r"
}

# header_stat FIELD [FILE]: a number from the last report's header line (bytes, allocations,
# stacks, lost_events, lost_stacks, untracked_threads, oom, unknown_frees, missed_frees).
# A header that does not parse, or an unknown FIELD, fails with a message on stderr.
HEADER_RE='^\[[0-9:]+\] [^:]+: ([0-9]+) bytes in ([0-9]+) allocations from ([0-9]+) stacks; '
HEADER_RE+='lost: ([0-9]+) events, ([0-9]+) stacks, ([0-9]+) untracked threads, ([0-9]+) out of '
HEADER_RE+='memory; unknown frees: ([0-9]+), missed frees: ([0-9]+)$'
HEADER_FIELDS=(bytes allocations stacks lost_events lost_stacks untracked_threads oom unknown_frees
	missed_frees)
header_stat() {
	local r h i
	r=$(last_report "${2:-}") || return 1
	h=${r%%$'\n'*}
	[[ $h =~ $HEADER_RE ]] || { echo "header_stat: header does not parse: '$h'" >&2; return 1; }
	for i in "${!HEADER_FIELDS[@]}"; do
		[ "${HEADER_FIELDS[$i]}" = "$1" ] && { echo "${BASH_REMATCH[$((i + 1))]}"; return 0; }
	done
	echo "header_stat: no field '$1' (${HEADER_FIELDS[*]})" >&2
	return 1
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || die "$1: got '$2', want '$3'"
}
