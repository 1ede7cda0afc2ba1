// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Leaks 3 x 1000 bytes, then on SIGUSR1 replaces its image with sleep(1). */
#include <unistd.h>
#include "progs.h"

NOINLINE void leak_before_exec(void)
{
	for (int i = 0; i < 3; i++)
		hold(malloc(1000));
}

int main(void)
{
	wait_for_go();
	leak_before_exec();
	done_and_wait();
	execl("/bin/sleep", "sleep", "30", (char *)NULL);
	return 1;
}
