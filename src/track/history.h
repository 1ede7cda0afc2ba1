/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Per-stack history across reports: growth, rate, a verdict, allocator-internal labels. */
#ifndef __HISTORY_H
#define __HISTORY_H

struct report;
struct resolver;
struct stacks;

struct history;

/* The allocator-internal label (report_stack.internal) of glibc's thread stacks. */
extern const char history_thread_stack[];

struct history *history__new(void);
/*
 * Record the report's per-stack bytes as one more point of history and fill in each stack's
 * delta, rate, window and verdict; label allocator-internal holders (resolving a stack's
 * frames once, the first time it is seen). Call before report__rank. 0 or negative errno.
 */
int history__apply(struct history *h, struct report *r, const struct stacks *st,
		   const struct resolver *res);
void history__free(struct history *h);

#endif /* __HISTORY_H */
