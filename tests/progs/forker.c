// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for -f: a parent and the children it forks, each leaking its own.
 *   parent   parent_leak        4 x 500  = 2000
 *            parent_leak_late   777      after its children have exited
 *   child 1  child_leak         6 x 700  = 4200   forked, alive until the parent ends
 *            child_leak_after_grandchild 1234
 *   child 2  exec_child_leak    3 x 3000 = 9000   forks, execs this program again, exits
 *                                                    (with FORKER_EXEC_CHILD_WAITS: at SIGUSR1)
 *   child 3  short_child_leak   5 x 100  = 500    forks and exits at once
 *   grandchild grandchild_leak  2 x 900  = 1800   forked by child 1, exits
 * Children print "child N PID" when their leak is done. The parent frees in each child a
 * block it allocated before forking (an unknown free there, not a leak of the parent's).
 */
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "progs.h"

NOINLINE void parent_leak(void)
{
	for (int i = 0; i < 4; i++)
		hold(malloc(500));
}

/* after its children have exited: the parent's probes must have survived them */
NOINLINE void parent_leak_late(void)
{
	hold(malloc(777));
}

NOINLINE void child_leak(void)
{
	for (int i = 0; i < 6; i++)
		hold(malloc(700));
}

/* after its own child has exited: the child's probes must have survived that */
NOINLINE void child_leak_after_grandchild(void)
{
	hold(malloc(1234));
}

NOINLINE void exec_child_leak(void)
{
	for (int i = 0; i < 3; i++)
		hold(malloc(3000));
}

NOINLINE void short_child_leak(void)
{
	for (int i = 0; i < 5; i++)
		hold(malloc(100));
}

/* Allocated before forking, freed in the children: each child's copy is its own to free. */
static void *volatile inherited;

NOINLINE void grandchild_leak(void)
{
	for (int i = 0; i < 2; i++)
		hold(malloc(900));
}

NOINLINE void churn(void)
{
	for (int i = 0; i < 1000; i++) {
		void *volatile p = malloc(64 + i);

		free(p);
	}
}

/*
 * FORKER_EXEC_CHILD_WAITS: child 2 stays until SIGUSR1 (at most s seconds). With -p nothing is
 * stopped, so a tracer reads an exec'ed image's maps when it gets to the exec: a test waits
 * for it to have, and the child exits only then.
 */
static void wait_usr1(int s)
{
	struct timespec ts = {.tv_sec = s};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigtimedwait(&set, NULL, &ts);
}

static void say(const char *what)
{
	printf("%s %d\n", what, getpid());
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int ready[2];
	pid_t c1, c2, c3;
	char b;

	if (argc > 1 && !strcmp(argv[1], "exec-child")) {
		churn();
		exec_child_leak();
		say("child 2");
		if (getenv("FORKER_EXEC_CHILD_WAITS"))
			wait_usr1(30);
		return 0;
	}
	wait_for_go();
	inherited = malloc(4096);
	if (pipe(ready))
		return 1;
	parent_leak();
	c1 = fork();
	if (c1 == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a test that kills the parent ends it too */
		free(inherited);
		churn();
		child_leak();
		pid_t g = fork();

		if (g == 0) {
			grandchild_leak();
			say("grandchild");
			exit(0);
		}
		waitpid(g, NULL, 0);
		child_leak_after_grandchild();
		say("child 1");
		if (write(ready[1], "1", 1) != 1)
			return 1;
		for (;;)
			pause(); /* until the parent kills it */
	}
	if (read(ready[0], &b, 1) != 1)
		return 1;
	c2 = fork();
	if (c2 == 0) {
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (n > 0) {
			self[n] = '\0';
			execl(self, argv[0], "exec-child", (char *)NULL);
		}
		_exit(127);
	}
	waitpid(c2, NULL, 0);
	c3 = fork();
	if (c3 == 0) {
		free(inherited);
		short_child_leak();
		say("child 3");
		exit(0);
	}
	waitpid(c3, NULL, 0);
	churn();
	parent_leak_late();
	done_and_wait();
	kill(c1, SIGKILL);
	waitpid(c1, NULL, 0);
	return 0;
}
