// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A shared library built the distribution way (-O2, no frame pointers) whose helper leaves
 * text in rbp while it calls malloc, as code without frame pointers may: a frame-pointer walk
 * reads "/local/e..." as an address there.
 */
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

void *volatile uw_last;

NOINLINE void *uw_lib_inner(size_t n)
{
	void *p = malloc(n);

	uw_last = p;
	return p;
}

NOINLINE void *uw_lib_alloc(size_t n)
{
	void *p;

	__asm__ volatile("movabs $0x2f656c61636f6c2f, %%rbp" ::: "rbp");
	p = uw_lib_inner(n);
	uw_last = p;
	return p;
}
