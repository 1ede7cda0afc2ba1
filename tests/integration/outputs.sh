# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Where reports go and what they carry: -w never replaces a device, a FIFO or a symlink that
# is not ours; a hostile comm, path or symbol name never reaches a terminal raw; the smaller
# usage and target errors each get one clear line and the documented exit status.

# out_error STATUS REGEX ARGS...: leaktrace ARGS exits STATUS with one stderr line ~ REGEX,
# before attaching anything
out_error() {
	local want=$1 re=$2 rc=0
	shift 2
	timeout 20 "$LT" "$@" > "$TDIR/out" 2> "$TDIR/err" < /dev/null || rc=$?
	expect_eq "status of 'leaktrace $*'" "$rc" "$want"
	expect_eq "stderr lines of 'leaktrace $*'" "$(wc -l < "$TDIR/err")" 1
	grep -qE -- "$re" "$TDIR/err" || die "'leaktrace $*': stderr '$(cat "$TDIR/err")' !~ /$re/"
	grep -q 'tracing pid' "$TDIR/err" && die "'leaktrace $*' attached"
	true
}

# folded_bytes FUNC FILE: bytes of the folded lines whose leaf-most frame is FUNC
folded_bytes() {
	awk -v fn="$1" '{ n = split($1, fr, ";"); if (fr[n] == fn) s += $2 } END { print s + 0 }' "$2"
}

# A FIFO is written in place (a snapshot format: the final report only), never replaced.
test_output_fifo_with_reader_stays_a_fifo() {
	local cat_pid
	mkfifo "$TDIR/fifo"
	# bounded: a FIFO replaced by a file would leave the reader waiting for ever
	timeout 60 cat "$TDIR/fifo" > "$TDIR/fifo.out" &
	cat_pid=$!
	echo "$cat_pid" >> "$(PIDS_FILE)"
	start_prog leaker
	start_tracer -p "$PROG_PID" --format folded -w "$TDIR/fifo" 1
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	wait "$cat_pid" || die "the reader failed or timed out"
	[ -p "$TDIR/fifo" ] || die "the FIFO was replaced: $(stat -c %F "$TDIR/fifo")"
	expect_eq "leak_malloc bytes through the FIFO" "$(folded_bytes leak_malloc "$TDIR/fifo.out")" \
		10000
	ls "$TDIR" | grep -E '^fifo\.' | grep -qv '^fifo\.out$' && die "temporary file left: $(ls "$TDIR")"
	true
}

# No reader: a clear line at once, not a hang, and the FIFO stays.
test_output_fifo_without_reader_fails_fast() {
	local f
	mkfifo "$TDIR/fifo"
	start_prog leaker
	for f in text pprof; do
		out_error 1 "cannot write $TDIR/fifo: a FIFO with no reader" -p "$PROG_PID" \
			--format "$f" -w "$TDIR/fifo" 1 1
		[ -p "$TDIR/fifo" ] || die "$f: the FIFO was replaced"
	done
}

# Devices are written in place: /dev/null stays a character device in every format, and
# /dev/full (damaged by a rename before) too, with the write error said.
test_output_devices_stay_devices() {
	local f rc
	start_prog leaker
	for f in text json folded pprof svg; do
		rc=0
		timeout 30 "$LT" -p "$PROG_PID" --format "$f" -w /dev/null 1 1 > "$TDIR/out" \
			2> "$TDIR/err" || rc=$?
		expect_eq "$f to /dev/null: status ($(cat "$TDIR/err"))" "$rc" 0
		[ -c /dev/null ] || die "$f: /dev/null is no longer a character device"
		[ -s "$TDIR/out" ] && die "$f: wrote to stdout: $(head -c 200 "$TDIR/out")"
	done
	rc=0
	timeout 30 "$LT" -p "$PROG_PID" --format svg -w /dev/full 1 1 > /dev/null 2> "$TDIR/err" ||
		rc=$?
	expect_eq "svg to /dev/full: status" "$rc" 1
	grep -q 'cannot write /dev/full: No space left on device' "$TDIR/err" ||
		die "stderr: $(cat "$TDIR/err")"
	[ -c /dev/full ] || die "/dev/full is no longer a character device"
	# /dev/stdout names our stdout: the final svg lands there, /dev/stdout stays a symlink
	rc=0
	timeout 30 "$LT" -p "$PROG_PID" --format svg -w /dev/stdout 1 2 > "$TDIR/stdout.svg" \
		2> "$TDIR/err" || rc=$?
	expect_eq "svg to /dev/stdout: status ($(cat "$TDIR/err"))" "$rc" 0
	[ -L /dev/stdout ] || die "/dev/stdout is no longer a symlink"
	expect_eq "svg documents on stdout" "$(grep -c '<svg ' "$TDIR/stdout.svg")" 1
}

