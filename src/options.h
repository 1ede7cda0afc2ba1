/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one struct filled by argument parsing; everything is validated there. */
#ifndef __OPTIONS_H
#define __OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum sort_key {
	SORT_SIZE,
	SORT_COUNT,
	SORT_GROWTH,
	SORT_AGE,
	SORT_UNREACHABLE,
};

struct report_format;
struct suppressions;

/* --unwind: user stacks by CFI tables with frame pointers where an object has none (auto),
 * by CFI tables only (cfi), or by frame pointers only (fp) */
enum unwind_mode {
	UNWIND_AUTO,
	UNWIND_CFI,
	UNWIND_FP,
};

struct options {
	pid_t pid;
	char **command; /* argv of a command to launch, NULL when tracing a PID */
	bool kernel;
	bool follow; /* -f: trace the children too */
	unsigned int interval_s;
	unsigned int count; /* 0: until interrupted */
	unsigned int top;
	uint64_t older_ms;
	unsigned int baseline_s;
	uint64_t min_size;
	uint64_t max_size;
	bool show_allocs;
	bool verbose;
	bool no_lines;
	bool no_demangle;
	const char *debug_dir;
	unsigned int debuginfod_timeout_s; /* --debuginfod: 0 off */
	const char *obj_path;		   /* -O: allocator library or binary to probe */
	const char *sym_prefix;		   /* -S: the allocator's symbols carry this prefix */
	uint64_t sample_bytes;
	uint32_t sample_every; /* -s N (memleak): one allocation in N; 0 or 1: all */
	unsigned int ringbuf_mb;
	enum sort_key sort;
	const struct report_format *format;
	const char *output_path; /* -w: NULL for stdout */
	bool no_session;	 /* LEAKTRACE_NO_SESSION=1: classic return probes (make bench) */
	bool no_multi;	     /* LEAKTRACE_NO_MULTI=1: a perf-event uprobe per site (make bench) */
	bool probe_at_entry; /* LEAKTRACE_PROBE_AT_ENTRY=1: no placement (make bench) */
	bool reachable;	     /* --reachable: scan the live process at each report */
	bool kstack_exact;   /* --kstack-exact: -k walks every stack, no call-site cache */
	bool fds;	     /* --fds: open descriptors by creating stack */
	bool threads;	     /* --threads: live and unjoined threads by creating stack */
	bool memory;	     /* memory is traced: without --fds/--threads, or --memory */

	enum unwind_mode unwind; /* --unwind */

	/* memleak's flags (-t, -C, -F, -P, --stack-storage-size, --perf-max-stack-depth) */
	bool trace;		   /* -t: one line per allocation and free */
	unsigned int max_frames;   /* --perf-max-stack-depth: frames per stack (LT_MAX_FRAMES) */
	const char *suppress_path; /* --suppress FILE: leak:PATTERN lines */
	struct suppressions *suppressions; /* glibc's built-in rules, then the file's */
	bool no_python; /* LEAKTRACE_NO_PYTHON=1: no Python frames (make bench) */
};

extern struct options env;

/* Fill env from argv; returns 0, 1 when the program should exit 0 (help, version),
 * or a negative errno after printing a one-line error. */
int options__parse(int argc, char **argv);

#endif /* __OPTIONS_H */
