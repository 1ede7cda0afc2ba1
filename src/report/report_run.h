/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The reports of a run: for each traced process, built, resolved and written out. */
#ifndef __REPORT_RUN_H
#define __REPORT_RUN_H

#include <stdbool.h>
#include "proc.h"

struct mode;
struct output;
struct suppressions;

/* What reports need besides the processes: loss counters, a symbolizer, where they go. */
struct report_run {
	struct procs procs; /* the target first; with -f its children */
	struct mode *mode;
	struct output *out;
	/* --reachable: applies the events in flight while the scanned process is stopped */
	void (*drain)(void *ctx);
	void *drain_ctx;
	struct suppressions *supp; /* glibc's one-time allocations, --suppress FILE */
};

/*
 * A report for every process: children that have exited get their final one, then are
 * dropped. all_final: the end of the run; last: no other report follows. 0 or negative errno.
 */
int report_run__all(struct report_run *rr, bool all_final, bool last);

#endif /* __REPORT_RUN_H */
