// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include "report.h"
#include "trace.h"

/* memleak's words ("size = ", "result = ", "address = "), so that its users' greps still match */
void trace__record(FILE *out, const struct lt_rec_hdr *h)
{
	const char *kind = h->kind < LT_K_MAX ? lt_kind_names[h->kind] : "kernel";
	const struct lt_mremap *r = (const void *)h;
	const struct lt_munmap *u = (const void *)h;
	const struct lt_alloc *a = (const void *)h;
	const struct lt_mmap *m = (const void *)h;
	const struct lt_free *f = (const void *)h;
	double ts = h->ts_ns / 1e9;

	switch (h->type) {
	case LT_EV_ALLOC:
		fprintf(out,
			"%.6f alloc pid %u tid %u (%s) size = %" PRIu64 ", result = 0x%" PRIx64
			", %u frames\n",
			ts, h->pid, h->tid, kind, (uint64_t)a->size, (uint64_t)a->addr,
			a->nr_frames);
		break;
	case LT_EV_MMAP:
		fprintf(out,
			"%.6f alloc pid %u tid %u (%s) size = %" PRIu64 ", result = 0x%" PRIx64
			", %u frames\n",
			ts, h->pid, h->tid, kind, (uint64_t)m->size, (uint64_t)m->addr,
			m->nr_frames);
		break;
	case LT_EV_FREE:
		fprintf(out, "%.6f free pid %u tid %u (%s) address = 0x%" PRIx64 "\n", ts, h->pid,
			h->tid, kind, (uint64_t)f->addr);
		break;
	case LT_EV_MUNMAP:
		fprintf(out,
			"%.6f free pid %u tid %u (munmap) address = 0x%" PRIx64 ", size = %" PRIu64
			"\n",
			ts, h->pid, h->tid, (uint64_t)u->addr, (uint64_t)u->size);
		break;
	case LT_EV_MREMAP:
		fprintf(out,
			"%.6f free pid %u tid %u (mremap) address = 0x%" PRIx64 ", size = %" PRIu64
			", now 0x%" PRIx64 " size = %" PRIu64 "\n",
			ts, h->pid, h->tid, (uint64_t)r->old_addr, (uint64_t)r->old_size,
			(uint64_t)r->new_addr, (uint64_t)r->new_size);
		break;
	default:
		break;
	}
}
