// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "htab.h"
#include "tracker.h"

/* Mappings are few and unmapped by range, so they live in a plain array, not the hash. */
struct region {
	uint64_t start;
	uint64_t len;
	uint32_t ts_ms;
	uint32_t stack_id;
};

struct tracker {
	struct htab allocs; /* struct alloc_rec, keyed by address */
	struct region *regions;
	size_t nr_regions, cap_regions;
	uint64_t start_ns;
	struct tracker_stats stats;
	uint64_t *stack_frees; /* frees seen per stack id: churn tells a cache from a leak */
	size_t nr_stack_frees;
};

struct tracker *tracker__new(uint64_t start_ns)
{
	struct tracker *tr = calloc(1, sizeof(*tr));

	if (!tr)
		return NULL;
	htab__init(&tr->allocs, sizeof(struct alloc_rec), sizeof(uint64_t));
	tr->start_ns = start_ns;
	return tr;
}

void tracker__set_start(struct tracker *tr, uint64_t start_ns)
{
	tr->start_ns = start_ns;
}

uint64_t tracker__now_ms(const struct tracker *tr, uint64_t ts_ns)
{
	return ts_ns > tr->start_ns ? (ts_ns - tr->start_ns) / 1000000 : 0;
}

static struct alloc_rec *find(const struct tracker *tr, uint64_t addr)
{
	return htab__find(&tr->allocs, &addr);
}

static void live_add(struct tracker *tr, int64_t delta)
{
	struct tracker_stats *s = &tr->stats;

	if (delta < 0 && (uint64_t)-delta > s->live_bytes)
		s->live_bytes = 0;
	else
		s->live_bytes += delta;
	if (s->live_bytes > s->peak_live_bytes)
		s->peak_live_bytes = s->live_bytes;
}

int tracker__alloc(struct tracker *tr, uint64_t addr, uint64_t size, uint64_t ts_ns,
		   uint32_t stack_id)
{
	struct alloc_rec rec = {
		.addr = addr,
		.size = size,
		.ts_ms = tracker__now_ms(tr, ts_ns),
		.stack_id = stack_id,
	};
	struct alloc_rec *slot;
	bool found;

	if (!addr)
		return -EINVAL;
	tr->stats.allocs++;
	slot = htab__insert(&tr->allocs, &addr, &found);
	if (!slot)
		return -ENOMEM;
	if (found) {
		tr->stats.missed_frees++;
		live_add(tr, (int64_t)size - (int64_t)slot->size);
	} else {
		live_add(tr, size);
	}
	*slot = rec;
	return 0;
}

static void count_frees(struct tracker *tr, uint32_t stack_id, uint64_t nr)
{
	size_t n = tr->nr_stack_frees;
	uint64_t *f;

	if (stack_id >= n) {
		n = stack_id < 1024 ? 1024 : (size_t)stack_id * 2;
		f = realloc(tr->stack_frees, n * sizeof(*f));
		if (!f)
			return; /* the counter is a hint for verdicts; the totals stay exact */
		memset(f + tr->nr_stack_frees, 0, (n - tr->nr_stack_frees) * sizeof(*f));
		tr->stack_frees = f;
		tr->nr_stack_frees = n;
	}
	tr->stack_frees[stack_id] += nr;
}

static void count_free(struct tracker *tr, uint32_t stack_id)
{
	count_frees(tr, stack_id, 1);
}

void tracker__add_stack_frees(struct tracker *tr, uint32_t stack_id, uint64_t nr)
{
	count_frees(tr, stack_id, nr);
}

uint64_t tracker__stack_frees(const struct tracker *tr, uint32_t stack_id)
{
	return stack_id < tr->nr_stack_frees ? tr->stack_frees[stack_id] : 0;
}

/* Forget rec (NULL: a free of what is not outstanding); true when it was outstanding. */
static bool free_rec(struct tracker *tr, struct alloc_rec *rec)
{
	if (!rec) {
		tr->stats.unknown_frees++;
		return false;
	}
	tr->stats.frees++;
	count_free(tr, rec->stack_id);
	live_add(tr, -(int64_t)rec->size);
	htab__remove(&tr->allocs, rec);
	return true;
}

bool tracker__free(struct tracker *tr, uint64_t addr)
{
	return free_rec(tr, find(tr, addr));
}

static uint64_t release_range(struct tracker *tr, uint64_t addr, uint64_t len);

bool tracker__free_at(struct tracker *tr, uint64_t addr, uint64_t ts_ns)
{
	struct alloc_rec *rec = find(tr, addr);

	if (rec && tracker__now_ms(tr, ts_ns) - rec->ts_ms < TRACKER_TEMPORARY_MS)
		tr->stats.temporary++;
	return free_rec(tr, rec);
}

