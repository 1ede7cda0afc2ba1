# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Issue 21: every hot allocator entry point is probed at an instruction the kernel emulates,
# found past the entry when needed, with arguments read from the registers they moved to; the
# ground truth still comes out exact. Ground truth: tests/progs/leaker.c and cxxnew.cc linked
# against each allocator (launch, expect_leaker_truth, expect_cxx_truth: launch.sh).

# the allocation and release entry points every program calls (prefixed or not, new/delete)
NOSTEP_HOT='(je_|mi_|tc_)?(malloc|calloc|realloc|free|mallocx|rallocx|sdallocx|dallocx|free_sized|(_Znwm|_Znam|_ZdlPv|_ZdaPv)[A-Za-z0-9_]*)'

# expect_emulated SYM...: -v names a site for each SYM, and the kernel emulates it; and no hot
# entry point of the run is single-stepped
expect_emulated() {
	local sym line
	for sym in "$@"; do
		line=$(grep -E "^leaktrace: probe $sym at " "$TDIR/lt.err" | head -n 1)
		[ -n "$line" ] || die "no site for $sym: $(grep '^leaktrace: probe' "$TDIR/lt.err")"
		[[ $line == *", emulated: "* ]] || die "$sym is single-stepped: $line"
	done
	line=$(grep -E "^leaktrace: probe $NOSTEP_HOT at .*single-stepped" "$TDIR/lt.err") &&
		die "hot entry points single-stepped: $line"
	true
}

test_nostep_glibc() {
	launch leaker -v
	expect_eq "exit status" "$LT_RC" 0
	expect_emulated malloc calloc realloc free
	expect_leaker_truth
}

test_nostep_jemalloc() {
	launch leaker-jemalloc -v
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libjemalloc.so
	# malloc's ja at +7 and free's jne at +48: sites past the entry carry the truth
	expect_emulated malloc calloc realloc free mallocx rallocx sdallocx dallocx
	grep -qE '^leaktrace: probe free at libjemalloc[^ ]* \(\+[1-9]' "$TDIR/lt.err" ||
		die "jemalloc's free probed at its entry: $(grep 'probe free' "$TDIR/lt.err")"
	expect_leaker_truth
}

test_nostep_jemalloc_new_delete() {
	launch cxxnew-jemalloc -v
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libjemalloc.so
	expect_emulated _Znwm _Znam _ZnwmRKSt9nothrow_t _ZdlPv _ZdaPv _ZdlPvm _ZdaPvm
	expect_cxx_truth
}

test_nostep_tcmalloc() {
	launch leaker-tcmalloc -v
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libtcmalloc.so
	expect_emulated malloc calloc realloc free _Znwm
	expect_leaker_truth
}

test_nostep_mimalloc() {
	launch leaker-mimalloc -v
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator libmimalloc.so
	expect_emulated malloc calloc realloc free
	# mimalloc's malloc, calloc and realloc move their arguments before their first branch:
	# the bytes below were read from those other registers
	grep -qE '^leaktrace: probe (malloc|calloc|realloc) at .*; arg[0-2] in r' "$TDIR/lt.err" ||
		die "no site reads a moved argument: $(grep '^leaktrace: probe' "$TDIR/lt.err")"
	expect_leaker_truth
	expect_eq "unknown frees" "$(header_stat unknown_frees)" 0
}

test_nostep_mimalloc_session_links() {
	# --sample-bytes 1 samples every allocation (p = 1): session links, moved arguments, exact
	launch leaker-mimalloc -v --sample-bytes 1
	expect_eq "exit status" "$LT_RC" 0
	expect_emulated malloc calloc realloc free
	expect_leaker_truth
}

test_nostep_musl() {
	launch leaker-musl -v
	expect_eq "exit status" "$LT_RC" 0
	expect_allocator ld-musl-x86_64.so.1
	expect_emulated malloc calloc realloc free
	expect_leaker_truth
}

test_nostep_single_step_said_once_without_v() {
	# placement off: jemalloc's malloc is probed at its cmp, which is single-stepped
	LEAKTRACE_PROBE_AT_ENTRY=1 launch leaker-jemalloc
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "lines naming malloc single-stepped" \
		"$(grep -c '^leaktrace: malloc in libjemalloc[^ ]* is single-stepped' "$TDIR/lt.err")" 1
	expect_leaker_truth
	launch leaker-jemalloc
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "single-stepped lines with placement" \
		"$(grep -c ' is single-stepped' "$TDIR/lt.err")" 0
}

test_nostep_mimalloc_perf_event_uprobes() {
	# a perf-event uprobe per site (kernels before uprobe_multi): cookies carry the moves too
	LEAKTRACE_NO_MULTI=1 launch leaker-mimalloc -v
	expect_eq "exit status" "$LT_RC" 0
	expect_emulated malloc calloc realloc free
	grep -qE '^leaktrace: probe malloc at .*; arg0 in rsi' "$TDIR/lt.err" ||
		die "malloc's size not read from rsi: $(grep '^leaktrace: probe malloc' "$TDIR/lt.err")"
	expect_leaker_truth
	expect_eq "unknown frees" "$(header_stat unknown_frees)" 0
}
