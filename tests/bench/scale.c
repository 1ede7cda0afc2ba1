// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * make bench, scale: N outstanding allocations from 1000 stacks in the tracker, then the time
 * to build and print a report over them (median of 5) and the tracker's memory per allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "history.h"
#include "report.h"
#include "stacks.h"
#include "tracker.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* No symbols here: every frame stays an address, as for a binary without them. */
static int resolve_addr(void *ctx, uint64_t addr, struct sym_frame *out, int max)
{
	(void)ctx;
	(void)max;
	out[0] = (struct sym_frame){.addr = addr};
	return 1;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000000, i;
	struct report_filter f = {.max_size = UINT64_MAX};
	struct report_opts ro = {0};
	struct resolver res = {.resolve = resolve_addr};
	struct history *h = history__new();
	struct tracker *tr = tracker__new(0);
	struct stacks *st = stacks__new();
	uint64_t frames[8], t[5], t_ins;
	FILE *null = fopen("/dev/null", "w");
	int r;

	if (!tr || !st || !null || !h)
		return 1;
	for (i = 0; i < 1000; i++) {
		for (r = 0; r < 8; r++)
			frames[r] = 0x400000 + i * 64 + r;
		stacks__intern(st, frames, 8, LT_K_MALLOC);
	}
	t_ins = mono_ns();
	for (i = 0; i < n; i++)
		if (tracker__alloc(tr, 0x7f0000000000ULL + i * 48, 16 + i % 512, i, 1 + i % 1000))
			return 1;
	t_ins = mono_ns() - t_ins;
	for (r = 0; r < 5; r++) {
		struct report rep = {.comm = "scale", .top = 10};

		/* what main.c does at every interval: build, history, rank, resolve, print */
		t[r] = mono_ns();
		if (report__build(&rep, tr, st, &f, 1000 * (r + 1)) ||
		    history__apply(h, &rep, st, &res))
			return 1;
		report__rank(&rep, 0);
		if (report__resolve(&rep, st, &res, rep.top) || report__text(&rep, null, &ro))
			return 1;
		t[r] = mono_ns() - t[r];
		report__free(&rep);
	}
	qsort(t, 5, sizeof(t[0]), cmp_u64);
	printf("scale: %lu outstanding allocations from 1000 stacks: report built and printed in "
	       "%.1f ms (median of 5); tracker memory %.1f B per allocation (%zu B table + %zu B "
	       "stacks); insert %.0f ns each\n",
	       n, t[2] / 1e6, (double)(tracker__mem(tr) + stacks__mem(st)) / n, tracker__mem(tr),
	       stacks__mem(st), (double)t_ins / n);
	tracker__free_all(tr);
	stacks__free(st);
	history__free(h);
	fclose(null);
	return 0;
}
