// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel benchmark's workload. Usage: kernel_bench pipes|mixed OPS [PROCS]
 *
 * Prints "ready PID", waits for SIGUSR1, then runs OPS ops and exits after printing:
 *   pipes  one process: pipe2 + two close per op (kmalloc, slab caches, no page)
 *   mixed  PROCS processes (this one and PROCS - 1 children) share OPS ops; an op is a pipe
 *          with one page written through it, an eventfd and a socketpair, all closed (kmalloc,
 *          several slab caches and pages, from processes other than PID too)
 * Output, one "key value" a line: cpu_ns_per_op (user + system time of every process, so the
 * tracepoints' cost counts), wall_ns_per_op, wall_s; then "done".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "../progs/progs.h"

static uint64_t ns_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t tv_ns(struct timeval tv)
{
	return tv.tv_sec * 1000000000ULL + tv.tv_usec * 1000ULL;
}

NOINLINE void pipe_op(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return;
	close(p[0]);
	close(p[1]);
}

NOINLINE void mixed_op(void)
{
	static char page[4096];
	int p[2], s[2], e;

	if (!pipe2(p, O_CLOEXEC)) {
		if (write(p[1], page, sizeof(page)) < 0)
			page[0] = 1;
		close(p[0]);
		close(p[1]);
	}
	e = eventfd(0, EFD_CLOEXEC);
	if (e >= 0)
		close(e);
	if (!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s)) {
		close(s[0]);
		close(s[1]);
	}
}

int main(int argc, char **argv)
{
	unsigned long ops = argc > 2 ? strtoul(argv[2], NULL, 0) : 0, i, share;
	int procs = argc > 3 ? atoi(argv[3]) : 1, k;
	bool mixed = argc > 1 && !strcmp(argv[1], "mixed");
	struct rusage ru;
	uint64_t t0, wall, cpu;

	if (argc < 3 || (!mixed && strcmp(argv[1], "pipes")) || !ops || procs < 1 || procs > 64) {
		fprintf(stderr, "usage: kernel_bench pipes|mixed OPS [PROCS <= 64]\n");
		return 2;
	}
	if (!mixed)
		procs = 1;
	wait_for_go();
	share = ops / procs;
	t0 = ns_of(CLOCK_MONOTONIC);
	for (k = 1; k < procs; k++) {
		if (fork() == 0) {
			/* killing the benchmark (a test's churn) ends its workers too */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (i = 0; i < share; i++)
				mixed_op();
			_exit(0);
		}
	}
	for (i = 0; i < share; i++)
		mixed ? mixed_op() : pipe_op();
	while (wait(NULL) > 0)
		;
	wall = ns_of(CLOCK_MONOTONIC) - t0;
	getrusage(RUSAGE_SELF, &ru);
	cpu = tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
	getrusage(RUSAGE_CHILDREN, &ru);
	cpu += tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
	printf("cpu_ns_per_op %.1f\n", (double)cpu / (share * procs));
	printf("wall_ns_per_op %.1f\n", (double)wall / (share * procs));
	printf("wall_s %.3f\n", wall / 1e9);
	printf("done\n");
	return 0;
}