# A symlink planted by another user in a sticky world-writable directory is not followed, in
# any format; ours in the same directory is.
test_output_planted_symlink_in_sticky_dir_refused() {
	local d=$TDIR/sticky f
	mkdir -m 1777 "$d"
	echo precious > "$TDIR/victim"
	ln -s "$TDIR/victim" "$d/planted"
	chown -h nobody "$d/planted"
	start_prog leaker
	for f in text json folded pprof svg; do
		out_error 1 "cannot write $d/planted: symlink .* of uid [0-9]+ in the sticky world-writable directory .*: not followed" \
			-p "$PROG_PID" --format "$f" -w "$d/planted" 1 1
		expect_eq "$f: the victim" "$(cat "$TDIR/victim")" precious
		[ -L "$d/planted" ] || die "$f: the symlink was replaced"
	done
	ln -s "$TDIR/mine.txt" "$d/mine"
	start_tracer -p "$PROG_PID" -w "$d/mine" 60
	go
	stop_tracer
	expect_eq "exit status through our own link" "$LT_RC" 0
	expect_eq "leak_malloc bytes through our own link" \
		"$(site_stat leak_malloc bytes "$TDIR/mine.txt")" 10000
	[ -L "$d/mine" ] || die "our symlink was replaced"
}

# Every format to a regular file that exists already: replaced by the report, still a
# regular file, no temporary file left.
test_output_regular_file_in_every_format() {
	local f
	start_prog leaker
	for f in text json folded pprof svg; do
		echo old > "$TDIR/out.$f"
		"$LT" -p "$PROG_PID" --format "$f" -w "$TDIR/out.$f" 1 > /dev/null 2> "$TDIR/$f.err" &
		echo "$!" >> "$(PIDS_FILE)"
		eval "pid_$f=$!"
		wait_for "$TDIR/$f.err" 'tracing pid|leaktrace: ' 15
		grep -q 'tracing pid' "$TDIR/$f.err" || die "$f did not start: $(cat "$TDIR/$f.err")"
	done
	go
	for f in text json folded pprof svg; do eval "kill -INT \$pid_$f"; done
	for f in text json folded pprof svg; do
		eval "wait \$pid_$f" || die "$f: exit status $?: $(cat "$TDIR/$f.err")"
		[ -f "$TDIR/out.$f" ] && ! [ -L "$TDIR/out.$f" ] || die "$f: not a regular file"
	done
	expect_eq "text leak_malloc bytes" "$(site_stat leak_malloc bytes "$TDIR/out.text")" 10000
	tail -n 1 "$TDIR/out.json" | jq -e '.final' > /dev/null || die "json: no final report"
	expect_eq "folded leak_malloc bytes" "$(folded_bytes leak_malloc "$TDIR/out.folded")" 10000
	gzip -t "$TDIR/out.pprof" || die "pprof: not gzip"
	xmllint --noout "$TDIR/out.svg" || die "svg: not well-formed"
	grep -q '<title>leak_malloc \[leaker\]: 10000 bytes' "$TDIR/out.svg" || die "svg: no leak_malloc"
	ls "$TDIR" | grep -qE '^out\.[a-z]+\.' && die "temporary file left: $(ls "$TDIR")"
	true
}

