// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "history.h"
#include "report.h"
#include "stacks.h"

#define WINDOW 5 /* reports a verdict looks back over */

struct point {
	uint64_t bytes;
	uint64_t t_ms;
};

struct stack_hist {
	uint32_t last_seq; /* report sequence number of the newest point; 0: never seen */
	uint32_t nr;	   /* points held, up to WINDOW + 1 */
	struct point pts[WINDOW + 1]; /* oldest first */
	const char *internal;
	bool labelled;
};

struct history {
	struct stack_hist *by_id;
	uint32_t nr_ids;
	uint32_t seq;
	uint64_t times[WINDOW + 1]; /* t_ms of the last reports, newest last */
	uint32_t nr_times;
};

const char history_thread_stack[] =
	"glibc thread stack: in use, cached for reuse or held until joined (the thread stacks line)";

/* Frames that mark memory the C library holds on purpose. */
static const struct {
	const char *func;
	const char *label;
} internal_holders[] = {
	{"allocate_stack", history_thread_stack},
	{"allocate_dtv", "glibc thread-local storage (DTV)"},
	{"_dl_allocate_tls", "glibc thread-local storage"},
	{"_dl_resize_dtv", "glibc thread-local storage (DTV)"},
	{"_IO_file_doallocate", "stdio stream buffer"},
	{"_nl_load_locale_from_archive", "glibc locale data"},
	{"new_heap", "glibc malloc arena"},
};

struct history *history__new(void)
{
	return calloc(1, sizeof(struct history));
}

static int grow(struct history *h, uint32_t id)
{
	uint32_t n = h->nr_ids ? h->nr_ids : 256;
	struct stack_hist *p;

	while (n <= id)
		n *= 2;
	p = realloc(h->by_id, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + h->nr_ids, 0, (n - h->nr_ids) * sizeof(*p));
	h->by_id = p;
	h->nr_ids = n;
	return 0;
}

static const char *label_of(const struct stacks *st, uint32_t id, uint32_t kind,
			    const struct resolver *res)
{
	const struct stack *s = stacks__get(st, id);
	struct sym_frame fr[8];
	uint32_t i, k;
	int j, n;

	for (i = 0; s && i < s->nr_frames; i++) {
		n = res->resolve(res->ctx, s->frames[i], fr, 8);
		for (j = 0; j < n; j++) {
			if (!fr[j].name)
				continue;
			for (k = 0; k < sizeof(internal_holders) / sizeof(internal_holders[0]); k++)
				if (!strcmp(fr[j].name, internal_holders[k].func))
					return internal_holders[k].label;
			/* without libc's DWARF, allocate_stack (inlined) is not named: the only
			 * mapping pthread_create makes itself is a thread's stack */
			if (kind == LT_K_MMAP && !strcmp(fr[j].name, "pthread_create"))
				return history_thread_stack;
		}
	}
	return NULL;
}

/* Append (bytes, t) for report seq, padding reports the stack was absent from with zeros. */
static void push(struct stack_hist *sh, const struct history *h, uint64_t bytes)
{
	uint32_t missing = sh->last_seq ? h->seq - sh->last_seq - 1 : 0, i;
	struct point p;

	if (missing > WINDOW)
		missing = WINDOW;
	for (i = missing; i > 0; i--) {
		p.bytes = 0;
		p.t_ms = h->times[h->nr_times - 1 - i];
		if (sh->nr == WINDOW + 1)
			memmove(sh->pts, sh->pts + 1, WINDOW * sizeof(p));
		else
			sh->nr++;
		sh->pts[sh->nr - 1] = p;
	}
	p.bytes = bytes;
	p.t_ms = h->times[h->nr_times - 1];
	if (sh->nr == WINDOW + 1)
		memmove(sh->pts, sh->pts + 1, WINDOW * sizeof(p));
	else
		sh->nr++;
	sh->pts[sh->nr - 1] = p;
	sh->last_seq = h->seq;
}

static void judge(struct report_stack *rs, const struct stack_hist *sh, uint64_t now_ms)
{
	const struct point *first = &sh->pts[0], *last = &sh->pts[sh->nr - 1];
	uint32_t ups = 0, downs = 0, deltas = sh->nr - 1, i;
	uint64_t peak = 0;
	int64_t net;

	rs->delta_bytes = sh->nr > 1 ? (int64_t)last->bytes - (int64_t)sh->pts[sh->nr - 2].bytes
				     : (int64_t)last->bytes;
	rs->window_ms = last->t_ms - first->t_ms;
	net = (int64_t)last->bytes - (int64_t)first->bytes;
	rs->rate = rs->window_ms ? net * 1000.0 / rs->window_ms : 0;
	if (sh->nr < 3) {
		rs->verdict = VERDICT_NEW;
		return;
	}
	for (i = 1; i < sh->nr; i++) {
		if (sh->pts[i].bytes > sh->pts[i - 1].bytes)
			ups++;
		else if (sh->pts[i].bytes < sh->pts[i - 1].bytes)
			downs++;
		if (sh->pts[i].bytes > peak)
			peak = sh->pts[i].bytes;
	}
	/* a flat level: the net change is within 10% of the level */
	if ((uint64_t)(net < 0 ? -net : net) * 10 <= peak) {
		rs->verdict = rs->frees ? VERDICT_CACHE : VERDICT_STABLE;
		return;
	}
	if (net > 0 && !downs && ups + 1 >= deltas) {
		/* nothing allocated before the window was freed: the oldest is older than it */
		rs->verdict =
			now_ms - rs->oldest_ms >= rs->window_ms ? VERDICT_LEAK : VERDICT_GROWING;
		return;
	}
	/* a trend allows at most one step in four against it */
	if (net > 0 && downs * 4 <= deltas)
		rs->verdict = VERDICT_GROWING;
	else if (net < 0 && ups * 4 <= deltas)
		rs->verdict = VERDICT_SHRINKING;
	else
		rs->verdict = VERDICT_VARYING;
}

int history__apply(struct history *h, struct report *r, const struct stacks *st,
		   const struct resolver *res)
{
	struct stack_hist *sh;
	uint32_t i;
	int err;

	h->seq++;
	if (h->nr_times == WINDOW + 1)
		memmove(h->times, h->times + 1, WINDOW * sizeof(h->times[0]));
	else
		h->nr_times++;
	h->times[h->nr_times - 1] = r->now_ms;

	for (i = 0; i < r->nr_stacks; i++) {
		struct report_stack *rs = &r->stacks[i];

		if (rs->stack_id >= h->nr_ids) {
			err = grow(h, rs->stack_id);
			if (err)
				return err;
		}
		sh = &h->by_id[rs->stack_id];
		if (!sh->labelled && res) {
			sh->internal = label_of(st, rs->stack_id, rs->kind, res);
			sh->labelled = true;
		}
		rs->internal = sh->internal;
		push(sh, h, rs->bytes);
		judge(rs, sh, r->now_ms);
	}
	return 0;
}

void history__free(struct history *h)
{
	if (!h)
		return;
	free(h->by_id);
	free(h);
}
