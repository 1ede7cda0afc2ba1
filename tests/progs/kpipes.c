// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for leaktrace -k -p: makes the kernel hold objects for this process.
 *   kpipes pipes N     N pipes from make_pipes() (pipe2), held until SIGUSR1, then closed
 *   kpipes eventfds N  N eventfds from make_eventfds(), held, then closed
 *   kpipes churn N     N pipes opened and closed at once in churn_pipes(): nothing held
 * After "done" the program waits for SIGUSR1, closes everything, prints "closed" and waits.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include "progs.h"

static int fds[2 * 4096];
static int nfds;

NOINLINE void make_pipes(int n)
{
	for (int i = 0; i < n; i++)
		if (pipe2(&fds[nfds], O_CLOEXEC) == 0)
			nfds += 2;
}

NOINLINE void make_eventfds(int n)
{
	for (int i = 0; i < n; i++) {
		int fd = eventfd(0, EFD_CLOEXEC);

		if (fd >= 0)
			fds[nfds++] = fd;
	}
}

NOINLINE void churn_pipes(int n)
{
	int p[2];

	for (int i = 0; i < n; i++) {
		if (pipe2(p, O_CLOEXEC))
			continue;
		close(p[0]);
		close(p[1]);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 16;

	if (argc < 2 || n < 1 || n > 4096) {
		fprintf(stderr, "usage: kpipes pipes|eventfds|churn N (N <= 4096)\n");
		return 2;
	}
	wait_for_go();
	if (!strcmp(argv[1], "pipes"))
		make_pipes(n);
	else if (!strcmp(argv[1], "eventfds"))
		make_eventfds(n);
	else
		churn_pipes(n);
	done_and_wait();
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	printf("closed\n");
	fflush(stdout);
	done_and_wait();
	return 0;
}
