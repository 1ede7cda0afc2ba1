// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "options.h"
#include "reach.h"
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
	[LT_K_PYOBJECT] = "pyobject",
};

const char *const verdict_names[VERDICT_MAX] = {
	[VERDICT_NEW] = "new",	       [VERDICT_LEAK] = "leak",
	[VERDICT_GROWING] = "growing", [VERDICT_CACHE] = "cache",
	[VERDICT_STABLE] = "stable",   [VERDICT_SHRINKING] = "shrinking",
	[VERDICT_VARYING] = "varying", [VERDICT_COLLECTION] = "collection",
};

const char *const lt_stat_names[LT_ST_MAX] = {
	[LT_ST_RINGBUF_DROP] = "ringbuf_drop",
	[LT_ST_STACK_FAIL] = "stack_fail",
	[LT_ST_INFLIGHT_FULL] = "inflight_full",
	[LT_ST_NESTED] = "nested",
	[LT_ST_FAILED_ALLOC] = "failed_alloc",
	[LT_ST_SAMPLED_OUT] = "sampled_out",
	[LT_ST_FREE_UNSAMPLED] = "free_unsampled",
	[LT_ST_SAMPLED_FULL] = "sampled_full",
	[LT_ST_PIDS_FULL] = "pids_full",
	[LT_ST_HEALED] = "healed",
	[LT_ST_CALLS] = "calls",
	[LT_ST_KALLOCS] = "kallocs",
	[LT_ST_KFREES] = "kfrees",
	[LT_ST_KLIVE_FULL] = "klive_full",
	[LT_ST_KREUSED] = "kreused",
	[LT_ST_KSTACK_SPILL] = "kstack_spill",
	[LT_ST_KSKIP_ALLOC] = "kskip_alloc",
	[LT_ST_KFREE_RESCUED] = "kfree_rescued",
	[LT_ST_KFREE_UNSEEN] = "kfree_unseen",
	[LT_ST_KUNCERTAIN_FULL] = "kuncertain_full",
	[LT_ST_FDS_UNREAD] = "fds_unread",
	[LT_ST_KSTACK_CACHED] = "kstack_cached",
	[LT_ST_KSITE_AMBIGUOUS] = "ksite_ambiguous",
	[LT_ST_KEVENT_SKIPPED] = "kevent_skipped",
};

static const struct report_format formats[] = {
	{"text", report__text, .snapshot = false},
	{"json", report__json, .all_stacks = true},
	{"folded", report__folded, .snapshot = true, .all_stacks = true},
	{"pprof", report__pprof, .snapshot = true, .binary = true, .all_stacks = true},
	{"svg", report__svg, .snapshot = true, .binary = true, .all_stacks = true},
};

const struct report_format *report__format(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}

const char *report__format_names(void)
{
	return "text, json, folded, pprof or svg";
}

const char *report__kind_name(const struct report *r, uint32_t kind)
{
	if (kind < LT_K_MAX)
		return lt_kind_names[kind];
	if (kind - LT_K_MAX < r->nr_kind_labels)
		return r->kind_labels[kind - LT_K_MAX];
	return "?";
}

/* RSS growth past which a process that had nothing recorded must have allocated */
#define FAILED_RSS_GROWTH (8 << 20)

const char *report__tracing_failed(const struct report *r, char *buf, size_t size)
{
	const uint64_t *b = r->bpf_stats;
	int64_t rss_growth = r->rss_anon - r->rss_anon_start;
	uint64_t calls = b[LT_ST_CALLS];

	if (r->kernel || r->tstats.allocs || r->memory_off)
		return NULL;
	if (r->run_recorded)
		calls = 0; /* the run's calls were another process's */
	if (!calls && !(r->rss_anon && rss_growth > FAILED_RSS_GROWTH))
		return NULL;
	if (b[LT_ST_SAMPLED_OUT] && b[LT_ST_SAMPLED_OUT] + b[LT_ST_NESTED] >= calls && calls)
		return NULL; /* sampling kept none of a few calls: expected, said in its line */
	if (!calls)
		snprintf(buf, size,
			 "RSS grew %.1f MiB but no allocator call was seen: the process "
			 "allocates through something not probed (name the allocator with -O "
			 "PATH [-S PREFIX]; brk and custom allocators are not traced)",
			 rss_growth / 1048576.0);
	else if (b[LT_ST_INFLIGHT_FULL])
		snprintf(buf, size,
			 "%" PRIu64 " allocator calls seen, none recorded: the per-thread "
			 "in-flight map was full %" PRIu64 " times",
			 calls, b[LT_ST_INFLIGHT_FULL]);
	else if (b[LT_ST_RINGBUF_DROP])
		snprintf(buf, size,
			 "%" PRIu64 " allocator calls seen, none recorded: %" PRIu64
			 " events lost, the ring buffer was full (--ringbuf-mb)",
			 calls, b[LT_ST_RINGBUF_DROP]);
	else if (b[LT_ST_NESTED] >= calls)
		snprintf(buf, size,
			 "%" PRIu64 " allocator calls seen, all nested in calls still in flight "
			 "(%" PRIu64 " in-flight records healed)",
			 calls, b[LT_ST_HEALED]);
	else if (b[LT_ST_FAILED_ALLOC])
		snprintf(buf, size,
			 "%" PRIu64 " allocator calls seen, none recorded: %" PRIu64
			 " failed (returned NULL)",
			 calls, b[LT_ST_FAILED_ALLOC]);
	else
		snprintf(buf, size,
			 "%" PRIu64 " allocator calls seen, none recorded (%" PRIu64
			 " nested, %" PRIu64 " healed): their returns were not seen",
			 calls, b[LT_ST_NESTED], b[LT_ST_HEALED]);
	return buf;
}

