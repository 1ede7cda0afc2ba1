# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# mremap's record (LT_EV_MREMAP: old range, new range) against tests/progs/remapper.c, whose
# mappings are known to the byte; with -t, its lines.

remapper_traced() {
	start_prog remapper
	start_tracer -p "$PROG_PID" 1 -T 1000 "$@"
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	grep -q ' final: ' "$TDIR/lt.out" || die "no final report"
}

test_mremap_grows_shrinks_and_frees_mappings() {
	remapper_traced
	expect_eq "remap_grow bytes" "$(site_stat remap_grow bytes)" 393216
	expect_eq "remap_grow count" "$(site_stat remap_grow count)" 2
	expect_eq "remap_shrink bytes" "$(site_stat remap_shrink bytes)" 65536
	expect_eq "remap_shrink count" "$(site_stat remap_shrink count)" 1
	expect_eq "remap_then_free bytes" "$(site_stat remap_then_free bytes)" 0
	expect_eq "lost events" "$(header_stat lost_events)" 0
}

test_trace_prints_mremap_and_munmap() {
	remapper_traced -t
	local re='^[0-9.]+ free pid [0-9]+ tid [0-9]+ \(mremap\) address = 0x[0-9a-f]+, size ='
	expect_eq "grown" "$(grep -cE "$re 65536, now 0x[0-9a-f]+ size = 196608\$" "$TDIR/lt.err")" 2
	expect_eq "shrunk" "$(grep -cE "$re 196608, now 0x[0-9a-f]+ size = 65536\$" "$TDIR/lt.err")" 1
	expect_eq "grown, then freed" \
		"$(grep -cE "$re 65536, now 0x[0-9a-f]+ size = 131072\$" "$TDIR/lt.err")" 4
	expect_eq "unmapped" "$(grep -cE '^[0-9.]+ free pid [0-9]+ tid [0-9]+ \(munmap\) address = 0x[0-9a-f]+, size = 131072$' "$TDIR/lt.err")" 4
	expect_eq "mapped" "$(grep -cE '^[0-9.]+ alloc pid [0-9]+ tid [0-9]+ \(mmap\) size = 65536, result = 0x' "$TDIR/lt.err")" 6
	# the report is unchanged by tracing
	expect_eq "remap_grow bytes" "$(site_stat remap_grow bytes)" 393216
}
