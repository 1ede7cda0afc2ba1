#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The test suite: unit tests, then integration tests that run the real tracer (root, real BPF)
# against ground-truth programs. Ends with "N passed, N failed, N skipped".
# TESTS=REGEX runs only the integration tests whose name matches (e.g. TESTS='bad|stress').
set -u
cd "$(dirname "$0")/.."
export OUTPUT=${OUTPUT:-$PWD/.output}
export LT=${LT:-$PWD/leaktrace}
export WORK=$(mktemp -d /tmp/leaktrace-tests.XXXXXX)
[ -n "${KEEP_WORK:-}" ] || trap 'rm -rf "$WORK"' EXIT
. tests/lib.sh

for t in "$OUTPUT"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if "$t" > "$WORK/$name.log" 2>&1; then
		pass "unit/$name ($(tail -n 1 "$WORK/$name.log"))"
	else
		fail "unit/$name" "$(grep -m3 'not ok' "$WORK/$name.log"; tail -n 1 "$WORK/$name.log")"
	fi
done

if [ "$(id -u)" -ne 0 ]; then
	for f in tests/integration/*.sh; do
		skip "integration/$(basename "$f" .sh)" "not root: the tracer needs root to load BPF"
	done
else
	for f in tests/integration/*.sh; do
		. "$f"
	done
	for fn in $(declare -F | awk '{print $3}' | grep '^test_' ); do
		[ -n "${TESTS:-}" ] && ! [[ $fn =~ $TESTS ]] && continue
		run_test "$fn"
	done
fi
summary
