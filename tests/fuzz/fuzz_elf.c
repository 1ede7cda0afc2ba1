// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fuzz target: an ELF file as the symbolizer reads one a target maps. Symbol tables, build
 * ID, debuglink, program headers, DWARF lines, and the probe-side function lookup.
 */
#define _GNU_SOURCE
#include <gelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <elfutils/libdw.h>

#include "debuginfo.h"
#include "dwarf_lines.h"
#include "elf_func.h"
#include "elf_symtab.h"
#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_symtab(Elf *elf)
{
	struct elf_symtab *st = elf_symtab__new();
	size_t i, n;

	if (!st)
		return;
	elf_symtab__add(st, elf, SHT_SYMTAB);
	elf_symtab__add(st, elf, SHT_DYNSYM);
	if (!elf_symtab__finish(st)) {
		n = elf_symtab__count(st);
		elf_symtab__find(st, 0);
		elf_symtab__find(st, UINT64_MAX);
		for (i = 0; i < 64; i++)
			elf_symtab__find(st, i * 0x40);
		(void)n;
	}
	elf_symtab__free(st);
}

/* As the symbolizer does: sections that would expand past the limits are not handed to libdw. */
static void walk_dwarf(Elf *elf, size_t size)
{
	struct dwarf_frame df[32];
	struct dwarf_lines *dl;
	uint64_t a, dsize;
	Dwarf *dw;

	if (debuginfo__dwarf_size(elf, &dsize) || dsize > GUARD_DWARF_MAX ||
	    dsize > (uint64_t)size * GUARD_DWARF_RATIO)
		return;
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw)
		return;
	dl = dwarf_lines__new(dw);
	if (dl) {
		for (a = 0; a < 0x4000; a += 0x101)
			dwarf_lines__lookup(dl, a, df, 32);
		dwarf_lines__free(dl);
	}
	dwarf_end(dw);
}

/* elf_funcs reads a path: hand it the input through a memfd. */
static void walk_funcs(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"malloc", "free", "main", "_start", ""};
	static int fd = -1;
	struct elf_funcs *ef;
	struct elf_func f;
	char path[64];
	size_t i;

	if (fd < 0)
		fd = memfd_create("fuzz_elf", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ef = elf_funcs__open(path);
	if (!ef)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		elf_funcs__find(ef, names[i], &f);
	elf_funcs__close(ef);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *id;
	const char *name;
	uint32_t crc;
	size_t len, n, i;
	char *buf;
	Elf *elf;

	elf_version(EV_CURRENT);
	/* libelf may write to the image it reads (byte order conversion): give it a copy. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	elf = elf_memory(buf, size);
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		walk_symtab(elf);
		debuginfo__build_id(elf, &id, &len);
		debuginfo__debuglink(elf, &name, &crc);
		if (!elf_getphdrnum(elf, &n)) {
			for (i = 0; i < n; i++) {
				GElf_Phdr ph;

				gelf_getphdr(elf, i, &ph);
			}
		}
		walk_dwarf(elf, size);
	}
	if (elf)
		elf_end(elf);
	free(buf);
	walk_funcs(data, size);
	return 0;
}
