# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Helpers for the integration tests: start a ground-truth program, trace it, read the report.
PASSED=0
FAILED=0
SKIPPED=0

pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && sed 's/^/#   /' <<< "$2"; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "skip - $1: $2"; }
summary() {
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" -eq 0 ]
}

# run_test FN: run one test function in a subshell; it fails by calling `die MSG`.
run_test() {
	local fn=$1 out
	TDIR="$WORK/$fn"
	mkdir -p "$TDIR"
	if out=$( (set -e; TDIR="$TDIR"; "$fn") 2>&1 ); then
		pass "${fn#test_}"
	else
		fail "${fn#test_}" "$out"
	fi
	cleanup_procs
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

# The last report of $TDIR/lt.out (or FILE).
last_report() {
	awk '/^\[[0-9:]+\] (pid|kernel)/{buf=""} {buf = buf $0 "\n"} END{printf "%s", buf}' "${1:-$TDIR/lt.out}"
}

# site_stat FUNC bytes|count [FILE]: sum over the last report's stacks whose allocation site,
# the first frame outside libc and ld.so (glibc's, or musl's libc.so, its own loader), is FUNC.
site_stat() {
	last_report "${3:-}" | awk -v fn="$1" -v what="$2" '
		/^\t[0-9]+ bytes in [0-9]+ allocations from stack/ {
			b = $1; c = $4; want = 1; next }
		want && /^\t\t/ {
			if ($0 ~ /\[(libc\.so(\.6)?|ld-linux-x86-64\.so\.2|ld-musl-[^]]*)\]/) next
			f = $1; sub(/\+0x[0-9a-f]+$/, "", f)
			if (f == fn) { bytes += b; count += c }
			want = 0 }
		END { printf "%.0f\n", (what == "bytes" ? bytes : count) }'
}

# kstacks FUNC [UNLESS]: "KIND COUNT BYTES" for each stack of the last report with a frame in
# FUNC and none in UNLESS (kernel reports: KIND is kmalloc, slab:NAME, page_order_N, percpu).
kstacks() {
	last_report | awk -v fn="$1" -v unless="${2:-}" '
		function flush() { if (hit && !veto) print kind, c, b; hit = 0; veto = 0 }
		/^\t[0-9]+ bytes in [0-9]+ allocations from stack/ {
			flush(); b = $1; c = $4
			kind = $0; sub(/.*from stack \(/, "", kind); sub(/\) [a-z]+[:;].*/, "", kind)
			gsub(/ /, "_", kind); next }
		/^\t\t/ { f = $1; sub(/\+0x[0-9a-f]+$/, "", f); hit = hit || f == fn
			veto = veto || f == unless }
		END { flush() }'
}

# header_stat FIELD [FILE]: a number from the last report's header line
# (bytes, allocations, stacks, lost_events, lost_stacks, unknown_frees, missed_frees)
header_stat() {
	last_report "${2:-}" | head -n 1 | awk -v f="$1" '{
		if (match($0, /: [0-9]+ bytes in/)) bytes = substr($0, RSTART + 2, RLENGTH - 11)
		if (match($0, /in [0-9]+ allocations/)) allocs = substr($0, RSTART + 3, RLENGTH - 15)
		if (match($0, /from [0-9]+ stacks/)) stacks = substr($0, RSTART + 5, RLENGTH - 12)
		if (match($0, /lost: [0-9]+ events/)) lev = substr($0, RSTART + 6, RLENGTH - 13)
		if (match($0, /events, [0-9]+ stacks/)) lst = substr($0, RSTART + 8, RLENGTH - 15)
		if (match($0, /unknown frees: [0-9]+/)) uf = substr($0, RSTART + 15)
		if (match($0, /missed frees: [0-9]+/)) mf = substr($0, RSTART + 14)
		v["bytes"] = bytes; v["allocations"] = allocs; v["stacks"] = stacks
		v["lost_events"] = lev; v["lost_stacks"] = lst
		v["unknown_frees"] = uf + 0; v["missed_frees"] = mf + 0
		print v[f] + 0 }'
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || die "$1: got '$2', want '$3'"
}
