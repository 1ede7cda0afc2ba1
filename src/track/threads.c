// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "leaktrace.h"
#include "history.h"
#include "proc.h"
#include "report.h"
#include "restab.h"
#include "search.h"
#include "stacks.h"
#include "syms.h"
#include "threads.h"
#include "vec.h"

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
	struct restab items; /* key tid */
	struct thread *v;
	uint32_t n, cap;
};

struct threadtab *threadtab__new(uint64_t start_ns)
{
	struct threadtab *t = calloc(1, sizeof(*t));

	if (t && restab__init(&t->items, start_ns)) {
		free(t);
		return NULL;
	}
	return t;
}

void threadtab__free(struct threadtab *t)
{
	if (!t)
		return;
	restab__fini(&t->items);
	free(t->v);
	free(t);
}

/* A thread by its tid, or (tid 0) by its pthread_t. */
static struct thread *find(struct threadtab *t, uint32_t tid, uint64_t handle)
{
	uint32_t i;

	for (i = t->n; i-- > 0;)
		if (tid ? t->v[i].tid == tid : t->v[i].handle == handle)
			return &t->v[i];
	return NULL;
}

static void forget(struct threadtab *t, struct thread *th)
{
	restab__end(&t->items, th->tid);
	*th = t->v[--t->n];
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
	th->stack_id = id;
	return restab__move(&t->items, th->tid, id, th->ts_ns);
}

/* One LT_EV_THREAD record, its frames given (nr). */
static int apply(struct threadtab *t, struct stacks *st, const struct lt_thread *e,
		 const uint64_t *frames, uint32_t nr)
{
	struct thread *th;
	int64_t id;
	int err;

	switch (e->h.kind) {
	case LT_TH_NEW:
		th = find(t, e->child, 0);
		if (th)
			forget(t, th); /* its exit was lost */
		id = stacks__intern(st, frames, nr, KIND_ALIVE);
		if (id < 0)
			return id;
		err = vec__reserve(&t->v, &t->cap, t->n + 1, sizeof(*t->v));
		if (err)
			return err;
		t->v[t->n++] = (struct thread){.tid = e->child,
					       .stack_id = id,
					       .handle = e->handle,
					       .ts_ns = e->h.ts_ns,
					       .detached = e->detached};
		return restab__add(&t->items, e->child, id, e->h.ts_ns);
	case LT_TH_EXIT:
		th = find(t, e->child, 0);
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
		th = find(t, 0, e->handle);
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

int threads__apply(struct proc *p, const struct lt_thread *e, size_t size)
{
	uint32_t nr = 0;

	if (size < LT_THREAD_HDR_SIZE)
		return 0;
	if (e->h.kind == LT_TH_NEW) {
		if (e->nr_frames > LT_MAX_FRAMES ||
		    size < LT_THREAD_HDR_SIZE + e->nr_frames * sizeof(e->frames[0]))
			return 0;
		nr = e->nr_frames;
		if (p->syms && nr && !syms__is_exec(p->syms, e->frames[nr > 1]))
			syms__refresh(p->syms);
	}
	return apply(p->threads, p->stacks, e, (const uint64_t *)e->frames, nr);
}

void threadtab__reset(struct threadtab *t)
{
	restab__reset(&t->items);
	t->n = 0;
}

struct restab *threadtab__items(struct threadtab *t)
{
	return &t->items;
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
	size_t lo;

	(void)is_map;
	if (c->by_handle) {
		/* the first thread whose handle is at or above the mapping's start */
		lo = search__prefix(c->n, i, c->by_handle[i].handle < rec->addr);
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
