/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which outstanding allocations the live process can still reach (--reachable): every thread
 * stopped (freeze.c), the roots scanned (writable mappings outside traced blocks, thread
 * stacks from their stack pointer, every register), then the blocks they point at,
 * transitively. Conservative: any aligned word that holds an address is a pointer.
 */
#ifndef __REACH_H
#define __REACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tracker;

enum reach_state {
	REACH_LOST, /* no pointer from a root or a reached block: definitely or indirectly lost */
	REACH_POSSIBLY,	 /* pointed at only inside, never at its start */
	REACH_REACHABLE, /* a pointer to its start */
};

struct reach {
	bool done;	 /* the split below is valid */
	char note[160];	 /* why there is no split, when !done */
	uint64_t *addrs; /* outstanding blocks at the scan, sorted */
	uint64_t *ends;
	uint8_t *state; /* enum reach_state */
	size_t nr;
	uint64_t pause_ns;	   /* from the first thread stopped to the last resumed */
	uint64_t cpu_ns;	   /* leaktrace's own CPU time in it (the pause less waiting) */
	uint64_t scanned_bytes;	   /* read from the process */
	uint64_t unreadable_bytes; /* in writable mappings, but the kernel refused to read them */
	unsigned int threads;
	unsigned int mappings; /* scanned as roots */
};

/*
 * Scan pid, whose outstanding allocations tr holds. drain (may be NULL) is called once every
 * thread is stopped, to apply the events still in flight, so that tr matches the memory read.
 * 0 or negative errno; r->note says why when it is not done (-EBUSY: a debugger traces it).
 */
int reach__scan(struct reach *r, pid_t pid, const struct tracker *tr, void (*drain)(void *ctx),
		void *ctx);
/* The state of the block at addr, or -1 when the scan did not see it. */
int reach__state(const struct reach *r, uint64_t addr);
void reach__free(struct reach *r);

#endif /* __REACH_H */
