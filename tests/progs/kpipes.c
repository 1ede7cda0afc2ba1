// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for leaktrace -k -p: makes the kernel hold objects for this process.
 *   kpipes pipes N     N pipes from make_pipes() (pipe2), held until SIGUSR1, then closed
 *   kpipes eventfds N  N eventfds from make_eventfds(), held, then closed
 *   kpipes churn N     N pipes opened and closed at once in churn_pipes(): nothing held
 *   kpipes sockets N   N socketpairs from make_sockets(), held, then closed
 *   kpipes all N       N pipes, N eventfds and N socketpairs, held, then closed
 * After "done" the program waits for SIGUSR1, closes everything, prints "closed" and waits.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include "progs.h"

static int fds[5 * 4096];
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

NOINLINE void make_sockets(int n)
{
	for (int i = 0; i < n; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, &fds[nfds]) == 0)
			nfds += 2;
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
	struct rlimit rl;

	if (argc < 2 || n < 1 || n > 4096) {
		fprintf(stderr, "usage: kpipes pipes|eventfds|churn|sockets|all N (N <= 4096)\n");
		return 2;
	}
	/* "all 4096" holds 5 descriptors per N */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	wait_for_go();
	if (!strcmp(argv[1], "pipes"))
		make_pipes(n);
	else if (!strcmp(argv[1], "eventfds"))
		make_eventfds(n);
	else if (!strcmp(argv[1], "sockets"))
		make_sockets(n);
	else if (!strcmp(argv[1], "all")) {
		make_pipes(n);
		make_eventfds(n);
		make_sockets(n);
	} else
		churn_pipes(n);
	done_and_wait();
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	printf("closed\n");
	fflush(stdout);
	done_and_wait();
	return 0;
}
