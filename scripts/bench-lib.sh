# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# What the make bench scripts share, sourced (bench.sh, bench-attach.sh, bench-reach.sh, and
# bench-kernel.sh through bench.sh): a work directory whose processes are killed at exit,
# waiting for a line, starting a program or leaktrace in the background, stopping, medians.

# bench_init NAME: needs root; WORK made; what is in STARTED is killed and WORK removed at exit.
# die says NAME: first.
bench_init() {
	BENCH_NAME=$1
	WORK=$(mktemp -d "/tmp/leaktrace-$1.XXXXXX")
	STARTED=()
	# a tracer left running would tax every process on the machine
	trap 'for p in "${STARTED[@]}"; do kill -KILL "$p" 2> /dev/null; done; rm -rf "$WORK"' EXIT
	[ "$(id -u)" -eq 0 ] || die "needs root (real BPF)"
}

die() {
	echo "${BENCH_NAME:-bench}: $*" >&2
	exit 1
}

# wait_line FILE REGEX SECONDS: 0 once FILE has a line matching REGEX, 1 after SECONDS
wait_line() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -qE "$2" "$1" 2> /dev/null && return 0
		sleep 0.05
	done
	return 1
}

# start_ready OUT WHAT CMD...: CMD in the background (stdout and stderr to OUT, emptied first),
# until it prints "ready" (10 s at most, else die "WHAT did not start"); sets BG_PID
start_ready() {
	local out=$1 what=$2
	shift 2
	: > "$out"
	"$@" > "$out" 2>&1 &
	BG_PID=$!
	STARTED+=("$BG_PID")
	wait_line "$out" '^ready' 10 || die "$what did not start"
}

# start_lt OUT ERR ARGS...: leaktrace ARGS in the background (environment: the array LT_ENV
# when set), until it says it is tracing (120 s at most, else die); sets BG_PID
start_lt() {
	local out=$1 err=$2
	shift 2
	: > "$out"
	: > "$err"
	env ${LT_ENV[@]+"${LT_ENV[@]}"} "$LT" "$@" > "$out" 2> "$err" &
	BG_PID=$!
	STARTED+=("$BG_PID")
	wait_line "$err" 'tracing (pid|kernel)|cannot|error' 120
	grep -qE 'tracing (pid|kernel)' "$err" ||
		die "leaktrace $* did not attach in 120 s: $(tail -n 3 "$err")"
}

# stop PID: SIGTERM, then SIGKILL after 5 s
stop() {
	kill -TERM "$1" 2> /dev/null || return 0
	for _ in $(seq 50); do kill -0 "$1" 2> /dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2> /dev/null
	wait "$1" 2> /dev/null
}

# median: of the numbers on stdin, one a line (of an even count, the mean of the middle two)
median() {
	sort -g | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# median_of COLUMN FILE
median_of() {
	awk -v c="$1" '{ print $c }' "$2" | median
}

# The same median as an awk function, median(a, n) of a[1..n] (sorts a), to put before an awk
# program: awk "$AWK_MEDIAN"'{ ... }'
AWK_MEDIAN='
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j] < a[j - 1]; j--) {
		t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}'
