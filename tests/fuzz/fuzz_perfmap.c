// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fuzz target: /tmp/perf-PID.map text (JIT symbols), parsed and then looked up. */
#include <stdint.h>
#include <stdlib.h>

#include "perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct perfmap_sym *s;
	struct perfmap *pm;
	uint64_t addr = 0;
	size_t i;

	pm = perfmap__parse((const char *)data, size);
	if (!pm)
		return 0;
	/* look up addresses taken from the input, and the edges of the space */
	for (i = 0; i + 8 <= size && i < 64; i += 8) {
		addr = (uint64_t)data[i] << 40 | (uint64_t)data[i + 1] << 8 | data[i + 2];
		s = perfmap__find(pm, addr);
		if (s && (addr < s->start || addr >= s->end || !s->name))
			abort();
	}
	perfmap__find(pm, 0);
	perfmap__find(pm, UINT64_MAX);
	(void)perfmap__count(pm);
	(void)perfmap__skipped(pm);
	perfmap__free(pm);
	return 0;
}
