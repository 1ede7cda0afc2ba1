# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Symbols users can act on, through the real tracer: C++ names and source lines from a separate
# debug file (.gnu_debuglink, --debug-dir, build ID, debuginfod), libc's internals named through
# libc6-dbg, JIT code named by /tmp/perf-PID.map, a deleted binary still read.

# symbols_traced PROG [LEAKTRACE ARGS...]: trace PROG (started with start_prog) to a final report.
symbols_traced() {
	start_prog "$1"
	start_tracer -p "$PROG_PID" 1 -T 1000 "${@:2}"
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	grep -q ' final: ' "$TDIR/lt.out" || die "no final report: $(cat "$TDIR/lt.err")"
}

# line_of FILE MARKER: the line number of the line holding MARKER
line_of() { grep -n "$2" "$1" | head -n 1 | cut -d: -f1; }

test_cxx_method_and_line_from_debuglink() {
	local src=tests/progs/cxxleak.cc add inl
	readelf -S "$OUTPUT/tests/cxxleak" | grep -q '\.symtab' && die "cxxleak is not stripped"
	readelf -S "$OUTPUT/tests/cxxleak" | grep -q '\.gnu_debuglink' || die "no .gnu_debuglink"
	add=$(line_of $src "// LEAK_ADD")
	inl=$(line_of $src "// LEAK_INLINE")
	symbols_traced cxxleak
	last_report | grep -qE "^		shop::Basket::add\(int\)\+0x[0-9a-f]+ \[cxxleak\] \(tests/progs/cxxleak.cc:$add\)$" ||
		die "no 'shop::Basket::add(int)+0x.. [cxxleak] (cxxleak.cc:$add)': $(last_report)"
	expect_eq "bytes from Basket::add" "$(last_report | grep -B1 "Basket::add(int)+" |
		awk '/bytes in/ {s += $1} END {print s + 0}')" 256
	# the inlined helper is expanded above the method it was inlined into
	last_report | grep -A1 -E "^		make_buffer \[cxxleak\] \(tests/progs/cxxleak.cc:$inl\) \[inlined\]$" |
		grep -qE "^		shop::Basket::refill\(int\)\+0x[0-9a-f]+ \[cxxleak\] \(tests/progs/cxxleak.cc:[0-9]+\)$" ||
		die "no inlined make_buffer (cxxleak.cc:$inl) above Basket::refill(int): $(last_report)"
	expect_eq "bytes through make_buffer" "$(last_report |
		awk '/^\t[0-9]+ bytes in/ {b = $1; next} /make_buffer .*\[inlined\]/ {s += b} END {print s + 0}')" 300
	last_report | grep -q 'churn' && die "deleted objects reported: $(last_report)"
	true
}

test_no_demangle_and_no_lines() {
	symbols_traced cxxleak --no-demangle --no-lines
	last_report | grep -qE '^		_ZN4shop6Basket3addEi\+0x[0-9a-f]+ \[cxxleak\]$' ||
		die "no raw _ZN4shop6Basket3addEi frame without a line: $(last_report)"
	last_report | grep -q 'shop::' && die "demangled despite --no-demangle"
	last_report | grep -qE '\((tests|\.\./|\./)[^)]*:[0-9]+\)' && die "lines despite --no-lines"
	last_report | grep -q 'inlined' && die "inlined frames need DWARF lines: $(last_report)"
	true
}

