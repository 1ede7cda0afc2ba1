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
	uw_traced uwcxx -- --unwind fp
	no_junk_frames
	expect_eq "bytes" "$(header_stat bytes)" 36450
	expect_eq "stacks (one per site)" "$(header_stat stacks)" 6
	last_report | grep -q '^		\[truncated\]$' || die "no stack marked truncated: $(last_report)"
	last_report | grep -qE '^	unwind: [1-9][0-9]* stacks cut' || die "no count of cut stacks"
}

# stack_of FRAME: the frames (function names) of the last report's stack holding FRAME, one a
# line, preceded by its bytes
stack_of() {
	last_report | awk -v fn="$1" '
		function flush() { if (hit) printf "%s", buf; hit = 0; buf = "" }
		/^\t[0-9]+ bytes in/ { flush(); buf = $1 "\n"; next }
		/^\t\t/ { f = $0; sub(/^\t\t/, "", f); sub(/ \[.*$/, "", f); sub(/\+0x[0-9a-f]+$/, "", f)
			buf = buf f "\n"; hit = hit || f == fn }
		END { flush() }'
}

# The chain main -> ... built without frame pointers, through an FP-less shared library that
# leaves text in rbp, inside a thread: every function in order down to start_thread.
test_unwind_c_chain_in_thread_through_fpless_lib() {
	local want got
	uw_traced uwchain -- -v
	no_junk_frames
	want=$(printf '%s\n' 480 uw_lib_inner uw_lib_alloc chain_c chain_b chain_a worker start_thread)
	got=$(stack_of chain_b | sed -n '1,8p')
	expect_eq "stack through chain_b" "$got" "$want"
	last_report | grep -q '\[truncated\]' && die "a stack was cut: $(last_report)"
	grep -qE 'unwind: CFI tables for [0-9]+ objects .* [1-9][0-9]* frames by CFI' "$TDIR/lt.err" ||
		die "no -v unwind line: $(cat "$TDIR/lt.err")"
}

# C++ through libstdc++ (FP-less): each leak named at the user's method, with exact bytes.
test_unwind_cxx_through_libstdcxx() {
	uw_traced uwcxx
	no_junk_frames
	expect_eq "bytes" "$(header_stat bytes)" 36450
	expect_eq "stacks (one per site)" "$(header_stat stacks)" 6
	expect_eq "string::reserve under keep_name" "$(stack_of app::Store::keep_name\(int\) |
		awk '/^[0-9]+$/ {b = $1} /basic_string.*::reserve/ {getline n; if (n == "app::Store::keep_name(int)") s += b} END {print s + 0}')" 10050
	expect_eq "keep_list" "$(site_stat 'app::Store::keep_list(int)' bytes)" 21200
	expect_eq "new in a constructor" "$(stack_of 'app::Record::Record(int)' | sed -n '1,3p' | tr '\n' ' ')" \
		"3200 app::Record::Record(int) app::Store::keep_record(int) "
	last_report | grep -q '\[truncated\]' && die "a stack was cut: $(last_report)"
	last_report | grep -qE '^		main\+0x[0-9a-f]+ \[uwcxx\]$' || die "main not reached: $(last_report)"
}

# A launched command's first allocations (a constructor, the top of main) come before any
# drain could give BPF its mapping list: its objects' tables were built before it ran and are
# found by file (bpf_find_vma), so both stacks are whole, through the FP-less library, down
# to _start.
test_unwind_launched_first_allocations_whole() {
	local rc=0
	PROGS_NO_WAIT=1 timeout 60 "$LT" -v -T 1000 -- "$OUTPUT/tests/uwfirst" > "$TDIR/lt.out" \
		2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	no_junk_frames
	expect_eq "the first allocation, in a constructor" "$(stack_of ctor_a | sed -n '1,5p' |
		tr '\n' ' ')" "64 uw_lib_inner uw_lib_alloc ctor_a early "
	expect_eq "the constructor's outermost frames" "$(stack_of ctor_a | tail -n 2 | tr '\n' ' ')" \
		"__libc_start_main _start "
	expect_eq "the top of main" "$(stack_of first_b | tr '\n' ' ')" \
		"80 uw_lib_inner uw_lib_alloc first_b first_a main __libc_start_call_main __libc_start_main _start "
	last_report | grep -q '\[truncated\]' && die "a stack was cut: $(last_report)"
	grep -qE 'unwind: .* mappings looked up by file .*: [0-9]+ with a table, 0 without' "$TDIR/lt.err" ||
		die "no count of lookups by file: $(grep 'unwind: CFI' "$TDIR/lt.err")"
}

