/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * perf's JIT symbol maps, /tmp/perf-PID.map: one "START SIZE name" a line, START and SIZE in
 * hex (an optional 0x is accepted), name the rest of the line. Written by V8 (--perf-basic-prof),
 * JVM agents, LuaJIT and others for code they generate into anonymous executable memory.
 */
#ifndef __PERFMAP_H
#define __PERFMAP_H

#include <stddef.h>
#include <stdint.h>

struct perfmap_sym {
	uint64_t start;
	uint64_t end; /* exclusive */
	const char *name;
};

struct perfmap;

/*
 * Parse len bytes of buf (need not be NUL-terminated). Malformed lines (no hex start, no
 * size, size 0, no name) are skipped and counted. NULL with errno ENOMEM only.
 */
struct perfmap *perfmap__parse(const char *buf, size_t len);
/* Read and parse the regular file at path (at most GUARD_PERFMAP_MAX of it), never blocking.
 * NULL with errno set (EINVAL: not a regular file). */
struct perfmap *perfmap__load(const char *path);
/* The symbol holding addr; where entries overlap, the one written last (a JIT reusing memory). */
const struct perfmap_sym *perfmap__find(const struct perfmap *pm, uint64_t addr);
size_t perfmap__count(const struct perfmap *pm);
size_t perfmap__skipped(const struct perfmap *pm);
void perfmap__free(struct perfmap *pm);

#endif /* __PERFMAP_H */
