// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "options.h"
#include "report.h"
#include "stacks.h"

const char *const lt_kind_names[LT_K_MAX] = {
	[LT_K_MALLOC] = "malloc",
	[LT_K_CALLOC] = "calloc",
	[LT_K_REALLOC] = "realloc",
	[LT_K_MEMALIGN] = "memalign",
	[LT_K_POSIX_MEMALIGN] = "posix_memalign",
	[LT_K_VALLOC] = "valloc",
	[LT_K_NEW] = "new",
	[LT_K_MMAP] = "mmap",
	[LT_K_MREMAP] = "mremap",
	[LT_K_FREE] = "free",
	[LT_K_DELETE] = "delete",
	[LT_K_KMALLOC] = "kmalloc",
	[LT_K_SLAB] = "slab",
	[LT_K_PAGE] = "page",
	[LT_K_PERCPU] = "percpu",
};

struct build_ctx {
	struct report_stack *by_id;
	const struct report_filter *f;
	uint64_t now_ms;
};

static void add_rec(const struct alloc_rec *rec, bool is_map, void *data)
{
	struct build_ctx *c = data;
	struct report_stack *rs = &c->by_id[rec->stack_id];
	uint64_t s = c->f->sample_bytes;
	double w;

	(void)is_map;
	if (rec->size < c->f->min_size || rec->size > c->f->max_size)
		return;
	if (c->f->older_ms && c->now_ms - rec->ts_ms < c->f->older_ms)
		return;
	if (!rs->samples || rec->ts_ms < rs->oldest_ms)
		rs->oldest_ms = rec->ts_ms;
	rs->samples++;
	/* a record sampled with probability p stands for 1 / p allocations of its size */
	w = (double)LT_SAMPLE_ONE / lt_sample_p32(rec->size, s);
	rs->bytes += (uint64_t)(rec->size * w + 0.5);
	rs->count += w;
}

static int cmp_stacks(const void *a, const void *b, void *key)
{
	const struct report_stack *x = a, *y = b;

	switch (*(int *)key) {
	case SORT_COUNT:
		if (x->count != y->count)
			return x->count < y->count ? 1 : -1;
		break;
	case SORT_AGE:
		if (x->oldest_ms != y->oldest_ms)
			return x->oldest_ms > y->oldest_ms ? 1 : -1;
		break;
	default:
		break;
	}
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->stack_id > y->stack_id ? 1 : -1;
}

int report__build(struct report *r, const struct tracker *tr, const struct stacks *st,
		  const struct report_filter *f, uint64_t now_ms)
{
	uint32_t n = stacks__count(st), i, k = 0;
	struct build_ctx c = {.f = f, .now_ms = now_ms};

	r->now_ms = now_ms;
	r->sample_bytes = f->sample_bytes;
	r->tstats = *tracker__stats(tr);
	c.by_id = calloc(n, sizeof(*c.by_id));
	if (!c.by_id)
		return -ENOMEM;
	tracker__for_each(tr, add_rec, &c);
	for (i = 0; i < n; i++) {
		if (!c.by_id[i].samples)
			continue;
		c.by_id[i].stack_id = i;
		c.by_id[i].kind = stacks__get(st, i)->kind;
		r->total_bytes += c.by_id[i].bytes;
		r->total_count += c.by_id[i].count;
		c.by_id[k++] = c.by_id[i];
	}
	qsort_r(c.by_id, k, sizeof(*c.by_id), cmp_stacks, (void *)&f->sort);
	r->stacks = c.by_id;
	r->nr_stacks = k;
	return 0;
}

void report__free(struct report *r)
{
	free(r->stacks);
	r->stacks = NULL;
	r->nr_stacks = 0;
}
