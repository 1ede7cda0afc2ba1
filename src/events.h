/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Drain the BPF ring buffer and apply each event to the process it belongs to. */
#ifndef __EVENTS_H
#define __EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ring_buffer;
struct tracker;
struct stacks;
struct syms;
struct history;
struct klabels;
struct syms_opts;

/* What userspace holds about one traced process. */
struct proc {
	pid_t pid;
	struct tracker *tracker;
	struct stacks *stacks;
	struct syms *syms;
	const struct syms_opts *syms_opts; /* a launched command: syms made at its exec */
	uint64_t syms_refresh_ns;	   /* when unknown code last made syms re-read maps */
	struct history *history;
	uint64_t rss_anon_start; /* RSS when tracing began */
	uint64_t rss_anon_prev;	 /* RSS at the previous report */
	struct klabels *klabels; /* kernel mode: what each allocation holds */
	bool exited;
	bool execed;
	uint64_t nr_events;
	uint64_t oom; /* events dropped because userspace ran out of memory */
};

struct events {
	struct ring_buffer *rb;
	struct proc *proc;
	bool discard_until_exec; /* a launched child: what it does before exec is not its own */
	bool any_pid; /* kernel mode: BPF filtered the allocations; frees come from any context */
};

int events__open(struct events *ev, int ringbuf_fd, struct proc *proc);
/* Wait up to timeout_ms for events, then drain everything available. 0 or negative errno. */
int events__poll(struct events *ev, int timeout_ms);
void events__close(struct events *ev);

#endif /* __EVENTS_H */
