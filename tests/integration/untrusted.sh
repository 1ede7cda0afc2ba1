# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Files the target chooses are untrusted: a debug link to a FIFO, /dev/zero or a 10 GB sparse
# file, a zlib bomb in .debug_info, a damaged .debug_line_str, -O naming a FIFO, a stop while a
# slow file is read. The tracer never hangs, stays small, names what it can and says the rest.
# Built on tests/progs/hostile.c (3 x 1111 * N bytes from lib_leak of the Nth library) and
# lib_stat from hostile.sh.

# untrusted_lib NAME LINK: a copy of libleaklib.so, $TDIR/NAME, whose .gnu_debuglink names LINK
# (made by the caller afterwards: objcopy reads the file it links to, for its CRC)
untrusted_lib() {
	echo x > "$TDIR/$2"
	objcopy --add-gnu-debuglink="$TDIR/$2" "$OUTPUT/tests/libleaklib.so" "$TDIR/$1" ||
		die "objcopy --add-gnu-debuglink failed"
	rm -f "$TDIR/$2"
}

# untrusted_bomb OUT MIB: a copy of libleaklib.so whose .debug_info is MIB MiB of zeros as one
# zlib stream (SHF_COMPRESSED, Elf64_Chdr): a file of MIB KiB that expands a thousandfold
untrusted_bomb() {
	python3 - "$OUTPUT/tests/libleaklib.so" "$1" "$2" << 'EOF'
import struct, sys, zlib
src, dst, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = bytearray(open(src, 'rb').read())
shoff, = struct.unpack_from('<Q', b, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', b, 0x3a)
stroff, = struct.unpack_from('<Q', b, shoff + shstrndx * shentsize + 0x18)
for i in range(shnum):
    sh = shoff + i * shentsize
    name, = struct.unpack_from('<I', b, sh)
    if b[stroff + name:b.index(0, stroff + name)] == b'.debug_info':
        break
else:
    sys.exit('no .debug_info')
z = zlib.compressobj(9)
chunk = bytes(1 << 20)
data = b''.join(z.compress(chunk) for _ in range(mib)) + z.flush()
sec = struct.pack('<IIQQ', 1, 0, mib << 20, 1) + data  # ELFCOMPRESS_ZLIB, size, align
off = (len(b) + 7) & ~7
b += bytes(off - len(b)) + sec
flags, = struct.unpack_from('<Q', b, sh + 8)
struct.pack_into('<Q', b, sh + 8, flags | 0x800)  # SHF_COMPRESSED
struct.pack_into('<QQ', b, sh + 0x18, off, len(sec))
struct.pack_into('<Q', b, sh + 0x30, 1)
open(dst, 'wb').write(b)
EOF
}

# untrusted_line_str OUT MODE: a copy of libleaklib.so whose .debug_line_str does not end in NUL:
# nonul (every NUL overwritten), cut (3 bytes shorter), tail (ends 1 byte into its last string)
untrusted_line_str() {
	python3 - "$OUTPUT/tests/libleaklib.so" "$1" "$2" << 'EOF'
import struct, sys
src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
b = bytearray(open(src, 'rb').read())
shoff, = struct.unpack_from('<Q', b, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', b, 0x3a)
stroff, = struct.unpack_from('<Q', b, shoff + shstrndx * shentsize + 0x18)
for i in range(shnum):
    sh = shoff + i * shentsize
    name, = struct.unpack_from('<I', b, sh)
    if b[stroff + name:b.index(0, stroff + name)] == b'.debug_line_str':
        break
else:
    sys.exit('no .debug_line_str')
off, size = struct.unpack_from('<QQ', b, sh + 0x18)
if mode == 'nonul':
    for j in range(off, off + size):
        if b[j] == 0:
            b[j] = 0x41
elif mode == 'cut':
    struct.pack_into('<Q', b, sh + 0x20, size - 3)
else:
    last = b.rindex(0, off, off + size - 1) + 1 - off
    struct.pack_into('<Q', b, sh + 0x20, last + 1)
open(dst, 'wb').write(b)
EOF
}

# ms_since T0: milliseconds since T0 (date +%s%N)
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# The final report within 10 s of SIGINT (a hung tracer fails the test instead of the suite).
untrusted_stop() {
	local t0
	t0=$(date +%s%N)
	kill -INT "$LT_PID"
	wait_for "$TDIR/lt.out" ' final: ' 10
	STOP_MS=$(ms_since "$t0")
	LT_RC=0
	wait "$LT_PID" || LT_RC=$?
}

test_untrusted_debuglink_fifo_zero_sparse() {
	untrusted_lib fifo.so fifo.debug
	mkfifo "$TDIR/fifo.debug"
	untrusted_lib zero.so zero.debug
	ln -s /dev/zero "$TDIR/zero.debug"
	untrusted_lib sparse.so sparse.debug
	truncate -s 10G "$TDIR/sparse.debug"
	start_prog hostile "$TDIR"/{fifo,zero,sparse}.so
	start_tracer -v -p "$PROG_PID" 60
	go
	untrusted_stop
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "fifo.so bytes" "$(lib_stat fifo.so bytes)" $((3 * 1111))
	expect_eq "zero.so bytes" "$(lib_stat zero.so bytes)" $((3 * 2222))
	expect_eq "sparse.so bytes" "$(lib_stat sparse.so bytes)" $((3 * 3333))
	# the library's own symbols (and DWARF) still name the frame
	local f
	for f in fifo zero sparse; do
		[[ $(lib_stat $f.so name) == lib_leak+* ]] || die "$f.so frame: $(lib_stat $f.so name)"
	done
	grep -q "skipping debug file $TDIR/fifo.debug: not a regular file" "$TDIR/lt.err" ||
		die "no line for the FIFO: $(grep -v probe "$TDIR/lt.err")"
	grep -q "skipping debug file $TDIR/zero.debug: not a regular file" "$TDIR/lt.err" ||
		die "no line for /dev/zero: $(grep -v probe "$TDIR/lt.err")"
	grep -q "skipping debug file $TDIR/sparse.debug: too large" "$TDIR/lt.err" ||
		die "no line for the sparse file: $(grep -v probe "$TDIR/lt.err")"
}

test_untrusted_zlib_bomb() {
	local hwm
	command -v python3 > /dev/null || { echo "skip: no python3 to build the bomb"; return 0; }
	untrusted_bomb "$TDIR/bomb.so" 512 || die "cannot build the bomb"
	cp "$OUTPUT/tests/libleaklib.so" "$TDIR/plain.so"
	start_prog hostile "$TDIR/bomb.so" "$TDIR/plain.so"
	start_tracer -v -p "$PROG_PID" 1
	go
	# an interval report has read both files: the tracer's peak memory is what it cost
	wait_for "$TDIR/lt.out" 'lib_leak\+0x[0-9a-f]+ \[plain\.so\]' 20
	wait_for "$TDIR/lt.out" 'lib_leak\+0x[0-9a-f]+ \[bomb\.so\]' 20
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$LT_PID/status")
	untrusted_stop
	expect_eq "exit status" "$LT_RC" 0
	[ "$hwm" -lt 204800 ] || die "tracer peak memory ${hwm} kB, over 200 MB"
	grep -qE "bomb\.so: debug sections expand to 512 MiB, over the [0-9]+ MiB limit" \
		"$TDIR/lt.err" || die "no line for the bomb: $(grep -v probe "$TDIR/lt.err")"
	expect_eq "bomb.so bytes" "$(lib_stat bomb.so bytes)" $((3 * 1111))
	expect_eq "plain.so bytes" "$(lib_stat plain.so bytes)" $((3 * 2222))
	# the intact copy keeps its source line; the bomb has its symbols only
	last_report | grep -qE 'lib_leak\+0x[0-9a-f]+ \[plain\.so\] \(tests/progs/lib/leaklib\.c:10\)' ||
		die "plain.so lost its line: $(last_report | grep plain.so)"
	last_report | grep -qE 'lib_leak\+0x[0-9a-f]+ \[bomb\.so\]$' ||
		die "bomb.so frame: $(last_report | grep bomb.so)"
}

test_untrusted_corrupt_line_str() {
	local m
	command -v python3 > /dev/null || { echo "skip: no python3 to damage the file"; return 0; }
	for m in nonul cut tail; do
		untrusted_line_str "$TDIR/$m.so" $m || die "cannot damage .debug_line_str ($m)"
	done
	cp "$OUTPUT/tests/libleaklib.so" "$TDIR/plain.so"
	start_prog hostile "$TDIR"/{nonul,cut,tail,plain}.so
	start_tracer -v -p "$PROG_PID" 60
	go
	untrusted_stop
	expect_eq "exit status" "$LT_RC" 0
	grep -qiE 'sanitizer|runtime error' "$TDIR/lt.err" && die "$(cat "$TDIR/lt.err")"
	for m in nonul cut tail; do
		grep -q "$TDIR/$m.so: a string section without its final NUL; no source lines" \
			"$TDIR/lt.err" || die "no line for $m.so: $(grep -v probe "$TDIR/lt.err")"
		# named from its symbols, and no file name read from beyond the section
		last_report | grep -qE "^		lib_leak\+0x[0-9a-f]+ \[$m\.so\]$" ||
			die "$m.so frame: $(last_report | grep "$m.so")"
	done
	expect_eq "tail.so bytes" "$(lib_stat tail.so bytes)" $((3 * 3333))
	last_report | grep -qE 'lib_leak\+0x[0-9a-f]+ \[plain\.so\] \(tests/progs/lib/leaklib\.c:10\)' ||
		die "plain.so lost its line: $(last_report | grep plain.so)"
}

test_untrusted_obj_fifo() {
	local t0 rc=0
	mkfifo "$TDIR/obj"
	start_prog hostile
	t0=$(date +%s%N)
	"$LT" -O "$TDIR/obj" -p "$PROG_PID" 60 > "$TDIR/lt.out" 2> "$TDIR/lt.err" &
	LT_PID=$!
	echo "$LT_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/lt.err" 'leaktrace: ' 10
	wait "$LT_PID" || rc=$?
	[ "$rc" -ne 0 ] || die "exit status 0 for a FIFO as -O"
	[ "$(ms_since "$t0")" -lt 5000 ] || die "took $(ms_since "$t0") ms"
	expect_eq "stderr" "$(cat "$TDIR/lt.err")" \
		"leaktrace: cannot read $TDIR/obj: not a valid ELF file"
}

# A stop while a slow file is read (debug links CRC'd through 2 GiB each, 4 s a file at most):
# the report in progress ends within the grace, the final report follows with what is known.
test_untrusted_sigint_while_symbolizing() {
	local i n
	for n in 1 2 3; do untrusted_lib s$n.so big.debug; done
	truncate -s $(((2 << 30) - 1)) "$TDIR/big.debug"
	start_prog hostile "$TDIR"/s{1,2,3}.so
	start_tracer -v -p "$PROG_PID" 1
	go
	# the first interval report is reading the big file
	for ((i = 0; i < 200; i++)); do
		ls -l "/proc/$LT_PID/fd" 2> /dev/null | grep -q big.debug && break
		sleep 0.05
	done
	[ "$i" -lt 200 ] || die "the tracer never opened big.debug: $(grep -v probe "$TDIR/lt.err")"
	untrusted_stop
	expect_eq "exit status" "$LT_RC" 0
	[ "$STOP_MS" -le 1000 ] || die "final report $STOP_MS ms after SIGINT"
	grep -q 'stopping: files not read yet give addresses only' "$TDIR/lt.err" ||
		die "no line about the stop: $(grep -v probe "$TDIR/lt.err")"
	for n in 1 2 3; do
		expect_eq "s$n.so bytes" "$(lib_stat s$n.so bytes)" $((3 * 1111 * n))
	done
	echo "final report ${STOP_MS} ms after SIGINT"
}

# A .gnu_debugaltlink naming a FIFO: libdw would open() it itself on the first alt form; the
# tracer looks for the supplement under its own rules and, finding none, keeps symbols only.
test_untrusted_debugaltlink_fifo() {
	printf 'fifo.alt\0' > "$TDIR/sec"
	head -c 20 /dev/urandom >> "$TDIR/sec"
	objcopy --add-section .gnu_debugaltlink="$TDIR/sec" "$OUTPUT/tests/libleaklib.so" \
		"$TDIR/alt.so" || die "objcopy --add-section failed"
	mkfifo "$TDIR/fifo.alt"
	cp "$OUTPUT/tests/libleaklib.so" "$TDIR/plain.so"
	start_prog hostile "$TDIR/alt.so" "$TDIR/plain.so"
	start_tracer -v -p "$PROG_PID" 60
	go
	untrusted_stop
	expect_eq "exit status" "$LT_RC" 0
	grep -q "$TDIR/alt.so: its .gnu_debugaltlink file is not found; no source lines" \
		"$TDIR/lt.err" || die "no line for alt.so: $(grep -v probe "$TDIR/lt.err")"
	last_report | grep -qE "^		lib_leak\+0x[0-9a-f]+ \[alt\.so\]$" ||
		die "alt.so frame: $(last_report | grep alt.so)"
	last_report | grep -qE 'lib_leak\+0x[0-9a-f]+ \[plain\.so\] \(tests/progs/lib/leaklib\.c:10\)' ||
		die "plain.so lost its line: $(last_report | grep plain.so)"
	expect_eq "alt.so bytes" "$(lib_stat alt.so bytes)" $((3 * 1111))
}
