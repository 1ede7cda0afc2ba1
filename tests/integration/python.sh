# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Python programs: allocations named by the Python frames that made them (function, file,
# line), with counts checked against what tests/progs/pyleak.py is known to allocate. Debian's
# /usr/bin/python3.11 (not whatever python3 is first on PATH).

PY=/usr/bin/python3.11
PYLEAK=$PWD/tests/progs/pyleak.py

# line_of TEXT: the line of pyleak.py that holds TEXT
line_of() {
	grep -nF "$1" "$PYLEAK" | head -1 | cut -d: -f1
}

# start_py MODE N [PYTHON]: pyleak.py under PYTHONMALLOC=malloc, waiting for SIGUSR1
start_py() {
	[ -x "$PY" ] || skip "no $PY"
	PROG_OUT=$TDIR/prog.out
	PYTHONMALLOC=malloc "${3:-$PY}" "$PYLEAK" "$1" "$2" > "$PROG_OUT" 2>&1 &
	PROG_PID=$!
	echo "$PROG_PID" >> "$(PIDS_FILE)"
	wait_for "$PROG_OUT" '^ready'
}

# py_sum any|top FRAME bytes|count [KIND]: sum over the last report's stacks with a frame line
# containing FRAME (any), or whose innermost Python frame contains it (top), of allocations
# whose kind starts with KIND only (malloc, pyobject, pyobject:dict) when given
py_sum() {
	local r
	r=$(last_report) || return 1
	awk -v top="$([ "$1" = top ] && echo 1 || echo 0)" -v fr="$2" -v what="$3" -v kind="${4:-}" '
		/^\t[0-9]+ bytes in [0-9]+ allocations from stack/ {
			b = $1; c = $4; done = kind != "" && index($0, "(" kind) == 0; next }
		/^\t\t/ && !done && (top ? /\.py:[0-9]+\)$/ : index($0, fr)) {
			done = 1; if (index($0, fr)) { bytes += b; count += c } }
		END { printf "%.0f\n", (what == "bytes" ? bytes : count) }' <<< "$r"
}

# py_stat FRAME bytes|count [KIND]: stacks with a frame containing FRAME
py_stat() { py_sum any "$@"; }

# py_top_stat FRAME bytes|count [KIND]: stacks whose innermost Python frame is FRAME
py_top_stat() { py_sum top "$@"; }

# top_stacks_through N FRAME: whether each of the last report's first N stacks has FRAME, but
# for pymalloc's arenas (mmap: the pools the objects counted are in)
top_stacks_through() {
	last_report | awk -v n="$1" -v fr="$2" '
		/allocations from stack \(mmap\)/ { if (k && !hit) exit 1; skip = 1; next }
		/allocations from stack/ { if (k && !hit) exit 1; if (++k > n) exit 0; hit = skip = 0; next }
		/^\t\t/ && !skip && index($0, fr) { hit = 1 }
		END { if (k < n || (k == n && !hit)) exit 1 }'
}

# prog_value KEY: the number after KEY on the program's output ("sizes handler 56 dict 64")
prog_value() {
	sed -nE "s/^(.* )?$1 ([0-9]+)( .*)?\$/\2/p" "$PROG_OUT" | tail -1
}

# within_2pct WHAT GOT WANT
within_2pct() {
	[ "$2" -ge $(($3 * 98 / 100)) ] && [ "$2" -le $(($3 * 102 / 100)) ] ||
		die "$1: got $2, want $3 +-2%: $(last_report | head -40)"
}

# start_py_pymalloc MODE N: pyleak.py as Debian's python3.11 runs it, PYTHONMALLOC unset:
# pymalloc, inlined where no probe reaches it, serves every object of up to 512 bytes
start_py_pymalloc() {
	[ -x "$PY" ] || skip "no $PY"
	PROG_OUT=$TDIR/prog.out
	env -u PYTHONMALLOC "$PY" "$PYLEAK" "$1" "$2" > "$PROG_OUT" 2>&1 &
	PROG_PID=$!
	echo "$PROG_PID" >> "$(PIDS_FILE)"
	wait_for "$PROG_OUT" '^ready PYTHONMALLOC=None$'
}

