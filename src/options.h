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
};

struct report_format;

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
	unsigned int ringbuf_mb;
	enum sort_key sort;
	const struct report_format *format;
	const char *output_path; /* -w: NULL for stdout */
	bool no_session;	 /* LEAKTRACE_NO_SESSION=1: classic return probes (make bench) */
	bool no_multi;		 /* LEAKTRACE_NO_MULTI=1: a perf-event uprobe per site (make bench) */
	bool probe_at_entry;	 /* LEAKTRACE_PROBE_AT_ENTRY=1: no placement (make bench) */
	bool no_python;		 /* LEAKTRACE_NO_PYTHON=1: no Python frames (make bench) */
};

extern struct options env;

/* Fill env from argv; returns 0, 1 when the program should exit 0 (help, version),
 * or a negative errno after printing a one-line error. */
int options__parse(int argc, char **argv);

#endif /* __OPTIONS_H */
