// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fuzz target: an ELF file's .eh_frame_hdr and .eh_frame as the CFI table builder reads them
 * for BPF's stack walk. Truncated, looping or huge CFI must give an error or a table, never a
 * crash or a hang; a table's rows must be sorted.
 */
#include <gelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfi_table t;
	const char *why;
	uint32_t i;
	char *buf;
	Elf *elf;

	elf_version(EV_CURRENT);
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	elf = elf_memory(buf, size);
	if (elf && elf_kind(elf) == ELF_K_ELF && !cfi__build(elf, elf, &t, 1000000000ULL, &why)) {
		for (i = 1; i < t.nr; i++)
			if (t.rows[i].pc <= t.rows[i - 1].pc)
				abort();
		cfi__free(&t);
	}
	if (elf)
		elf_end(elf);
	free(buf);
	return 0;
}
