/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every thread of a process stopped for a consistent look at its memory, without a signal a
 * job-control parent would see: PTRACE_SEIZE and PTRACE_INTERRUPT on each thread, then
 * PTRACE_DETACH on each whatever happens. If leaktrace dies meanwhile the kernel detaches
 * them, and a seized, interrupted thread resumes (tests/integration/reach.sh checks it).
 */
#ifndef __FREEZE_H
#define __FREEZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct freeze_thread {
	pid_t tid;
	int sig;      /* a signal its stop intercepted: delivered again at detach */
	bool stopped; /* in a ptrace-stop: regs are valid */
	struct user_regs_struct regs;
};

struct freeze {
	pid_t pid;
	pid_t tracer; /* -EBUSY: the debugger that traces it */
	struct freeze_thread *t;
	unsigned int n, cap;
	uint64_t start_ns; /* the first thread seized */
	uint64_t end_ns;   /* the last one detached */
};

/*
 * Stop every thread of pid and read its registers. 0, or negative errno: -EBUSY when another
 * tracer holds it (f->tracer), -ESRCH when it is gone, -ETIMEDOUT when a thread did not stop.
 * Whatever it returns, freeze__release must follow.
 */
int freeze__stop(struct freeze *f, pid_t pid);
/* Let every thread go on (detached, its intercepted signal delivered), and free f's memory. */
void freeze__release(struct freeze *f);

#endif /* __FREEZE_H */
