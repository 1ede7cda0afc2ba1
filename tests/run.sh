#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The test suite: unit tests, then integration tests that run the real tracer (root, real BPF)
# against ground-truth programs. Ends with "N passed, N failed, N skipped".
# TESTS=REGEX runs only the integration tests whose name matches (e.g. TESTS='bad|stress').
# JOBS=N runs up to N integration files at once (default 3: most of a test's time is the
# kernel unregistering uprobes as the tracer exits, time in which the CPU is free); a test that
# must not overlap others calls run_alone.
#
# Each tests/integration/*.sh runs in a bash of its own, in a session of its own: what a file
# leaves running is killed with its session before the next file starts. That shell sources
# every integration file (helpers are shared: launch, expect_error, leaker_traced...), the file
# itself last, and runs the test_* functions defined in the file.
set -u
cd "$(dirname "$0")/.."
export OUTPUT=${OUTPUT:-$PWD/.output}
export LT=${LT:-$PWD/leaktrace}
. tests/lib.sh

# run_file FILE: the tests of one integration file; counts to $RESULTS/NAME.counts
run_file() {
	local f=$1 name fn
	name=$(basename "$f" .sh)
	export TEST_FILE=$name
	WORK=$WORK/$name
	mkdir -p "$WORK"
	COUNTS=$RESULTS/$name.counts
	trap 'cleanup_procs; echo "$PASSED $FAILED $SKIPPED" > "$COUNTS"' EXIT
	trap 'exit 130' INT TERM
	echo "# integration/$name"
	for fn in tests/integration/*.sh; do
		[ "$fn" = "$f" ] || . "$fn"
	done
	. "$f"
	shopt -s extdebug # declare -F NAME...: "NAME LINE FILE"
	for fn in $(declare -F $(compgen -A function test_) | awk -v f="$f" '$3 == f {print $1}' |
		sort); do
		[ -n "${TESTS:-}" ] && ! [[ $fn =~ $TESTS ]] && continue
		run_test "$fn"
	done
}

if [ "${1:-}" = --file ]; then
	echo $$ > "$WORK/$(basename "$2" .sh).sid"
	run_file "$2"
	exit
fi

export WORK=$(mktemp -d /tmp/leaktrace-tests.XXXXXX)
export RESULTS=$WORK/results TIMES=$WORK/results/times
export JOBS=${JOBS:-3}
[ "$JOBS" -le 1 ] || export SUITE_LOCK=$WORK/results/lock
mkdir -p "$RESULTS"
: > "$TIMES"
if [ -n "${KEEP_WORK:-}" ]; then
	echo "# work directories kept in $WORK"
else
	trap 'rm -rf "$WORK"' EXIT
fi
SUITE_T0=$EPOCHREALTIME

for t in "$OUTPUT"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if "$t" > "$WORK/$name.log" 2>&1; then
		pass "unit/$name ($(tail -n 1 "$WORK/$name.log"))"
	else
		fail "unit/$name" "$(grep -m3 'not ok' "$WORK/$name.log"; tail -n 1 "$WORK/$name.log")"
	fi
done

# file_done NAME: print its output (when buffered), add its counts, kill what it left running
file_done() {
	local name=$1 p f s sid
	[ "${JOBS:-1}" -gt 1 ] && cat "$WORK/$name.log"
	if read -r p f s 2> /dev/null < "$RESULTS/$name.counts"; then
		PASSED=$((PASSED + p))
		FAILED=$((FAILED + f))
		SKIPPED=$((SKIPPED + s))
	else
		fail "integration/$name" "its shell ended without results: $(tail -n 5 "$WORK/$name.log" 2> /dev/null)"
	fi
	sid=$(cat "$WORK/$name.sid" 2> /dev/null) && kill -KILL -- "-$sid" 2> /dev/null
	true
}

# start_file FILE: its shell, in a session of its own (setsid: its own process group), with
# SIGINT and SIGQUIT not ignored as bash leaves them in a job started with &
start_file() {
	local name
	name=$(basename "$1" .sh)
	if [ "${JOBS:-1}" -gt 1 ]; then
		env --default-signal=INT,QUIT setsid -w bash "$0" --file "$1" > "$WORK/$name.log" 2>&1 < /dev/null &
	else
		env --default-signal=INT,QUIT setsid -w bash "$0" --file "$1" < /dev/null &
	fi
	running[$!]=$name
}

# wait_file: wait for one of the running files to end, then account for it
wait_file() {
	local done_pid
	wait -n -p done_pid "${!running[@]}"
	file_done "${running[$done_pid]}"
	unset "running[$done_pid]"
}

if [ "$(id -u)" -ne 0 ]; then
	for f in tests/integration/*.sh; do
		skip "integration/$(basename "$f" .sh)" "not root: the tracer needs root to load BPF"
	done
else
	dups=$(grep -ho '^test_[A-Za-z0-9_]*' tests/integration/*.sh | sort | uniq -d)
	[ -z "$dups" ] || fail "integration: test names defined twice" "$dups"
	declare -A running=()
	trap 'for p in "${!running[@]}"; do kill -TERM -- "-$(cat "$WORK/${running[$p]}.sid")"; done
		exit 130' INT TERM
	# the longest files first (by lines, roughly their time), so that the last one to end
	# does not start late
	for f in $(wc -l tests/integration/*.sh | sort -rn | awk '$2 != "total" {print $2}'); do
		# only files with a test that TESTS selects
		grep -o '^test_[A-Za-z0-9_]*' "$f" | grep -qE "${TESTS:-.}" || continue
		while [ "${#running[@]}" -ge "${JOBS:-1}" ]; do wait_file; done
		start_file "$f"
	done
	while [ "${#running[@]}" -gt 0 ]; do wait_file; done
	if [ -s "$TIMES" ]; then
		echo "# slowest tests (seconds):"
		sort -t$'\t' -k1,1 -rn "$TIMES" | head -n 10 | awk -F'\t' '{ printf "#   %6.1f  %s%s\n", $1, $2,
			$3 == "ok" ? "" : " (" $3 ")" }'
		awk -F'\t' -v wall="$(awk -v a="$SUITE_T0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" \
			'{ s += $1; n++ } END { printf "#   %d tests, %.0f s in tests, %.0f s wall\n", n, s, wall }' \
			"$TIMES"
	fi
fi
summary