static int add_region(struct tracker *tr, const struct region *r)
{
	struct region *regions;
	size_t cap;

	if (tr->nr_regions == tr->cap_regions) {
		cap = tr->cap_regions ? tr->cap_regions * 2 : 64;
		regions = realloc(tr->regions, cap * sizeof(*regions));
		if (!regions)
			return -ENOMEM;
		tr->regions = regions;
		tr->cap_regions = cap;
	}
	tr->regions[tr->nr_regions++] = *r;
	return 0;
}

int tracker__map(struct tracker *tr, uint64_t addr, uint64_t len, uint64_t ts_ns, uint32_t stack_id)
{
	struct region r = {
		.start = addr,
		.len = len,
		.ts_ms = tracker__now_ms(tr, ts_ns),
		.stack_id = stack_id,
	};
	int err;

	tr->stats.allocs++;
	/* MAP_FIXED over a tracked range replaces it */
	release_range(tr, addr, len);
	err = add_region(tr, &r);
	if (!err)
		live_add(tr, len);
	return err;
}

static uint64_t release_range(struct tracker *tr, uint64_t addr, uint64_t len)
{
	uint64_t end, released = 0, r_end;
	struct region *r, tail;
	size_t i = 0;

	len = (len + 4095) & ~4095ULL; /* the kernel unmaps whole pages */
	end = addr + len;
	while (i < tr->nr_regions) {
		r = &tr->regions[i];
		r_end = r->start + r->len;
		if (r_end <= addr || r->start >= end) {
			i++;
			continue;
		}
		if (addr <= r->start && end >= r_end) {
			released += r->len;
			count_free(tr, r->stack_id);
			tr->regions[i] = tr->regions[--tr->nr_regions];
			continue;
		}
		if (addr > r->start && end < r_end) {
			tail = *r;
			tail.start = end;
			tail.len = r_end - end;
			r->len = addr - r->start;
			released += len;
			if (add_region(tr, &tail))
				released += tail.len; /* out of memory: forget the tail */
			i++;
			continue;
		}
		if (addr <= r->start) {
			released += end - r->start;
			r->len = r_end - end;
			r->start = end;
		} else {
			released += r_end - addr;
			r->len = addr - r->start;
		}
		i++;
	}
	live_add(tr, -(int64_t)released);
	return released;
}

uint64_t tracker__unmap(struct tracker *tr, uint64_t addr, uint64_t len)
{
	uint64_t released = release_range(tr, addr, len);

	if (!released)
		tr->stats.untracked_unmaps++;
	else
		tr->stats.frees++;
	return released;
}

void tracker__remap(struct tracker *tr, uint64_t old, uint64_t old_len, uint64_t new_addr,
		    uint64_t new_len)
{
	uint32_t stack_id = 0;
	uint32_t ts_ms = 0;
	bool found = false;
	size_t i;

	for (i = 0; i < tr->nr_regions; i++) {
		if (tr->regions[i].start == old) {
			stack_id = tr->regions[i].stack_id;
			ts_ms = tr->regions[i].ts_ms;
			found = true;
			break;
		}
	}
	release_range(tr, old, old_len);
	/* a mapping made before tracing stays untracked wherever it moves */
	if (found) {
		struct region r = {
			.start = new_addr, .len = new_len, .ts_ms = ts_ms, .stack_id = stack_id};

		if (!add_region(tr, &r))
			live_add(tr, new_len);
	}
}

void tracker__reset(struct tracker *tr)
{
	htab__clear(&tr->allocs);
	if (tr->stack_frees) /* NULL until the first free: memset(NULL, 0, 0) is undefined */
		memset(tr->stack_frees, 0, tr->nr_stack_frees * sizeof(*tr->stack_frees));
	tr->nr_regions = 0;
	tr->stats.live_bytes = 0;
}

void tracker__for_each(const struct tracker *tr, tracker_visit_fn fn, void *ctx)
{
	const struct alloc_rec *a;
	struct alloc_rec rec;
	size_t i = 0;

	while ((a = htab__next(&tr->allocs, &i)))
		fn(a, false, ctx);
	for (i = 0; i < tr->nr_regions; i++) {
		rec.addr = tr->regions[i].start;
		rec.size = tr->regions[i].len;
		rec.ts_ms = tr->regions[i].ts_ms;
		rec.stack_id = tr->regions[i].stack_id;
		fn(&rec, true, ctx);
	}
}

size_t tracker__outstanding(const struct tracker *tr)
{
	return htab__count(&tr->allocs) + tr->nr_regions;
}

size_t tracker__mem(const struct tracker *tr)
{
	return htab__mem(&tr->allocs) + tr->cap_regions * sizeof(*tr->regions);
}

const struct tracker_stats *tracker__stats(const struct tracker *tr)
{
	return &tr->stats;
}

void tracker__set_stats(struct tracker *tr, const struct tracker_stats *s)
{
	tr->stats = *s;
}

void tracker__free_all(struct tracker *tr)
{
	if (!tr)
		return;
	htab__fini(&tr->allocs);
	free(tr->regions);
	free(tr->stack_frees);
	free(tr);
}
