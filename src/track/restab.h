/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What --fds and --threads keep alike: the outstanding items of one process (a descriptor, a
 * thread), each counting 1 for the stack that created it, in a tracker keyed by the module
 * (fd + 1, tid) so that reports, history and verdicts serve them as allocations; with how
 * many were created and, of them, ended. Each module keeps only its own state beside it.
 */
#ifndef __RESTAB_H
#define __RESTAB_H

#include <stdint.h>

struct history;
struct report;
struct report_filter;
struct resolver;
struct stacks;
struct tracker;

struct restab {
	struct tracker *tr;
	struct history *hist;
	uint64_t created; /* items created while tracing */
	uint64_t ended;	  /* of those, ended (closed, joined, detached and exited) */
};

/* Times count from start_ns. 0 or -ENOMEM. */
int restab__init(struct restab *rt, uint64_t start_ns);
void restab__fini(struct restab *rt);
void restab__set_start(struct restab *rt, uint64_t start_ns);
/* key was created by stack_id at ts_ns. 0 or negative errno. */
int restab__add(struct restab *rt, uint64_t key, uint32_t stack_id, uint64_t ts_ns);
/* key ended (it was outstanding). */
void restab__end(struct restab *rt, uint64_t key);
/* key, still outstanding, is now stack_id's (a thread that exited unjoined). */
int restab__move(struct restab *rt, uint64_t key, uint32_t stack_id, uint64_t ts_ns);
/* Forget what is outstanding, not counting it as ended (exec). */
void restab__reset(struct restab *rt);

/*
 * Fill r (what the caller set is kept: identity, kind labels) with what is outstanding, the
 * created and ended counts (opens, closes), history and verdicts. 0 or negative errno.
 */
int restab__report(struct restab *rt, struct report *r, const struct stacks *st,
		   const struct report_filter *f, uint64_t now_ms, const struct resolver *res);

#endif /* __RESTAB_H */
