/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Outstanding allocations of one process: address -> size, stack, time; mmap regions. */
#ifndef __TRACKER_H
#define __TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct alloc_rec {
	uint64_t addr; /* 0: empty slot */
	uint64_t size;
	uint32_t ts_ms; /* milliseconds since tracing began */
	uint32_t stack_id;
};

struct tracker_stats {
	uint64_t allocs;	/* allocation events applied */
	uint64_t frees;		/* frees that matched an outstanding allocation */
	uint64_t unknown_frees; /* frees of pointers not outstanding: allocated before tracing,
				 * or their allocation event was lost */
	uint64_t missed_frees;	/* an allocation reused an outstanding address: its free was lost */
	uint64_t untracked_unmaps; /* munmap of ranges not mapped while tracing */
	/* the end summary (--format text/json, final report) */
	uint64_t live_bytes;	  /* outstanding bytes now: heap blocks and mappings */
	uint64_t peak_live_bytes; /* the most live_bytes has been */
	uint64_t temporary;	  /* frees less than TRACKER_TEMPORARY_MS after their allocation */
};

/* What the summary calls a temporary allocation: freed within this time of its allocation. */
#define TRACKER_TEMPORARY_MS 1000

struct tracker;

struct tracker *tracker__new(uint64_t start_ns);
/* Times count from start_ns: set before the first allocation is applied. */
void tracker__set_start(struct tracker *tr, uint64_t start_ns);
int tracker__alloc(struct tracker *tr, uint64_t addr, uint64_t size, uint64_t ts_ns,
		   uint32_t stack_id);
/* true when addr was outstanding */
bool tracker__free(struct tracker *tr, uint64_t addr);
/* The same, freed at ts_ns: counted as temporary when its allocation was recent. */
bool tracker__free_at(struct tracker *tr, uint64_t addr, uint64_t ts_ns);
int tracker__map(struct tracker *tr, uint64_t addr, uint64_t len, uint64_t ts_ns,
		 uint32_t stack_id);
/* Release [addr, addr + len) from tracked mappings; returns bytes released. */
uint64_t tracker__unmap(struct tracker *tr, uint64_t addr, uint64_t len);
/* mremap: move what was tracked in [old, old + old_len) to new_addr with new_len. */
void tracker__remap(struct tracker *tr, uint64_t old, uint64_t old_len, uint64_t new_addr,
		    uint64_t new_len);
/* Forget everything (the process replaced its image). */
void tracker__reset(struct tracker *tr);

typedef void (*tracker_visit_fn)(const struct alloc_rec *rec, bool is_map, void *ctx);
void tracker__for_each(const struct tracker *tr, tracker_visit_fn fn, void *ctx);

/* Allocations from stack_id freed (or unmapped whole) since tracing began. */
uint64_t tracker__stack_frees(const struct tracker *tr, uint32_t stack_id);
uint64_t tracker__now_ms(const struct tracker *tr, uint64_t ts_ns);
size_t tracker__outstanding(const struct tracker *tr);
size_t tracker__mem(const struct tracker *tr);
const struct tracker_stats *tracker__stats(const struct tracker *tr);
/* Kernel mode: frees of stack_id counted in BPF. */
void tracker__add_stack_frees(struct tracker *tr, uint32_t stack_id, uint64_t nr);
/* Kernel mode: the counts come from BPF, which saw every event; the tracker only a snapshot. */
void tracker__set_stats(struct tracker *tr, const struct tracker_stats *s);
void tracker__free_all(struct tracker *tr);

#endif /* __TRACKER_H */
