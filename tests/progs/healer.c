// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for returns that are never seen. The program is its own allocator, hl_*
 * (traced with -O THIS -S hl_), whose hl_malloc calls an out-of-memory callback for requests
 * above HL_LIMIT; the callback here longjmps out, so hl_malloc's return never happens.
 * After SIGUSR1:
 *   lose_return       5 calls of hl_malloc(HL_LIMIT + 1) that never return: each leaves an
 *                     in-flight record that the next call must heal (5 healed)
 *   leak_after        6 x 1111 B = 6666, from the frame level of lose_return
 *   leak_deeper       4 x 2222 B = 8888, through deeper_alloc (a frame deeper)
 *   churn             hl_malloc + hl_free pairs, all freed
 */
#include <setjmp.h>
#include <string.h>
#include "progs.h"

#define HL_LIMIT (1 << 20)

static jmp_buf oom_jump;

NOINLINE void oom_longjmp(void)
{
	longjmp(oom_jump, 1);
}

static void (*volatile hl_oom_handler)(void) = oom_longjmp;

NOINLINE void *hl_malloc(size_t n)
{
	if (n > HL_LIMIT) {
		hl_oom_handler();
		return NULL;
	}
	return malloc(n);
}

NOINLINE void *hl_calloc(size_t n, size_t m)
{
	return calloc(n, m);
}

NOINLINE void *hl_realloc(void *p, size_t n)
{
	return realloc(p, n);
}

NOINLINE void hl_free(void *p)
{
	free(p);
}

NOINLINE void lose_return(void)
{
	hold(hl_malloc(HL_LIMIT + 1));
}

NOINLINE void leak_after(void)
{
	for (int i = 0; i < 6; i++)
		hold(hl_malloc(1111));
}

NOINLINE void *deeper_alloc(size_t n)
{
	char pad[256];
	void *p;

	memset(pad, 1, sizeof(pad));
	p = hl_malloc(n + (pad[7] != 1));
	return p;
}

NOINLINE void leak_deeper(void)
{
	for (int i = 0; i < 4; i++)
		hold(deeper_alloc(2222));
}

NOINLINE void churn(void)
{
	for (int i = 0; i < 1000; i++)
		hl_free(hl_malloc(100 + i % 50));
}

int main(void)
{
	volatile int lost = 0;

	wait_for_go();
	if (setjmp(oom_jump))
		lost++;
	if (lost < 5)
		lose_return();
	churn();
	leak_after();
	leak_deeper();
	churn();
	printf("lost %d\n", lost);
	done_and_wait();
	return 0;
}
