/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Drain the BPF ring buffer and apply each record to the process it belongs to; then run what
 * the records asked for (continue a held process, probe a new image), outside the callback.
 */
#ifndef __EVENTS_H
#define __EVENTS_H

#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "proc.h"

struct ring_buffer;
struct follow;
struct holds;
struct ev_action;

struct events {
	struct ring_buffer *rb;
	struct procs *procs;
	struct proc *target;	 /* the process traced first, procs->v[0] */
	bool discard_until_exec; /* a launched child: what it does before exec is not its own */
	bool any_pid; /* kernel mode: BPF filtered the allocations; frees come from any context */
	bool follow;  /* -f: a traced process's children are traced too */
	struct follow *follow_exec; /* -f: probes a child held at its exec */
	struct holds *holds;	    /* continues what BPF stopped */
	bool ending; /* recording and holds are off: drain all; one held at exec is continued */
	bool said_maps_gone; /* -f -p: a child gone before its new image's maps were read, said */
	const volatile sig_atomic_t *stop; /* set by a signal: end the drain, then stop recording */
	bool reach_at_exit;		   /* --reachable: scan a process BPF holds in exit() */
	bool fds;			   /* --fds: each process has its descriptor table */
	bool threads;			   /* --threads: each process has its thread table */
	struct unwind *unwind; /* CFI tables for BPF's stack walk; NULL: frame pointers */
	int pyprocs_fd; /* user mode: BPF's map of CPython processes (bpf/python.bpf.h); else -1 */
	FILE *trace;	/* -t: one line per allocation and free here */
	struct ev_action *acts; /* what the drain's records asked for, run after it (events.c) */
	uint32_t nr_acts, cap_acts;
	bool running_acts;
};

int events__open(struct events *ev, int ringbuf_fd, struct procs *procs);
/* A running process (-p): if it runs CPython, its allocations carry Python frames from now. */
void events__python(struct events *ev, struct proc *p);
/* Wait up to timeout_ms for events, then drain everything available. 0 or negative errno. */
int events__poll(struct events *ev, int timeout_ms);
void events__close(struct events *ev);

#endif /* __EVENTS_H */