# A comm, an executable path and a symbol name carrying escape sequences: escaped in the text
# report and on stderr, never a raw ESC or BEL; the bytes are still exact.
test_output_hostile_names_escaped() {
	local bin=$TDIR/lk$'\e]0;pwn\a' rc=0
	objcopy --strip-debug --redefine-sym leak_malloc=$'leak\e[31mmalloc' \
		"$OUTPUT/tests/leaker" "$bin" || die "objcopy failed"
	PROG_OUT=$TDIR/prog.out
	"$bin" > "$PROG_OUT" 2>&1 &
	PROG_PID=$!
	echo "$PROG_PID" >> "$(PIDS_FILE)"
	wait_for "$PROG_OUT" '^ready'
	start_tracer -p "$PROG_PID" 60
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	grep -qP '[\x00-\x08\x0b-\x1f\x7f]' "$TDIR/lt.out" "$TDIR/lt.err" &&
		die "a raw control byte: $(grep -P '[\x00-\x08\x0b-\x1f\x7f]' "$TDIR/lt.out" "$TDIR/lt.err" | cat -v)"
	grep -qF 'tracing pid '"$PROG_PID"' (lk\x1b]0;pwn\x07)' "$TDIR/lt.err" ||
		die "comm not escaped on stderr: $(cat -v "$TDIR/lt.err")"
	last_report | head -n 1 | grep -qF "pid $PROG_PID (lk\\x1b]0;pwn\\x07) final:" ||
		die "comm not escaped in the report: $(last_report | head -n 1 | cat -v)"
	last_report | grep -qF $'\t\tleak\\x1b[31mmalloc+0x' || die "symbol not escaped"
	last_report | grep -qF '[lk\x1b]0;pwn\x07]' || die "module not escaped"
	expect_eq "escaped leak_malloc bytes" "$(site_stat 'leak\\x1b[31mmalloc' bytes)" 10000
}

test_output_small_items() {
	out_error 2 "invalid --ringbuf-mb '4096' \(expected an integer from 1 to 2048\)" \
		-p 1 --ringbuf-mb 4096
	out_error 2 "--debug-dir $TDIR/none: No such file or directory" -p 1 --debug-dir "$TDIR/none"
	touch "$TDIR/file"
	out_error 2 "--debug-dir $TDIR/file: not a directory" -p 1 --debug-dir "$TDIR/file"
	# leaktrace's own pid: exec keeps the shell's pid
	local rc=0
	timeout 20 bash -c 'exec "$0" -p $$' "$LT" > /dev/null 2> "$TDIR/err" || rc=$?
	expect_eq "-p of itself: status" "$rc" 2
	grep -qE '^leaktrace: pid [0-9]+ is leaktrace itself$' "$TDIR/err" || die "$(cat "$TDIR/err")"
	# a zombie: its parent execs a program that never reaps it
	bash -c 'sleep 0.5 & echo $! > "$0"; exec sleep 60' "$TDIR/zombie" &
	echo "$!" >> "$(PIDS_FILE)"
	wait_for "$TDIR/zombie" '^[0-9]+$'
	wait_for "/proc/$(cat "$TDIR/zombie")/stat" '^[0-9]+ \(sleep\) Z '
	out_error 1 "pid $(cat "$TDIR/zombie") is a zombie \(exited, not reaped\)" \
		-p "$(cat "$TDIR/zombie")"
	# a ring buffer of 2048 MiB is the largest the parser takes, and it loads
	start_prog leaker
	rc=0
	timeout 60 "$LT" -p "$PROG_PID" --ringbuf-mb 2048 1 1 > /dev/null 2> "$TDIR/err" || rc=$?
	expect_eq "--ringbuf-mb 2048 status ($(cat "$TDIR/err"))" "$rc" 0
}

# -f: the tracer raises its soft open-file limit (a perf event per probe and thread); the
# command it launches keeps the limit it was given.
test_output_follow_raises_open_file_limit() {
	local hard lt_soft cmd_soft pid
	hard=$(ulimit -Hn)
	[ "$hard" != unlimited ] && [ "$hard" -gt 256 ] || die "hard limit $hard"
	(
		ulimit -Sn 256
		exec "$LT" -f 60 -- "$OUTPUT/tests/leaker" > "$TDIR/lt.out" 2> "$TDIR/lt.err"
	) &
	LT_PID=$!
	echo "$LT_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/lt.out" '^ready [0-9]+' 15
	pid=$(awk '/^ready/ {print $2; exit}' "$TDIR/lt.out")
	echo "$pid" >> "$(PIDS_FILE)"
	lt_soft=$(awk '/^Max open files/ {print $4}' "/proc/$LT_PID/limits")
	cmd_soft=$(awk '/^Max open files/ {print $4}' "/proc/$pid/limits")
	[ "$lt_soft" -ge "$hard" ] || die "tracer's soft limit $lt_soft < hard $hard"
	expect_eq "the command's soft limit" "$cmd_soft" 256
	kill -USR1 "$pid"
	wait_for "$TDIR/lt.out" '^done' 30
	stop_tracer
	grep -q ' final: ' "$TDIR/lt.out" || die "no final report: $(cat "$TDIR/lt.err")"
}
