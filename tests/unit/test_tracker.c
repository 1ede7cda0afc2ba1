// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The tracker and stack interning: realloc/free/mmap rules and the report built on them. */
#include <stdlib.h>
#include <string.h>
#include "options.h"
#include "report.h"
#include "stacks.h"
#include "tracker.h"
#include "unit.h"

#define MS 1000000ULL

static uint64_t stack_bytes(const struct report *r, uint32_t id)
{
	for (uint32_t i = 0; i < r->nr_stacks; i++)
		if (r->stacks[i].stack_id == id)
			return r->stacks[i].bytes;
	return 0;
}

static void test_alloc_free(void)
{
	struct tracker *tr = tracker__new(0);
	const struct tracker_stats *st = tracker__stats(tr);

	tracker__reset(tr); /* before any free: nothing to clear yet (UBSan: no memset(NULL)) */
	tracker__alloc(tr, 0x1000, 100, 1 * MS, 1);
	tracker__alloc(tr, 0x2000, 200, 2 * MS, 1);
	CHECK(tracker__outstanding(tr) == 2, "two allocations outstanding");
	CHECK(tracker__free(tr, 0x1000), "free of an outstanding pointer matches");
	CHECK(!tracker__free(tr, 0x1000), "second free of it is unknown");
	CHECK(!tracker__free(tr, 0x9000), "free of a pointer from before tracing is unknown");
	CHECK(st->unknown_frees == 2, "unknown frees counted: %llu",
	      (unsigned long long)st->unknown_frees);
	tracker__alloc(tr, 0x2000, 300, 3 * MS, 2);
	CHECK(st->missed_frees == 1, "allocation at an outstanding address counts a missed free");
	CHECK(tracker__outstanding(tr) == 1, "and replaces it");
	tracker__free_all(tr);
}

static void test_many_and_deletion_chains(void)
{
	struct tracker *tr = tracker__new(0);
	uint64_t i, bad = 0;

	for (i = 1; i <= 200000; i++)
		tracker__alloc(tr, i * 16, i, 0, 1);
	for (i = 1; i <= 200000; i += 2)
		if (!tracker__free(tr, i * 16))
			bad++;
	CHECK(bad == 0, "100k frees found after growth");
	CHECK(tracker__outstanding(tr) == 100000, "100k left: %zu", tracker__outstanding(tr));
	for (i = 2; i <= 200000; i += 2)
		if (!tracker__free(tr, i * 16))
			bad++;
	CHECK(bad == 0 && tracker__outstanding(tr) == 0, "every record found after deletions");
	CHECK(tracker__mem(tr) / 200000 <= 64, "memory per allocation at peak: %zu B",
	      tracker__mem(tr) / 200000);
	tracker__free_all(tr);
}

static void test_regions(void)
{
	struct tracker *tr = tracker__new(0);
	uint64_t rel;

	tracker__map(tr, 0x10000, 0x30000, 0, 1);
	rel = tracker__unmap(tr, 0x10000, 0x10000);
	CHECK(rel == 0x10000, "head unmap releases 64 KiB: %llx", (unsigned long long)rel);
	rel = tracker__unmap(tr, 0x30000, 0x10000);
	CHECK(rel == 0x10000, "tail unmap releases 64 KiB");
	CHECK(tracker__outstanding(tr) == 1, "middle remains");
	tracker__map(tr, 0x100000, 0x30000, 0, 2);
	rel = tracker__unmap(tr, 0x110000, 0x1000);
	CHECK(rel == 0x1000, "a hole splits a region");
	CHECK(tracker__outstanding(tr) == 3, "into two: %zu", tracker__outstanding(tr));
	rel = tracker__unmap(tr, 0x100000, 0x30000);
	CHECK(rel == 0x2f000, "unmapping the whole range releases both parts");
	rel = tracker__unmap(tr, 0x900000, 0x1000);
	CHECK(rel == 0 && tracker__stats(tr)->untracked_unmaps == 1, "untracked unmap counted");
	tracker__map(tr, 0x200000, 0x2000, 0, 3);
	tracker__remap(tr, 0x200000, 0x2000, 0x400000, 0x8000);
	CHECK(tracker__unmap(tr, 0x400000, 0x8000) == 0x8000, "mremap moves and grows a region");
	tracker__remap(tr, 0x700000, 0x1000, 0x800000, 0x4000);
	CHECK(tracker__unmap(tr, 0x800000, 0x4000) == 0, "mremap of an untracked range stays out");
	tracker__free_all(tr);
}

