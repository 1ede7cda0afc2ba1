/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Function symbols of ELF files (.symtab/.dynsym), sorted for address lookup. */
#ifndef __ELF_SYMTAB_H
#define __ELF_SYMTAB_H

#include <stddef.h>
#include <stdint.h>
#include <libelf.h>

struct elf_sym {
	uint64_t addr;	  /* st_value */
	uint64_t size;	  /* st_size, or the extent up to the next symbol/section end */
	const char *name; /* points into the string table of the Elf it came from */
	char *demangled;  /* cached by the user of the table, freed with it */
};

struct elf_symtab;

struct guard;

struct elf_symtab *elf_symtab__new(void);
/* elf_symtab__add() gives up with -ETIME once g trips; g must outlive the adds. */
void elf_symtab__set_guard(struct elf_symtab *st, struct guard *g);
/*
 * Add the function symbols of the first section of type sh_type (SHT_SYMTAB or SHT_DYNSYM).
 * Names point into elf, which must outlive the table. Returns the number of symbols added,
 * or a negative errno (-ENOENT when there is no such section).
 */
int elf_symtab__add(struct elf_symtab *st, Elf *elf, uint32_t sh_type);
/* Sort and deduplicate; call once after the last elf_symtab__add(). 0 or -ENOMEM. */
int elf_symtab__finish(struct elf_symtab *st);
/* Symbol containing vaddr, or NULL. */
struct elf_sym *elf_symtab__find(struct elf_symtab *st, uint64_t vaddr);
size_t elf_symtab__count(const struct elf_symtab *st);
void elf_symtab__free(struct elf_symtab *st);

#endif /* __ELF_SYMTAB_H */
