// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for holds (a launched command stopped at exit(), and at exec with -f).
 *   holdtree exit    exit_leak 3 x 1000 = 3000, then exit(): prints "exiting PID" first
 *   holdtree tree N  N times: fork; the child execs "holdtree leaf", which leaks 1000 in
 *                    leaf_leak, forks a grandchild that exits at once, and exits; the parent
 *                    waits for it. Prints "tree done" at the end.
 * Without PROGS_NO_WAIT, "exit" waits for SIGUSR1 before leaking.
 */
#include <string.h>
#include <sys/wait.h>
#include "progs.h"

NOINLINE void exit_leak(void)
{
	for (int i = 0; i < 3; i++)
		hold(malloc(1000));
}

NOINLINE void leaf_leak(void)
{
	hold(malloc(1000));
}

static int leaf(void)
{
	pid_t pid;

	leaf_leak();
	pid = fork();
	if (pid == 0)
		exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	exit(0);
}

static int tree(const char *self, int n)
{
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			execl(self, "holdtree", "leaf", (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, NULL, 0) < 0)
			return 1;
	}
	printf("tree done\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "leaf"))
		return leaf();
	if (argc > 2 && !strcmp(argv[1], "tree"))
		return tree("/proc/self/exe", atoi(argv[2]));
	wait_for_go();
	exit_leak();
	printf("exiting %d\n", getpid());
	fflush(stdout);
	exit(0);
}
