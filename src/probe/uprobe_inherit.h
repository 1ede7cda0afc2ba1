/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Uprobes the target's children inherit (-f): tracefs uprobe events opened as perf events
 * with perf's inherit flag, so every process and thread the target forks from now on runs
 * the same BPF programs from its first instruction, with no stop and no attach per child.
 * (The uprobe PMU cannot be inherited: a child event would re-read the probe's path from
 * the forking process's memory. uprobe_multi links filter on one process only.)
 */
#ifndef __UPROBE_INHERIT_H
#define __UPROBE_INHERIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_program;
struct bpf_link;

struct uprobe_inherit {
	char group[32];	  /* tracefs event group: leaktrace_PID */
	char tracing[64]; /* tracefs mount point */
	int nr_events;	  /* tracefs events created: GROUP/pN */
	int *ids;	  /* their perf event ids */
	pid_t *tids;	  /* the target's threads when tracing began */
	int nr_tids;
	int *fds; /* perf events without a program: one per event and other thread */
	int nr_fds, cap_fds;
};

/*
 * Prepare for pid: mount tracefs if needed, list pid's threads (each gets its own inherited
 * events: a child inherits only from the thread that forks it) and remove events left by
 * tracers that were killed. 0 or negative errno.
 */
int uprobe_inherit__open(struct uprobe_inherit *ui, pid_t pid);
/*
 * An entry (or return) uprobe at path+offset running prog in the target and everything it
 * forks from now on. The link holds the event that runs prog. 0 or negative errno.
 */
int uprobe_inherit__attach(struct uprobe_inherit *ui, struct bpf_program *prog, const char *path,
			   uint64_t offset, bool retprobe, struct bpf_link **link);
/*
 * Make the probes attached so far fire in pid too (and what it forks): inherited events on
 * each of its threads. 0 or negative errno.
 */
int uprobe_inherit__add_task(struct uprobe_inherit *ui, pid_t pid);
/* Close the events and remove them from tracefs; call after destroying the links. */
void uprobe_inherit__close(struct uprobe_inherit *ui);

#endif /* __UPROBE_INHERIT_H */
