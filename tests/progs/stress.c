// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * stress THREADS SECONDS: every thread mallocs, callocs, reallocs and frees at full speed for
 * SECONDS, frees everything, then leaks exactly 100 x 48 bytes from stress_leak (so THREADS x
 * 4800 bytes in all). Prints "calls N" (allocator calls made), then "done".
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include "progs.h"

#define MAX_THREADS  16
#define WINDOW	     64
#define STRESS_LEAKS 100
#define STRESS_SIZE  48

static double seconds;
static uint64_t calls[MAX_THREADS];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

NOINLINE static void *churn_alloc(unsigned int r)
{
	size_t size = 16 + r % 4096;

	return r & 1 ? malloc(size) : calloc(1, size);
}

NOINLINE static void *churn_realloc(void *p, unsigned int r)
{
	void *q = realloc(p, 16 + r % 8192);

	return q ? q : p;
}

NOINLINE static void stress_leak(void)
{
	for (int i = 0; i < STRESS_LEAKS; i++)
		hold(malloc(STRESS_SIZE));
}

static void *worker(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	unsigned int seed = id * 7919 + 1, r;
	void *win[WINDOW] = {};
	double end = now() + seconds;
	uint64_t n = 0;
	int i, iter = 0;

	while ((iter++ & 255) || now() < end) {
		r = rand_r(&seed);
		i = r % WINDOW;
		if (!win[i]) {
			win[i] = churn_alloc(r >> 8);
			n++;
		} else if (r & 0x100000) {
			win[i] = churn_realloc(win[i], r >> 8);
			n++;
		} else {
			free(win[i]);
			win[i] = NULL;
			n++;
		}
	}
	for (i = 0; i < WINDOW; i++) {
		if (win[i]) {
			free(win[i]);
			n++;
		}
	}
	stress_leak();
	calls[id] = n + STRESS_LEAKS;
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t tids[MAX_THREADS];
	uint64_t total = 0;
	int i;

	seconds = argc > 2 ? atof(argv[2]) : 10;
	if (threads < 1 || threads > MAX_THREADS)
		return 2;
	wait_for_go();
	for (i = 0; i < threads; i++)
		pthread_create(&tids[i], NULL, worker, (void *)(uintptr_t)i);
	for (i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	for (i = 0; i < threads; i++)
		total += calls[i];
	printf("calls %llu\n", (unsigned long long)total);
	done_and_wait();
	return 0;
}
