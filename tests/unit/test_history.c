// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Verdicts from per-stack history, and medians from the report build. */
#include <stdlib.h>
#include <string.h>
#include "history.h"
#include "options.h"
#include "report.h"
#include "stacks.h"
#include "tracker.h"
#include "unit.h"

/* Feed one stack's bytes over successive 1 s reports; return the last verdict. */
static enum verdict run(const uint64_t *bytes, int n, uint64_t frees, uint32_t oldest_ms,
			double *rate)
{
	struct history *h = history__new();
	struct report_stack rs;
	struct report r;
	enum verdict v = VERDICT_MAX;

	for (int i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		memset(&rs, 0, sizeof(rs));
		rs.stack_id = 1;
		rs.bytes = bytes[i];
		rs.frees = frees;
		rs.oldest_ms = oldest_ms;
		r.stacks = &rs;
		r.nr_stacks = bytes[i] ? 1 : 0;
		r.now_ms = 1000 * (i + 1);
		history__apply(h, &r, NULL, NULL);
		if (r.nr_stacks)
			v = rs.verdict;
		if (rate)
			*rate = rs.rate;
	}
	history__free(h);
	return v;
}

int main(void)
{
	const uint64_t leak[] = {100, 200, 300, 400, 500, 600};
	const uint64_t flat[] = {1000, 1000, 1010, 995, 1000, 1000};
	const uint64_t down[] = {900, 700, 500, 300, 200, 100};
	const uint64_t bumpy[] = {100, 900, 100, 900, 100, 900};
	const uint64_t paused[] = {100, 200, 200, 300, 400, 500};
	double rate = 0;

	int named = 0;

	for (int i = 0; i < LT_ST_MAX; i++)
		named += lt_stat_names[i] != NULL;
	CHECK(named == LT_ST_MAX, "every loss counter has a name for the reports");
	for (int i = 0; i < VERDICT_MAX; i++)
		named += verdict_names[i] != NULL;
	CHECK(named == LT_ST_MAX + VERDICT_MAX, "every verdict has a name");
	CHECK(run(leak, 2, 0, 0, NULL) == VERDICT_NEW, "two reports: new");
	CHECK(run(leak, 6, 0, 0, &rate) == VERDICT_LEAK, "steady growth, old kept: leak");
	CHECK(rate > 99 && rate < 101, "rate 100 B/s: %.1f", rate);
	CHECK(run(leak, 6, 3, 5500, NULL) == VERDICT_GROWING,
	      "steady growth whose old allocations were freed: growing");
	CHECK(run(flat, 6, 50, 0, NULL) == VERDICT_CACHE, "flat with churn: cache");
	CHECK(run(flat, 6, 0, 0, NULL) == VERDICT_STABLE, "flat without frees: stable");
	CHECK(run(down, 6, 10, 0, NULL) == VERDICT_SHRINKING, "falling: shrinking");
	CHECK(run(bumpy, 6, 10, 0, NULL) == VERDICT_VARYING, "up and down: varying");
	CHECK(run(paused, 6, 0, 0, NULL) == VERDICT_LEAK, "growth with one pause: still a leak");

	/* medians of allocation times, through the report build */
	struct tracker *tr = tracker__new(0);
	struct stacks *st = stacks__new();
	uint64_t f[1] = {0x401000};
	int64_t id = stacks__intern(st, f, 1, 0);
	struct report_filter flt = {.max_size = UINT64_MAX, .sort = SORT_SIZE};
	struct report r = {};
	const uint32_t times[] = {900, 100, 500, 700, 300};

	for (int i = 0; i < 5; i++)
		tracker__alloc(tr, 0x1000 * (i + 1), 8, times[i] * 1000000ULL, id);
	report__build(&r, tr, st, &flt, 1000);
	CHECK(r.nr_stacks == 1 && r.stacks[0].median_ms == 500 && r.stacks[0].oldest_ms == 100,
	      "median 500 ms, oldest 100 ms: %u, %u", r.stacks[0].median_ms, r.stacks[0].oldest_ms);
	report__free(&r);
	for (int i = 0; i < 20000; i++)
		tracker__alloc(tr, 0x100000 + 16 * i, 8, (uint64_t)(rand() % 1000) * 1000000ULL,
			       id);
	memset(&r, 0, sizeof(r));
	report__build(&r, tr, st, &flt, 1000);
	CHECK(r.stacks[0].median_ms >= 450 && r.stacks[0].median_ms <= 550,
	      "median of 20k uniform times near 500: %u", r.stacks[0].median_ms);
	report__free(&r);
	stacks__free(st);
	tracker__free_all(tr);
	return unit_summary();
}
