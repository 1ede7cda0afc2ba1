/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Threads of one process (--threads) by the stack that created them: alive, or exited but
 * neither joined nor detached (glibc keeps such a thread's stack until it is joined). The
 * outstanding ones are a restab's items (key tid); the state is the stack's kind ("alive",
 * "exited, not joined").
 */
#ifndef __THREADS_H
#define __THREADS_H

#include <stddef.h>
#include <stdint.h>

struct lt_thread;
struct proc;
struct report;
struct restab;
struct stacks;

struct threadtab;

/* Times count from start_ns (restab__set_start(threadtab__items(t), ...) moves it). */
struct threadtab *threadtab__new(uint64_t start_ns);
void threadtab__free(struct threadtab *t);
/* Apply an LT_EV_THREAD record of p (which traces threads) of size bytes. 0 or negative errno. */
int threads__apply(struct proc *p, const struct lt_thread *e, size_t size);
/* A process that exec'ed has one thread left, not one of those. */
void threadtab__reset(struct threadtab *t);

/* The threads as outstanding items (key tid); ended: exited and joined or detached. */
struct restab *threadtab__items(struct threadtab *t);
/*
 * The memory report's glibc thread stacks (r->tstacks), each by the thread whose pthread_t
 * lies in it: live, exited and not joined, or none (cached by glibc for reuse). t NULL
 * (--threads off): counted, whose unknown. Call after history__apply. 0 or negative errno.
 */
int threadtab__count_stacks(const struct threadtab *t, struct report *r);
/* The state labels, by kind - LT_K_MAX, for struct report. */
const char *const *threadtab__labels(uint32_t *nr);

#endif /* __THREADS_H */
