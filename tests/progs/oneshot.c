// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * glibc's one-time allocations beside real leaks. Outstanding after "done":
 *   leak_user          5 x 100 B = 500
 *   leak_third_party   3 x 200 B = 600  (what a --suppress file names)
 *   getpwuid's NSS buffers and setlocale's names: glibc keeps them, suppressed by default
 * churn_temporary allocates and frees 1000 x 64 B at once (temporary allocations);
 * free_late frees its 10 x 32 B 1.2 s after allocating them (not temporary).
 */
#include <locale.h>
#include <pwd.h>
#include <unistd.h>
#include "progs.h"

NOINLINE void leak_user(void)
{
	for (int i = 0; i < 5; i++)
		hold(malloc(100));
}

NOINLINE void leak_third_party(void)
{
	for (int i = 0; i < 3; i++)
		hold(malloc(200));
}

NOINLINE void churn_temporary(void)
{
	for (int i = 0; i < 1000; i++) {
		void *volatile p = malloc(64); /* volatile: the pair is not elided */

		free(p);
	}
}

NOINLINE void free_late(void)
{
	void *p[10];

	for (int i = 0; i < 10; i++)
		p[i] = malloc(32);
	usleep(1200 * 1000);
	for (int i = 0; i < 10; i++)
		free(p[i]);
}

int main(void)
{
	wait_for_go();
	setlocale(LC_ALL, "C.UTF-8");
	if (!getpwuid(0))
		return 1;
	leak_user();
	leak_third_party();
	churn_temporary();
	free_late();
	done_and_wait();
	return 0;
}
