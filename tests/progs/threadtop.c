// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for --threads' creating stacks near the top of the main thread's stack: one
 * thread created straight from main, three from make_pool (called by main). Run with a small
 * environment (env -i) main's frame is within 2 KiB of the stack mapping's end, where a fixed
 * scan window is not mapped.
 */
#include <pthread.h>
#include <unistd.h>
#include "progs.h"

static void *idle(void *arg)
{
	pause();
	return arg;
}

NOINLINE void make_pool(int n)
{
	pthread_t t;

	for (int i = 0; i < n; i++)
		pthread_create(&t, NULL, idle, NULL);
}

int main(void)
{
	pthread_t t;

	wait_for_go();
	pthread_create(&t, NULL, idle, NULL);
	make_pool(3);
	done_and_wait();
	return 0;
}
