/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <gelf.h>

#include "elf_symtab.h"
#include "guard.h"
#include "search.h"

/* Symbols carry this flag in a spare bit while their size is only inferred. */
#define SYM_SIZE_INFERRED (1ULL << 63)

struct build_sym {
	struct elf_sym sym;
	unsigned char prio; /* higher wins among symbols at the same address */
};

struct elf_symtab {
	struct elf_sym *syms; /* valid after elf_symtab__finish() */
	size_t cnt;
	struct build_sym *build;
	size_t nbuild;
	size_t cap;
	struct guard *guard; /* may be NULL */
};

struct elf_symtab *elf_symtab__new(void)
{
	return calloc(1, sizeof(struct elf_symtab));
}

void elf_symtab__set_guard(struct elf_symtab *st, struct guard *g)
{
	st->guard = g;
}

size_t elf_symtab__count(const struct elf_symtab *st)
{
	return st->cnt;
}

static int symtab_push(struct elf_symtab *st, uint64_t addr, uint64_t size, const char *name,
		       unsigned char prio)
{
	if (st->nbuild == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 256;
		struct build_sym *b;

		b = realloc(st->build, cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		st->build = b;
		st->cap = cap;
	}
	st->build[st->nbuild++] = (struct build_sym){
		.sym = {.addr = addr, .size = size, .name = name},
		.prio = prio,
	};
	return 0;
}

static bool sym_wanted(const GElf_Sym *sym, const GElf_Shdr *shdrs, size_t nshdrs)
{
	int type = GELF_ST_TYPE(sym->st_info);

	if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= SHN_LORESERVE ||
	    sym->st_shndx >= nshdrs || !sym->st_value)
		return false;
	if (type == STT_FUNC || type == STT_GNU_IFUNC)
		return true;
	/* Hand-written assembly often leaves code symbols untyped. */
	if (type == STT_NOTYPE)
		return shdrs[sym->st_shndx].sh_flags & SHF_EXECINSTR;
	return false;
}

int elf_symtab__add(struct elf_symtab *st, Elf *elf, uint32_t sh_type)
{
	GElf_Shdr *shdrs = NULL;
	Elf_Scn *scn = NULL, *symscn = NULL;
	GElf_Shdr symshdr = {};
	Elf_Data *data;
	size_t nshdrs, i, nsyms;
	int added = 0, err;

	if (elf_getshdrnum(elf, &nshdrs) || !nshdrs)
		return -ENOENT;
	shdrs = calloc(nshdrs, sizeof(*shdrs));
	if (!shdrs)
		return -ENOMEM;
	for (i = 0; (scn = elf_nextscn(elf, scn)) != NULL;) {
		i = elf_ndxscn(scn);
		if (i >= nshdrs || !gelf_getshdr(scn, &shdrs[i]))
			continue;
		if (!symscn && shdrs[i].sh_type == sh_type) {
			symscn = scn;
			symshdr = shdrs[i];
		}
	}
	err = -ENOENT;
	if (!symscn || !symshdr.sh_entsize)
		goto out;
	/* libelf refuses data that lies beyond the end of the file. */
	data = elf_getdata(symscn, NULL);
	err = -EINVAL;
	if (!data || !data->d_buf)
		goto out;
	nsyms = data->d_size / symshdr.sh_entsize;

	for (i = 1; i < nsyms; i++) {
		GElf_Sym sym;
		const char *name;
		uint64_t size, sec_end;
		unsigned char prio;

		if (!(i & 4095) && st->guard && guard__tripped(st->guard)) {
			err = -ETIME;
			goto out;
		}
		if (!gelf_getsym(data, i, &sym) || !sym_wanted(&sym, shdrs, nshdrs))
			continue;
		name = elf_strptr(elf, symshdr.sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		size = sym.st_size;
		if (!size) {
			const GElf_Shdr *sec = &shdrs[sym.st_shndx];

			sec_end = sec->sh_addr + sec->sh_size;
			if (sym.st_value < sec->sh_addr || sym.st_value >= sec_end)
				continue;
			size = (sec_end - sym.st_value) | SYM_SIZE_INFERRED;
		}
		prio = (GELF_ST_BIND(sym.st_info) == STB_GLOBAL ? 4 : 0) +
		       (GELF_ST_BIND(sym.st_info) == STB_WEAK ? 2 : 0) + (sym.st_size ? 8 : 0) +
		       (GELF_ST_TYPE(sym.st_info) != STT_NOTYPE ? 1 : 0);
		err = symtab_push(st, sym.st_value, size, name, prio);
		if (err)
			goto out;
		added++;
	}
	err = added;
out:
	free(shdrs);
	return err;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct build_sym *x = a, *y = b;

	if (x->sym.addr != y->sym.addr)
		return x->sym.addr < y->sym.addr ? -1 : 1;
	/* Best candidate first among symbols at the same address. */
	if (x->prio != y->prio)
		return x->prio > y->prio ? -1 : 1;
	return strcmp(x->sym.name, y->sym.name);
}

int elf_symtab__finish(struct elf_symtab *st)
{
	size_t i, j;

	if (st->syms || !st->nbuild)
		goto out;
	qsort(st->build, st->nbuild, sizeof(*st->build), sym_cmp);
	st->syms = malloc(st->nbuild * sizeof(*st->syms));
	if (!st->syms) {
		free(st->build);
		st->build = NULL;
		return -ENOMEM;
	}
	for (i = 0, j = 0; i < st->nbuild; i++) {
		if (j && st->syms[j - 1].addr == st->build[i].sym.addr)
			continue;
		st->syms[j++] = st->build[i].sym;
	}
	st->cnt = j;
	for (i = 0; i < st->cnt; i++) {
		struct elf_sym *sym = &st->syms[i];

		if (!(sym->size & SYM_SIZE_INFERRED))
			continue;
		sym->size &= ~SYM_SIZE_INFERRED;
		if (i + 1 < st->cnt && st->syms[i + 1].addr - sym->addr < sym->size)
			sym->size = st->syms[i + 1].addr - sym->addr;
	}
out:
	free(st->build);
	st->build = NULL;
	st->nbuild = st->cap = 0;
	return 0;
}

struct elf_sym *elf_symtab__find(struct elf_symtab *st, uint64_t vaddr)
{
	size_t lo = search__prefix(st->cnt, k, st->syms[k].addr <= vaddr), i, n;

	/* lo is the first symbol above vaddr; a few earlier ones may still enclose it. */
	for (i = lo, n = 0; i > 0 && n < 8; i--, n++) {
		struct elf_sym *sym = &st->syms[i - 1];

		if (vaddr - sym->addr < sym->size)
			return sym;
	}
	return NULL;
}

void elf_symtab__free(struct elf_symtab *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < st->cnt; i++)
		free(st->syms[i].demangled);
	free(st->syms);
	free(st->build);
	free(st);
}