# A copy of the stripped binary whose debug file is elsewhere: found only through --debug-dir,
# by debuglink name (DIR/NAME) or by build ID (DIR/.build-id/xx/rest.debug).
test_debug_dir_by_name_and_by_build_id() {
	local id
	mkdir -p "$TDIR/bin" "$TDIR/dbg" "$TDIR/bid"
	cp "$OUTPUT/tests/cxxleak" "$TDIR/bin/"
	cp "$OUTPUT/tests/cxxleak.debug" "$TDIR/dbg/"
	id=$(readelf -n "$OUTPUT/tests/cxxleak" | awk '/Build ID/ {print $3}')
	[ -n "$id" ] || die "cxxleak has no build ID"
	mkdir -p "$TDIR/bid/.build-id/${id:0:2}"
	cp "$OUTPUT/tests/cxxleak.debug" "$TDIR/bid/.build-id/${id:0:2}/${id:2}.debug"

	for args in "" "--debug-dir $TDIR/dbg" "--debug-dir $TDIR/bid"; do
		"$TDIR/bin/cxxleak" > "$TDIR/prog.out" 2>&1 &
		PROG_PID=$!
		echo "$PROG_PID" >> "$(PIDS_FILE)"
		wait_for "$TDIR/prog.out" '^ready'
		# shellcheck disable=SC2086
		start_tracer -p "$PROG_PID" 1 -T 1000 $args
		go
		stop_tracer
		kill "$PROG_PID"
		if [ -z "$args" ]; then
			last_report | grep -q 'Basket' && die "named without its debug file: $(last_report)"
			last_report | grep -qE '^		0x[0-9a-f]+ \[cxxleak\]$' ||
				die "no unnamed cxxleak frame: $(last_report)"
		else
			last_report | grep -qE '^		shop::Basket::add\(int\)\+0x[0-9a-f]+ \[cxxleak\] \(tests/progs/cxxleak.cc:[0-9]+\)$' ||
				die "$args: Basket::add not named: $(last_report)"
		fi
	done
}

test_libc_internals_named_by_build_id() {
	local libc id line
	libc=$(awk '$6 ~ /\/libc\.so\.6$/ {print $6; exit}' /proc/self/maps)
	id=$(readelf -n "$libc" | awk '/Build ID/ {print $3}')
	[ -f "/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" ] ||
		die "libc6-dbg is not installed (scripts/deps.sh installs it): no debug file for $libc"
	readelf -S "$libc" | grep -q '\.debug_info' && die "$libc carries its own DWARF"
	symbols_traced libcleak
	# __fopen_internal is static: no .dynsym entry; its name and line come from the debug file
	line=$(last_report | grep -A1 -E '^	1416 bytes in 3 allocations from stack \(malloc\)' | tail -n 1)
	[[ $line =~ ^$'\t\t'__fopen_internal\+0x[0-9a-f]+\ \[libc\.so\.6\]\ \(\./libio/iofopen\.c:[0-9]+\)$ ]] ||
		die "3 FILEs (472 B each) not charged to __fopen_internal (iofopen.c): $(last_report)"
}

test_jit_code_named_by_perf_map() {
	symbols_traced jit
	rm -f "/tmp/perf-$PROG_PID.map"
	last_report | grep -A2 -E '^	2775 bytes in 5 allocations from stack \(malloc\)' >"$TDIR/stack"
	sed -n 2p "$TDIR/stack" | grep -qE "^		jit_leaky_alloc\+0x15 \[perf-$PROG_PID\.map\]$" ||
		die "JIT frame not named from /tmp/perf-$PROG_PID.map: $(last_report)"
	sed -n 3p "$TDIR/stack" | grep -qE '^		run_jit\+0x[0-9a-f]+ \[jit\] \(tests/progs/jit.c:[0-9]+\)$' ||
		die "the JIT function's caller is not next: $(last_report)"
	expect_eq "leak site" "$(site_stat jit_leaky_alloc bytes)" 2775
}

test_jit_map_of_another_user_is_ignored() {
	start_prog jit
	chown nobody "/tmp/perf-$PROG_PID.map"
	start_tracer -p "$PROG_PID" 1 -T 1000
	go
	stop_tracer
	rm -f "/tmp/perf-$PROG_PID.map"
	last_report | grep -q jit_leaky_alloc && die "named from a map another user owns"
	last_report | grep -qE '^		0x[0-9a-f]+ \[anon\]$' || die "no [anon] frame: $(last_report)"
}

test_deleted_binary_still_symbolizes() {
	local line
	cp "$OUTPUT/tests/leaker" "$TDIR/leaker_del"
	"$TDIR/leaker_del" > "$TDIR/prog.out" 2>&1 &
	PROG_PID=$!
	echo "$PROG_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/prog.out" '^ready'
	rm "$TDIR/leaker_del"
	grep -q 'leaker_del (deleted)' "/proc/$PROG_PID/maps" || die "binary not shown deleted"
	start_tracer -p "$PROG_PID" 1 -T 1000
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	line=$(line_of tests/progs/leaker.c 'hold(malloc(1000))')
	last_report | grep -qE "^		leak_malloc\+0x[0-9a-f]+ \[leaker_del\] \(tests/progs/leaker.c:$line\)$" ||
		die "deleted binary not symbolized: $(last_report | head -20)"
	expect_eq "leak_malloc bytes" "$(site_stat leak_malloc bytes)" 10000
}

