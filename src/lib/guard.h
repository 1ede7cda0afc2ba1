/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading files a traced process chose (its binary, libraries, debug links, perf map): opened
 * without blocking, accepted only as regular files within a size limit, and read under a time
 * budget that a stop request (SIGINT, SIGTERM) cuts short.
 */
#ifndef __GUARD_H
#define __GUARD_H

#include <stdbool.h>
#include <stdint.h>

/* The largest ELF or debug file read: libLLVM is about 100 MB, its debug file a few hundred. */
#define GUARD_ELF_MAX (2ULL << 30)
/* A perf map: some 64 bytes a JIT-compiled function. */
#define GUARD_PERFMAP_MAX (64ULL << 20)
/* Decompressed DWARF of one file: at most this many times the file, and at most the cap. */
#define GUARD_DWARF_RATIO 20
#define GUARD_DWARF_MAX	  (512ULL << 20)
/* Everything the symbolizer reads and builds, over all its files (an estimate). */
#define GUARD_MEM_MAX (1ULL << 30)
/* Time spent reading one file, over the whole run. */
#define GUARD_FILE_NS (4ULL * 1000000000)
/*
 * A stop that interrupts the reading of a file (inside a guarded loop) cuts the report short:
 * after this grace, files not read yet give addresses only (here and in the final report). A
 * stop first seen between lookups, or while the symbolizer is idle (Ctrl-C while tracing),
 * leaves the reports whole, within the per-file limits: cutting the final report of a normal
 * Ctrl-C would turn it into addresses on a busy machine.
 */
#define GUARD_STOP_GRACE_NS (300ULL * 1000000)

/* Shared by every reader of a run: the stop request and the memory spent. */
struct guard_ctx {
	bool (*stop_requested)(void); /* NULL: never */
	uint64_t stop_seen_ns;	      /* when a reader first saw the request, 0 before */
	bool stop_cuts;		      /* the stop interrupted the reading of a file */
	uint64_t mem_used;
	uint64_t mem_max; /* 0: GUARD_MEM_MAX */
	bool verbose;
	bool stop_said; /* the stop's cost (addresses only) told once */
};

/* One bounded piece of work: a deadline, and the run's context. */
struct guard {
	struct guard_ctx *ctx; /* may be NULL */
	uint64_t deadline_ns;  /* 0: none */
	const char *why;       /* set when tripped: "time budget" or "stop requested" */
};

uint64_t guard__now_ns(void);
/* True once a stop that interrupted a file read has had its grace period (sticky). */
bool guard_ctx__stopping(struct guard_ctx *ctx);
/* True (and why set) once g's deadline passed or the run is stopping; cheap enough per item. */
bool guard__tripped(struct guard *g);
/* Say the limits on stderr when ctx->verbose. */
void guard_ctx__describe(const struct guard_ctx *ctx);
/* Reserve bytes of the run's memory budget: 0, or -ENOMEM when it would go over. */
int guard_ctx__reserve(struct guard_ctx *ctx, uint64_t bytes);

/*
 * Open path (relative to dirfd unless absolute; dirfd may be AT_FDCWD) read-only without
 * blocking or following into a terminal, and check it as guard__check_fd() does. An fd, or a
 * negative errno: -EINVAL not a regular file, -EFBIG larger than max.
 */
int guard__openat(int dirfd, const char *path, uint64_t max);
/* 0 when fd is a regular file of at most max bytes, else -EINVAL or -EFBIG. */
int guard__check_fd(int fd, uint64_t max);
/* A short reason for a guard error, for messages. */
const char *guard__strerror(int err);

#endif /* __GUARD_H */
