// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The unwinding benchmark's workload. Usage: uwbench OPS. Built twice (Makefile): with frame
 * pointers (uwbench-fp) and without (uwbench-nofp), each with its library built the same way.
 * Prints "ready PID", waits for SIGUSR1, then runs OPS malloc+free pairs 10 frames deep
 * (main -> uwb_op -> d1..d8 -> uwb_lib_op in libuwbench-*.so -> malloc) and prints
 * "cpu_ns_per_op N" (thread CPU time per op), "done", and waits for SIGUSR1 or SIGTERM.
 */
#include <stdint.h>
#include <time.h>
#include "../../progs/progs.h"

void uwb_lib_op(unsigned long i);

volatile unsigned long uwb_depth;

#define LEVEL(name, next)                   \
	NOINLINE void name(unsigned long i) \
	{                                   \
		next(i);                    \
		uwb_depth++;                \
	}

LEVEL(d8, uwb_lib_op)
LEVEL(d7, d8)
LEVEL(d6, d7)
LEVEL(d5, d6)
LEVEL(d4, d5)
LEVEL(d3, d4)
LEVEL(d2, d3)
LEVEL(d1, d2)
LEVEL(uwb_op, d1)

int main(int argc, char **argv)
{
	unsigned long ops = argc > 1 ? strtoul(argv[1], NULL, 0) : 200000, i;
	struct timespec a, b;

	wait_for_go();
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (i = 0; i < ops; i++)
		uwb_op(i);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	printf("cpu_ns_per_op %.1f\n",
	       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)ops);
	done_and_wait();
	return 0;
}
