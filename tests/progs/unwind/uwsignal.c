// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for a signal frame, built -O2 without frame pointers: main -> interrupted ->
 * raise(SIGUSR2); the handler on_signal -> sig_alloc -> malloc, 3 x 72 B outstanding. The
 * stack goes through __restore_rt back into the interrupted code.
 */
#include <signal.h>
#include "../progs.h"

NOINLINE void *sig_alloc(size_t n)
{
	void *p = malloc(n);

	hold(p);
	return p;
}

static void on_signal(int sig)
{
	hold(sig_alloc(72 + (sig & 0)));
}

NOINLINE int interrupted(int i)
{
	int r = raise(SIGUSR2);

	hold(&keep[i]);
	return r;
}

int main(void)
{
	int i;

	signal(SIGUSR2, on_signal);
	wait_for_go();
	for (i = 0; i < 3; i++)
		if (interrupted(i))
			return 1;
	done_and_wait();
	return 0;
}