# debuginfod_prog: a copy of cxxleak with neither debuglink nor a local debug file; its debug
# file served as buildid/ID/debuginfo from $TDIR/srv. Sets PROG_PID.
debuginfod_prog() {
	local id
	command -v python3 > /dev/null || return 1
	objcopy --remove-section=.gnu_debuglink "$OUTPUT/tests/cxxleak" "$TDIR/cxxleak_nolink"
	id=$(readelf -n "$TDIR/cxxleak_nolink" | awk '/Build ID/ {print $3}')
	mkdir -p "$TDIR/srv/buildid/$id" "$TDIR/cache"
	cp "$OUTPUT/tests/cxxleak.debug" "$TDIR/srv/buildid/$id/debuginfo"
	"$TDIR/cxxleak_nolink" > "$TDIR/prog.out" 2>&1 &
	PROG_PID=$!
	echo "$PROG_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/prog.out" '^ready'
	export DEBUGINFOD_CACHE_PATH=$TDIR/cache
}

# http_server DIR: a local debuginfod stand-in; sets DEBUGINFOD_URLS, requests logged to srv.log
http_server() {
	python3 -u -m http.server --bind 127.0.0.1 --directory "$1" 0 > "$TDIR/srv.log" 2>&1 &
	echo $! >> "$(PIDS_FILE)"
	wait_for "$TDIR/srv.log" 'Serving HTTP on .* port [0-9]+'
	DEBUGINFOD_URLS=http://127.0.0.1:$(sed -nE 's/.* port ([0-9]+) .*/\1/p' "$TDIR/srv.log" | head -n 1)
	export DEBUGINFOD_URLS
}

debuginfod_run() {
	start_tracer -p "$PROG_PID" 1 -T 1000 "$@"
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
}

test_debuginfod_off_by_default_then_fetches() {
	debuginfod_prog || skip "no python3 to serve debug files"
	http_server "$TDIR/srv"
	debuginfod_run
	grep -q 'GET /buildid' "$TDIR/srv.log" && die "asked debuginfod without --debuginfod"
	last_report | grep -q 'Basket' && die "named without a debug file: $(last_report)"
	kill "$PROG_PID"
	debuginfod_prog
	debuginfod_run --debuginfod
	grep -q "GET /buildid/[0-9a-f]*/debuginfo HTTP/1.1\" 200" "$TDIR/srv.log" ||
		die "no debuginfo fetched: $(cat "$TDIR/srv.log")"
	last_report | grep -qE '^		shop::Basket::add\(int\)\+0x[0-9a-f]+ \[cxxleak_nolink\] \(tests/progs/cxxleak.cc:[0-9]+\)$' ||
		die "not named from the fetched debug file: $(last_report) $(cat "$TDIR/lt.err")"
}

test_debuginfod_timeout_holds() {
	local port t0 t1
	run_alone # a time bound
	debuginfod_prog || skip "no python3 for a server that never answers"
	# accepts connections, never answers
	python3 -u -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True); time.sleep(120)' > "$TDIR/port" 2>&1 &
	echo $! >> "$(PIDS_FILE)"
	wait_for "$TDIR/port" '^[0-9]+$'
	export DEBUGINFOD_URLS=http://127.0.0.1:$(cat "$TDIR/port")
	start_tracer -p "$PROG_PID" 1 -T 1000 --debuginfod=2
	# from the end of attaching, which can take seconds at load average 20 (first report 10.4 s
	# after a t0 taken before it, bound 9 s)
	t0=$(date +%s%N)
	go
	wait_for "$TDIR/lt.out" ' pid [0-9]+ \(cxxleak_nolink\): ' 20
	t1=$(date +%s%N)
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	grep -q 'debuginfod: no answer within 2 s; no more queries this run' "$TDIR/lt.err" ||
		die "no timeout message: $(cat "$TDIR/lt.err")"
	# one 2 s query for the program (then none): the first report is late by about that
	[ $(((t1 - t0) / 1000000)) -lt 9000 ] || die "first report after $(((t1 - t0) / 1000000)) ms"
	last_report | grep -qE '^		0x[0-9a-f]+ \[cxxleak_nolink\]$' || die "$(last_report)"
}
