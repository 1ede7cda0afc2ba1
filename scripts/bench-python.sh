#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make bench (its last part): what tracing costs a CPython program. tests/bench/pyalloc.py under
# PYTHONMALLOC=malloc, untraced and under leaktrace -p (Python frames on), medians of RUNS
# interleaved runs; added ns per allocation from leaktrace's own count of allocator calls. Then
# the same loop making class instances under pymalloc (no PYTHONMALLOC: objects counted at
# their constructors), untraced and traced. Debian's /usr/bin/python3.11; root, real BPF.
# ~2 minutes.
set -u
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh # wait_line
LT=${LT:-$PWD/leaktrace}
PY=${PY:-/usr/bin/python3.11}
RUNS=${RUNS:-3}
ITERS=${PY_ITERS:-200000}
DEPTH=${PY_DEPTH:-10}
WORK=$(mktemp -d /tmp/leaktrace-pybench.XXXXXX)
STARTED=()
trap 'for p in "${STARTED[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT
die() { echo "bench-python: $*" >&2; exit 1; }
[ -x "$PY" ] || { echo "bench-python: no $PY, skipped"; exit 0; }

# run_one MODE: "MODE cpu_ns_per_iter allocator_calls"
run_one() {
	local d=$WORK/$1 bp tp calls=-
	mkdir -p "$d"
	: > "$d/b.out"
	: > "$d/t.err"
	if [[ $1 == *_objects ]]; then
		env -u PYTHONMALLOC "$PY" tests/bench/pyalloc.py "$ITERS" "$DEPTH" object \
			> "$d/b.out" 2>&1 &
	else
		PYTHONMALLOC=malloc "$PY" tests/bench/pyalloc.py "$ITERS" "$DEPTH" > "$d/b.out" 2>&1 &
	fi
	bp=$!
	STARTED+=("$bp")
	wait_line "$d/b.out" '^ready' 20 || die "pyalloc.py did not start"
	if [[ $1 != base* ]]; then
		local envs=()
		[ "$1" = traced_native ] && envs=(LEAKTRACE_NO_PYTHON=1)
		env "${envs[@]}" "$LT" -p "$bp" -T 3 --no-lines > "$d/t.out" 2> "$d/t.err" &
		tp=$!
		STARTED+=("$tp")
		wait_line "$d/t.err" 'tracing pid|cannot|error' 60 ||
			die "leaktrace did not attach: $(cat "$d/t.err")"
		[ "$1" = traced_native ] || wait_line "$d/t.err" 'Python frames on' 10 ||
			die "no Python frames: $(cat "$d/t.err")"
	fi
	kill -USR1 "$bp"
	wait_line "$d/b.out" '^done' 600 || die "pyalloc.py did not finish ($1)"
	if [[ $1 != base* ]]; then
		kill -INT "$tp"
		wait "$tp"
		calls=$(sed -nE 's/.*allocator calls: ([0-9]+).*/\1/p' "$d/t.out" | tail -1)
	fi
	wait "$bp"
	echo "$1 $(awk '/^cpu_ns_per_iter/{print $2}' "$d/b.out") $calls"
}

: > "$WORK/results"
for ((r = 1; r <= RUNS; r++)); do
	for m in base traced_native traced base_objects traced_objects; do
		run_one "$m" >> "$WORK/results" || exit 1
	done
done
echo
echo "CPython ($("$PY" -V 2>&1), PYTHONMALLOC=malloc): $ITERS iterations of bytes(100) at Python"
echo "stack depth $DEPTH, thread CPU ns per iteration, median of $RUNS interleaved runs"
awk -v iters="$ITERS" '
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j] < a[j - 1]; j--) {
		t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ k = $1; n[k]++; v[k, n[k]] = $2; c[k, n[k]] = $3 }
END {
	split("base traced_native traced base_objects traced_objects", modes, " ")
	for (mi = 1; mi <= 5; mi++) {
		m = modes[mi]
		delete a; for (i = 1; i <= n[m]; i++) a[i] = v[m, i]; med[m] = median(a, n[m])
		delete a; for (i = 1; i <= n[m]; i++) a[i] = c[m, i]; calls[m] = median(a, n[m])
	}
	printf "| mode | ns/iteration (CPU) | allocator calls/iteration | added ns per allocator call |\n"
	printf "| --- | --- | --- | --- |\n"
	printf "| python untraced | %.0f | - | - |\n", med["base"]
	label["traced_native"] = "python traced, native frames only (LEAKTRACE_NO_PYTHON=1)"
	label["traced"] = "python traced, Python frames"
	for (mi = 2; mi <= 3; mi++) {
		m = modes[mi]; per = calls[m] / iters
		printf "| %s | %.0f | %.2f | %.0f |\n", label[m], med[m], per,
			(per > 0 ? (med[m] - med["base"]) / per : 0)
	}
	per = calls["traced_objects"] / iters
	printf "\nThe loop making a class instance per iteration under pymalloc (PYTHONMALLOC unset):\n"
	printf "| mode | ns/iteration (CPU) | constructor calls/iteration | added ns per object (made and freed) |\n"
	printf "| --- | --- | --- | --- |\n"
	printf "| python untraced | %.0f | - | - |\n", med["base_objects"]
	printf "| python traced -p, objects at their constructors | %.0f | %.2f | %.0f |\n",
		med["traced_objects"], per,
		(per > 0 ? (med["traced_objects"] - med["base_objects"]) / per : 0)
}' "$WORK/results"
echo "raw: mode cpu_ns_per_iter allocator_calls"
sort "$WORK/results"
