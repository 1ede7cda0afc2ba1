/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What userspace holds about each traced process, and the table of them (-f adds children). */
#ifndef __PROC_H
#define __PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct tracker;
struct stacks;
struct syms;
struct syms_opts;
struct history;
struct klabels;
struct fdtab;
struct threadtab;
struct python;

struct proc {
	pid_t pid;
	pid_t ppid; /* the traced parent it was forked from (-f); 0 for the target */
	char comm[32];
	struct tracker *tracker;
	struct stacks *stacks;
	struct syms *syms; /* shared with the parent until the child's maps differ */
	bool syms_shared;
	const struct syms_opts *syms_opts; /* for the syms made at exec */
	uint64_t syms_refresh_ns;	   /* when unknown code last made syms re-read maps */
	struct history *history;
	uint64_t start_ms;	 /* tracker time when tracing of it began (--baseline) */
	uint64_t rss_anon_start; /* RSS when tracing began */
	uint64_t rss_anon_prev;	 /* RSS at the previous report */
	struct klabels *klabels; /* kernel mode: what each allocation holds */
	bool exited;
	bool execed;
	uint64_t nr_events;
	uint64_t oom;		   /* events dropped because userspace ran out of memory */
	struct reach *exit_scan;   /* --reachable: the scan made while BPF held it in exit() */
	struct fdtab *fds;	   /* --fds: its open descriptors; NULL without */
	struct threadtab *threads; /* --threads: its threads; NULL without */
	uint64_t truncated_stacks; /* allocations whose stack met a return address not in code */
	uint64_t uw_gen;   /* executable mappings BPF had counted at the last table update */
	bool uw_stale;	   /* its CFI tables must be given to BPF again (fork, exec) */
	bool uw_gone;	   /* its tables were taken back (exit) */
	bool uw_exec;	   /* a new image: its objects' tables are built before its list */
	bool uw_hold;	   /* held at exec: continued once its tables are given */
	struct python *py; /* CPython frames: its code objects and the frames named so far */
	bool py_checked;   /* the current image was looked at for CPython */

	uint16_t *supp_marks; /* by stack id: 0 unchecked, 1 no suppression, rule + 2 */
	uint32_t nr_supp_marks;
	uint64_t peak_rss; /* VmHWM, read while it lives (at its exit when held there) */
};

/* A process traced from now_ns on (tracker, stacks, history; no syms). NULL with errno. */
struct proc *proc__new(pid_t pid, uint64_t now_ns);
/* The image was replaced (exec): what the old one held is gone; maps are read anew. */
int proc__exec(struct proc *p);
void proc__free(struct proc *p);

struct procs {
	struct proc **v; /* the target first, then children in the order they were forked */
	unsigned int n, cap;
	struct proc *last; /* the last one found: events come in runs of one process */
};

struct proc *procs__find(struct procs *ps, pid_t pid);
int procs__add(struct procs *ps, struct proc *p);
/* Take p out of the table and free it. */
void procs__remove(struct procs *ps, struct proc *p);
/* Free every process and the table. */
void procs__free(struct procs *ps);

#endif /* __PROC_H */
