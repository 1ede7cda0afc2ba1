# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Every output format against the same ground truth (tests/progs/leaker.c): the leaking
# functions' bytes are exact in each, read back by a real consumer (jq, go tool pprof, xmllint).

# function bytes count, as tests/progs/leaker.c leaks them
FORMATS_TRUTH="leak_malloc 10000 10
leak_calloc 5000 5
leak_big 2097152 2
leak_realloc 12000 3
leak_posix_memalign 2048 4
leak_aligned_alloc 1024 4
leak_mmap 196608 3
thread_leak 9324 28"

# fmt_tracer NAME ARGS...: leaktrace ARGS in the background, stdout in $TDIR/NAME.out
fmt_tracer() {
	local name=$1 pid
	shift
	"$LT" "$@" > "$TDIR/$name.out" 2> "$TDIR/$name.err" &
	pid=$!
	echo "$pid" >> "$(PIDS_FILE)"
	eval "FMT_PID_$name=$pid"
	wait_for "$TDIR/$name.err" 'tracing pid|leaktrace: .*(error|cannot|no )' 15
	grep -q 'tracing pid' "$TDIR/$name.err" || die "$name did not start: $(cat "$TDIR/$name.err")"
}

# fmt_stop NAME...: Ctrl-C each tracer; each must exit 0
fmt_stop() {
	local name pid rc
	for name in "$@"; do
		eval "pid=\$FMT_PID_$name"
		kill -INT "$pid" 2>/dev/null || true
	done
	for name in "$@"; do
		eval "pid=\$FMT_PID_$name"
		rc=0
		wait "$pid" || rc=$?
		expect_eq "$name exit status" "$rc" 0
	done
}

# leaker_in_formats FORMAT...: trace one leaker with the text format and each FORMAT at once
# (-w $TDIR/out.FORMAT), then stop all of them once its workload is done.
leaker_in_formats() {
	local f
	start_prog leaker
	fmt_tracer text -p "$PROG_PID" -T 1000 1
	for f in "$@"; do
		fmt_tracer "$f" -p "$PROG_PID" --format "$f" -w "$TDIR/out.$f" 1
	done
	go
	fmt_stop text "$@"
	cp "$TDIR/text.out" "$TDIR/lt.out"
}

# json_site FUNC bytes|count: sum over the final JSON report's stacks whose first frame
# outside libc and ld.so is FUNC
json_site() {
	tail -n 1 "$TDIR/out.json" | jq --arg fn "$1" --arg what "$2" '
		[.stacks[] | select(([.frames[] | select(.module != "libc.so.6" and
			.module != "ld-linux-x86-64.so.2")][0].symbol) == $fn) | .[$what]] | add // 0'
}

# folded_site FUNC: bytes of the folded lines whose leaf-most ground-truth function is FUNC
folded_site() {
	awk -v fn="$1" -v names="$(cut -d' ' -f1 <<< "$FORMATS_TRUTH")" '
		BEGIN { split(names, a, "\n"); for (i in a) known[a[i]] = 1 }
		{ n = split($1, fr, ";")
		  for (i = n; i > 0; i--) if (fr[i] in known) break
		  if (i > 0 && fr[i] == fn) sum += $2 }
		END { print sum + 0 }' "$TDIR/out.folded"
}

test_json_bytes_exact_per_leaking_function() {
	leaker_in_formats json
	local fn bytes count
	while read -r fn bytes count; do
		expect_eq "$fn bytes (json)" "$(json_site "$fn" bytes)" "$bytes"
		expect_eq "$fn count (json)" "$(json_site "$fn" count)" "$count"
		expect_eq "$fn bytes (text)" "$(site_stat "$fn" bytes)" "$bytes"
	done <<< "$FORMATS_TRUTH"
	expect_eq "json totals = text header" "$(tail -n 1 "$TDIR/out.json" | jq .totals.bytes)" \
		"$(header_stat bytes)"
	expect_eq "json stacks = text header" "$(tail -n 1 "$TDIR/out.json" | jq .totals.stacks)" \
		"$(header_stat stacks)"
	expect_eq "final" "$(tail -n 1 "$TDIR/out.json" | jq .final)" true
	tail -n 1 "$TDIR/out.json" | jq -e '.target.comm == "leaker" and .target.pid > 0 and
		.losses.bpf.ringbuf_drop == 0 and .losses.tracker.missed_frees == 0' > /dev/null ||
		die "target or losses wrong: $(tail -n 1 "$TDIR/out.json" | jq -c '.target, .losses')"
	tail -n 1 "$TDIR/out.json" | jq -e '[.stacks[].frames[] | select(.symbol == "leak_malloc")]
		| .[0] | .module == "leaker" and (.file | endswith("leaker.c")) and .line > 0 and
		(.address | test("^0x[0-9a-f]+$")) and .inlined == false' > /dev/null ||
		die "leak_malloc frame lacks module/file/line/address"
}

