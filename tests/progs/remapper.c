// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for mremap (LT_EV_MREMAP): mappings grown, shrunk and freed.
 *   remap_grow       2 x (64 KiB mapped, grown to 192 KiB)           = 393216 in 2, outstanding
 *   remap_shrink     1 x (192 KiB mapped, shrunk to 64 KiB in place) = 65536 in 1, outstanding
 *   remap_then_free  4 x (64 KiB mapped, grown to 128 KiB, unmapped) = 0
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include "progs.h"

#define KIB 1024UL

/* macros: the mmap's first frame outside libc is the function named above */
#define MAP(n)		   checked(mmap(NULL, (n), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
#define REMAP(p, from, to) checked(mremap((p), (from), (to), MREMAP_MAYMOVE))

static void *checked(void *p)
{
	if (p == MAP_FAILED)
		exit(1);
	return p;
}

NOINLINE void remap_grow(void)
{
	for (int i = 0; i < 2; i++)
		hold(REMAP(MAP(64 * KIB), 64 * KIB, 192 * KIB));
}

NOINLINE void remap_shrink(void)
{
	hold(REMAP(MAP(192 * KIB), 192 * KIB, 64 * KIB));
}

NOINLINE void remap_then_free(void)
{
	for (int i = 0; i < 4; i++)
		munmap(REMAP(MAP(64 * KIB), 64 * KIB, 128 * KIB), 128 * KIB);
}

int main(void)
{
	wait_for_go();
	remap_grow();
	remap_shrink();
	remap_then_free();
	done_and_wait();
	return 0;
}