void report__subject(const struct report *r, char *buf, size_t sz)
{
	if (r->kernel && !r->pid)
		snprintf(buf, sz, "kernel");
	else if (r->ppid)
		snprintf(buf, sz, "pid %d (%s, child of %d)", r->pid, r->comm ? r->comm : "?",
			 r->ppid);
	else
		snprintf(buf, sz, "pid %d (%s)%s", r->pid, r->comm ? r->comm : "?",
			 r->kernel ? " kernel" : "");
}

struct build_ctx {
	struct report_stack *by_id;
	uint32_t *ts;  /* allocation times bucketed by stack, for medians */
	uint32_t *pos; /* next free slot of each stack's bucket */
	const struct tracker *r_tracker;
	const struct report_filter *f;
	uint64_t now_ms;
};

static bool passes(const struct report_filter *f, const struct alloc_rec *rec, uint64_t now_ms)
{
	if (rec->size < f->min_size || rec->size > f->max_size)
		return false;
	if (f->baseline_ms && rec->ts_ms < f->start_ms + f->baseline_ms)
		return false;
	return !f->older_ms || now_ms - rec->ts_ms >= f->older_ms;
}

static void add_rec(const struct alloc_rec *rec, bool is_map, void *data)
{
	struct build_ctx *c = data;
	struct report_stack *rs = &c->by_id[rec->stack_id];
	uint64_t s = c->f->sample_bytes;
	double w;

	(void)is_map;
	if (!passes(c->f, rec, c->now_ms))
		return;
	if (!rs->samples || rec->ts_ms < rs->oldest_ms)
		rs->oldest_ms = rec->ts_ms;
	rs->samples++;
	/* a record sampled with probability p stands for 1 / p allocations of its size */
	w = (double)LT_SAMPLE_ONE / lt_sample_p(rec->size, s, c->f->sample_every);
	rs->bytes += (uint64_t)(rec->size * w + 0.5);
	rs->count += w;
}

static void add_ts(const struct alloc_rec *rec, bool is_map, void *data)
{
	struct build_ctx *c = data;

	(void)is_map;
	if (passes(c->f, rec, c->now_ms))
		c->ts[c->pos[rec->stack_id]++] = rec->ts_ms;
}

