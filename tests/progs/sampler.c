// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for sampling. Outstanding after "done":
 *   leak_sampled   20000 blocks of 100..1099 B = 11990000 bytes (sizes cycle through 1000)
 * Everything else is freed: churn_sampled (malloc/calloc + free, realloc every 8th) and
 * 100000 free(NULL), which are no events.
 */
#include <stdlib.h>
#include "progs.h"

NOINLINE void leak_sampled(void)
{
	for (int i = 0; i < 20000; i++)
		hold(malloc(100 + i % 1000));
}

NOINLINE void churn_sampled(unsigned int i)
{
	char *p = (i & 1) ? calloc(1, 16 + i % 2000) : malloc(16 + i % 2000);

	if (i % 8 == 0)
		p = realloc(p, 3000 + i % 1000);
	free(p);
}

int main(void)
{
	wait_for_go();
	for (unsigned int i = 0; i < 40000; i++)
		churn_sampled(i);
	for (int i = 0; i < 100000; i++)
		free(NULL);
	leak_sampled();
	done_and_wait();
	return 0;
}
