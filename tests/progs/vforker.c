// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * vfork() a child whose exec fails, as posix_spawn() of a missing program does: the child
 * runs in the parent's memory (past the kernel's uprobe filter) and calls _exit() while the
 * parent waits. A tracer that stopped it there would hang both. Leaks 3 x 100 B first.
 */
#include <sys/wait.h>
#include "progs.h"

NOINLINE void leak_before_vfork(void)
{
	for (int i = 0; i < 3; i++)
		hold(malloc(100));
}

int main(void)
{
	int status = 0;
	pid_t pid;

	leak_before_vfork();
	for (int i = 0; i < 3; i++) {
		pid = vfork();
		if (pid == 0) {
			execl("/nonexistent/program", "program", (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || WEXITSTATUS(status) != 127)
			return 1;
	}
	printf("vforked 3\n");
	return 0;
}
