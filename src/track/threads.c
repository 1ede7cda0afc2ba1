// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "leaktrace.h"
#include "history.h"
#include "report.h"
#include "stacks.h"
#include "threads.h"
#include "tracker.h"

enum { KIND_ALIVE = LT_K_MAX, KIND_UNJOINED };

static const char *const labels[] = {"alive", "exited, not joined"};

struct thread {
	uint32_t tid;
	uint32_t stack_id;
	uint64_t handle; /* pthread_t */
	uint64_t ts_ns;
	bool detached; /* or joined: nothing keeps it once it exits */
	bool exited;
};

struct threadtab {
	struct tracker *tr;
	struct history *hist;
	struct thread *v;
	uint32_t n, cap;
	struct threadtab_stats stats;
};

struct threadtab *threadtab__new(uint64_t start_ns)
{
	struct threadtab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->tr = tracker__new(start_ns);
	t->hist = history__new();
	if (!t->tr || !t->hist) {
		threadtab__free(t);
		return NULL;
	}
	return t;
}

void threadtab__free(struct threadtab *t)
{
	if (!t)
		return;
	tracker__free_all(t->tr);
	history__free(t->hist);
	free(t->v);
	free(t);
}

void threadtab__set_start(struct threadtab *t, uint64_t start_ns)
{
	tracker__set_start(t->tr, start_ns);
}

static struct thread *by_tid(struct threadtab *t, uint32_t tid)
{
	uint32_t i;

	for (i = t->n; i-- > 0;)
		if (t->v[i].tid == tid)
			return &t->v[i];
	return NULL;
}

static struct thread *by_handle(struct threadtab *t, uint64_t handle)
{
	uint32_t i;

	for (i = t->n; i-- > 0;)
		if (t->v[i].handle == handle)
			return &t->v[i];
	return NULL;
}

static void forget(struct threadtab *t, struct thread *th)
{
	tracker__free(t->tr, th->tid);
	t->stats.ended++;
	*th = t->v[--t->n];
}

static int add(struct threadtab *t, const struct thread *th)
{
	struct thread *v;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		v = realloc(t->v, t->cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->v = v;
	}
	t->v[t->n++] = *th;
	return 0;
}

/* It exited, and nobody will join it: its stack stays mapped until someone does. */
static int unjoined(struct threadtab *t, struct stacks *st, struct thread *th)
{
	const struct stack *s = stacks__get(st, th->stack_id);
	int64_t id;

	if (!s)
		return 0;
	id = stacks__intern(st, s->frames, s->nr_frames, KIND_UNJOINED);
	if (id < 0)
		return id;
	tracker__free(t->tr, th->tid);
	th->stack_id = id;
	return tracker__alloc(t->tr, th->tid, 1, th->ts_ns, id);
}

int threadtab__apply(struct threadtab *t, struct stacks *st, const struct lt_thread *e,
		     const uint64_t *frames, uint32_t nr)
{
	struct thread *th, fresh;
	int64_t id;
	int err;

	switch (e->h.kind) {
	case LT_TH_NEW:
		th = by_tid(t, e->child);
		if (th)
			forget(t, th); /* its exit was lost */
		id = stacks__intern(st, frames, nr, KIND_ALIVE);
		if (id < 0)
			return id;
		fresh = (struct thread){.tid = e->child,
					.stack_id = id,
					.handle = e->handle,
					.ts_ns = e->h.ts_ns,
					.detached = e->detached};
		err = add(t, &fresh);
		if (err)
			return err;
		t->stats.created++;
		return tracker__alloc(t->tr, e->child, 1, e->h.ts_ns, id);
	case LT_TH_EXIT:
		th = by_tid(t, e->child);
		/* the whole process is exiting: its threads were alive until now */
		if (!th || e->detached)
			return 0;
		th->exited = true;
		if (th->detached) {
			forget(t, th);
			return 0;
		}
		return unjoined(t, st, th);
	case LT_TH_JOIN:
	case LT_TH_DETACH:
		th = by_handle(t, e->handle);
		if (!th)
			return 0;
		if (th->exited)
			forget(t, th);
		else
			th->detached = true;
		return 0;
	default:
		return 0;
	}
}

void threadtab__reset(struct threadtab *t)
{
	tracker__reset(t->tr);
	t->n = 0;
}

const struct tracker *threadtab__tracker(const struct threadtab *t)
{
	return t->tr;
}

struct history *threadtab__history(struct threadtab *t)
{
	return t->hist;
}

const struct threadtab_stats *threadtab__stats(const struct threadtab *t)
{
	return &t->stats;
}

const char *const *threadtab__labels(uint32_t *nr)
{
	*nr = sizeof(labels) / sizeof(labels[0]);
	return labels;
}

/* A thread by its pthread_t, which glibc places in its stack mapping. */
struct owner {
	uint64_t handle;
	bool unjoined;
};

struct tstack_ctx {
	const struct owner *by_handle; /* sorted; NULL: --threads is off */
	uint32_t n;
	struct report_tstacks *out;
};

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	return x->handle < y->handle ? -1 : x->handle > y->handle;
}

static void count_stack(const struct alloc_rec *rec, bool is_map, void *data)
{
	struct tstack_ctx *c = data;
	enum tstack_state s = TSTACK_UNKNOWN;
	uint32_t lo = 0, hi = c->n, mid;

	(void)is_map;
	if (c->by_handle) {
		/* the first thread whose handle is at or above the mapping's start */
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (c->by_handle[mid].handle < rec->addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == c->n || c->by_handle[lo].handle - rec->addr >= rec->size)
			s = TSTACK_CACHED;
		else
			s = c->by_handle[lo].unjoined ? TSTACK_UNJOINED : TSTACK_LIVE;
	}
	c->out->n[s]++;
	c->out->bytes[s] += rec->size;
}

int threadtab__count_stacks(const struct threadtab *t, struct report *r)
{
	struct tstack_ctx c = {.out = &r->tstacks};
	struct owner *o = NULL;
	uint32_t i;

	memset(&r->tstacks, 0, sizeof(r->tstacks));
	for (i = 0; i < r->nr_stacks && r->stacks[i].internal != history_thread_stack; i++)
		;
	if (i == r->nr_stacks)
		return 0;
	if (t) {
		o = malloc((t->n ? t->n : 1) * sizeof(*o));
		if (!o)
			return -ENOMEM;
		for (c.n = 0; c.n < t->n; c.n++)
			o[c.n] = (struct owner){t->v[c.n].handle, t->v[c.n].exited};
		qsort(o, c.n, sizeof(*o), cmp_owner);
		c.by_handle = o;
	}
	for (; i < r->nr_stacks; i++)
		if (r->stacks[i].internal == history_thread_stack)
			report__for_each_alloc(r, r->stacks[i].stack_id, count_stack, &c);
	free(o);
	return 0;
}
