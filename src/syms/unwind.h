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

struct unwind_fds {
	int rows;  /* uw_rows: ARRAY of struct lt_uw_row */
	int procs; /* uw_procs: pid -> struct lt_uw_proc */
	int gen;   /* uw_gen: pid -> executable file mappings made */
	uint32_t max_rows;
};

struct unwind *unwind__new(const struct unwind_fds *fds, bool verbose);
/* Read pid's executable mappings, build the tables of objects not seen yet, give them to BPF. */
int unwind__update(struct unwind *u, pid_t pid);
/* Whether pid mapped a file executable since *seen (updated); cheap: one map lookup. */
bool unwind__changed(struct unwind *u, pid_t pid, uint64_t *seen);
void unwind__forget(struct unwind *u, pid_t pid);
/* -v: table memory and the walk's counters. */
void unwind__print(const struct unwind *u, const uint64_t st[LT_UW_ST_MAX], FILE *out);
void unwind__free(struct unwind *u);

#endif /* __UNWIND_H */
