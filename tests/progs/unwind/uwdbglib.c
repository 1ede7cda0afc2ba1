// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A shared library whose CFI is only in its separate debug file: C built -O2 without frame
 * pointers and -fno-asynchronous-unwind-tables (no .eh_frame FDE), with -g (.debug_frame),
 * the debug info then split off (objcopy --only-keep-debug, --add-gnu-debuglink). dbg_d leaves
 * text in rbp while it calls malloc: a frame-pointer walk stops there.
 */
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

void *volatile dbg_last;

NOINLINE void *dbg_e(size_t n)
{
	void *p = malloc(n);

	dbg_last = p;
	return p;
}

NOINLINE void *dbg_d(size_t n)
{
	void *p;

	__asm__ volatile("movabs $0x2f656c61636f6c2f, %%rbp" ::: "rbp");
	p = dbg_e(n);
	dbg_last = p;
	return p;
}

NOINLINE void *dbg_c(size_t n)
{
	void *p = dbg_d(n);

	dbg_last = p;
	return p;
}

NOINLINE void *dbg_b(size_t n)
{
	void *p = dbg_c(n);

	dbg_last = p;
	return p;
}

NOINLINE void *dbg_a(size_t n)
{
	void *p = dbg_b(n);

	dbg_last = p;
	return p;
}
