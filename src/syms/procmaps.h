/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Parsing of /proc/PID/maps lines. */
#ifndef __PROCMAPS_H
#define __PROCMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct procmaps_entry {
	uint64_t start;
	uint64_t end;
	uint64_t pgoff;
	uint64_t inode;
	unsigned int dev_major;
	unsigned int dev_minor;
	char perms[5];
	const char *path; /* points into the parsed line; NULL for an anonymous mapping */
	bool deleted;	  /* path ended in " (deleted)" (kept in path) */
};

/* Parse one maps line in place (the trailing newline is cut). Returns 0 or -EINVAL. */
int procmaps__parse_line(char *line, struct procmaps_entry *e);

/*
 * fn for each mapping of pid in /proc/PID/maps, lines that do not parse passed over, until fn
 * returns non-zero. 0, fn's non-zero return, or negative errno (-ENOENT: no such process).
 */
int procmaps__for_each(pid_t pid, int (*fn)(const struct procmaps_entry *e, void *ctx), void *ctx);

#endif /* __PROCMAPS_H */
