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
 * mapping (may be NULL) tells which mapped file holds an address, for formats that carry
 * mappings (pprof); 0 or -ENOENT.
 */
struct resolver {
	int (*resolve)(void *ctx, uint64_t addr, struct sym_frame *out, int max);
	int (*mapping)(void *ctx, uint64_t addr, struct sym_mapping *out);
	void *ctx;
};

/* What a stack's history says it is; see history.c for the rules. */
enum verdict {
	VERDICT_NEW,	   /* fewer than three reports: not enough history */
	VERDICT_LEAK,	   /* grew steadily, and nothing it allocated before the window was freed */
	VERDICT_GROWING,   /* grew over the window, with frees or pauses */
	VERDICT_CACHE,	   /* flat level while its allocations churn */
	VERDICT_STABLE,	   /* flat level, nothing freed */
	VERDICT_SHRINKING, /* fell over the window */
	VERDICT_VARYING,   /* up and down with no clear trend */
	VERDICT_COLLECTION, /* --reachable: grew, but every byte is reachable (a cache, a table) */
	VERDICT_MAX,
};

extern const char *const verdict_names[VERDICT_MAX];

struct report_stack {
	uint32_t stack_id;
	uint32_t kind;
	uint64_t bytes;	     /* outstanding (estimated when sampling) */
	double count;	     /* outstanding allocations (estimated when sampling) */
	uint64_t samples;    /* records behind the estimate */
	uint32_t oldest_ms;  /* time of the oldest outstanding allocation, ms since start */
	uint32_t median_ms;  /* time of the median outstanding allocation */
	uint64_t frees;	     /* allocations from this stack freed since tracing began */
	int64_t delta_bytes; /* since the previous report */
	double rate;	     /* bytes/s over the window (the last reports, up to 5) */
	uint32_t window_ms;
	enum verdict verdict;
	const char *internal; /* allocator-internal holder (glibc thread stacks...), or NULL */
	uint32_t nr_frames;
	struct sym_frame *frames; /* resolved by report__resolve, innermost first */
	/* --reachable: what the scan found no pointer to, and what only interior pointers reach */
	uint64_t unreachable_bytes;
	double unreachable_count;
	uint64_t possibly_bytes;
	double possibly_count;
	bool truncated;		 /* the walk stopped at a return address outside code */
	const char *suppressed;	 /* the suppression that matched (suppress.c), or NULL */
	bool suppressed_builtin; /* ... one of glibc's one-time allocations, not --suppress */
};

/* Whose a glibc thread stack is (a mapping of a stack labelled history_thread_stack). */
enum tstack_state {
	TSTACK_LIVE,	 /* a live thread's */
	TSTACK_UNJOINED, /* an exited thread's that was neither joined nor detached: held */
	TSTACK_CACHED,	 /* no thread's: glibc keeps it for reuse (up to 40 MiB in all) */
	TSTACK_UNKNOWN,	 /* without --threads: any of those */
	TSTACK_MAX,
};

struct report_tstacks {
	uint32_t n[TSTACK_MAX]; /* mappings */
	uint64_t bytes[TSTACK_MAX];
};

struct report_filter {
	uint64_t older_ms;
	uint64_t baseline_ms; /* hide what was allocated during the first baseline_ms */
	uint64_t start_ms;    /* ... counted from here: when the probes were attached */
	uint64_t min_size;
	uint64_t max_size;
	uint64_t sample_bytes;
	int sort;
	uint32_t sample_every; /* -s N: one allocation in N recorded */ /* enum sort_key */
};

struct report {
	time_t wall;
	pid_t pid;  /* 0 with kernel: the whole system */
	pid_t ppid; /* -f: the traced parent a child was forked from; 0 for the target */
	const char *comm;
	bool kernel;			/* kernel allocations (leaktrace -k) */
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
	uint32_t sample_every; /* -s N: one allocation in N recorded */
	/* the target's anonymous RSS now and when tracing began (0: unknown, e.g. -k) */
	uint64_t rss_anon;
	uint64_t rss_anon_start;
	uint64_t rss_anon_prev;
	uint64_t heap_prev;		/* total_bytes at the previous report */
	struct timespec counting_since; /* user mode: when BPF began to record; 0: -k */
	bool run_recorded;		/* some process of the run had an allocation recorded */
	uint32_t top;			/* stacks a format shows (all of them: nr_stacks) */
	const struct tracker *tracker;
	const struct report_filter *filter;
	const struct resolver *resolver; /* set by report__resolve */
	/* --reachable: the scan of the live process (report__apply_reach) */
	bool reach_requested;
	bool reach_done;
	const char *reach_note; /* why there is no split */
	uint64_t unreachable_bytes, possibly_bytes;
	double unreachable_count, possibly_count;
	uint64_t reach_pause_ns, reach_scanned_bytes, reach_unreadable_bytes;
	uint32_t reach_threads, reach_mappings;
	/*
	 * --fds: open descriptors by creating stack, in a model of their own (each counts 1 in
	 * bytes and count; kinds are labels: "socket AF_INET STREAM"), shown after the memory
	 * stacks; NULL without --fds. memory_off: no allocator was probed.
	 */
	struct report *fds;
	bool memory_off;
	uint32_t nr_before;	  /* descriptors open before tracing began, still open */
	uint32_t *before_by_kind; /* ... by kind - LT_K_MAX */
	uint64_t opens, closes, unknown_closes;
	/* --threads: threads by creating stack, the same way (kinds: "alive", "exited, not
	 * joined"); threads_model marks that report itself (opens: created, closes: ended) */
	struct report *threads;
	bool threads_model;
	uint64_t truncated_stacks;     /* allocations whose stack ended at a non-code address */
	struct report_tstacks tstacks; /* glibc thread stacks among the memory stacks */
	/* suppressed stacks (suppress.c): counted in the totals above, shown apart */
	uint64_t suppressed_bytes;
	double suppressed_count;
	uint32_t suppressed_stacks;
	uint32_t suppress_file_rules; /* leak: lines of --suppress FILE */
	uint64_t peak_rss;	      /* the end summary: VmHWM of the process (0: unknown) */
};

