// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include "report.h"
#include "trace.h"

/* memleak's words ("size = ", "result = ", "address = "), so that its users' greps still match */
void trace__event(FILE *out, const struct lt_event *e)
{
	const char *kind = e->kind < LT_K_MAX ? lt_kind_names[e->kind] : "kernel";
	double ts = e->ts_ns / 1e9;

	switch (e->type) {
	case LT_EV_ALLOC:
		if (e->old_addr)
			fprintf(out, "%.6f free pid %u tid %u (%s) address = 0x%" PRIx64 "\n", ts,
				e->pid, e->tid, kind, (uint64_t)e->old_addr);
		fprintf(out,
			"%.6f alloc pid %u tid %u (%s) size = %" PRIu64 ", result = 0x%" PRIx64
			", %u frames\n",
			ts, e->pid, e->tid, kind, (uint64_t)e->size, (uint64_t)e->addr,
			e->nr_frames);
		break;
	case LT_EV_FREE:
		fprintf(out, "%.6f free pid %u tid %u (%s) address = 0x%" PRIx64 "\n", ts, e->pid,
			e->tid, kind, (uint64_t)e->addr);
		break;
	case LT_EV_MUNMAP:
		fprintf(out,
			"%.6f free pid %u tid %u (%s) address = 0x%" PRIx64 ", size = %" PRIu64, ts,
			e->pid, e->tid, e->kind == LT_K_MREMAP ? "mremap" : "munmap",
			(uint64_t)e->addr, (uint64_t)e->size);
		if (e->kind == LT_K_MREMAP)
			fprintf(out, ", now 0x%" PRIx64 " size = %" PRIu64, (uint64_t)e->old_addr,
				(uint64_t)e->sp_word);
		fputc('\n', out);
		break;
	default:
		break;
	}
}
