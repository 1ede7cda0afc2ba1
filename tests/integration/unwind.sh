# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# User stacks of programs built the distribution way (-O2, no frame pointers; the progs in
# tests/progs/unwind): walked by CFI, never printing a frame that is not code.

# uw_traced PROG [PROG ARGS...] [-- LEAKTRACE ARGS...]: trace PROG to a final report
uw_traced() {
	local prog=$1 pargs=() largs=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do pargs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	largs=("$@")
	start_prog "$prog" "${pargs[@]}"
	start_tracer -p "$PROG_PID" "${largs[@]}"
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	grep -q ' final: ' "$TDIR/lt.out" || die "no final report: $(cat "$TDIR/lt.err")"
}

# no_junk_frames: no frame of the last report is an address outside code (heap, stack, text
# read as an address, 0): every printed frame is named or lies in a mapped object
no_junk_frames() {
	local junk
	junk=$(last_report | grep -E '^		(0x[0-9a-f]+ \[(heap|stack|anon|unknown)[^]]*\]|0x0 )' || true)
	[ -z "$junk" ] || die "frames that are not code: $junk"
}

# The FP walk reads text and heap words as return addresses in libstdc++; each site stays one
# stack, cut and marked where the walk left code.
test_unwind_cxx_fp_no_junk_frames() {
	uw_traced uwcxx --
	no_junk_frames
	expect_eq "bytes" "$(header_stat bytes)" 36450
	expect_eq "stacks (one per site)" "$(header_stat stacks)" 6
	last_report | grep -q '^		\[truncated\]$' || die "no stack marked truncated: $(last_report)"
	last_report | grep -qE '^	unwind: [1-9][0-9]* stacks cut' || die "no count of cut stacks"
}
