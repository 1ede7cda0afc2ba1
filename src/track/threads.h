/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Threads of one process (--threads) by the stack that created them: alive, or exited but
 * neither joined nor detached (glibc keeps such a thread's stack until it is joined). Kept in
 * a tracker (key tid, size 1) so reports, history and verdicts serve them as allocations; the
 * state is the stack's kind ("alive", "exited, not joined").
 */
#ifndef __THREADS_H
#define __THREADS_H

#include <stdint.h>

struct history;
struct lt_thread;
struct report;
struct stacks;
struct tracker;

struct threadtab_stats {
	uint64_t created; /* threads created while tracing */
	uint64_t ended;	  /* of those, exited and joined, detached or never to be joined */
};

struct threadtab;

struct threadtab *threadtab__new(uint64_t start_ns);
void threadtab__free(struct threadtab *t);
void threadtab__set_start(struct threadtab *t, uint64_t start_ns);
/* Apply one LT_EV_THREAD record, its frames given (nr). 0 or negative errno. */
int threadtab__apply(struct threadtab *t, struct stacks *st, const struct lt_thread *e,
		     const uint64_t *frames, uint32_t nr);
/* A process that exec'ed has one thread left, not one of those. */
void threadtab__reset(struct threadtab *t);

const struct tracker *threadtab__tracker(const struct threadtab *t);
struct history *threadtab__history(struct threadtab *t);
const struct threadtab_stats *threadtab__stats(const struct threadtab *t);
/*
 * The memory report's glibc thread stacks (r->tstacks), each by the thread whose pthread_t
 * lies in it: live, exited and not joined, or none (cached by glibc for reuse). t NULL
 * (--threads off): counted, whose unknown. Call after history__apply. 0 or negative errno.
 */
int threadtab__count_stacks(const struct threadtab *t, struct report *r);
/* The state labels, by kind - LT_K_MAX, for struct report. */
const char *const *threadtab__labels(uint32_t *nr);

#endif /* __THREADS_H */
