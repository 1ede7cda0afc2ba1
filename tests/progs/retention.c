// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * No leak, high RSS: 200k x 1000 B on the brk heap (about 200 MiB), one small block allocated
 * after them pins the top of the heap, then all 200k are freed. glibc cannot trim the heap
 * below the pin, so RSS stays while the live heap is 100 bytes (pin_top).
 */
#include <string.h>
#include "progs.h"

#define N 200000

static void *blocks[N];

NOINLINE void fill_heap(void)
{
	for (int i = 0; i < N; i++) {
		blocks[i] = malloc(1000);
		memset(blocks[i], 1, 1000);
	}
}

NOINLINE void pin_top(void)
{
	hold(malloc(100));
}

NOINLINE void release_all(void)
{
	for (int i = 0; i < N; i++)
		free(blocks[i]);
}

int main(void)
{
	wait_for_go();
	fill_heap();
	pin_top();
	release_all();
	done_and_wait();
	return 0;
}
