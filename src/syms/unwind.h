/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CFI tables for BPF's user stack walk: each mapped object's table built once (keyed by device
 * and inode, shared by every process that maps it) into the one rows map, and per process the
 * list of its executable mappings with their objects' rows and load bias.
 */
#ifndef __UNWIND_H
#define __UNWIND_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "leaktrace.h"

struct unwind;
struct guard_ctx;

struct unwind_fds {
	int rows;  /* uw_rows: ARRAY of struct lt_uw_row */
	int procs; /* uw_procs: pid -> struct lt_uw_proc */
	int gen;   /* uw_gen: pid -> executable file mappings made, + execs << 32 */
	int files; /* uw_files: struct lt_uw_file_key -> struct lt_uw_file */
	uint32_t max_rows;
};

struct unwind *unwind__new(const struct unwind_fds *fds, struct guard_ctx *guard, bool verbose);
/* Read pid's executable mappings, build the tables of objects not seen yet, give them to BPF. */
int unwind__update(struct unwind *u, pid_t pid);
/*
 * Build the table of the file at path (one a process will map: a launched command's
 * libraries, before it runs), found by BPF by file. 0 or a negative errno.
 */
int unwind__add_file(struct unwind *u, const char *path);
/* Whether the file at path has its table (or was found to have none). */
bool unwind__known(struct unwind *u, const char *path);
/* Whether pid mapped a file executable since *seen (updated); cheap: one map lookup. */
bool unwind__changed(struct unwind *u, pid_t pid, uint64_t *seen);
void unwind__forget(struct unwind *u, pid_t pid);
/* -v: table memory and the walk's counters. */
void unwind__print(const struct unwind *u, const uint64_t st[LT_UW_ST_MAX], FILE *out);
void unwind__free(struct unwind *u);

#endif /* __UNWIND_H */
