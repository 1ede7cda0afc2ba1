/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "guard.h"

uint64_t guard__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* busy: the caller is in the middle of reading a file: a stop seen first there interrupts it. */
static bool stopping(struct guard_ctx *ctx, bool busy)
{
	uint64_t now;

	if (!ctx || !ctx->stop_requested || !ctx->stop_requested())
		return false;
	now = guard__now_ns();
	if (!ctx->stop_seen_ns) {
		ctx->stop_seen_ns = now;
		ctx->stop_cuts = busy;
	}
	return ctx->stop_cuts && now - ctx->stop_seen_ns >= GUARD_STOP_GRACE_NS;
}

bool guard_ctx__stopping(struct guard_ctx *ctx)
{
	return stopping(ctx, false);
}

bool guard__tripped(struct guard *g)
{
	if (g->why)
		return true;
	if (stopping(g->ctx, true))
		g->why = "stop requested";
	else if (g->deadline_ns && guard__now_ns() >= g->deadline_ns)
		g->why = "over its time budget";
	return g->why;
}

int guard_ctx__reserve(struct guard_ctx *ctx, uint64_t bytes)
{
	uint64_t max;

	if (!ctx)
		return 0;
	max = ctx->mem_max ? ctx->mem_max : GUARD_MEM_MAX;
	if (bytes > max || ctx->mem_used > max - bytes)
		return -ENOMEM;
	ctx->mem_used += bytes;
	return 0;
}

int guard__check_fd(int fd, uint64_t max)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	return 0;
}

int guard__openat(int dirfd, const char *path, uint64_t max)
{
	int fd, err;

	/* O_NONBLOCK: a FIFO would block open() until a writer comes. */
	fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = guard__check_fd(fd, max);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

const char *guard__strerror(int err)
{
	switch (err) {
	case -EINVAL:
		return "not a regular file";
	case -EFBIG:
		return "too large";
	case -ENOMEM:
		return "over the symbolizer's memory budget";
	case -ETIME:
		return "over its time budget";
	case -E2BIG:
		return "compressed debug sections too large once expanded";
	default:
		return strerror(-err);
	}
}

void guard_ctx__describe(const struct guard_ctx *ctx)
{
	if (!ctx->verbose)
		return;
	fprintf(stderr,
		"leaktrace: symbolizer limits: %" PRIu64
		" MiB of memory in all, files up to %" PRIu64
		" MiB, debug sections up to %dx the file and %" PRIu64 " MiB expanded, %" PRIu64
		" s of reading per file, perf maps read up to %" PRIu64 " MiB\n",
		(uint64_t)((ctx->mem_max ? ctx->mem_max : GUARD_MEM_MAX) >> 20),
		(uint64_t)(GUARD_ELF_MAX >> 20), GUARD_DWARF_RATIO,
		(uint64_t)(GUARD_DWARF_MAX >> 20), (uint64_t)(GUARD_FILE_NS / 1000000000),
		(uint64_t)(GUARD_PERFMAP_MAX >> 20));
}
