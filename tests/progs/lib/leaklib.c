// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A library that tests/progs/hostile.c loads from copies, then corrupts on disk. */
#include <stdlib.h>

void *volatile lib_keep[64];

__attribute__((noinline)) void lib_leak(int n, size_t size)
{
	for (int i = 0; i < n && i < 64; i++)
		lib_keep[i] = malloc(size);
}
