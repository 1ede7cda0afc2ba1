/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>
#include <gelf.h>

#include "dwarf_lines.h"
#include "guard.h"
#include "search.h"

struct func_die {
	Dwarf_Off off;
	int parent; /* index of the enclosing function DIE, -1 at the top */
	int tag;
};

struct func_range {
	uint64_t low;
	uint64_t high;
	int die;
	int depth;
};

/* Function DIEs of one CU: dwarf_getscopes() would walk the whole CU on every lookup. */
struct cu_index {
	Dwarf_Off cu_off;
	struct func_die *dies;
	size_t ndies;
	size_t cap_dies;
	struct func_range *ranges;
	size_t nranges;
	size_t cap_ranges;
};

struct dwarf_lines {
	Dwarf *dw;
	struct guard *guard;   /* may be NULL */
	struct cu_index **cus; /* sorted by cu_off */
	size_t ncus;
	size_t cap;
};

/*
 * libdw hands out strings of .debug_str and .debug_line_str by offset, checked against the
 * section's size but not for a terminating NUL: a section whose last string is cut short is
 * read past its end (strlen in dwarf_getsrclines). One NUL at the end bounds every string.
 */
static bool strings_terminated(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;
		GElf_Shdr shdr;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (!name ||
		    (strcmp(name, ".debug_str") && strcmp(name, ".debug_line_str") &&
		     strcmp(name, ".debug_str.dwo") && strcmp(name, ".debug_line_str.dwo")))
			continue;
		/* The data libdw reads: expanded already when the section was compressed. */
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || !data->d_size)
			continue;
		if (((const char *)data->d_buf)[data->d_size - 1] != '\0')
			return false;
	}
	return true;
}

struct dwarf_lines *dwarf_lines__new(Dwarf *dw)
{
	struct dwarf_lines *dl;

	if (!strings_terminated(dwarf_getelf(dw))) {
		errno = EINVAL;
		return NULL;
	}
	dl = calloc(1, sizeof(*dl));
	if (!dl) {
		errno = ENOMEM;
		return NULL;
	}
	dl->dw = dw;
	return dl;
}

void dwarf_lines__set_guard(struct dwarf_lines *dl, struct guard *g)
{
	dl->guard = g;
}

static void cu_index__free(struct cu_index *cu)
{
	if (!cu)
		return;
	free(cu->dies);
	free(cu->ranges);
	free(cu);
}

void dwarf_lines__free(struct dwarf_lines *dl)
{
	size_t i;

	if (!dl)
		return;
	for (i = 0; i < dl->ncus; i++)
		cu_index__free(dl->cus[i]);
	free(dl->cus);
	free(dl);
}

static int cu_add_die(struct cu_index *cu, Dwarf_Die *die, int parent, int tag, int depth)
{
	Dwarf_Addr base, start, end;
	ptrdiff_t off = 0;
	int idx = -1;

	while ((off = dwarf_ranges(die, off, &base, &start, &end)) > 0) {
		if (start >= end)
			continue;
		if (idx < 0) {
			if (cu->ndies == cu->cap_dies) {
				size_t cap = cu->cap_dies ? cu->cap_dies * 2 : 64;
				struct func_die *d = realloc(cu->dies, cap * sizeof(*d));

				if (!d)
					return -ENOMEM;
				cu->dies = d;
				cu->cap_dies = cap;
			}
			idx = cu->ndies++;
			cu->dies[idx] = (struct func_die){
				.off = dwarf_dieoffset(die),
				.parent = parent,
				.tag = tag,
			};
		}
		if (cu->nranges == cu->cap_ranges) {
			size_t cap = cu->cap_ranges ? cu->cap_ranges * 2 : 64;
			struct func_range *r = realloc(cu->ranges, cap * sizeof(*r));

			if (!r)
				return -ENOMEM;
			cu->ranges = r;
			cu->cap_ranges = cap;
		}
		cu->ranges[cu->nranges++] = (struct func_range){
			.low = start,
			.high = end,
			.die = idx,
			.depth = depth,
		};
	}
	return idx;
}

static int cu_walk(struct cu_index *cu, Dwarf_Die *parent_die, int parent, int depth,
		   struct guard *g)
{
	Dwarf_Die child;
	int res;

	/* Deep nesting is either corrupt or pathological; stop rather than recurse forever. */
	if (depth > 64 || dwarf_child(parent_die, &child) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&child), idx = parent;