# The documented schema (docs/json-schema.md, its table) is what leaktrace writes: every key
# path present is documented with its type, every path documented "always" is present.
check_json_schema() {
	local doc
	doc=$(awk -F'|' '/^\| `/ { p = $2; t = $3; w = $4
		gsub(/[ `]/, "", p); gsub(/^ +| +$/, "", t); gsub(/^ +| +$/, "", w)
		printf "%s\t%s\t%s\n", p, t, w }' docs/json-schema.md |
		jq -R -s 'split("\n") | map(select(length > 0) | split("\t") |
			{key: .[0], value: {type: .[1], present: .[2]}}) | from_entries')
	[ "$(jq length <<< "$doc")" -gt 30 ] || die "schema table not found in docs/json-schema.md"
	jq -e -c --argjson doc "$doc" --arg allocs "${1:-}" '
		def ok($t): if $t == "integer" then type == "number" and . == floor
			elif $t == "integer or null" then . == null or (type == "number" and . == floor)
			elif $t == "string or null" then . == null or type == "string"
			else type == $t end;
		[paths(type != "object" and type != "array") as $p | {path: ($p | map(if type == "number" then "[]"
			else "." + . end) | join("") | ltrimstr(".")), v: getpath($p)}] as $leaves
		| ([$leaves[] | select($doc[.path] == null) | "undocumented: \(.path)"]
		+ [$leaves[] | select($doc[.path] != null) | . as $l | select(($l.v |
			ok($doc[$l.path].type)) | not) | "\(.path) is \(.v | type), documented \($doc[.path].type)"]
		+ [$doc | to_entries[] | select(.value.present == "always" or
			($allocs != "" and .value.present == "with -a")) | .key as $k
			| select([$leaves[].path] | index($k) | not) | "missing: \($k)"]
		| unique) as $errs | if $errs == [] then true else ($errs | join("; ") | halt_error) end
		' > /dev/null
}

test_json_lines_follow_the_documented_schema() {
	start_prog leaker
	fmt_tracer json -p "$PROG_PID" --format json -w "$TDIR/out.json" -a 1
	go
	# two interval reports, then the final one
	for _ in $(seq 100); do [ "$(wc -l < "$TDIR/out.json")" -ge 2 ] && break; sleep 0.05; done
	fmt_stop json
	[ ! -s "$TDIR/json.out" ] || die "stdout not empty with -w: $(head -c 200 "$TDIR/json.out")"
	local n i
	n=$(wc -l < "$TDIR/out.json")
	[ "$n" -ge 3 ] || die "want one line per report (>= 2 intervals and the final): $n"
	expect_eq "objects" "$(jq -c 'type' "$TDIR/out.json" | sort -u)" '"object"'
	expect_eq "final only last" "$(jq -c .final "$TDIR/out.json" | uniq -c | awk '{print $2}' |
		tr '\n' ' ')" "false true "
	for ((i = 1; i <= n; i++)); do
		sed -n "${i}p" "$TDIR/out.json" | check_json_schema with-allocs 2>&1 ||
			die "line $i does not follow docs/json-schema.md"
	done
	tail -n 1 "$TDIR/out.json" | jq -e '[.stacks[] | select(.bytes == 10000) |
		.allocations | length] | index(10)' > /dev/null || die "no 10 allocations listed (-a)"
}

test_json_escapes_strings() {
	# a comm and a path with a quote, a backslash and a space must still give valid JSON
	cp "$OUTPUT/tests/leaker" "$TDIR/a\"b\\c d"
	"$TDIR/a\"b\\c d" > "$TDIR/prog.out" 2>&1 &
	PROG_PID=$!
	echo "$PROG_PID" >> "$(PIDS_FILE)"
	wait_for "$TDIR/prog.out" '^ready'
	fmt_tracer json -p "$PROG_PID" --format json 1
	go
	fmt_stop json
	expect_eq "comm" "$(tail -n 1 "$TDIR/json.out" | jq -r .target.comm)" "a\"b\\c d"
	expect_eq "module" "$(tail -n 1 "$TDIR/json.out" | jq -r '[.stacks[].frames[] |
		select(.symbol == "leak_malloc")][0].module')" "a\"b\\c d"
}

test_folded_bytes_exact_and_sum_equals_text_total() {
	leaker_in_formats folded
	local fn bytes count sum
	while read -r fn bytes count; do
		expect_eq "$fn bytes (folded)" "$(folded_site "$fn")" "$bytes"
	done <<< "$FORMATS_TRUTH"
	sum=$(awk '{ s += $NF } END { print s + 0 }' "$TDIR/out.folded")
	expect_eq "folded sum = text total" "$sum" "$(header_stat bytes)"
	expect_eq "lines = stacks" "$(wc -l < "$TDIR/out.folded")" "$(header_stat stacks)"
	grep -vqE '^[^ ;]+(;[^ ;]+)* [0-9]+$' "$TDIR/out.folded" &&
		die "malformed line: $(grep -vE '^[^ ;]+(;[^ ;]+)* [0-9]+$' "$TDIR/out.folded" | head -1)"
	grep -qE '^_start;__libc_start_main;__libc_start_call_main;main;leak_malloc 10000$' "$TDIR/out.folded" ||
		die "no root-first leak_malloc stack: $(grep leak_malloc "$TDIR/out.folded")"
}

test_folded_on_stdout_is_the_final_report() {
	start_prog leaker
	fmt_tracer folded -p "$PROG_PID" --format folded 1
	go
	sleep 2.2
	fmt_stop folded
	expect_eq "leak_malloc lines" "$(grep -c ';leak_malloc ' "$TDIR/folded.out")" 1
	expect_eq "leak_malloc bytes" "$(grep ';leak_malloc ' "$TDIR/folded.out" | cut -d' ' -f2)" \
		10000
	# with COUNT, the COUNT-th report is the last one: it is written
	start_prog leaker
	fmt_tracer count -p "$PROG_PID" --format folded 1 3
	go
	local rc=0
	wait "$FMT_PID_count" || rc=$?
	expect_eq "exit status (COUNT)" "$rc" 0
	expect_eq "leak_malloc bytes (COUNT)" \
		"$(grep ';leak_malloc ' "$TDIR/count.out" | cut -d' ' -f2)" 10000
}

# go tool pprof (lib.sh's `go` is the handshake with the test program)
pprof_tool() { HOME=$TDIR command go tool pprof "$@"; }

test_pprof_read_by_go_tool_pprof() {
	type -P go > /dev/null || die "go missing: scripts/deps.sh installs golang-go"
	start_prog leaker
	fmt_tracer pprof -p "$PROG_PID" --format pprof -w "$TDIR/out.pprof" 1
	fmt_tracer text -p "$PROG_PID" -T 1000 1
	wait_for "$TDIR/pprof.err" 'tracing' 5
	for _ in $(seq 50); do [ -s "$TDIR/out.pprof" ] && break; sleep 0.1; done
	[ -s "$TDIR/out.pprof" ] || die "no profile written after the first interval"
	go
	fmt_stop pprof text
	cp "$TDIR/text.out" "$TDIR/lt.out"
	ls "$TDIR"/out.pprof.* 2> /dev/null && die "temporary file left behind"
	expect_eq "gzip magic" "$(head -c 2 "$TDIR/out.pprof" | od -An -tx1 | tr -d ' ')" 1f8b
	local top objs
	top=$(pprof_tool -top -nodefraction=0 -nodecount=1000 -unit=B \
		-sample_index=inuse_space "$TDIR/out.pprof" 2>&1) || die "go tool pprof failed: $top"
	objs=$(pprof_tool -top -nodefraction=0 -nodecount=1000 \
		-sample_index=inuse_objects "$TDIR/out.pprof" 2>&1) || die "go tool pprof failed: $objs"
	# flat column: the leaking functions call the allocator directly
	for fn in leak_malloc leak_calloc leak_realloc thread_leak; do
		want=$(awk -v f="$fn" '$1 == f { print $2 }' <<< "$FORMATS_TRUTH")
		expect_eq "$fn inuse_space" "$(awk -v f="$fn" '$6 == f { print $1 }' <<< "$top")" \
			"${want}B"
		want=$(awk -v f="$fn" '$1 == f { print $3 }' <<< "$FORMATS_TRUTH")
		expect_eq "$fn inuse_objects" "$(awk -v f="$fn" '$6 == f { print $1 }' <<< "$objs")" \
			"$want"
	done
	# leak_mmap's bytes are under the mmap wrapper: cumulative column
	expect_eq "leak_mmap inuse_space (cum)" \
		"$(awk '$6 == "leak_mmap" { print $4 }' <<< "$top")" 196608B
	expect_eq "total" "$(sed -n 's/.*Total samples = \([0-9]*\)B.*/\1/p;
		s/.* of \([0-9]*\)B total.*/\1/p' <<< "$top" | head -1)" "$(header_stat bytes)"
	grep -q '^Type: inuse_space' <<< "$top" || die "default sample type is not inuse_space"
	grep -q '^File: leaker' <<< "$top" || die "main binary is not the first mapping: $top"
	grep -qE '^Build ID: [0-9a-f]{40}' <<< "$top" || die "no build ID on the mapping"
	pprof_tool -traces "$TDIR/out.pprof" 2>&1 | grep -A3 'kind:  malloc' |
		grep -q 'leak_malloc' || die "no leak_malloc trace with kind label"
	pprof_tool -raw "$TDIR/out.pprof" 2>&1 |
		grep -qE 'leak_malloc tests/progs/leaker.c:[0-9]+' || die "no source line for leak_malloc"
}

test_svg_is_well_formed_and_names_the_leaks() {
	command -v xmllint > /dev/null || die "xmllint missing: scripts/deps.sh installs libxml2-utils"
	leaker_in_formats svg
	xmllint --noout "$TDIR/out.svg" || die "not well-formed XML"
	grep -q '<title>leak_malloc \[leaker\]: 10000 bytes in 10 allocations' "$TDIR/out.svg" ||
		die "no leak_malloc frame with its bytes: $(grep -o '<title>leak[^<]*' "$TDIR/out.svg")"
	grep -q "<title>leak_big \[leaker\]: 2097152 bytes in 2 allocations" "$TDIR/out.svg" ||
		die "no leak_big frame"
	grep -q "$(header_stat bytes) bytes in" "$TDIR/out.svg" || die "total not in the title"
	ls "$TDIR"/out.svg.* 2> /dev/null && die "temporary file left behind"
	true
}

test_unwritable_output_fails_before_attaching() {
	start_prog leaker
	local f rc
	for f in text json folded pprof svg; do
		rc=0
		timeout 10 "$LT" -p "$PROG_PID" --format "$f" -w "$TDIR/no/such/dir/out" \
			> "$TDIR/out" 2> "$TDIR/err" || rc=$?
		[ "$rc" -ne 0 ] || die "$f: exit status 0 for an unwritable file"
		expect_eq "$f: error lines" "$(wc -l < "$TDIR/err")" 1
		grep -q "cannot write $TDIR/no/such/dir/out" "$TDIR/err" || die "$(cat "$TDIR/err")"
		grep -q 'tracing pid' "$TDIR/err" && die "$f: attached before checking the output"
	done
	rc=0
	"$LT" -p "$PROG_PID" --format xml > /dev/null 2> "$TDIR/err" || rc=$?
	expect_eq "bad format status" "$rc" 2
	grep -q "invalid --format 'xml'" "$TDIR/err" || die "$(cat "$TDIR/err")"
	true
}

test_binary_formats_refuse_a_terminal() {
	command -v script > /dev/null || die "script (util-linux) missing"
	start_prog leaker
	local f
	for f in pprof svg; do
		script -qec "$LT -p $PROG_PID --format $f 1 1" /dev/null > "$TDIR/tty.out" 2>&1 || true
		grep -q "format $f is not for a terminal: give -w FILE" "$TDIR/tty.out" ||
			die "$f on a terminal: $(cat "$TDIR/tty.out")"
		grep -q 'tracing pid' "$TDIR/tty.out" && die "$f: attached"
	done
	true
}
