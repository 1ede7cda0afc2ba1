# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Symbol tables are read once per file for the whole run (src/syms/dso.c) and shared by every
# process that maps it; a file rewritten in place gets tables of its own. The ground truth is
# a program built here in two variants, each leaking from a function of its own.

# symtab_prog OUT NAME COUNT SIZE: a program that prints its pid, then leaks COUNT x SIZE bytes
# from NAME
symtab_prog() {
	cat > "$TDIR/symtab.c" <<-EOF
		#include <stdio.h>
		#include <stdlib.h>
		#include <unistd.h>
		static void *volatile keep[16];
		__attribute__((noinline)) void $2(void)
		{
			for (int i = 0; i < $3; i++)
				keep[i] = malloc($4);
		}
		int main(void)
		{
			printf("pid %d\n", getpid());
			fflush(stdout);
			$2();
			return 0;
		}
	EOF
	${CC:-cc} -O1 -g -fno-omit-frame-pointer -fno-inline -Wl,--build-id -o "$1" "$TDIR/symtab.c"
}

build_id_of() {
	readelf -n "$1" | awk '/Build ID:/ {print $3}'
}

# Three children run build A of $D/prog, then build B is copied over the same inode, with A's
# size and mtime: only its build ID tells it apart. Each child is named with its own function
# and bytes; A's tables are read once for the three, B's once more.
test_follow_children_share_symbol_tables() {
	local d=$TDIR/symtab rc=0 i pid n reused
	mkdir -p "$d"
	symtab_prog "$d/prog.a" shared_leak_a 3 1111
	symtab_prog "$d/prog.b" shared_leak_b 5 2222
	# bytes past the last section are not read: the smaller build grows to the other's size
	n=$(stat -c %s "$d/prog.a")
	[ "$(stat -c %s "$d/prog.b")" -le "$n" ] || n=$(stat -c %s "$d/prog.b")
	truncate -s "$n" "$d/prog.a" "$d/prog.b"
	expect_eq "both builds the same size" "$(stat -c %s "$d/prog.a")" "$(stat -c %s "$d/prog.b")"
	[ -n "$(build_id_of "$d/prog.a")" ] || die "no build ID in prog.a"
	[ "$(build_id_of "$d/prog.a")" != "$(build_id_of "$d/prog.b")" ] ||
		die "both builds have build ID $(build_id_of "$d/prog.a")"
	cp "$d/prog.a" "$d/prog"
	touch -r "$d/prog.a" "$d/prog"
	# The rewrite waits for the three final reports (A's tables are read by then: a file
	# changed under tables not read yet is another matter). cp keeps the inode.
	timeout 120 "$LT" -v -f 1 -- bash -c "
		for i in 1 2 3; do '$d/prog' > \"$d/a.\$i.out\"; done
		for ((i = 0; i < 1200; i++)); do
			[ \$(grep -c '^\[[0-9:]*\] pid [0-9]* (prog, child of [0-9]*) final' \
				'$TDIR/lt.out') -ge 3 ] && break
			sleep 0.05
		done
		cp '$d/prog.b' '$d/prog' && touch -r '$d/prog.a' '$d/prog'
		'$d/prog' > '$d/b.out'" > "$TDIR/lt.out" 2> "$TDIR/lt.err" < /dev/null || rc=$?
	expect_eq "exit status" "$rc" 0
	for i in 1 2 3; do
		pid=$(awk '/^pid/ {print $2}' "$d/a.$i.out")
		[ -n "$pid" ] || die "child $i did not say its pid"
		expect_eq "child $i (A): shared_leak_a" "$(stat_of "$pid" shared_leak_a bytes)" 3333
		expect_eq "child $i (A): count" "$(stat_of "$pid" shared_leak_a count)" 3
		expect_eq "child $i (A): lost events" "$(header_stat lost_events "$TDIR/proc.$pid")" 0
	done
	pid=$(awk '/^pid/ {print $2}' "$d/b.out")
	[ -n "$pid" ] || die "the child of build B did not say its pid"
	expect_eq "child of B: shared_leak_b" "$(stat_of "$pid" shared_leak_b bytes)" 11110
	expect_eq "child of B: count" "$(stat_of "$pid" shared_leak_b count)" 5
	expect_eq "child of B: nothing named after A" "$(stat_of "$pid" shared_leak_a bytes)" 0
	# each build read once, libc once for every process
	n=$(grep -c "^leaktrace: symbols: $d/prog: " "$TDIR/lt.err") || true
	expect_eq "times $d/prog was read" "$n" 2
	n=$(grep -c '^leaktrace: symbols: .*/libc\.so\.6: ' "$TDIR/lt.err") || true
	expect_eq "times libc was read" "$n" 1
	reused=$(sed -n 's/^leaktrace: symbol tables: .* reused \([0-9]*\) times.*/\1/p' \
		"$TDIR/lt.err")
	[ -n "$reused" ] || die "no symbol tables line: $(tail -n 3 "$TDIR/lt.err")"
	# at least A by its 2nd and 3rd child, libc and the loader by each of the four
	[ "$reused" -ge 10 ] || die "files reused $reused times, want 10 or more"
}
