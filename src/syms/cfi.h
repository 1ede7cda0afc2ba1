/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An object's .eh_frame CFI (and its separate debug file's .debug_frame, for the code .eh_frame
 * leaves out: C built with -fno-asynchronous-unwind-tables -g, its debug info split off) turned
 * into a compact table sorted by PC (struct lt_uw_row, the form BPF walks): for each range, where
 * the CFA is (rsp or rbp plus an offset, the PLT rule, a signal frame, the outermost frame, or
 * "walk this one by frame pointer") and where rbp was saved. The return address is always at CFA -
 * 8 on x86-64.
 */
#ifndef __CFI_H
#define __CFI_H

#include <stddef.h>
#include <stdint.h>
#include <gelf.h>
#include "leaktrace.h"

struct guard;

struct cfi_table {
	struct lt_uw_row *rows;
	uint32_t nr;
	uint32_t nr_expr;  /* rows whose rule libdw gave as an expression we do not run */
	uint32_t nr_debug; /* rows from the debug file's .debug_frame */
};

/* Most rows one object may have (libxul-sized objects have a few million). */
#define CFI_MAX_ROWS (4U << 20)

/*
 * Build elf's table, from .eh_frame and, where it has no FDE, from debug's .debug_frame (debug:
 * the separate debug file, or NULL); 0, or a negative errno with why set (-ENOENT: no
 * .eh_frame_hdr and no .debug_frame, -E2BIG: over CFI_MAX_ROWS or the time budget, -EINVAL:
 * CFI that does not parse). budget_ns: 0 for none.
 */
int cfi__build(Elf *elf, Elf *debug, struct cfi_table *t, uint64_t budget_ns, const char **why);
/*
 * The same for the object at path (elf): its separate debug file (build ID, .gnu_debuglink;
 * src/syms/debuginfo.c) is read only when .eh_frame leaves over a tenth of its code out. g
 * bounds the time (its deadline) and ends the search for the debug file at a stop (a hostile
 * debuglink's CRC would read the whole file).
 */
int cfi__build_file(Elf *elf, const char *path, struct cfi_table *t, struct guard *g,
		    const char **why);
void cfi__free(struct cfi_table *t);

#endif /* __CFI_H */
