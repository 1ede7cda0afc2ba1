// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for the tables of a launched command (leaktrace -- uwfirst), built -O2 without
 * frame pointers: its first allocations come before a tracer could have read its maps. A
 * constructor: ctor_a -> uw_lib_alloc (libuwlib.so, which leaves text in rbp) ->
 * uw_lib_inner -> malloc, 64 B; then at the top of main: first_a -> first_b -> uw_lib_alloc ->
 * uw_lib_inner -> malloc, 80 B. Both outstanding at exit.
 */
#include "../progs.h"

void *uw_lib_alloc(size_t n);

NOINLINE void *ctor_a(size_t n)
{
	void *p = uw_lib_alloc(n);

	hold(p);
	return p;
}

__attribute__((constructor)) static void early(void)
{
	hold(ctor_a(64));
}

NOINLINE void *first_b(size_t n)
{
	void *p = uw_lib_alloc(n);

	hold(p);
	return p;
}

NOINLINE void *first_a(size_t n)
{
	void *p = first_b(n);

	hold(p);
	return p;
}

int main(void)
{
	hold(first_a(80));
	done_and_wait();
	return 0;
}