# Debian's sqlite3 (-O2, no frame pointers) launched on an in-memory database: it allocates
# from its first instruction through libsqlite3; every stack is whole down to
# __libc_start_main, none cut.
test_unwind_debian_sqlite3_launched() {
	local rc=0 counts
	[ -x /usr/bin/sqlite3 ] || skip "no /usr/bin/sqlite3 (scripts/deps.sh installs it)"
	cat > "$TDIR/work.sql" <<'SQL'
create table t(a, b);
with recursive c(x) as (select 1 union all select x + 1 from c limit 2000)
insert into t select x, hex(randomblob(50)) from c;
create index ti on t(b);
select count(*) from t;
SQL
	timeout 60 "$LT" -T 1000 -- /usr/bin/sqlite3 :memory: -init "$TDIR/work.sql" .quit \
		> "$TDIR/lt.out" 2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	grep -qx 2000 "$TDIR/lt.out" || die "sqlite3 did not run the workload: $(head -n 3 "$TDIR/lt.out")"
	no_junk_frames
	last_report | grep -q '\[truncated\]' && die "a stack was cut: $(last_report)"
	# stacks, and those that reach __libc_start_main (all: the shell has no threads)
	counts=$(last_report | awk '/^\t[0-9]+ bytes in/ {n++; if (s) ok++; s = 0}
		/^\t\t__libc_start_main\+/ {s = 1} END {if (s) ok++; print n + 0, ok + 0}')
	[ "${counts% *}" -gt 20 ] || die "too few stacks ($counts): $(last_report)"
	expect_eq "stacks down to __libc_start_main" "${counts#* }" "${counts% *}"
	last_report | grep -qE '^		sqlite3_step\+0x[0-9a-f]+ \[libsqlite3' ||
		die "no sqlite3_step frame: $(last_report)"
}

# A launched command dlopens a library never seen before and allocates through it at once:
# BPF holds it at the library's executable mmap until the table is built (as at exec), so
# the first stack through the library is whole, and no frame was walked without a table.
test_unwind_dlopen_fpless_lib() {
	local rc=0 want
	PROGS_NO_WAIT=1 timeout 60 "$LT" -v -T 1000 -- "$OUTPUT/tests/uwdlopen" \
		"$OUTPUT/tests/libuwlib.so" > "$TDIR/lt.out" 2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	want=$(printf '%s\n' 512 uw_lib_inner uw_lib_alloc dl_b dl_a main __libc_start_call_main \
		__libc_start_main _start)
	expect_eq "stack through dl_a" "$(stack_of dl_a)" "$want"
	no_junk_frames
	grep -qE 'unwind: .*/libuwlib\.so: [0-9]+ rows' "$TDIR/lt.err" ||
		die "no table for libuwlib.so: $(cat "$TDIR/lt.err")"
	grep -qE 'unwind: .* mappings looked up by file .*: [0-9]+ with a table, 0 without' "$TDIR/lt.err" ||
		die "frames without a table: $(grep 'unwind: CFI' "$TDIR/lt.err")"
	grep -q 'held over' "$TDIR/lt.err" && die "a hold outlived its deadline: $(cat "$TDIR/lt.err")"
	return 0
}

# The same in a -f child of a launched command (held at its exec, then at the library's mmap).
test_unwind_dlopen_in_follow_child() {
	local rc=0
	PROGS_NO_WAIT=1 timeout 60 "$LT" -f -v -T 1000 -- /bin/sh -c \
		"'$OUTPUT/tests/uwdlopen' '$OUTPUT/tests/libuwlib.so'; true" > "$TDIR/lt.out" \
		2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	expect_eq "stack through dl_a" "$(stack_of dl_a | tr '\n' ' ')" \
		"512 uw_lib_inner uw_lib_alloc dl_b dl_a main __libc_start_call_main __libc_start_main _start "
	no_junk_frames
	grep -qE 'unwind: .* mappings looked up by file .*: [0-9]+ with a table, 0 without' "$TDIR/lt.err" ||
		die "frames without a table: $(grep 'unwind: CFI' "$TDIR/lt.err")"
}

# -p: nothing is held, so a dlopen'ed library gets its table at the next drain (~100 ms);
# allocations through it after that are whole.
test_unwind_dlopen_attached_table_at_drain() {
	local want
	start_prog uwdlopen "$OUTPUT/tests/libuwlib.so"
	start_tracer -p "$PROG_PID" -v
	kill -USR1 "$PROG_PID"
	wait_for "$PROG_OUT" '^loaded'
	wait_for "$TDIR/lt.err" 'unwind: .*libuwlib\.so: [0-9]+ rows'
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	want=$(printf '%s\n' 512 uw_lib_inner uw_lib_alloc dl_b dl_a main)
	expect_eq "stack through dl_a" "$(stack_of dl_a | sed -n '1,6p')" "$want"
	no_junk_frames
}

# A library whose CFI is only in its separate debug file (no .eh_frame FDE: C built with
# -fno-asynchronous-unwind-tables; -g's .debug_frame split off with a .gnu_debuglink): its table
# comes from the debug file's .debug_frame, so the stack is whole through the FP-less chain
# down to main. The same library without its debug file next to it has no table: the walk
# stops in it (dbg_d leaves text in rbp), one frame, and -v says so.
test_unwind_debug_frame_from_separate_debug_file() {
	local rc=0 want
	PROGS_NO_WAIT=1 timeout 60 "$LT" -v -- "$OUTPUT/tests/uwdbg" > "$TDIR/lt.out" \
		2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	want=$(printf '%s\n' 432 dbg_e dbg_d dbg_c dbg_b dbg_a main __libc_start_call_main \
		__libc_start_main _start)
	expect_eq "stack through the debug file's CFI" "$(stack_of dbg_a)" "$want"
	no_junk_frames
	grep -qE 'unwind: .*/libuwdbg\.so: [0-9]+ rows \([0-9]+ by frame pointer, [1-9][0-9]* from \.debug_frame\)' \
		"$TDIR/lt.err" || die "no rows from .debug_frame: $(grep libuwdbg "$TDIR/lt.err")"

	mkdir "$TDIR/nodebug"
	cp "$OUTPUT/tests/uwdbg" "$OUTPUT/tests/libuwdbg.so" "$TDIR/nodebug/"
	PROGS_NO_WAIT=1 timeout 60 "$LT" -v -- "$TDIR/nodebug/uwdbg" > "$TDIR/lt.out" \
		2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status without the debug file" "$rc" 0
	expect_eq "stack without the debug file" "$(stack_of dbg_e | tr '\n' ' ')" "432 dbg_e "
	no_junk_frames
	grep -q 'unwind: .*/nodebug/libuwdbg\.so: no CFI table (no \.eh_frame_hdr): frame pointers there' \
		"$TDIR/lt.err" || die "no -v line for the table-less library: $(grep libuwdbg "$TDIR/lt.err")"
	grep -qE 'unwind: CFI tables for [0-9]+ objects \(1 without\)' "$TDIR/lt.err" ||
		die "objects without a table not counted: $(grep 'unwind: CFI' "$TDIR/lt.err")"
}

# A launched command on a btrfs subvolume, whose stat() st_dev (the subvolume's anonymous
# device) is not the s_dev BPF and /proc/PID/maps see: its tables, built before it runs, are
# keyed as maps shows the file, so they are found by file from its very first allocation
# (printf's stdio buffer, before any drain could give its list): whole down to _start.
test_unwind_launched_from_btrfs_subvolume() {
	local rc=0 mnt=$TDIR/mnt
	command -v mkfs.btrfs > /dev/null || skip "no mkfs.btrfs (scripts/deps.sh installs btrfs-progs)"
	grep -qw btrfs /proc/filesystems || skip "no btrfs in this kernel"
	truncate -s 300M "$TDIR/btrfs.img"
	mkfs.btrfs -q -f "$TDIR/btrfs.img" > /dev/null
	mkdir "$mnt"
	mount -o loop "$TDIR/btrfs.img" "$mnt"
	# shellcheck disable=SC2064 # the path now: the local is gone when the subshell exits
	trap "umount '$mnt' 2> /dev/null || umount -l '$mnt' 2> /dev/null || true" EXIT
	btrfs -q subvolume create "$mnt/sub"
	cp "$OUTPUT/tests/uwdlopen" "$mnt/sub/"
	[ "$(stat -c %d "$mnt/sub/uwdlopen")" != "$(stat -c %d "$mnt")" ] ||
		die "the subvolume's st_dev is the file system's: nothing to test"
	PROGS_NO_WAIT=1 timeout 60 "$LT" -v -- "$mnt/sub/uwdlopen" "$OUTPUT/tests/libuwlib.so" \
		> "$TDIR/lt.out" 2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	expect_eq "the first allocation's outermost frames" \
		"$(stack_of _IO_printf | tail -n 5 | tr '\n' ' ')" \
		"_IO_printf main __libc_start_call_main __libc_start_main _start "
	expect_eq "stack through dl_a" "$(stack_of dl_a | tr '\n' ' ')" \
		"512 uw_lib_inner uw_lib_alloc dl_b dl_a main __libc_start_call_main __libc_start_main _start "
	no_junk_frames
	grep -qE 'unwind: .* mappings looked up by file .*: [0-9]+ with a table, 0 without' "$TDIR/lt.err" ||
		die "frames without a table: $(grep 'unwind: CFI' "$TDIR/lt.err")"
}

# An allocation in a signal handler: the stack goes through the kernel's signal frame
# (__restore_rt) on into the interrupted code, down to main.
test_unwind_signal_handler_continues_into_interrupted_code() {
	local got
	uw_traced uwsignal
	no_junk_frames
	got=$(stack_of on_signal)
	expect_eq "bytes" "$(head -n 1 <<< "$got")" 216
	expect_eq "handler frames" "$(sed -n '2,3p' <<< "$got" | tr '\n' ' ')" "sig_alloc on_signal "
	grep -A4 -x raise <<< "$got" | grep -qx interrupted || die "no raise -> interrupted: $got"
	grep -A1 -x interrupted <<< "$got" | grep -qx main || die "no interrupted -> main: $got"
}

# Debian's python3 (-O2, no frame pointers, LTO): a bytearray leak named from the allocator up
# through the interpreter loop to _start. Its main tail-calls Py_BytesMain, so main itself is
# not on the stack: Py_BytesMain is followed by libc's __libc_start_call_main.
test_unwind_debian_python3_to_start() {
	local got
	[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
	cat > "$TDIR/leak.py" <<'PY'
import os, signal
keep = []
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGTERM})
print("ready", os.getpid(), flush=True)
signal.sigwait({signal.SIGUSR1})
def leak():
    for i in range(50):
        keep.append(bytearray(100000))
leak()
print("done", flush=True)
signal.sigwait({signal.SIGUSR1, signal.SIGTERM})
PY
	PROG_OUT=$TDIR/prog.out
	/usr/bin/python3 "$TDIR/leak.py" > "$PROG_OUT" 2>&1 &
	PROG_PID=$!
	echo "$PROG_PID" >> "$(PIDS_FILE)"
	wait_for "$PROG_OUT" '^ready'
	start_tracer -p "$PROG_PID"
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	no_junk_frames
	# the eval loop's native frame is replaced by the Python frames it ran (python.sh)
	got=$(stack_of PyByteArray_Resize)
	expect_eq "bytes of the bytearrays" "$(head -n 1 <<< "$got")" 5000050
	expect_eq "the Python frames between the native ones" \
		"$(grep -A1 '^leak (' <<< "$got" | sed 's/ (.*//' | tr '\n' ' ')" "leak <module> "
	grep -q 'leak.py:8)$' <<< "$got" || die "no leak.py:8: $got"
	expect_eq "the outermost frames" "$(tail -n 4 <<< "$got" | tr '\n' ' ')" \
		"Py_BytesMain __libc_start_call_main __libc_start_main _start "
}