		if (g && guard__tripped(g))
			return -ETIME;
		switch (tag) {
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
			idx = cu_add_die(cu, &child, parent, tag, depth);
			if (idx == -ENOMEM)
				return -ENOMEM;
			if (idx < 0)
				idx = parent;
			break;
		case DW_TAG_imported_unit:
		case DW_TAG_base_type:
		case DW_TAG_pointer_type:
		case DW_TAG_typedef:
		case DW_TAG_member:
		case DW_TAG_enumeration_type:
		case DW_TAG_array_type:
		case DW_TAG_formal_parameter:
		case DW_TAG_variable:
			continue;
		default:
			break;
		}
		res = cu_walk(cu, &child, idx, depth + 1, g);
		if (res)
			return res;
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct func_range *x = a, *y = b;

	if (x->low != y->low)
		return x->low < y->low ? -1 : 1;
	/* Deeper (inner) ranges last, so a backward scan meets them first. */
	return x->depth - y->depth;
}

static struct cu_index *dwarf_lines__cu(struct dwarf_lines *dl, Dwarf_Die *cudie)
{
	Dwarf_Off off = dwarf_dieoffset(cudie);
	size_t lo = search__prefix(dl->ncus, i, dl->cus[i]->cu_off < off);
	struct cu_index *cu;

	if (lo < dl->ncus && dl->cus[lo]->cu_off == off)
		return dl->cus[lo];
	if (dl->ncus == dl->cap) {
		size_t cap = dl->cap ? dl->cap * 2 : 16;
		struct cu_index **cus = realloc(dl->cus, cap * sizeof(*cus));

		if (!cus)
			return NULL;
		dl->cus = cus;
		dl->cap = cap;
	}
	cu = calloc(1, sizeof(*cu));
	if (!cu)
		return NULL;
	cu->cu_off = off;
	if (cu_walk(cu, cudie, -1, 0, dl->guard)) {
		cu_index__free(cu);
		return NULL;
	}
	if (cu->nranges)
		qsort(cu->ranges, cu->nranges, sizeof(*cu->ranges), range_cmp);
	memmove(&dl->cus[lo + 1], &dl->cus[lo], (dl->ncus - lo) * sizeof(*dl->cus));
	dl->cus[lo] = cu;
	dl->ncus++;
	return cu;
}

/* Innermost function DIE whose ranges hold vaddr, -1 when none. */
static int cu_index__find(const struct cu_index *cu, uint64_t vaddr)
{
	size_t lo = search__prefix(cu->nranges, i, cu->ranges[i].low <= vaddr);

	while (lo > 0) {
		const struct func_range *r = &cu->ranges[--lo];

		if (vaddr < r->high)
			return r->die;
	}
	return -1;
}

static const char *die_func_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	/* The linkage name carries the C++ signature, which the demangler turns into a name. */
	name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	/* Not dwarf_diename(): older libdw does not follow DW_AT_abstract_origin there. */
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
	return name;
}

static void die_call_site(Dwarf_Die *die, Dwarf_Files *files, size_t nfiles, const char **file,
			  int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word fidx, lno;

	*file = NULL;
	*line = 0;
	if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &lno))
		return;
	*line = (int)lno;
	if (files && !dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &fidx) &&
	    fidx < nfiles)
		*file = dwarf_filesrc(files, fidx, NULL, NULL);
}

int dwarf_lines__lookup(struct dwarf_lines *dl, uint64_t vaddr, struct dwarf_frame *out, int max)
{
	Dwarf_Die cudie, die;
	Dwarf_Files *files = NULL;
	struct cu_index *cu;
	Dwarf_Line *dline;
	size_t nfiles = 0;
	const char *file;
	int idx, n = 0, line = 0, guard;

	if (!dl || max <= 0 || (dl->guard && guard__tripped(dl->guard)) ||
	    !dwarf_addrdie(dl->dw, vaddr, &cudie))
		return 0;
	dline = dwarf_getsrc_die(&cudie, vaddr);
	file = dline ? dwarf_linesrc(dline, NULL, NULL) : NULL;
	if (dline)
		dwarf_lineno(dline, &line);

	cu = dwarf_lines__cu(dl, &cudie);
	idx = cu ? cu_index__find(cu, vaddr) : -1;
	if (idx >= 0 && dwarf_getsrcfiles(&cudie, &files, &nfiles))
		files = NULL;

	for (guard = 0; idx >= 0 && n < max && guard < 256; guard++) {
		const struct func_die *fd = &cu->dies[idx];
		Dwarf_Addr entry = 0;

		if (!dwarf_offdie(dl->dw, fd->off, &die))
			break;
		out[n].func = die_func_name(&die);
		out[n].file = file;
		out[n].line = line;
		out[n].entry = dwarf_entrypc(&die, &entry) ? 0 : entry;
		n++;
		if (fd->tag == DW_TAG_subprogram)
			break;
		/* The caller's frame is at the call site of this inlined instance. */
		die_call_site(&die, files, nfiles, &file, &line);
		idx = fd->parent;
	}

	if (!n && (file || line)) {
		out[0] = (struct dwarf_frame){.file = file, .line = line};
		n = 1;
	}
	return n;
}
