/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kernel-allocation mode (-k): load and attach bpf/kalloc.bpf.c, symbolize kernel stacks. */
#ifndef __KMODE_H
#define __KMODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "report.h"

struct kmode_opts {
	pid_t pid; /* allocations made in this process's context only; 0: the whole system */
	unsigned int ringbuf_mb;
	bool verbose;
	uint64_t sample_bytes;	 /* record about one allocation per so many bytes (0: all) */
	bool kstack_exact;	 /* walk every stack: no call-site cache */
	unsigned int max_frames; /* frames kept per stack, 1 to LT_MAX_FRAMES */
};

struct kmode;

/* Open, configure, load and attach; prints a one-line error. 0 or negative errno. */
int kmode__open(struct kmode **out, const struct kmode_opts *o);
int kmode__ringbuf_fd(const struct kmode *km);
/* Loss counters (enum lt_stat); lost events include runs the kernel skipped (recursion). */
void kmode__stats(const struct kmode *km, uint64_t out[LT_ST_MAX]);
struct proc;
/*
 * Load p's tracker with the allocations outstanding in BPF now, and its counts with BPF's.
 * 0 or negative errno.
 */
int kmode__sync(struct kmode *km, struct proc *p);
/* Tracepoints attached. */
int kmode__nr_attached(const struct kmode *km);
/* Kernel stack addresses to "func+0xoff [module]" ([kernel] for vmlinux). */
struct resolver kmode__resolver(struct kmode *km);
void kmode__free(struct kmode *km);

#endif /* __KMODE_H */