# --unwind cfi walks by tables only and gives the same chain; fp and a bad mode are refused.
test_unwind_modes() {
	local want
	uw_traced uwchain -- --unwind cfi
	want=$(printf '%s\n' 480 uw_lib_inner uw_lib_alloc chain_c chain_b chain_a worker start_thread)
	expect_eq "stack through chain_b" "$(stack_of chain_b | sed -n '1,8p')" "$want"
	"$LT" --unwind sideways -p 1 > "$TDIR/bad.out" 2> "$TDIR/bad.err" && die "a bad --unwind was taken"
	expect_eq "status of a bad --unwind" "$?" 2
	grep -qx "leaktrace: --unwind must be auto, cfi or fp, not 'sideways'" "$TDIR/bad.err" ||
		die "bad --unwind message: $(cat "$TDIR/bad.err")"
}

# ht_stack FILE SITE: heaptrack_print's leak at SITE in FILE: its bytes, then its functions
# from SITE outwards, one a line
ht_stack() {
	heaptrack_print -f "$1" --print-leaks 1 --print-peaks 0 --print-allocators 0 \
		--print-temporary 0 2> /dev/null | awk -v site="$2" '
		/^[0-9.]+[KMG]?B leaked over [0-9]+ calls from$/ { b = $1; getline f; on = f == site
			if (on) print b "\n" f; next }
		on && /^[0-9.]+[KMG]?B leaked over [0-9]+ calls from:$/ { next }
		on && /^    [^ ]/ { sub(/^    /, ""); print; next }
		on && /^$/ { exit }'
}

