#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Run each libFuzzer target for FUZZ_SECONDS, from the seeds in tests/fuzz/corpus/NAME plus
# what earlier runs found ($FUZZ_OUT/corpus-NAME). A crash leaves its input in $FUZZ_OUT; copy
# it into tests/fuzz/corpus/NAME once fixed, and `make test` replays it from then on.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${FUZZ_OUT:?}" "${FUZZ_SECONDS:=30}"
status=0
for name in "$@"; do
	mkdir -p "$FUZZ_OUT/corpus-$name"
	log="$FUZZ_OUT/$name.log"
	"$FUZZ_OUT/fuzz_$name" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
		-rss_limit_mb=4096 -timeout=20 -artifact_prefix="$FUZZ_OUT/$name-" \
		"$FUZZ_OUT/corpus-$name" "tests/fuzz/corpus/$name" > "$log" 2>&1
	rc=$?
	execs=$(awk '/stat::number_of_executed_units/{print $2}' "$log")
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz_$name: ${execs:-?} execs in ${FUZZ_SECONDS}s, $cov, no crash"
	else
		status=1
		echo "fuzz_$name: FAILED (status $rc) after ${execs:-?} execs; see $log:"
		grep -m1 -E 'ERROR|SUMMARY|deadly signal' "$log"
		ls "$FUZZ_OUT/$name-"* 2>/dev/null
	fi
done
exit $status
