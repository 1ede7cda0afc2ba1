/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The report model every output format is fed: totals, losses, ranked stacks. */
#ifndef __REPORT_H
#define __REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <sys/types.h>
#include "leaktrace.h"
#include "syms.h"
#include "tracker.h"

struct stacks;

/*
 * Turns one captured address into frames (inlined ones first); returns how many: >= 1, or 0
 * to hide a frame of the tracer's own (the kernel's BPF trampolines).
 */
struct resolver {
	int (*resolve)(void *ctx, uint64_t addr, struct sym_frame *out, int max);
	void *ctx;
};

struct report_stack {
	uint32_t stack_id;
	uint32_t kind;
	uint64_t bytes;	    /* outstanding (estimated when sampling) */
	double count;	    /* outstanding allocations (estimated when sampling) */
	uint64_t samples;   /* records behind the estimate */
	uint32_t oldest_ms; /* time of the oldest outstanding allocation, ms since start */
	uint32_t nr_frames;
	struct sym_frame *frames; /* resolved by report__resolve, innermost first */
};

struct report_filter {
	uint64_t older_ms;
	uint64_t min_size;
	uint64_t max_size;
	uint64_t sample_bytes;
	int sort; /* enum sort_key */
};

struct report {
	time_t wall;
	pid_t pid; /* 0 with kernel: the whole system */
	const char *comm;
	bool kernel;			 /* kernel allocations (leaktrace -k) */
	const char *const *kind_labels; /* kinds from LT_K_MAX on: "slab:filp", "page order 0" */
	uint32_t nr_kind_labels;
	uint64_t now_ms; /* ms since tracing began */
	bool final;
	uint64_t total_bytes;
	double total_count;
	struct report_stack *stacks; /* every stack with outstanding bytes, ranked */
	uint32_t nr_stacks;
	uint64_t bpf_stats[LT_ST_MAX];
	struct tracker_stats tstats;
	uint64_t oom;
	uint64_t sample_bytes;
	uint32_t top; /* stacks a format shows (all of them: nr_stacks) */
	const struct tracker *tracker;
	const struct report_filter *filter;
};

/* Aggregate what the tracker holds. 0 or negative errno. */
int report__build(struct report *r, const struct tracker *tr, const struct stacks *st,
		  const struct report_filter *f, uint64_t now_ms);
/* Resolve the frames of the first max_stacks ranked stacks. 0 or negative errno. */
int report__resolve(struct report *r, const struct stacks *st, const struct resolver *res,
		    uint32_t max_stacks);
void report__free(struct report *r);

/* Visit the outstanding allocations of one stack that pass the report's filter. */
void report__for_each_alloc(const struct report *r, uint32_t stack_id,
			    void (*fn)(const struct alloc_rec *rec, bool is_map, void *ctx),
			    void *ctx);

struct text_opts {
	bool show_allocs;
};

/* memleak's layout: a timestamped header with totals and losses, then r->top stacks. */
int report__text(const struct report *r, FILE *out, const struct text_opts *o);

extern const char *const lt_kind_names[LT_K_MAX];
/* What a stack of this kind holds: "malloc", "kmalloc", "slab:filp", "page order 0". */
const char *report__kind_name(const struct report *r, uint32_t kind);
/* "pid 42 (demo)", "kernel", "pid 42 (demo) kernel": whose memory a report is about. */
void report__subject(const struct report *r, char *buf, size_t sz);

#endif /* __REPORT_H */