/* Aggregate what the tracker holds. 0 or negative errno. */
int report__build(struct report *r, const struct tracker *tr, const struct stacks *st,
		  const struct report_filter *f, uint64_t now_ms);
/* Rank stacks by key (enum sort_key); allocator-internal holders rank last. */
void report__rank(struct report *r, int key);
/* Resolve the frames of the first max_stacks ranked stacks. 0 or negative errno. */
int report__resolve(struct report *r, const struct stacks *st, const struct resolver *res,
		    uint32_t max_stacks);
void report__free(struct report *r);

struct reach;
/* Split each stack's bytes by what the scan found (NULL or not done: no split, a note). */
void report__apply_reach(struct report *r, const struct reach *scan);
/* Both signals: growing and unreachable is a leak; growing, all reachable, a collection. */
void report__reach_verdicts(struct report *r);

/* The mapping that holds addr, through the resolver. 0 or -ENOENT. */
int report__mapping(const struct report *r, uint64_t addr, struct sym_mapping *out);
/* A frame's function name, or "[module]" / "[unknown]" when it has none. */
const char *report__frame_name(const struct sym_frame *fr, char *buf, size_t size);

/* Visit the outstanding allocations of one stack that pass the report's filter. */
void report__for_each_alloc(const struct report *r, uint32_t stack_id,
			    void (*fn)(const struct alloc_rec *rec, bool is_map, void *ctx),
			    void *ctx);

struct report_opts {
	bool show_allocs; /* list each outstanding allocation under its stack (text, json) */
	bool verbose;	  /* -v: the reachability scan's pause and size (text) */
	bool full_header; /* -v: text prints every loss counter, zero or not, at a terminal too */
};

/* An output format: one module each, all fed the same model. */
struct report_format {
	const char *name;
	int (*write)(const struct report *r, FILE *out, const struct report_opts *o);
	/* A file holds one report: the latest replaces it (atomically); on stdout only the
	 * final report is written. Otherwise every report is appended to the stream. */
	bool snapshot;
	bool binary;	 /* never written to a terminal */
	bool all_stacks; /* emits every stack, not only the top N */
};

/* The format called name, NULL when there is none. */
const struct report_format *report__format(const char *name);
/* "text, json, ..." for messages. */
const char *report__format_names(void);

/* memleak's layout: a timestamped header with totals and losses, then r->top stacks. */
int report__text(const struct report *r, FILE *out, const struct report_opts *o);
/* One JSON object on one line (JSON Lines), every stack; schema in docs/json-schema.md. */
int report__json(const struct report *r, FILE *out, const struct report_opts *o);
/* Folded stacks, "root;...;leaf BYTES" per stack, for flamegraph.pl, speedscope, inferno. */
int report__folded(const struct report *r, FILE *out, const struct report_opts *o);
/* A gzipped pprof profile.proto with inuse_objects/count and inuse_space/bytes. */
int report__pprof(const struct report *r, FILE *out, const struct report_opts *o);
/* A self-contained SVG flame graph of outstanding bytes. */
int report__svg(const struct report *r, FILE *out, const struct report_opts *o);

/* Encoders the formats are built from, exposed for their unit tests. */
void json__write_string(FILE *out, const char *s);
/* Copy name into buf with ';', whitespace and control characters replaced by '_'. */
const char *folded__sanitize(const char *name, char *buf, size_t size);

/* The blocks of a descriptor or thread report (r->fds) in each format. */
void report_text__resources(const struct report *r, FILE *out, const struct report_opts *o);
void report_folded__resources(const struct report *r, FILE *out);

extern const char *const lt_kind_names[LT_K_MAX];
extern const char *const lt_stat_names[LT_ST_MAX];
/* What a stack of this kind holds: "malloc", "kmalloc", "slab:filp", "page order 0". */
const char *report__kind_name(const struct report *r, uint32_t kind);
/*
 * Why tracing recorded nothing while the process allocated (allocator calls seen, or RSS grew),
 * in buf; NULL when tracing worked (or there was nothing to see).
 */
const char *report__tracing_failed(const struct report *r, char *buf, size_t size);
/* "pid 42 (demo)", "pid 43 (demo, child of 42)", "kernel", "pid 42 (demo) kernel": whose
 * memory a report is about. */
void report__subject(const struct report *r, char *buf, size_t sz);

#endif /* __REPORT_H */