static void test_stacks(void)
{
	struct stacks *s = stacks__new();
	uint64_t a[3] = {1, 2, 3}, b[3] = {1, 2, 4}, c[2] = {1, 2};
	int64_t ia, ib, ic, ia2;
	int i, bad = 0;

	ia = stacks__intern(s, a, 3, 0);
	ib = stacks__intern(s, b, 3, 0);
	ic = stacks__intern(s, c, 2, 0);
	ia2 = stacks__intern(s, a, 3, 0);
	CHECK(ia > 0 && ib > 0 && ic > 0, "stacks get ids");
	CHECK(ia == ia2 && ia != ib && ia != ic && ib != ic,
	      "equal frames share an id, others not");
	CHECK(stacks__intern(s, a, 0, 0) == STACK_NONE, "an empty stack is 'not captured'");
	for (i = 0; i < 50000; i++) {
		uint64_t f[2] = {(uint64_t)i, 7};

		if (stacks__intern(s, f, 2, 0) != stacks__intern(s, f, 2, 0))
			bad++;
	}
	CHECK(bad == 0 && stacks__count(s) == 50000 + 4, "50k stacks interned: %u",
	      stacks__count(s));
	CHECK(stacks__get(s, ia)->frames[2] == 3, "frames kept");
	stacks__free(s);
}

static void test_report(void)
{
	struct tracker *tr = tracker__new(0);
	struct stacks *s = stacks__new();
	uint64_t f1[1] = {0x401000}, f2[1] = {0x402000};
	int64_t s1 = stacks__intern(s, f1, 1, 0), s2 = stacks__intern(s, f2, 1, 0);
	struct report_filter f = {.max_size = UINT64_MAX, .sort = SORT_SIZE};
	struct report r = {};

	tracker__alloc(tr, 0x1000, 10, 0, s1);
	tracker__alloc(tr, 0x2000, 10, 0, s1);
	tracker__alloc(tr, 0x3000, 500, 5000 * MS, s2);
	report__build(&r, tr, s, &f, 6000);
	CHECK(r.total_bytes == 520 && r.nr_stacks == 2, "totals: %llu bytes in %u stacks",
	      (unsigned long long)r.total_bytes, r.nr_stacks);
	CHECK(r.stacks[0].stack_id == s2, "ranked by size");
	report__free(&r);

	memset(&r, 0, sizeof(r));
	f.sort = SORT_COUNT;
	report__build(&r, tr, s, &f, 6000);
	CHECK(r.stacks[0].stack_id == s1 && r.stacks[0].count == 2, "ranked by count");
	report__free(&r);

	memset(&r, 0, sizeof(r));
	f.sort = SORT_SIZE;
	f.older_ms = 2000;
	report__build(&r, tr, s, &f, 6000);
	CHECK(stack_bytes(&r, s2) == 0 && stack_bytes(&r, s1) == 20, "--older drops young ones");
	report__free(&r);

	memset(&r, 0, sizeof(r));
	f.older_ms = 0;
	f.min_size = 100;
	report__build(&r, tr, s, &f, 6000);
	CHECK(r.total_bytes == 500, "--min-size");
	report__free(&r);

	memset(&r, 0, sizeof(r));
	f.min_size = 0;
	f.sample_bytes = 100;
	report__build(&r, tr, s, &f, 6000);
	/* weight 1 / (1 - exp(-s / 100)): 10 B -> 10.508, 500 B -> 1.0068 */
	CHECK(stack_bytes(&r, s1) == 210 && stack_bytes(&r, s2) == 503,
	      "sampled records scale by the inverse of their Poisson probability");
	CHECK(r.stacks[0].count > 1.0068 - 1e-3 && r.stacks[0].count < 1.0068 + 1e-3 &&
		      r.stacks[1].count > 21.016 - 1e-2 && r.stacks[1].count < 21.016 + 1e-2,
	      "sampled counts scale alike");
	report__free(&r);
	stacks__free(s);
	tracker__free_all(tr);
}

int main(void)
{
	test_alloc_free();
	test_many_and_deletion_chains();
	test_regions();
	test_stacks();
	test_report();
	return unit_summary();
}