# heaptrack (libunwind) as a second oracle: the same chain for the same FP-less program.
test_unwind_heaptrack_agrees_on_fpless_chain() {
	local ours theirs f
	command -v heaptrack > /dev/null || skip "heaptrack not installed"
	PROGS_NO_WAIT=1 timeout 60 heaptrack -o "$TDIR/ht" "$OUTPUT/tests/uwchain" > "$TDIR/ht.log" 2>&1 ||
		die "heaptrack failed: $(tail -n 3 "$TDIR/ht.log")"
	f=$(ls "$TDIR"/ht.zst "$TDIR"/ht.gz 2> /dev/null | head -n 1)
	[ -n "$f" ] || die "no heaptrack data: $(ls "$TDIR")"
	theirs=$(ht_stack "$f" uw_lib_inner | sed -n '1,8p')
	expect_eq "heaptrack's chain" "$theirs" "$(printf '%s\n' 480B uw_lib_inner uw_lib_alloc chain_c \
		chain_b chain_a worker start_thread)"
	uw_traced uwchain
	ours=$(stack_of chain_b | sed -n '2,8p')
	expect_eq "our chain against heaptrack's" "$ours" "$(sed -n '2,8p' <<< "$theirs")"
}

# A library whose .eh_frame_hdr is corrupt (its FDE table unsorted: ld.so does not care) gets
# a -v line and the frame-pointer rule, and the run goes on with exact bytes.
test_unwind_hostile_cfi_falls_back_to_fp() {
	cp tests/fuzz/corpus/cfi/hdr-unsorted.so "$TDIR/libhostile.so"
	start_prog uwdlopen "$TDIR/libhostile.so"
	start_tracer -p "$PROG_PID" -v
	kill -USR1 "$PROG_PID"
	wait_for "$PROG_OUT" '^loaded'
	wait_for "$TDIR/lt.err" 'unwind: .*libhostile\.so: no CFI table \(.eh_frame_hdr: table not sorted\): frame pointers there'
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	no_junk_frames
	expect_eq "bytes through the hostile library" "$(last_report | awk '
		/^\t[0-9]+ bytes in/ {b = $1; next} /uw_lib_inner.*libhostile/ {s += b} END {print s + 0}')" 512
}
