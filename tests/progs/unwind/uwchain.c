// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for CFI unwinding, built -O2 without frame pointers (see the Makefile): in a
 * thread, worker -> chain_a -> chain_b -> chain_c -> uw_lib_alloc (libuwlib.so, no frame
 * pointers either) -> uw_lib_inner -> malloc, 5 x 96 B outstanding. Each call's result is used
 * after it returns, so no call is a tail call and every function keeps its frame.
 */
#include <pthread.h>
#include <string.h>
#include "../progs.h"

void *uw_lib_alloc(size_t n);

NOINLINE void *chain_c(size_t n)
{
	char pad[40];
	void *p;

	memset(pad, (int)n, sizeof(pad));
	p = uw_lib_alloc(n);
	hold(p);
	return pad[(n & 31) + 1] ? p : NULL;
}

NOINLINE void *chain_b(size_t n)
{
	void *p = chain_c(n);

	hold(p);
	return p;
}

NOINLINE void *chain_a(size_t n)
{
	void *p = chain_b(n);

	hold(p);
	return p;
}

static void *worker(void *arg)
{
	int i;

	for (i = 0; i < 5; i++)
		hold(chain_a(96));
	return arg;
}

int main(void)
{
	pthread_t t;

	wait_for_go();
	if (pthread_create(&t, NULL, worker, NULL) || pthread_join(t, NULL))
		return 1;
	done_and_wait();
	return 0;
}
