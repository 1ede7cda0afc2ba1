# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# make install / uninstall into a DESTDIR, the installed binary run from there, the manual kept
# in step with --help, the exit statuses --help documents.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# help_opts: every option --help lists, one per line ("-p", "--pid", ...)
help_opts() {
	"$LT" --help | sed -nE 's/^  (-([a-zA-Z]), )? *(--[a-z][a-z-]*).*/-\2\n\3/p' |
		grep -v '^-$' | sort -u
}

# man_opts: every option the manual's OPTIONS section lists in its .TP tags
man_opts() {
	awk '/^\.SH OPTIONS/ { on = 1; next } /^\.SH/ { on = 0 }
		on && tag { print; tag = 0 } on && /^\.TP/ { tag = 1 }' "$REPO/man/leaktrace.8" |
		grep -oE '\\fB(\\-)+[a-zA-Z][a-zA-Z\\-]*\\fR' | sed -E 's/\\fB|\\fR//g; s/\\-/-/g' |
		grep -vx -- '--' | sort -u
}

test_install_into_destdir_runs_from_there_and_uninstalls() {
	local root=$TDIR/root bin mode
	make -C "$REPO" --no-print-directory -s install DESTDIR="$root" PREFIX=/usr \
		LT_BIN="$LT" > "$TDIR/make.out" 2>&1 || die "make install: $(tail -n 5 "$TDIR/make.out")"
	bin=$root/usr/sbin/leaktrace
	for f in "$bin" "$root/usr/share/man/man8/leaktrace.8" \
		"$root/usr/share/bash-completion/completions/leaktrace"; do
		[ -f "$f" ] || die "not installed: $f ($(find "$root" -type f))"
	done
	mode=$(stat -c %a "$bin")
	expect_eq "binary mode" "$mode" 755
	cmp -s "$bin" "$LT" || die "installed binary differs from $LT"
	# the installed copy traces on its own, away from the build tree
	cd /
	LT=$bin launch leaker
	cd "$REPO"
	expect_eq "exit status" "$LT_RC" 0
	expect_leaker_truth
	# the manual renders, and the completion offers the options
	MANWIDTH=80 man -l "$root/usr/share/man/man8/leaktrace.8" 2> "$TDIR/man.err" |
		grep -q 'EXIT STATUS' || die "man page does not render: $(cat "$TDIR/man.err")"
	# shellcheck disable=SC1090,SC2034
	(
		. "$root/usr/share/bash-completion/completions/leaktrace"
		COMP_WORDS=("$bin" --sort ''); COMP_CWORD=2; _leaktrace
		[ "${COMPREPLY[*]}" = 'size count growth age unreachable' ] || die "--sort completes '${COMPREPLY[*]}'"
		COMP_WORDS=("$bin" --fo); COMP_CWORD=1; _leaktrace
		[ "${COMPREPLY[*]}" = '--follow --format' ] || die "--fo completes '${COMPREPLY[*]}'"
	) || exit 1
	make -C "$REPO" --no-print-directory -s uninstall DESTDIR="$root" PREFIX=/usr \
		> "$TDIR/make.out" 2>&1 || die "make uninstall: $(tail -n 5 "$TDIR/make.out")"
	[ -z "$(find "$root" -type f)" ] || die "left after uninstall: $(find "$root" -type f)"
}

test_man_page_lists_exactly_the_options_of_help() {
	local h m
	h=$(help_opts)
	m=$(man_opts)
	# both lists are real: a broken extraction must not pass as "equal and empty"
	[ "$(wc -l <<< "$h")" -ge 30 ] || die "--help lists only: $h"
	grep -qx -- '--pid' <<< "$m" || die "man page options not found: $m"
	[ "$h" = "$m" ] || die "--help and leaktrace.8 differ (< help, > man): $(diff <(echo "$h") <(echo "$m"))"
	groff -man -ww -z "$REPO/man/leaktrace.8" 2> "$TDIR/groff.err"
	[ ! -s "$TDIR/groff.err" ] || die "groff warns: $(cat "$TDIR/groff.err")"
	for s in 'EXAMPLES' 'EXIT STATUS'; do
		grep -q "^\.SH $s" "$REPO/man/leaktrace.8" || die "man page has no $s"
	done
	"$LT" --help | grep -q '^Examples:' || die "--help has no examples"
	"$LT" --help | grep -q '^Exit status:' || die "--help has no exit status"
}

test_exit_status_as_documented() {
	local rc=0
	"$LT" --bogus > /dev/null 2>&1 || rc=$?
	expect_eq "usage error status" "$rc" 2
	rc=0
	"$LT" --help > /dev/null || rc=$?
	expect_eq "--help status" "$rc" 0
	"$LT" --help | grep -qE '^  2 +a usage error' || die "--help does not document status 2"
	# a command's status is leaktrace's (exit 3 from sh)
	rc=0
	timeout 60 "$LT" -- /bin/sh -c 'exit 3' > /dev/null 2>&1 || rc=$?
	expect_eq "command's status" "$rc" 3
	# the first Ctrl-C ends with a report and 0 (stop_tracer); once it has been handled,
	# SIGINT is no longer caught: a second one kills, 130. The final report is written to a
	# FIFO whose buffer the test has filled, so it is still being written at the second one.
	start_prog leaker
	mkfifo "$TDIR/full"
	exec 7<> "$TDIR/full"
	head -c 65536 /dev/zero >&7
	: > "$TDIR/lt.err"
	"$LT" -p "$PROG_PID" > "$TDIR/full" 2> "$TDIR/lt.err" &
	LT_PID=$!
	echo "$LT_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/lt.err" 'tracing pid' 15
	kill -INT "$LT_PID"
	local i
	for ((i = 0; i < 400; i++)); do
		(($(grep -m1 SigCgt "/proc/$LT_PID/status" | awk '{print "0x" $2}') & 2)) || break
		sleep 0.01
	done
	# bounded: a second SIGINT that did not kill would leave it blocked on the FIFO for ever
	(sleep 30 && kill -KILL "$LT_PID") > /dev/null 2>&1 &
	local guard=$!
	kill -INT "$LT_PID"
	LT_RC=0
	wait "$LT_PID" || LT_RC=$?
	kill "$guard" 2> /dev/null || true
	exec 7>&-
	expect_eq "status after a second SIGINT" "$LT_RC" 130
}
