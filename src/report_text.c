// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "report.h"
#include "stacks.h"
#include "syms.h"

#define MAX_INLINE 8

static void print_frame(FILE *out, struct syms *syms, uint64_t addr)
{
	struct sym_frame fr[MAX_INLINE];
	int n, i;

	if (!syms) {
		fprintf(out, "\t\t0x%" PRIx64 " [unknown]\n", addr);
		return;
	}
	n = syms__resolve(syms, addr, true, fr, MAX_INLINE);
	for (i = 0; i < n; i++) {
		fputs("\t\t", out);
		if (fr[i].name && fr[i].inlined)
			fputs(fr[i].name, out);
		else if (fr[i].name)
			fprintf(out, "%s+0x%" PRIx64, fr[i].name, fr[i].offset);
		else
			fprintf(out, "0x%" PRIx64, addr);
		fprintf(out, " [%s]", fr[i].module ? fr[i].module : "unknown");
		if (fr[i].file)
			fprintf(out, " (%s:%d)", fr[i].file, fr[i].line);
		if (fr[i].inlined)
			fputs(" [inlined]", out);
		fputc('\n', out);
	}
}

struct allocs_ctx {
	FILE *out;
	uint32_t stack_id;
	const struct report_filter *f;
	uint64_t now_ms;
};

static void print_alloc(const struct alloc_rec *rec, bool is_map, void *data)
{
	struct allocs_ctx *c = data;

	if (rec->stack_id != c->stack_id || rec->size < c->f->min_size ||
	    rec->size > c->f->max_size)
		return;
	if (c->f->older_ms && c->now_ms - rec->ts_ms < c->f->older_ms)
		return;
	fprintf(c->out, "\t\taddr = 0x%" PRIx64 " size = %" PRIu64 " age = %.1fs%s\n", rec->addr,
		rec->size, (c->now_ms - rec->ts_ms) / 1000.0, is_map ? " (mapping)" : "");
}

int report__text(const struct report *r, FILE *out, const struct stacks *st, struct syms *syms,
		 const struct text_opts *o)
{
	const uint64_t *b = r->bpf_stats;
	char tbuf[32];
	struct tm tm;
	uint32_t i, j;

	localtime_r(&r->wall, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	fprintf(out,
		"[%s] pid %d (%s)%s: %" PRIu64 " bytes in %.0f allocations from %u stacks; "
		"lost: %" PRIu64 " events, %" PRIu64 " stacks, %" PRIu64 " untracked threads, "
		"%" PRIu64 " out of memory; unknown frees: %" PRIu64 ", missed frees: %" PRIu64
		"\n",
		tbuf, r->pid, r->comm ? r->comm : "?", r->final ? " final" : "", r->total_bytes,
		r->total_count, r->nr_stacks, b[LT_ST_RINGBUF_DROP], b[LT_ST_STACK_FAIL],
		b[LT_ST_INFLIGHT_FULL], r->oom, r->tstats.unknown_frees, r->tstats.missed_frees);
	if (r->sample_bytes)
		fprintf(out,
			"\tsampling: one record per ~%" PRIu64 " bytes allocated; bytes and "
			"counts are estimates (%" PRIu64 " allocations not recorded, %" PRIu64
			" frees of them not sent, %" PRIu64 " lost: sampled-address map full)\n",
			r->sample_bytes, b[LT_ST_SAMPLED_OUT], b[LT_ST_FREE_UNSAMPLED],
			b[LT_ST_SAMPLED_FULL]);
	fprintf(out, "Top %u stacks with outstanding allocations:\n",
		o->top < r->nr_stacks ? o->top : r->nr_stacks);
	for (i = 0; i < r->nr_stacks && i < o->top; i++) {
		const struct report_stack *rs = &r->stacks[i];
		const struct stack *s = stacks__get(st, rs->stack_id);

		fprintf(out,
			"\t%" PRIu64 " bytes in %.0f allocations from stack (%s, oldest %.1fs)\n",
			rs->bytes, rs->count, lt_kind_names[rs->kind],
			(r->now_ms - rs->oldest_ms) / 1000.0);
		if (!s->nr_frames)
			fputs("\t\t[stack not captured]\n", out);
		for (j = 0; j < s->nr_frames; j++)
			print_frame(out, syms, s->frames[j]);
		if (o->show_allocs && o->tracker) {
			struct allocs_ctx c = {out, rs->stack_id, o->filter, r->now_ms};

			tracker__for_each(o->tracker, print_alloc, &c);
		}
	}
	fflush(out);
	return ferror(out) ? -EIO : 0;
}
