// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for libc's own functions: files opened and never closed. glibc allocates each
 * FILE inside fopen (__fopen_internal, a static function that only libc6-dbg's debug file,
 * found by build ID, names). Outstanding after "done": 3 FILEs from leak_fopen.
 */
#include "progs.h"

NOINLINE void leak_fopen(void)
{
	for (int i = 0; i < 3; i++)
		hold(fopen("/dev/null", "r"));
}

int main(void)
{
	wait_for_go();
	leak_fopen();
	done_and_wait();
	return 0;
}
