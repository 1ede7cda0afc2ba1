/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Source lines and inlined-call expansion from DWARF (libdw). */
#ifndef __DWARF_LINES_H
#define __DWARF_LINES_H

#include <stdint.h>
#include <elfutils/libdw.h>

struct dwarf_frame {
	const char *func; /* linkage (possibly mangled) or plain name; NULL when unknown */
	const char *file; /* owned by the Dwarf handle */
	int line;
	uint64_t entry; /* entry address of the function, 0 when unknown */
};

/* Per-Dwarf index of function and inlined-instance ranges, built one CU at a time. */
struct dwarf_lines;

struct guard;

/* dw stays owned by the caller and must outlive the index. NULL with errno ENOMEM, or EINVAL
 * when dw's string sections would let libdw read past their end. */
struct dwarf_lines *dwarf_lines__new(Dwarf *dw);
/* Stop building indexes (lookups find no function) once g trips; g must outlive dl. */
void dwarf_lines__set_guard(struct dwarf_lines *dl, struct guard *g);
/*
 * Describe vaddr (an address in the ELF file's own address space): out[0] is the innermost
 * inlined function with the line of vaddr, each following entry the caller with the line of
 * the call site, the last the containing (out-of-line) function. Returns the number of entries
 * filled (0 when vaddr has no line information), never more than max.
 */
int dwarf_lines__lookup(struct dwarf_lines *dl, uint64_t vaddr, struct dwarf_frame *out, int max);
void dwarf_lines__free(struct dwarf_lines *dl);

#endif /* __DWARF_LINES_H */
