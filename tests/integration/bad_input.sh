# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Bad input: one clear line on stderr, a non-zero exit, no crash.

# expect_error REGEX ARGS...: leaktrace ARGS fails with exactly one stderr line matching REGEX
expect_error() {
	local re=$1 rc=0
	shift
	"$LT" "$@" > "$TDIR/out" 2> "$TDIR/err" < /dev/null || rc=$?
	[ "$rc" -ne 0 ] || die "'leaktrace $*' exited 0"
	[ "$rc" -lt 128 ] || die "'leaktrace $*' crashed (status $rc)"
	expect_eq "stderr lines of 'leaktrace $*'" "$(wc -l < "$TDIR/err")" 1
	grep -qE "$re" "$TDIR/err" || die "'leaktrace $*': stderr '$(cat "$TDIR/err")' !~ /$re/"
}

test_no_such_pid() {
	expect_error 'no such process: 999999' -p 999999
}

test_pid_not_a_number() {
	expect_error "invalid PID 'abc'" -p abc
	expect_error "invalid PID '-5'" -p -5
}

test_kernel_thread() {
	expect_error 'kernel thread' -p 2
}

test_bad_numbers_and_flags() {
	expect_error "invalid --top '0'" -p 1 -T 0
	expect_error "invalid --top 'x'" -p 1 -T x
	expect_error "invalid INTERVAL '0'" -p 1 0
	expect_error "invalid COUNT 'many'" -p 1 1 many
	expect_error 'unexpected argument' -p 1 1 2 3
	expect_error "unknown option .--bogus." -p 1 --bogus
	expect_error 'invalid --sort' -p 1 --sort weight
	expect_error 'is for user-space tracing, not -k' -k -O /usr/bin/true
	expect_error 'larger than --max-size' -p 1 -z 10 -Z 5
}

test_not_root() {
	command -v setpriv > /dev/null || die "setpriv missing (util-linux)"
	local rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$LT" -p 1 > /dev/null 2> "$TDIR/err" || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || die "status $rc"
	grep -q 'run as root (or with CAP_BPF and CAP_PERFMON)' "$TDIR/err" ||
		die "stderr: $(cat "$TDIR/err")"
}

test_kernel_without_btf() {
	start_prog leaker
	LEAKTRACE_BTF=/nonexistent/vmlinux expect_error 'kernel BTF not found' -p "$PROG_PID"
}

test_obj_missing_or_not_elf() {
	start_prog leaker
	expect_error 'cannot read /nonexistent/libc.so: No such file' -p "$PROG_PID" -O /nonexistent/libc.so
	expect_error 'cannot read /etc/passwd: not a valid ELF file' -p "$PROG_PID" -O /etc/passwd
	expect_error "has no usable 'malloc', 'calloc', 'realloc', 'free' symbols" -p "$PROG_PID" -O /usr/bin/true
}

test_help_and_version() {
	"$LT" --help | grep -q 'Usage: leaktrace' || die "--help"
	"$LT" -V | grep -qE '^leaktrace [0-9]+\.[0-9]+' || die "-V"
}

test_garbage_numbers_formats_and_missing_values() {
	expect_error "invalid --top '1x'" -p 1 -T 1x
	expect_error "invalid --top '99999999999999999999'" -p 1 -T 99999999999999999999
	expect_error "invalid --top ''" -p 1 -T ''
	expect_error "invalid PID ''" -p ''
	expect_error "invalid PID '1.5'" -p 1.5
	expect_error "invalid PID '2147483648'" -p 2147483648
	expect_error "invalid INTERVAL ' 1'" -p 1 ' 1'
	expect_error "invalid COUNT '[+]2'" -p 1 1 +2
	expect_error "invalid --min-size '-1'" -p 1 -z -1
	expect_error 'must be a power of two' -p 1 --ringbuf-mb 3
	expect_error "invalid --format 'xml'" -p 1 --format xml
	expect_error "option '-p' needs a value" -p
	expect_error "option '--format' needs a value" --format
	expect_error 'empty --output file name' -p 1 -w ''
}

test_unwritable_output_paths() {
	start_prog leaker
	expect_error 'cannot write /nonexistent/dir/out.txt: No such file' -p "$PROG_PID" \
		-w /nonexistent/dir/out.txt
	expect_error 'cannot write /tmp: Is a directory' -p "$PROG_PID" --format pprof -w /tmp
}

# A write that fails mid-run (a full disk): one line, non-zero exit, no crash.
test_output_write_fails_mid_run() {
	run_alone # a time bound
	start_prog leaker
	local rc=0
	timeout 20 "$LT" -p "$PROG_PID" 1 -w /dev/full > /dev/null 2> "$TDIR/err" || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -lt 124 ] || die "status $rc: $(cat "$TDIR/err")"
	expect_eq "error lines" "$(grep -vc 'tracing pid' "$TDIR/err")" 1
	grep -q 'cannot write /dev/full: No space left on device' "$TDIR/err" ||
		die "stderr: $(cat "$TDIR/err")"
}

# Both -p and a command: left to the branch that adds -- COMMAND / -c.

test_pid_and_command_together() {
	expect_error 'give -p PID or a command, not both' -p 1 -- /bin/true
	expect_error 'give -p PID or a command, not both' -p 1 -c /bin/true
}
