# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Suppressions against tests/progs/oneshot.c: glibc's one-time allocations (getpwuid,
# setlocale) shown apart by default, a --suppress file in LeakSanitizer's form, all counted.

# ranked: the last report's part from "Top N stacks" to the suppressed list
ranked() { last_report | sed -n '/^Top [0-9]* stacks/,/^Suppressed/p'; }

test_glibc_one_time_allocations_are_suppressed_not_ranked() {
	launch oneshot
	expect_eq "exit status" "$LT_RC" 0
	expect_eq "leak_user bytes" "$(site_stat leak_user bytes)" 500
	expect_eq "leak_third_party bytes" "$(site_stat leak_third_party bytes)" 600
	local r
	r=$(last_report)
	grep -qE '^	suppressed: [0-9]+ bytes in [0-9]+ allocations from [0-9]+ stacks: glibc NSS' \
		<<< "$r" || die "getpwuid's buffers not suppressed: $r"
	grep -qE '^	suppressed: [0-9]+ bytes .*: glibc locale \(setlocale' <<< "$r" ||
		die "setlocale's allocations not suppressed: $r"
	# counted under the header, the same bytes as the list
	local head listed
	head=$(sed -nE '2s/^	suppressed: ([0-9]+) bytes in .* from ([0-9]+) stacks.*/\1/p' <<< "$r")
	listed=$(awk '/^Suppressed/ { on = 1; next } on && /^\tsuppressed:/ { s += $2 }
		END { print s + 0 }' <<< "$r")
	[ -n "$head" ] && [ "$head" -gt 0 ] || die "no suppressed count under the header: $r"
	expect_eq "suppressed bytes (header vs list)" "$head" "$listed"
	# nothing of NSS or locale is ranked as a leak
	ranked | grep -qE 'getpwuid|setlocale|_nl_|nss_' && die "glibc's one-time ranked: $(ranked)"
	ranked | grep -q 'leak_user' || die "leak_user not ranked: $(ranked)"
}

test_suppress_file_in_leak_sanitizer_form() {
	printf '%s\n' '# third-party code we cannot fix' '' 'leak:leak_third_*' \
		'leak:^no_such_function$' > "$TDIR/supp"
	launch oneshot --suppress "$TDIR/supp"
	expect_eq "exit status" "$LT_RC" 0
	ranked | grep -q 'leak_third_party' && die "suppressed stack ranked: $(ranked)"
	ranked | grep -q 'leak_user' || die "leak_user not ranked: $(ranked)"
	last_report | grep -qE '^	suppressed: 600 bytes in 3 allocations from 1 stacks: leak:leak_third_\* \(--suppress\)$' ||
		die "no suppressed line for the file's rule: $(last_report)"
	last_report | sed -n 2p | grep -q 'and 2 --suppress rules' ||
		die "rules not counted under the header: $(last_report | sed -n 2p)"
	# the totals keep everything: nothing disappears
	expect_eq "header allocations include suppressed" \
		"$(($(header_stat bytes) >= 1100))" 1
	# json: the stack says which rule, the totals say how much
	PROGS_NO_WAIT=1 timeout 60 "$LT" --format json --suppress "$TDIR/supp" -- \
		"$OUTPUT/tests/oneshot" > "$TDIR/out.json" 2> /dev/null < /dev/null
	expect_eq "json suppressed rule of leak_third_party" "$(tail -n 1 "$TDIR/out.json" | jq -r \
		'.stacks[] | select(.frames[0].symbol == "leak_third_party") | .suppressed')" \
		'leak:leak_third_*'
	expect_eq "json file rules" "$(tail -n 1 "$TDIR/out.json" | jq .suppressed.file_rules)" 2
	[ "$(tail -n 1 "$TDIR/out.json" | jq .suppressed.stacks)" -ge 3 ] ||
		die "json suppressed.stacks: $(tail -n 1 "$TDIR/out.json" | jq -c .suppressed)"
}

test_suppress_file_errors() {
	printf 'leak:ok\ninterceptor_via_fun:x\n' > "$TDIR/bad"
	expect_error "leaktrace: --suppress .*bad:2: expected leak:PATTERN, not 'interceptor_via_fun:x'" \
		-p 1 --suppress "$TDIR/bad"
	expect_error "leaktrace: --suppress $TDIR/none: No such file" -p 1 --suppress "$TDIR/none"
	printf 'leak:\n' > "$TDIR/empty"
	expect_error 'expected leak:PATTERN' -p 1 --suppress "$TDIR/empty"
}

# The end summary against oneshot.c: temporary allocations, peak live heap, largest stacks.
test_summary_at_exit_matches_ground_truth() {
	local t0 t1 r s
	t0=$(date +%s%N)
	launch oneshot
	t1=$(date +%s%N)
	expect_eq "exit status" "$LT_RC" 0
	r=$(last_report)
	s=$(sed -n '/^Summary of pid [0-9]* (oneshot) at exit:$/,$p' <<< "$r")
	[ -n "$s" ] || die "no summary: $r"
	local run allocs frees temp peak rss bytes
	read -r run allocs frees < <(sed -nE \
		's/^	run time ([0-9.]+)s; ([0-9]+) allocations, ([0-9]+) frees .*/\1 \2 \3/p' <<< "$s")
	temp=$(sed -nE 's/^	temporary allocations ([0-9]+) \(freed within 1000 ms.*/\1/p' <<< "$s")
	[ -n "$run" ] && [ -n "$temp" ] || die "summary does not parse: $s"
	# run time: at least free_late's 1.2 s, at most the whole run
	awk -v r="$run" -v w=$(((t1 - t0) / 1000000)) 'BEGIN { exit !(r >= 1.2 && r * 1000 <= w + 100) }' ||
		die "run time ${run}s for a ${t0}..${t1} run"
	# churn_temporary's 1000 are temporary, free_late's 10 are not
	[ "$temp" -ge 1000 ] || die "temporary $temp < churn_temporary's 1000"
	[ "$temp" -le $((frees - 10)) ] || die "temporary $temp counts free_late's ($frees frees)"
	[ "$allocs" -ge 1018 ] || die "allocations $allocs < 1018"
	# peak live heap: at least what was live at the end, and free_late's 320 B on top of it
	bytes=$(header_stat bytes)
	peak=$(PROGS_NO_WAIT=1 timeout 60 "$LT" --format json -- "$OUTPUT/tests/oneshot" \
		2> /dev/null < /dev/null | tail -n 1 | jq '.summary.peak_live_bytes')
	[ "$peak" -ge $((bytes - 4096)) ] || die "peak live heap $peak < final bytes $bytes"
	grep -qE '^	peak live heap [0-9.]+ [KMG]?i?B \(traced blocks and mappings\); peak RSS [0-9.]+ [KMG]iB$' \
		<<< "$s" || die "no peak heap / RSS: $s"
	grep -q '^	largest stacks: leak_third_party 600 B in 3, leak_user 500 B in 5' <<< "$s" ||
		die "largest stacks: $(grep largest <<< "$s")"
}

test_suppressed_stacks_labelled_in_pprof() {
	type -P go > /dev/null || die "go missing: scripts/deps.sh installs golang-go"
	PROGS_NO_WAIT=1 timeout 60 "$LT" --format pprof -w "$TDIR/p.pb.gz" -- \
		"$OUTPUT/tests/oneshot" > /dev/null 2>&1 < /dev/null
	local tags top
	tags=$(HOME=$TDIR command go tool pprof -tags "$TDIR/p.pb.gz" 2>&1)
	grep -qE 'suppressed: Total' <<< "$tags" || die "no suppressed label: $tags"
	grep -q 'glibc NSS' <<< "$tags" || die "no NSS suppression label: $tags"
	top=$(HOME=$TDIR command go tool pprof -top -nodecount=1000 -tagignore='suppressed=.' \
		-sample_index=inuse_space "$TDIR/p.pb.gz" 2>&1)
	grep -q 'leak_user' <<< "$top" || die "leak_user hidden with the suppressed: $top"
	grep -qE 'getpwuid|_nl_' <<< "$top" && die "-tagignore left glibc's one-time: $top"
	true
}
