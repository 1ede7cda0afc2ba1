# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Hostile files: libraries corrupted, truncated or replaced on disk after the target loaded
# them, junk and damaged ELF files mapped executable, a huge symbol table. The symbolizer
# falls back to addresses; bytes stay exact; the tracer never crashes.

# lib_stat MODULE bytes|name: over the last report's stacks whose first frame is in MODULE,
# the summed bytes, or the first frame as printed (name+off, or an address)
lib_stat() {
	last_report | awk -v mod="[$1]" -v what="$2" '
		/^\t[0-9]+ bytes in [0-9]+ allocations from stack/ { b = $1; want = 1; next }
		want && /^\t\t/ {
			if ($0 ~ /\[(libc\.so\.6|ld-linux-x86-64\.so\.2)\]/) next
			if ($2 == mod) { bytes += b; if (!first) first = $1 }
			want = 0 }
		END { if (what == "bytes") print bytes + 0; else print first }'
}

# A shared library holding lib_leak and N more functions, N large.
make_huge_symtab_lib() {
	awk -v n="$2" 'BEGIN { print ".section .note.GNU-stack,\"\",@progbits\n.text"
		for (i = 0; i < n; i++)
			printf ".globl f%d\n.type f%d,@function\nf%d:\n\tret\n.size f%d,1\n", i, i, i, i }' \
		> "$TDIR/huge.s"
	${CC:-cc} -shared -fPIC -O1 -g -fno-omit-frame-pointer -o "$1" \
		tests/progs/lib/leaklib.c "$TDIR/huge.s"
}

test_corrupt_truncated_and_replaced_libraries() {
	local d=$TDIR/libs f
	mkdir -p "$d"
	for f in trunc junk shdr replaced huge; do cp "$OUTPUT/tests/libleaklib.so" "$d/$f.so"; done
	make_huge_symtab_lib "$d/huge.so" 200000 || die "cannot build the huge-symtab library"
	head -c 65536 /dev/urandom > "$d/random.bin"
	head -c 100 "$OUTPUT/tests/libleaklib.so" > "$d/header-only.so"
	cp "$OUTPUT/tests/libleaklib.so" "$d/badshnum.so"
	printf '\xff\xff\xff\xff' | dd of="$d/badshnum.so" bs=1 seek=60 conv=notrunc status=none
	start_prog hostile "$d"/{trunc,junk,shdr,replaced,huge}.so -- \
		"$d/random.bin" "$d/header-only.so" "$d/badshnum.so"
	start_tracer -p "$PROG_PID" 60
	go
	# Damage the files after the loads and before the tracer reads them (at the final report).
	truncate -s 64 "$d/trunc.so"
	head -c "$(stat -c %s "$d/junk.so")" /dev/urandom |
		dd of="$d/junk.so" conv=notrunc status=none
	# section headers beyond the end of the file, 65535 of them
	printf '\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f' | dd of="$d/shdr.so" bs=1 seek=40 conv=notrunc status=none
	printf '\xff\xff\xff\xff' | dd of="$d/shdr.so" bs=1 seek=60 conv=notrunc status=none
	head -c 8192 /dev/urandom > "$d/new" && mv "$d/new" "$d/replaced.so"
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	grep -q ' final: ' "$TDIR/lt.out" || die "no final report: $(cat "$TDIR/lt.err")"
	grep -qiE 'sanitizer|runtime error' "$TDIR/lt.err" && die "$(cat "$TDIR/lt.err")"
	expect_eq "trunc.so bytes" "$(lib_stat trunc.so bytes)" $((3 * 1111))
	expect_eq "junk.so bytes" "$(lib_stat junk.so bytes)" $((3 * 2222))
	expect_eq "shdr.so bytes" "$(lib_stat shdr.so bytes)" $((3 * 3333))
	expect_eq "replaced.so bytes" "$(lib_stat replaced.so bytes)" $((3 * 4444))
	expect_eq "huge.so bytes" "$(lib_stat huge.so bytes)" $((3 * 5555))
	# gone from disk: only an address is left
	[[ $(lib_stat trunc.so name) == 0x* ]] || die "trunc.so frame: $(lib_stat trunc.so name)"
	[[ $(lib_stat junk.so name) == 0x* ]] || die "junk.so frame: $(lib_stat junk.so name)"
	# the replaced file is still read through the mapping (map_files): the name survives
	[[ $(lib_stat replaced.so name) == lib_leak+* ]] ||
		die "replaced.so frame: $(lib_stat replaced.so name)"
	[[ $(lib_stat huge.so name) == lib_leak+* ]] || die "huge.so frame: $(lib_stat huge.so name)"
	# the caller, in an intact file, is still named
	last_report | grep -qE '^		call_lib\+0x[0-9a-f]+ \[hostile\]' || die "caller not named"
}
