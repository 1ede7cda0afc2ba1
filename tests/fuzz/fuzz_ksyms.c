// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fuzz target: a kallsyms file. */
#include <stdint.h>
#include <string.h>

#include "ksyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ksym *k;
	struct ksyms *ks;
	size_t i, n;

	ks = ksyms__load_mem((const char *)data, size);
	if (!ks)
		return 0;
	n = ksyms__count(ks);
	for (i = 0; i < n; i++) {
		k = ksyms__at(ks, i);
		(void)strlen(k->name);
		if (k->module)
			(void)strlen(k->module);
		if (ksyms__find(ks, k->addr) == NULL)
			__builtin_trap();
	}
	ksyms__find(ks, 0);
	ksyms__find(ks, UINT64_MAX);
	ksyms__get(ks, "alpha");
	ksyms__free(ks);
	return 0;
}
