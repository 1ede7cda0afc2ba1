// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A steady leak beside a larger cache. leak_slowly() keeps 64 bytes every 100 ms; the cache
 * fills 256 x 4 KiB (1 MiB) at once, then churns at constant size (evict, refill) every 5 ms.
 * With --baseline, warm_up()'s 10 x 1000 B, allocated at once, are hidden; leak_slowly's are not.
 */
#include <time.h>
#include "progs.h"

#define CACHE_SLOTS 256

static void *cache[CACHE_SLOTS];

NOINLINE void warm_up(void)
{
	for (int i = 0; i < 10; i++)
		hold(malloc(1000));
}

NOINLINE void cache_fill(unsigned int slot)
{
	free(cache[slot]);
	cache[slot] = malloc(4096);
}

NOINLINE void leak_slowly(void)
{
	hold(malloc(64));
}

int main(void)
{
	struct timespec ts = {0, 5 * 1000 * 1000};
	unsigned int i;

	wait_for_go();
	warm_up();
	for (i = 0; i < CACHE_SLOTS; i++)
		cache_fill(i);
	printf("done\n");
	fflush(stdout);
	for (i = 0;; i++) {
		cache_fill((i * 7919) % CACHE_SLOTS);
		if (i % 20 == 0)
			leak_slowly();
		nanosleep(&ts, NULL);
	}
	return 0;
}
