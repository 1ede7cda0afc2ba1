/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * User-allocation mode: load bpf/ualloc.bpf.c, attach its tracepoints and the allocator
 * probes, switch recording on and off, detach. The peer of kmode.
 */
#ifndef __UMODE_H
#define __UMODE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "probes.h"
#include "report.h"

struct follow;
struct holds;
struct proc;
struct target;
struct guard_ctx;

struct umode_opts {
	struct probes_opts probes; /* hold_exit is set from the target */
	uint64_t sample_bytes;
	uint32_t sample_every;	 /* -s N: one allocation in N (sample_bytes then 0) */
	unsigned int max_frames; /* frames walked per stack, 1 to LT_MAX_FRAMES */
	unsigned int ringbuf_mb;
	bool follow;	 /* -f: trace the children too */
	bool no_session; /* classic return probes */
	bool no_multi;	 /* a perf-event uprobe per site */
	bool fds;	 /* --fds: descriptor syscalls traced */
	bool threads;	 /* --threads: thread creation, exit, join traced */
	bool memory; /* allocator probes and the mmap family; off: only what --fds, --threads ask */
	int unwind;  /* enum unwind_mode */
	struct guard_ctx *guard; /* the run's stop and limits, for the CFI tables' debug files */
	bool verbose;
};

struct umode;

/*
 * Open, configure, load and attach the tracepoints and t's allocator probes; BPF does not
 * record yet. Prints a one-line error where the cause is not plain. 0 or negative errno.
 */
int umode__open(struct umode **out, const struct target *t, const struct umode_opts *o);
/* Every probe and tracepoint is in place: from now on BPF records. */
void umode__start(struct umode *um);
/* When umode__start switched recording on (CLOCK_REALTIME). */
struct timespec umode__counting_since(const struct umode *um);
int umode__ringbuf_fd(const struct umode *um);
/* Loss counters (enum lt_stat): BPF's .bss counters. */
void umode__stats(const struct umode *um, uint64_t out[LT_ST_MAX]);
/* p's user stack addresses (return addresses) to their call sites, through p->syms. */
struct resolver umode__resolver(struct umode *um, struct proc *p);
/* Probes attached, and how: for the "tracing" line. */
const struct probes *umode__probes(const struct umode *um);
/* CFI tables for the stack walk; NULL with --unwind fp. */
struct unwind *umode__unwind(struct umode *um);
/* -f: what attaches probes in children that exec; NULL without -f. */
struct follow *umode__follow(struct umode *um);
/* BPF's map of CPython processes (bpf/python.bpf.h). */
int umode__pyprocs_fd(const struct umode *um);
/* Fork the watchdog that continues held processes; before the ring is mapped. */
int umode__start_holds(struct umode *um, struct holds *h);
/*
 * BPF records nothing more and holds nobody more; returns once the programs in flight have
 * finished, so what is in the ring is all there will be.
 */
void umode__stop(struct umode *um);
/*
 * Without -f, detaching runs in threads while the final report is made: it costs the kernel
 * an RCU grace period or two per link. Idempotent; umode__detach_wait joins them.
 */
void umode__detach(struct umode *um);
void umode__detach_wait(struct umode *um);
void umode__free(struct umode *um);

#endif /* __UMODE_H */
