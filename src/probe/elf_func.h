/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Find a function by name in an ELF file: its file offset and first code bytes. */
#ifndef __ELF_FUNC_H
#define __ELF_FUNC_H

#include <stdint.h>
#include <stddef.h>

#define ELF_FUNC_CODE 32

struct elf_func {
	uint64_t vaddr;
	uint64_t size;
	uint64_t file_off;
	uint8_t code[ELF_FUNC_CODE];
	size_t code_len;
};

struct elf_funcs;

/* Open an ELF file for lookups; NULL with errno set (ENOEXEC: not a valid ELF, or not a regular
 * file; EFBIG: over GUARD_ELF_MAX). */
struct elf_funcs *elf_funcs__open(const char *path);
/* 0 and *out filled, -ENOENT when the file does not define name as a function. */
int elf_funcs__find(struct elf_funcs *ef, const char *name, struct elf_func *out);
void elf_funcs__close(struct elf_funcs *ef);

#endif /* __ELF_FUNC_H */