start_py_tracer() {
	start_tracer -p "$PROG_PID" -T 100 "$@"
	wait_for "$TDIR/lt.err" "pid $PROG_PID: CPython 3.11: Python frames on"
}

test_python_dict_per_request_named_with_line() {
	local n=3000 fr
	start_py requests $n
	start_py_tracer
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	fr="handle_request ($PYLEAK:$(line_of '"id": i'))"
	# a dict and its keys table per request, and the list's item array
	within_2pct "allocations under $fr" "$(py_stat "$fr" count)" $((2 * n + 1))
	expect_eq "churn outstanding" "$(py_stat "churn ($PYLEAK" count)" 0
	grep -q "main ($PYLEAK:$(line_of '    run(mode, n)'))" "$TDIR/lt.out" ||
		die "no caller frames: $(last_report | head -20)"
	grep -q 'pymalloc serves' "$TDIR/lt.err" && die "pymalloc note under PYTHONMALLOC=malloc"
	return 0
}

test_python_handler_per_job() {
	local jobs=300 fr
	start_py jobs $jobs
	start_py_tracer
	go
	stop_tracer
	fr="JobHandler.__init__ ($PYLEAK:$(line_of 'bytearray(4096)'))"
	# a bytearray object (56 bytes) and its 4097-byte buffer per handler
	within_2pct "allocations under $fr" "$(py_stat "$fr" count)" $((2 * jobs))
	within_2pct "bytes under $fr" "$(py_stat "$fr" bytes)" $(((56 + 4097) * jobs))
	[ "$(py_stat "add_handler ($PYLEAK:$(line_of 'log.addHandler'))" count)" -ge $((2 * jobs)) ] ||
		die "add_handler not above the handler's frames: $(last_report | head -30)"
}

test_python_growth_sort_puts_handler_leak_first() {
	start_py grow 300
	start_py_tracer 1 --sort growth
	go
	stop_tracer
	local first
	first=$(last_report | awk '/allocations from stack/{want = 1; next}
		want && /\(.*pyleak\.py:[0-9]+\)$/ {print; exit}')
	[[ $first == *"JobHandler.__init__ ($PYLEAK:"* ]] ||
		die "--sort growth ranks first: '$first': $(last_report | head -20)"
	last_report | awk '/allocations from stack/{print; exit}' | grep -q ') leak' ||
		die "first stack not called a leak: $(last_report | head -5)"
}

test_python_ctypes_malloc_under_python_frames() {
	local fr
	start_py ctypes 200
	start_py_tracer
	go
	stop_tracer
	fr="native_leak ($PYLEAK:$(line_of 'libc.malloc(777)'))"
	expect_eq "bytes under $fr" "$(py_stat "$fr" bytes)" $((777 * 200))
	expect_eq "allocations under $fr" "$(py_stat "$fr" count)" 200
	# the native frames first: malloc's caller in libffi, then the Python ones
	last_report | awk -v fr="$fr" '/allocations from stack/{n = 0; next}
		/^\t\t/ { n++; if (index($0, fr)) { print n; exit } }' | grep -qv '^1$' ||
		die "no native frames below the Python ones"
}

test_python_threads() {
	local n=400 fr
	start_py threads $n
	start_py_tracer
	go
	stop_tracer
	fr="thread_leak ($PYLEAK:$(line_of 'bytearray(2000)'))"
	# 4 threads, each n bytearrays of 56 + 2001 bytes (and the growth of its list)
	within_2pct "allocations under $fr" "$(py_stat "$fr" count)" $((4 * n * 2))
	within_2pct "bytes under $fr" "$(py_stat "$fr" bytes)" $((4 * n * (56 + 2001)))
}

# make_fake_py: $TDIR/python3.11-fake, a CPython whose Py_Version says 3.10: the 3.11 binary
# copied, that one word changed
make_fake_py() {
	local off
	off=$("$PY" - "$PY" <<- 'EOF'
		import subprocess, sys
		out = subprocess.run(["readelf", "-Ws", "--dyn-syms", sys.argv[1]], capture_output=True,
		                     text=True).stdout
		addr = next(int(l.split()[1], 16) for l in out.splitlines() if l.endswith(" Py_Version"))
		segs = subprocess.run(["readelf", "-lW", sys.argv[1]], capture_output=True,
		                      text=True).stdout
		for l in segs.splitlines():
		    f = l.split()
		    if f and f[0] == "LOAD":
		        o, v, sz = int(f[1], 16), int(f[2], 16), int(f[4], 16)
		        if v <= addr < v + sz:
		            print(addr - v + o)
		EOF
	)
	[ -n "$off" ] || die "Py_Version not found in $PY"
	cp "$PY" "$TDIR/python3.11-fake"
	printf '\xf0\x00\x0a\x03' | dd of="$TDIR/python3.11-fake" bs=1 seek="$off" conv=notrunc \
		status=none
}

test_python_unsupported_version_notes_and_keeps_native_frames() {
	[ -x "$PY" ] || skip "no $PY"
	local fake=$TDIR/python3.11-fake
	make_fake_py
	start_py requests 500 "$fake"
	start_tracer -p "$PROG_PID" -T 100
	wait_for "$TDIR/lt.err" "pid $PROG_PID: CPython 3.10 at .* is not supported \(3.11 is\): native frames only"
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	grep -q 'pyleak\.py:' "$TDIR/lt.out" && die "Python frames from an unsupported version"
	grep -q '_PyObject_GC_New' "$TDIR/lt.out" || die "no native frames: $(last_report | head)"
	return 0
}

# A launched command runs with PYTHONMALLOC=malloc, and its frames are on from its exec. Its
# report is taken while it lives: code objects freed at exit are not named (never misnamed).
test_python_launched_gets_pythonmalloc() {
	[ -x "$PY" ] || skip "no $PY"
	: > "$TDIR/lt.out"
	: > "$TDIR/lt.err"
	env -u PYTHONMALLOC "$LT" -T 100 -- "$PY" "$PYLEAK" ctypes 50 > "$TDIR/lt.out" \
		2> "$TDIR/lt.err" &
	LT_PID=$!
	echo "$LT_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/lt.out" '^ready'
	grep -q '^ready PYTHONMALLOC=malloc$' "$TDIR/lt.out" ||
		die "PYTHONMALLOC not set for the command: $(head -3 "$TDIR/lt.out")"
	grep -q 'CPython: PYTHONMALLOC=malloc' "$TDIR/lt.err" || die "no note: $(cat "$TDIR/lt.err")"
	PROG_PID=$(sed -nE 's/.*tracing pid ([0-9]+).*/\1/p' "$TDIR/lt.err")
	echo "$PROG_PID" >> "$(PIDS_FILE)"
	grep -q "pid $PROG_PID: CPython 3.11: Python frames on" "$TDIR/lt.err" ||
		die "frames not on at exec: $(cat "$TDIR/lt.err")"
	kill -USR1 "$PROG_PID"
	wait_for "$TDIR/lt.out" '^done'
	kill -INT "$LT_PID"
	wait_for "$TDIR/lt.out" "pid $PROG_PID \\(python3.11\\) final:"
	kill -USR1 "$PROG_PID" # leaktrace's status is the command's: let it end well
	LT_RC=0
	wait "$LT_PID" || LT_RC=$?
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "bytes under native_leak" \
		"$(py_stat "native_leak ($PYLEAK:$(line_of 'libc.malloc(777)'))" bytes)" $((777 * 50))
}

# lt_bg NAME ARGS...: another tracer in the background, output in $TDIR/NAME.{out,err}
lt_bg() {
	"$LT" "${@:2}" > "$TDIR/$1.out" 2> "$TDIR/$1.err" &
	echo "$!" >> "$(PIDS_FILE)"
	echo "$!" > "$TDIR/$1.pid"
	wait_for "$TDIR/$1.err" "CPython 3.11: Python frames on" 15
}

lt_bg_stop() {
	local pid
	pid=$(cat "$TDIR/$1.pid")
	kill -INT "$pid"
	wait "$pid" || die "$1 tracer failed: $(cat "$TDIR/$1.err")"
}

test_python_frames_in_json_folded_pprof() {
	local line total top
	start_py ctypes 200
	line=$(line_of 'libc.malloc(777)')
	lt_bg pprof -p "$PROG_PID" --format pprof -w "$TDIR/out.pprof"
	lt_bg folded -p "$PROG_PID" --format folded
	lt_bg json -p "$PROG_PID" --format json
	go
	lt_bg_stop pprof
	lt_bg_stop folded
	lt_bg_stop json
	total=$(tail -n 1 "$TDIR/json.out" | jq --arg f "$PYLEAK" --argjson l "$line" '
		[.stacks[] | select(any(.frames[]; .symbol == "native_leak" and .file == $f and
			.line == $l and .offset == null)) | .bytes] | add // 0')
	expect_eq "json bytes under native_leak ($line)" "$total" $((777 * 200))
	total=$(awk '/(^|;)native_leak(;| )/ { s += $NF } END { print s + 0 }' "$TDIR/folded.out")
	expect_eq "folded bytes under native_leak" "$total" $((777 * 200))
	type -P go > /dev/null || skip "go missing: scripts/deps.sh installs golang-go"
	top=$(HOME=$TDIR command go tool pprof -top -cum -lines -nodefraction=0 -nodecount=1000 -unit=B \
		-sample_index=inuse_space "$TDIR/out.pprof" 2>&1) || die "go tool pprof failed: $top"
	grep -qE "^ +[0-9.]+B? +[0-9.]+% +[0-9.]+% +155400B +[0-9.]+% +native_leak $PYLEAK:$line\$" \
		<<< "$top" || die "pprof: no native_leak at $PYLEAK:$line with 155400B: $top"
}

# Debian's python3.11 as it runs (pymalloc, no PYTHONMALLOC), attached with -p: its GC objects
# counted at their constructors. The issue's incident: a logging handler added per job to a
# global logger. Truth: the collector's own count of the objects the run left (gc.get_objects),
# and the sizes CPython gives (sys.getsizeof).
test_python_pymalloc_handler_per_job_counted_as_objects() {
	local jobs=1000 size fr objs
	start_py_pymalloc jobs $jobs
	start_py_tracer
	grep -q "pid $PROG_PID: pymalloc is out of the probes' reach: objects are counted" \
		"$TDIR/lt.err" || die "no note on pymalloc: $(cat "$TDIR/lt.err")"
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	size=$(prog_value handler)
	objs=$(prog_value gc_objects)
	fr="add_handler ($PYLEAK:$(line_of 'log.addHandler'))"
	# the handler itself: made at add_handler's line, before its __init__ runs
	within_2pct "handlers made at $fr" "$(py_top_stat "$fr" count pyobject:JobHandler\))" $jobs
	within_2pct "handler bytes at $fr" "$(py_top_stat "$fr" bytes pyobject:JobHandler\))" \
		$((jobs * size))
	# and what its __init__ makes: a list, an RLock, two weakrefs (logging's registries)
	within_2pct "objects under $fr (the collector counts $objs)" \
		"$(py_stat "$fr" count pyobject)" "$objs"
	# the 4097-byte buffer reaches malloc (over 512 bytes): once, not also as an object
	fr="JobHandler.__init__ ($PYLEAK:$(line_of 'bytearray(4096)'))"
	within_2pct "buffers under $fr" "$(py_stat "$fr" count)" $jobs
	within_2pct "buffer bytes under $fr" "$(py_stat "$fr" bytes)" $((jobs * 4097))
	expect_eq "churn outstanding" "$(py_stat "churn ($PYLEAK" count)" 0
	top_stacks_through 6 "add_handler ($PYLEAK:" ||
		die "the top stacks are not the handler leak: $(last_report | grep -A12 "allocations from stack" | head -120)"
}

test_python_pymalloc_dict_per_request_counted_as_objects() {
	local n=10000 fr
	start_py_pymalloc requests $n
	start_py_tracer
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	fr="handle_request ($PYLEAK:$(line_of '"id": i'))"
	# one dict per request (the dict freelist can hand out up to 80 unseen)
	within_2pct "dicts made at $fr" "$(py_top_stat "$fr" count pyobject:dict\))" $n
	within_2pct "dict bytes at $fr" "$(py_top_stat "$fr" bytes pyobject:dict\))" \
		$((n * $(prog_value dict)))
	expect_eq "churn outstanding" "$(py_stat "churn ($PYLEAK" count)" 0
	top_stacks_through 1 "$fr" || die "the top stack is not the dict leak: $(last_report | head -30)"
	grep -q "main ($PYLEAK:$(line_of '    run(mode, n)'))" "$TDIR/lt.out" ||
		die "no caller frames: $(last_report | head -20)"
}

test_python_pymalloc_growth_sort_puts_handler_leak_first() {
	start_py_pymalloc grow 300
	start_py_tracer 1 --sort growth
	go
	stop_tracer
	top_stacks_through 1 "add_handler ($PYLEAK:$(line_of 'log.addHandler'))" ||
		die "--sort growth does not rank the handler leak first: $(last_report | head -30)"
	last_report | awk '/allocations from stack/ && !/\(mmap\)/ {print; exit}' | grep -q ') leak' ||
		die "first stack not called a leak: $(last_report | head -5)"
}

# Under pymalloc, an unsupported version gets no object probes (they would cost a trap per
# object and count nothing), and the supported one gets them
test_python_pymalloc_object_probes_only_on_a_supported_version() {
	[ -x "$PY" ] || skip "no $PY"
	make_fake_py
	PY=$TDIR/python3.11-fake start_py_pymalloc requests 10
	start_tracer -v -p "$PROG_PID" -T 100
	grep -q "probe PyType_GenericAlloc" "$TDIR/lt.err" &&
		die "object probes on CPython 3.10: $(grep probe "$TDIR/lt.err")"
	stop_tracer
	kill -USR1 "$PROG_PID"
	start_py_pymalloc requests 10
	start_tracer -v -p "$PROG_PID" -T 100
	grep -q "probe PyType_GenericAlloc at python3.11+" "$TDIR/lt.err" ||
		die "no object probes on CPython 3.11: $(grep probe "$TDIR/lt.err")"
	stop_tracer
}

# A launched command run with PYTHONMALLOC=pymalloc on purpose keeps it, and its objects are
# counted at their constructors
test_python_launched_under_pymalloc_counts_objects() {
	[ -x "$PY" ] || skip "no $PY"
	local jobs=50
	: > "$TDIR/lt.out"
	: > "$TDIR/lt.err"
	PROG_OUT=$TDIR/lt.out
	PYTHONMALLOC=pymalloc "$LT" -T 100000 -- "$PY" "$PYLEAK" jobs $jobs > "$TDIR/lt.out" \
		2> "$TDIR/lt.err" &
	LT_PID=$!
	echo "$LT_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/lt.out" '^ready'
	grep -q '^ready PYTHONMALLOC=pymalloc$' "$TDIR/lt.out" ||
		die "PYTHONMALLOC changed: $(head -3 "$TDIR/lt.out")"
	PROG_PID=$(sed -nE 's/.*tracing pid ([0-9]+).*/\1/p' "$TDIR/lt.err")
	echo "$PROG_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/lt.err" "pid $PROG_PID: pymalloc is out of the probes' reach"
	kill -USR1 "$PROG_PID"
	wait_for "$TDIR/lt.out" '^done'
	kill -INT "$LT_PID"
	wait_for "$TDIR/lt.out" "pid $PROG_PID \\(python3.11\\) final:"
	kill -USR1 "$PROG_PID"
	LT_RC=0
	wait "$LT_PID" || LT_RC=$?
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "handlers made at add_handler" \
		"$(py_top_stat "add_handler ($PYLEAK:$(line_of 'log.addHandler'))" count \
			pyobject:JobHandler\))" $jobs
}
