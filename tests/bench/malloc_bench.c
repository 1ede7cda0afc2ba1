// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The overhead benchmark's workload. Usage: malloc_bench OPS THREADS [LEAK_BLOCKS]
 *
 * Prints "ready PID", waits for SIGUSR1 (unless PROGS_NO_WAIT is set), then each thread runs
 * OPS / THREADS ops: one malloc (even ops) or calloc (odd ops) of 16..527 bytes, on every 8th
 * op a realloc of that block to 1024..1323 bytes, then its free. Then leak_known() leaks
 * LEAK_BLOCKS blocks of 8..120 KiB whose total it prints. Output, one "key value" a line:
 *   cpu_ns_per_op   thread CPU time (user + kernel, so uprobe handling counts) per op
 *   wall_ns_per_op  wall time of the timed loop x threads / ops
 *   leaked_bytes    what leak_known() leaked, to the byte
 *   leak_var        sum over leaked blocks of s^2 (1 - p) / p for --sample-bytes 524288
 * then "done", and waits (holding the leak) until SIGUSR1 or SIGTERM.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include "../progs/progs.h"

#define LEAK_SAMPLE_BYTES 524288.0

struct worker {
	pthread_t th;
	unsigned long ops;
	uint64_t cpu_ns;
};

static uint64_t ns_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

NOINLINE void bench_op(unsigned long i)
{
	size_t n = 16 + (i * 7 % 512);
	char *p = (i & 1) ? calloc(1, n) : malloc(n);

	if (i % 8 == 0)
		p = realloc(p, 1024 + i % 300);
	((char *volatile)p)[0] = 1;
	free(p);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t t0 = ns_of(CLOCK_THREAD_CPUTIME_ID);

	for (unsigned long i = 0; i < w->ops; i++)
		bench_op(i);
	w->cpu_ns = ns_of(CLOCK_THREAD_CPUTIME_ID) - t0;
	return NULL;
}

NOINLINE uint64_t leak_known(unsigned long blocks, double *var)
{
	uint64_t total = 0;

	*var = 0;
	for (unsigned long i = 0; i < blocks; i++) {
		size_t s = (8 + i % 113) << 10;
		double p = 1 - exp(-(double)s / LEAK_SAMPLE_BYTES);

		hold(malloc(s));
		total += s;
		*var += (double)s * s * (1 - p) / p;
	}
	return total;
}

int main(int argc, char **argv)
{
	unsigned long ops = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000000;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	unsigned long leak = argc > 3 ? strtoul(argv[3], NULL, 0) : 0;
	struct worker w[64];
	uint64_t t0, wall, cpu = 0, leaked;
	double var;
	int i;

	if (threads < 1 || threads > 64)
		return 2;
	wait_for_go();
	t0 = ns_of(CLOCK_MONOTONIC);
	for (i = 0; i < threads; i++) {
		w[i].ops = ops / threads;
		pthread_create(&w[i].th, NULL, worker_main, &w[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(w[i].th, NULL);
		cpu += w[i].cpu_ns;
	}
	wall = ns_of(CLOCK_MONOTONIC) - t0;
	leaked = leak_known(leak, &var);
	printf("cpu_ns_per_op %.1f\n", (double)cpu / (ops / threads * threads));
	printf("wall_ns_per_op %.1f\n", (double)wall * threads / (ops / threads * threads));
	printf("wall_s %.3f\n", wall / 1e9);
	printf("leaked_bytes %llu\n", (unsigned long long)leaked);
	printf("leak_sd_bytes %.0f\n", sqrt(var));
	done_and_wait();
	return 0;
}
