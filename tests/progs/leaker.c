// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for the tracer. Outstanding after "done":
 *   leak_malloc          10 x 1000 B  = 10000
 *   leak_calloc           5 x 10*100  = 5000
 *   leak_big              2 x 1 MiB   = 2097152 (mmap-backed malloc)
 *   leak_realloc          3 x 4000    = 12000 (charged to the last realloc)
 *   leak_posix_memalign   4 x 512     = 2048
 *   leak_aligned_alloc    4 x 256     = 1024
 *   leak_mmap             3 x 64 KiB  = 196608 (anonymous mmap)
 *   thread_leak           4 threads x 7 x 333 = 9324
 * Everything else (churn_*, no_leak_*) is freed.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "progs.h"

#define THREADS 4
#define CHURN	20000

NOINLINE void leak_malloc(void)
{
	for (int i = 0; i < 10; i++)
		hold(malloc(1000));
}

NOINLINE void leak_calloc(void)
{
	for (int i = 0; i < 5; i++)
		hold(calloc(10, 100));
}

NOINLINE void leak_big(void)
{
	for (int i = 0; i < 2; i++)
		hold(malloc(1 << 20));
}

NOINLINE void *grow(void *p, size_t n)
{
	void *q = realloc(p, n);

	return q;
}

NOINLINE void leak_realloc(void)
{
	for (int i = 0; i < 3; i++) {
		void *p = malloc(100);

		p = realloc(p, 200);
		p = realloc(p, 4000);
		hold(p);
	}
}

NOINLINE void leak_posix_memalign(void)
{
	for (int i = 0; i < 4; i++) {
		void *p = NULL;

		if (posix_memalign(&p, 64, 512) == 0)
			hold(p);
	}
}

NOINLINE void leak_aligned_alloc(void)
{
	for (int i = 0; i < 4; i++)
		hold(aligned_alloc(64, 256));
}

NOINLINE void leak_mmap(void)
{
	for (int i = 0; i < 3; i++) {
		void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);

		if (p != MAP_FAILED)
			hold(p);
	}
}

NOINLINE void no_leak_mmap(void)
{
	void *p = mmap(NULL, 3 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	/* released in two pieces */
	munmap(p, 1 << 16);
	munmap((char *)p + (1 << 16), 2 << 16);
}

NOINLINE void no_leak_edge_cases(void)
{
	void *p;

	for (int i = 0; i < 1000; i++)
		free(NULL); /* not an event: at most noise in no counter */
	p = malloc(50);
	p = realloc(p, 0); /* glibc: frees, returns NULL */
	free(p);
	p = realloc(NULL, 70); /* a malloc */
	free(p);
	p = malloc((size_t)1 << 62); /* fails: not an allocation */
	free(p);
	p = calloc((size_t)1 << 40, (size_t)1 << 40); /* overflows: fails */
	free(p);
}

NOINLINE void churn_step(unsigned int i)
{
	void *p = malloc(16 + (i % 512));
	void *q = calloc(1, 32 + (i % 100));

	if (i % 8 == 0)
		p = realloc(p, 1024 + i % 300);
	free(q);
	free(p);
}

NOINLINE void thread_leak(void)
{
	for (int i = 0; i < 7; i++)
		hold(malloc(333));
}

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	(void)arg;
	for (unsigned int i = 0; i < CHURN; i++)
		churn_step(i);
	pthread_mutex_lock(&hold_lock);
	thread_leak();
	pthread_mutex_unlock(&hold_lock);
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	wait_for_go();
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	leak_malloc();
	leak_calloc();
	leak_big();
	leak_realloc();
	leak_posix_memalign();
	leak_aligned_alloc();
	leak_mmap();
	no_leak_mmap();
	no_leak_edge_cases();
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	done_and_wait();
	return 0;
}
