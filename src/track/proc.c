// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fds.h"
#include "history.h"
#include "threads.h"
#include "klabels.h"
#include "proc.h"
#include "procstat.h"
#include "reach.h"
#include "python.h"
#include "stacks.h"
#include "syms.h"
#include "tracker.h"

struct proc *proc__new(pid_t pid, uint64_t now_ns)
{
	struct proc *p;

	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->tracker = tracker__new(now_ns);
	p->stacks = stacks__new();
	p->history = history__new();
	if (!p->tracker || !p->stacks || !p->history) {
		proc__free(p);
		errno = ENOMEM;
		return NULL;
	}
	if (pid && !procstat__rss_anon(pid, &p->rss_anon_start))
		p->rss_anon_prev = p->rss_anon_start;
	return p;
}

int proc__exec(struct proc *p)
{
	struct history *h = history__new();

	if (!h)
		return -ENOMEM;
	history__free(p->history);
	p->history = h;
	free(p->supp_marks);
	p->supp_marks = NULL;
	p->nr_supp_marks = 0;
	tracker__reset(p->tracker);
	syms__free(p->syms);
	p->syms = p->syms_opts ? syms__new(p->pid, p->syms_opts) : NULL;
	p->syms_shared = false;
	procstat__comm(p->pid, p->comm, sizeof(p->comm));
	p->rss_anon_start = p->rss_anon_prev = 0;
	if (!procstat__rss_anon(p->pid, &p->rss_anon_start))
		p->rss_anon_prev = p->rss_anon_start;
	return 0;
}

void proc__free(struct proc *p)
{
	if (!p)
		return;
	syms__free(p->syms);
	history__free(p->history);
	klabels__free(p->klabels);
	fdtab__free(p->fds);
	threadtab__free(p->threads);
	python__free(p->py);
	stacks__free(p->stacks);
	tracker__free_all(p->tracker);
	if (p->exit_scan)
		reach__free(p->exit_scan);
	free(p->exit_scan);
	free(p->supp_marks);
	free(p);
}

struct proc *procs__find(struct procs *ps, pid_t pid)
{
	unsigned int i;

	if (ps->last && ps->last->pid == pid)
		return ps->last;
	/* newest first: a fresh child is the likeliest; a pid is in the table once */
	for (i = ps->n; i-- > 0;)
		if (ps->v[i]->pid == pid)
			return ps->last = ps->v[i];
	return NULL;
}

int procs__add(struct procs *ps, struct proc *p)
{
	struct proc **v;

	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 8;
		v = realloc(ps->v, ps->cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ps->v = v;
	}
	ps->v[ps->n++] = p;
	return 0;
}

void procs__remove(struct procs *ps, struct proc *p)
{
	unsigned int i;

	for (i = 0; i < ps->n; i++) {
		if (ps->v[i] != p)
			continue;
		memmove(ps->v + i, ps->v + i + 1, (ps->n - i - 1) * sizeof(ps->v[0]));
		ps->n--;
		break;
	}
	if (ps->last == p)
		ps->last = NULL;
	proc__free(p);
}

void procs__free(struct procs *ps)
{
	unsigned int i;

	for (i = 0; i < ps->n; i++)
		proc__free(ps->v[i]);
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}