static uint32_t select_kth(uint32_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1, i, j;
	uint32_t pivot, t;

	while (lo < hi) {
		pivot = v[lo + (hi - lo) / 2];
		i = lo;
		j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

/* Median allocation time per stack: bucket every passing record's time by stack, select. */
static int compute_medians(struct build_ctx *c, uint32_t n)
{
	uint64_t total = 0;
	uint32_t i, start;

	for (i = 0; i < n; i++)
		total += c->by_id[i].samples;
	if (!total)
		return 0;
	c->ts = malloc(total * sizeof(*c->ts));
	c->pos = malloc(n * sizeof(*c->pos));
	if (!c->ts || !c->pos)
		return -ENOMEM;
	for (i = 0, start = 0; i < n; i++) {
		c->pos[i] = start;
		start += c->by_id[i].samples;
	}
	tracker__for_each(c->r_tracker, add_ts, c);
	for (i = 0, start = 0; i < n; i++) {
		uint32_t cnt = c->by_id[i].samples;

		if (cnt)
			c->by_id[i].median_ms = select_kth(c->ts + start, cnt, cnt / 2);
		start += cnt;
	}
	return 0;
}

/* For --sort growth: a steady trend outranks the noise of a flat level with a high rate. */
static int growth_tier(const struct report_stack *rs)
{
	switch (rs->verdict) {
	case VERDICT_LEAK:
		return 0;
	case VERDICT_GROWING:
		return 1;
	case VERDICT_NEW:
		return 2;
	default:
		return 3;
	}
}

static int cmp_stacks(const void *a, const void *b, void *key)
{
	const struct report_stack *x = a, *y = b;

	if (!x->suppressed != !y->suppressed)
		return x->suppressed ? 1 : -1;
	if (!x->internal != !y->internal)
		return x->internal ? 1 : -1;
	switch (*(int *)key) {
	case SORT_GROWTH:
		if (growth_tier(x) != growth_tier(y))
			return growth_tier(x) > growth_tier(y) ? 1 : -1;
		if (x->rate != y->rate)
			return x->rate < y->rate ? 1 : -1;
		break;
	case SORT_COUNT:
		if (x->count != y->count)
			return x->count < y->count ? 1 : -1;
		break;
	case SORT_AGE:
		if (x->oldest_ms != y->oldest_ms)
			return x->oldest_ms > y->oldest_ms ? 1 : -1;
		break;
	case SORT_UNREACHABLE:
		if (x->unreachable_bytes != y->unreachable_bytes)
			return x->unreachable_bytes < y->unreachable_bytes ? 1 : -1;
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
	struct build_ctx c = {.f = f, .now_ms = now_ms, .r_tracker = tr};
	int err;

	r->now_ms = now_ms;
	r->sample_bytes = f->sample_bytes;
	r->sample_every = f->sample_every;
	r->tracker = tr;
	r->filter = f;
	r->tstats = *tracker__stats(tr);
	c.by_id = calloc(n, sizeof(*c.by_id));
	if (!c.by_id)
		return -ENOMEM;
	tracker__for_each(tr, add_rec, &c);
	err = compute_medians(&c, n);
	free(c.ts);
	free(c.pos);
	if (err) {
		free(c.by_id);
		return err;
	}
	for (i = 0; i < n; i++) {
		if (!c.by_id[i].samples)
			continue;
		c.by_id[i].stack_id = i;
		c.by_id[i].kind = stacks__get(st, i)->kind;
		c.by_id[i].truncated = stacks__get(st, i)->flags & STACK_TRUNCATED;
		c.by_id[i].frees = tracker__stack_frees(tr, i);
		r->total_bytes += c.by_id[i].bytes;
		r->total_count += c.by_id[i].count;
		c.by_id[k++] = c.by_id[i];
	}
	r->stacks = c.by_id;
	r->nr_stacks = k;
	report__rank(r, f->sort);
	return 0;
}

void report__rank(struct report *r, int key)
{
	qsort_r(r->stacks, r->nr_stacks, sizeof(*r->stacks), cmp_stacks, &key);
}

#define MAX_INLINE 8

int report__resolve(struct report *r, const struct stacks *st, const struct resolver *res,
		    uint32_t max_stacks)
{
	struct sym_frame *buf = NULL, *tmp;
	uint32_t i, j, n, cap = 0;
	int k, err = 0;

	r->resolver = res;
	for (i = 0; i < r->nr_stacks && i < max_stacks; i++) {
		struct report_stack *rs = &r->stacks[i];
		const struct stack *s = stacks__get(st, rs->stack_id);

		if (rs->frames)
			continue;
		/* Resolved into one scratch buffer, then kept at their exact size: stacks with
		 * room for every frame to expand would cost megabytes a report. */
		if (s->nr_frames * MAX_INLINE + 1 > cap) {
			cap = s->nr_frames * MAX_INLINE + 1;
			tmp = realloc(buf, cap * sizeof(*buf));
			if (!tmp) {
				err = -ENOMEM;
				break;
			}
			buf = tmp;
		}
		for (j = 0, n = 0; j < s->nr_frames; j++) {
			k = res->resolve(res->ctx, s->frames[j], &buf[n], MAX_INLINE);
			n += k;
		}
		rs->frames = malloc((n ? n : 1) * sizeof(*rs->frames));
		if (!rs->frames) {
			err = -ENOMEM;
			break;
		}
		memcpy(rs->frames, buf, n * sizeof(*buf));
		rs->nr_frames = n;
	}
	free(buf);
	return err;
}

int report__mapping(const struct report *r, uint64_t addr, struct sym_mapping *out)
{
	const struct resolver *res = r->resolver;

	if (!res || !res->mapping)
		return -ENOENT;
	return res->mapping(res->ctx, addr, out);
}

const char *report__frame_name(const struct sym_frame *fr, char *buf, size_t size)
{
	if (fr->name)
		return fr->name;
	snprintf(buf, size, "[%s]", fr->module ? fr->module : "unknown");
	return buf;
}

struct visit_ctx {
	const struct report_filter *f;
	uint64_t now_ms;
	uint32_t stack_id;
	void (*fn)(const struct alloc_rec *rec, bool is_map, void *ctx);
	void *ctx;
};

static void visit_one(const struct alloc_rec *rec, bool is_map, void *data)
{
	struct visit_ctx *c = data;

	if (rec->stack_id == c->stack_id && passes(c->f, rec, c->now_ms))
		c->fn(rec, is_map, c->ctx);
}

void report__for_each_alloc(const struct report *r, uint32_t stack_id,
			    void (*fn)(const struct alloc_rec *rec, bool is_map, void *ctx),
			    void *ctx)
{
	struct visit_ctx c = {r->filter, r->now_ms, stack_id, fn, ctx};

	tracker__for_each(r->tracker, visit_one, &c);
}

void report__free(struct report *r)
{
	uint32_t i;

	for (i = 0; r->stacks && i < r->nr_stacks; i++)
		free(r->stacks[i].frames);
	free(r->stacks);
	r->stacks = NULL;
	r->nr_stacks = 0;
}

struct reach_ctx {
	struct report *r;
	const struct reach *scan;
	uint32_t *index; /* stack id -> position in r->stacks, + 1 */
};

static void add_reach(const struct alloc_rec *rec, bool is_map, void *data)
{
	struct reach_ctx *c = data;
	struct report_stack *rs;
	uint32_t at;
	double w;

	(void)is_map;
	if (!passes(c->r->filter, rec, c->r->now_ms))
		return;
	at = c->index[rec->stack_id];
	if (!at)
		return;
	rs = &c->r->stacks[at - 1];
	w = (double)LT_SAMPLE_ONE / lt_sample_p32(rec->size, c->r->sample_bytes);
	/* allocated after the scan (-1): not judged, counted as reachable */
	switch (reach__state(c->scan, rec->addr)) {
	case REACH_LOST:
		rs->unreachable_bytes += (uint64_t)(rec->size * w + 0.5);
		rs->unreachable_count += w;
		break;
	case REACH_POSSIBLY:
		rs->possibly_bytes += (uint64_t)(rec->size * w + 0.5);
		rs->possibly_count += w;
		break;
	default:
		break;
	}
}

void report__apply_reach(struct report *r, const struct reach *scan)
{
	struct reach_ctx c = {.r = r, .scan = scan};
	uint32_t i, max_id = 0;

	r->reach_requested = true;
	if (!scan || !scan->done) {
		r->reach_note = scan && scan->note[0] ? scan->note : "no reachability scan";
		return;
	}
	r->reach_pause_ns = scan->pause_ns;
	r->reach_scanned_bytes = scan->scanned_bytes;
	r->reach_unreadable_bytes = scan->unreadable_bytes;
	r->reach_threads = scan->threads;
	r->reach_mappings = scan->mappings;
	for (i = 0; i < r->nr_stacks; i++)
		if (r->stacks[i].stack_id > max_id)
			max_id = r->stacks[i].stack_id;
	c.index = calloc(max_id + 1, sizeof(*c.index));
	if (!c.index) {
		r->reach_note = "out of memory: no reachability split";
		return;
	}
	for (i = 0; i < r->nr_stacks; i++)
		c.index[r->stacks[i].stack_id] = i + 1;
	tracker__for_each(r->tracker, add_reach, &c);
	free(c.index);
	for (i = 0; i < r->nr_stacks; i++) {
		r->unreachable_bytes += r->stacks[i].unreachable_bytes;
		r->unreachable_count += r->stacks[i].unreachable_count;
		r->possibly_bytes += r->stacks[i].possibly_bytes;
		r->possibly_count += r->stacks[i].possibly_count;
	}
	r->reach_done = true;
}

void report__reach_verdicts(struct report *r)
{
	uint32_t i;

	if (!r->reach_done)
		return;
	for (i = 0; i < r->nr_stacks; i++) {
		struct report_stack *rs = &r->stacks[i];
		bool grows = rs->verdict == VERDICT_LEAK || rs->verdict == VERDICT_GROWING;

		/* lost memory is a leak from the first report on, not after three */
		if (rs->unreachable_bytes && (grows || rs->verdict == VERDICT_NEW))
			rs->verdict = VERDICT_LEAK;
		else if (grows && !rs->unreachable_bytes)
			rs->verdict = VERDICT_COLLECTION;
	}
}
