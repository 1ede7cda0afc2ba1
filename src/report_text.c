// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "report.h"

static void print_frame(FILE *out, const struct sym_frame *fr)
{
	fputs("\t\t", out);
	if (fr->name && fr->inlined)
		fputs(fr->name, out);
	else if (fr->name)
		fprintf(out, "%s+0x%" PRIx64, fr->name, fr->offset);
	else
		fprintf(out, "0x%" PRIx64, fr->addr);
	fprintf(out, " [%s]", fr->module ? fr->module : "unknown");
	if (fr->file)
		fprintf(out, " (%s:%d)", fr->file, fr->line);
	if (fr->inlined)
		fputs(" [inlined]", out);
	fputc('\n', out);
}

struct allocs_ctx {
	FILE *out;
	uint64_t now_ms;
};

static void print_alloc(const struct alloc_rec *rec, bool is_map, void *data)
{
	struct allocs_ctx *c = data;

	fprintf(c->out, "\t\taddr = 0x%" PRIx64 " size = %" PRIu64 " age = %.1fs%s\n", rec->addr,
		rec->size, (c->now_ms - rec->ts_ms) / 1000.0, is_map ? " (mapping)" : "");
}

int report__text(const struct report *r, FILE *out, const struct text_opts *o)
{
	const uint64_t *b = r->bpf_stats;
	uint32_t i, j, shown = r->top < r->nr_stacks ? r->top : r->nr_stacks;
	char tbuf[32], subject[64];
	struct tm tm;

	localtime_r(&r->wall, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	report__subject(r, subject, sizeof(subject));
	fprintf(out,
		"[%s] %s%s: %" PRIu64 " bytes in %.0f allocations from %u stacks; "
		"lost: %" PRIu64 " events, %" PRIu64 " stacks, %" PRIu64 " untracked threads, "
		"%" PRIu64 " out of memory; unknown frees: %" PRIu64 ", missed frees: %" PRIu64
		"\n",
		tbuf, subject, r->final ? " final" : "", r->total_bytes,
		r->total_count, r->nr_stacks, b[LT_ST_RINGBUF_DROP], b[LT_ST_STACK_FAIL],
		b[LT_ST_INFLIGHT_FULL], r->oom, r->tstats.unknown_frees, r->tstats.missed_frees);
	if (r->sample_bytes)
		fprintf(out,
			"\tsampling: one record per ~%" PRIu64 " bytes allocated; bytes and "
			"counts are estimates (%" PRIu64 " allocations not recorded)\n",
			r->sample_bytes, b[LT_ST_SAMPLED_OUT]);
	fprintf(out, "Top %u stacks with outstanding allocations:\n", shown);
	for (i = 0; i < shown; i++) {
		const struct report_stack *rs = &r->stacks[i];

		fprintf(out,
			"\t%" PRIu64 " bytes in %.0f allocations from stack (%s, oldest %.1fs)\n",
			rs->bytes, rs->count, report__kind_name(r, rs->kind),
			(r->now_ms - rs->oldest_ms) / 1000.0);
		if (!rs->nr_frames)
			fputs("\t\t[stack not captured]\n", out);
		for (j = 0; j < rs->nr_frames; j++)
			print_frame(out, &rs->frames[j]);
		if (o->show_allocs) {
			struct allocs_ctx c = {out, r->now_ms};

			report__for_each_alloc(r, rs->stack_id, print_alloc, &c);
		}
	}
	fflush(out);
	return ferror(out) ? -EIO : 0;
}
