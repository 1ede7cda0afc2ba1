// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "escape.h"
#include "report.h"

/* Names come from the target's files: escaped, so a frame cannot drive the terminal. */
static void print_frame(FILE *out, const struct sym_frame *fr)
{
	fputs("\t\t", out);
	if (fr->script) {
		/* func (file.py:line): the form Python's own tracebacks make familiar */
		escape__fputs(fr->name ? fr->name : "[python]", out);
		fputs(" (", out);
		escape__fputs(fr->file ? fr->file : "?", out);
		fprintf(out, ":%d)\n", fr->line);
		return;
	}
	if (fr->name)
		escape__fputs(fr->name, out);
	if (fr->name && !fr->inlined)
		fprintf(out, "+0x%" PRIx64, fr->offset);
	else if (!fr->name)
		fprintf(out, "0x%" PRIx64, fr->addr);
	/* Pseudo-mappings are bracketed already: "[anon]", "[vdso]". */
	fputs(fr->module && fr->module[0] == '[' ? " " : " [", out);
	escape__fputs(fr->module ? fr->module : "unknown", out);
	if (!fr->module || fr->module[0] != '[')
		fputc(']', out);
	if (fr->file) {
		fputs(" (", out);
		escape__fputs(fr->file, out);
		fprintf(out, ":%d)", fr->line);
	}
	if (fr->inlined)
		fputs(" [inlined]", out);
	fputc('\n', out);
}

/* 1536 -> "1.5 KiB"; plain bytes below 1 KiB */
static const char *human(char *buf, size_t sz, double v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double a = v < 0 ? -v : v;
	int u = 0;

	while (a >= 1024 && u < 4) {
		a /= 1024;
		v /= 1024;
		u++;
	}
	if (u)
		snprintf(buf, sz, "%.1f %s", v, units[u]);
	else
		snprintf(buf, sz, "%.0f B", v);
	return buf;
}

/*
 * RSS against the traced live heap: RSS that grows or stays high while the heap does not is
 * memory the allocator holds (retention, fragmentation), not a leak.
 */
static void print_memory(FILE *out, const struct report *r)
{
	int64_t rss_growth = r->rss_anon - r->rss_anon_start;
	int64_t heap = r->total_bytes;
	char a[32], b[32], c[32], d[32];

	if (!r->rss_anon)
		return;
	fprintf(out,
		"\tRSS (anon) %s, %s%s since tracing began (%s%s since the last report); "
		"traced live heap %s",
		human(a, sizeof(a), r->rss_anon), rss_growth >= 0 ? "+" : "",
		human(b, sizeof(b), rss_growth), r->rss_anon >= r->rss_anon_prev ? "+" : "",
		human(c, sizeof(c), (double)r->rss_anon - r->rss_anon_prev),
		human(d, sizeof(d), heap));
	if (r->rss_anon_start)
		fprintf(out, "; RSS includes %s held before tracing began",
			human(a, sizeof(a), r->rss_anon_start));
	fputc('\n', out);
	if (rss_growth > (8 << 20) && rss_growth > 4 * heap && r->tstats.allocs)
		fprintf(out,
			"\tnote: RSS grew %s while the traced live heap is %s: the allocator "
			"holds freed memory (retention or fragmentation); this is not a leak. Try "
			"malloc_trim(0), MALLOC_TRIM_THRESHOLD_ or MALLOC_ARENA_MAX for glibc, or the "
			"allocator's release call (jemalloc arena purge, tcmalloc "
			"ReleaseFreeMemory)\n",
			human(a, sizeof(a), rss_growth), human(b, sizeof(b), heap));
}

/* --reachable: the split of the whole heap, or why there is none; -v: what the scan cost. */
static void print_reach(FILE *out, const struct report *r, const struct report_opts *o)
{
	if (!r->reach_requested)
		return;
	if (!r->reach_done) {
		fprintf(out, "\tnote: %s\n", r->reach_note);
		return;
	}
	fprintf(out,
		"\treachability: unreachable %" PRIu64 " bytes in %.0f allocations; possibly lost "
		"%" PRIu64 " bytes in %.0f allocations; reachable %" PRIu64 " bytes\n",
		r->unreachable_bytes, r->unreachable_count, r->possibly_bytes, r->possibly_count,
		r->total_bytes - r->unreachable_bytes - r->possibly_bytes);
	if (o->verbose)
		fprintf(out,
			"\treachability scan: paused %.1f ms, scanned %" PRIu64
			" bytes (%u threads, "
			"%u writable mappings; %" PRIu64 " bytes unreadable)\n",
			r->reach_pause_ns / 1e6, r->reach_scanned_bytes, r->reach_threads,
			r->reach_mappings, r->reach_unreadable_bytes);
}

/* When recording began, and the calls that were not recorded on their own. */
static void print_counting(FILE *out, const struct report *r)
{
	const uint64_t *b = r->bpf_stats;
	char since[32];
	struct tm tm;

	if (r->kernel || !r->counting_since.tv_sec)
		return;
	localtime_r(&r->counting_since.tv_sec, &tm);
	strftime(since, sizeof(since), "%H:%M:%S", &tm);
	fprintf(out,
		"\tcounting since %s.%03ld; allocator calls: %" PRIu64 " (%" PRIu64
		" nested in another, counted once); healed: %" PRIu64
		" (calls whose return was never seen)\n",
		since, r->counting_since.tv_nsec / 1000000, b[LT_ST_CALLS], b[LT_ST_NESTED],
		b[LT_ST_HEALED]);
}

static void print_stack_line(FILE *out, const struct report *r, const struct report_stack *rs)
{
	char a[32], b[32];

	fprintf(out, "\t%" PRIu64 " bytes in %.0f allocations from stack (%s) %s", rs->bytes,
		rs->count, report__kind_name(r, rs->kind), verdict_names[rs->verdict]);
	if (rs->verdict != VERDICT_NEW)
		fprintf(out, ": %s%s/s over %.0fs, %s%s since last", rs->rate >= 0 ? "+" : "",
			human(a, sizeof(a), rs->rate), rs->window_ms / 1000.0,
			rs->delta_bytes >= 0 ? "+" : "",
			human(b, sizeof(b), (double)rs->delta_bytes));
	fprintf(out, "; oldest %.1fs, median %.1fs; %" PRIu64 " freed",
		(r->now_ms - rs->oldest_ms) / 1000.0, (r->now_ms - rs->median_ms) / 1000.0,
		rs->frees);
	if (rs->internal)
		fprintf(out, " [allocator internal: %s]", rs->internal);
	if (rs->unreachable_bytes)
		fprintf(out, "; unreachable %" PRIu64 " bytes in %.0f allocations",
			rs->unreachable_bytes, rs->unreachable_count);
	if (rs->possibly_bytes)
		fprintf(out, "; possibly lost %" PRIu64 " bytes in %.0f allocations",
			rs->possibly_bytes, rs->possibly_count);
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

int report__text(const struct report *r, FILE *out, const struct report_opts *o)
{
	const uint64_t *b = r->bpf_stats;
	uint32_t i, j, shown = r->top < r->nr_stacks ? r->top : r->nr_stacks;
	char tbuf[32], subject[128], why[256], comm[ESCAPE_SIZE(32)];
	struct report whose = *r;
	struct tm tm;

	localtime_r(&r->wall, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	whose.comm = r->comm ? escape__str(r->comm, comm, sizeof(comm)) : NULL;
	report__subject(&whose, subject, sizeof(subject));
	fprintf(out,
		"[%s] %s%s: %" PRIu64 " bytes in %.0f allocations from %u stacks; "
		"lost: %" PRIu64 " events, %" PRIu64 " stacks, %" PRIu64 " untracked threads, "
		"%" PRIu64 " out of memory; unknown frees: %" PRIu64 ", missed frees: %" PRIu64
		"\n",
		tbuf, subject, r->final ? " final" : "", r->total_bytes, r->total_count,
		r->nr_stacks, b[LT_ST_RINGBUF_DROP], b[LT_ST_STACK_FAIL], b[LT_ST_INFLIGHT_FULL],
		r->oom, r->tstats.unknown_frees, r->tstats.missed_frees);
	if (r->sample_bytes)
		fprintf(out,
			"\tsampling: one record per ~%" PRIu64 " bytes allocated; bytes and "
			"counts are estimates (%" PRIu64 " allocations not recorded, %" PRIu64
			" frees of them not sent, %" PRIu64 " lost: sampled-address map full)\n",
			r->sample_bytes, b[LT_ST_SAMPLED_OUT], b[LT_ST_FREE_UNSAMPLED],
			b[LT_ST_SAMPLED_FULL]);
	if (r->kernel) {
		fprintf(out,
			"\tkernel: %" PRIu64 " allocations recorded, %" PRIu64 " of them freed; "
			"%" PRIu64 " not recorded (live map full), %" PRIu64
			" reallocated before their free was seen; system-wide: %" PRIu64
			" allocation and %" PRIu64 " free tracepoint runs skipped by the kernel "
			"(%" PRIu64 " more free runs recovered)\n",
			b[LT_ST_KALLOCS], b[LT_ST_KFREES], b[LT_ST_KLIVE_FULL], b[LT_ST_KREUSED],
			b[LT_ST_KSKIP_ALLOC], b[LT_ST_KFREE_UNSEEN], b[LT_ST_KFREE_RESCUED]);
		if (b[LT_ST_KFREE_UNSEEN])
			fprintf(out,
				"\tuncertain: %" PRIu64 " frees were not seen: up to so many of "
				"the allocations below may be freed already\n",
				b[LT_ST_KFREE_UNSEEN]);
	}
	if (b[LT_ST_PIDS_FULL])
		fprintf(out,
			"\tfollow: %" PRIu64 " child processes not traced (process map full)\n",
			b[LT_ST_PIDS_FULL]);
	if (r->truncated_stacks)
		fprintf(out,
			"\tunwind: %" PRIu64 " stacks cut at a return address outside code "
			"(marked [truncated])\n",
			r->truncated_stacks);
	if (r->filter && r->filter->baseline_ms)
		fprintf(out, "\tbaseline: allocations of the first %.1fs are not shown\n",
			r->filter->baseline_ms / 1000.0);
	if (r->memory_off)
		shown = 0;
	if (!r->memory_off) {
		print_counting(out, r);
		print_reach(out, r, o);
		print_memory(out, r);
	}
	if (report__tracing_failed(r, why, sizeof(why)))
		fprintf(out, "\tnote: tracing failed: %s\n", why);
	if (!r->memory_off)
		fprintf(out, "Top %u stacks with outstanding allocations:\n", shown);
	for (i = 0; i < shown; i++) {
		const struct report_stack *rs = &r->stacks[i];

		print_stack_line(out, r, rs);
		if (!rs->nr_frames)
			fputs("\t\t[stack not captured]\n", out);
		for (j = 0; j < rs->nr_frames; j++)
			print_frame(out, &rs->frames[j]);
		if (rs->truncated)
			fputs("\t\t[truncated]\n", out);
		if (o->show_allocs) {
			struct allocs_ctx c = {out, r->now_ms};

			report__for_each_alloc(r, rs->stack_id, print_alloc, &c);
		}
	}
	if (r->fds)
		report_text__resources(r->fds, out, o);
	if (r->threads)
		report_text__resources(r->threads, out, o);
	fflush(out);
	return ferror(out) ? -EIO : 0;
}

/* --fds: "37 descriptors from stack (socket AF_INET STREAM)", as memory stacks are shown. */
static void print_resource_line(FILE *out, const struct report *r, const struct report_stack *rs,
				const char *what)
{
	fprintf(out, "\t%.0f %s from stack (%s) %s", rs->count, what,
		report__kind_name(r, rs->kind), verdict_names[rs->verdict]);
	if (rs->verdict != VERDICT_NEW)
		fprintf(out, ": %+.1f/s over %.0fs, %+" PRId64 " since last", rs->rate,
			rs->window_ms / 1000.0, rs->delta_bytes);
	fprintf(out, "; oldest %.1fs, median %.1fs; %" PRIu64 " %s\n",
		(r->now_ms - rs->oldest_ms) / 1000.0, (r->now_ms - rs->median_ms) / 1000.0,
		rs->frees, r->threads_model ? "ended" : "closed");
}

static void print_fd(const struct alloc_rec *rec, bool is_map, void *data)
{
	struct allocs_ctx *c = data;

	(void)is_map;
	fprintf(c->out, "\t\tfd = %" PRIu64 " age = %.1fs\n", rec->addr - 1,
		(c->now_ms - rec->ts_ms) / 1000.0);
}

void report_text__resources(const struct report *r, FILE *out, const struct report_opts *o)
{
	uint32_t i, j, shown = r->top < r->nr_stacks ? r->top : r->nr_stacks;
	char label[ESCAPE_SIZE(256)];
	double alive = 0;

	if (r->threads_model) {
		for (i = 0; i < r->nr_stacks; i++)
			if (r->stacks[i].kind == LT_K_MAX)
				alive += r->stacks[i].count;
		fprintf(out,
			"Threads: %.0f alive, %.0f exited, not joined, from %u stacks; %" PRIu64
			" created, %" PRIu64 " of them ended\n",
			alive, r->total_count - alive, r->nr_stacks, r->opens, r->closes);
		fprintf(out, "Top %u stacks with threads:\n", shown);
		for (i = 0; i < shown; i++) {
			print_resource_line(out, r, &r->stacks[i], "threads");
			for (j = 0; j < r->stacks[i].nr_frames; j++)
				print_frame(out, &r->stacks[i].frames[j]);
			if (!r->stacks[i].nr_frames)
				fputs("\t\t[stack not captured]\n", out);
		}
		return;
	}
	fprintf(out,
		"Descriptors: %.0f open from %u stacks; %" PRIu64 " created, %" PRIu64
		" of them closed; %" PRIu64 " closes of descriptors not seen open; %" PRIu64
		" received, not read\n",
		r->total_count, r->nr_stacks, r->opens, r->closes, r->unknown_closes,
		r->bpf_stats[LT_ST_FDS_UNREAD]);
	if (r->nr_before) {
		fprintf(out, "\t%u open before tracing began:", r->nr_before);
		for (i = 0, j = 0; i < r->nr_kind_labels; i++) {
			if (!r->before_by_kind[i])
				continue;
			fprintf(out, "%s %u %s", j++ ? "," : "", r->before_by_kind[i],
				escape__str(r->kind_labels[i], label, sizeof(label)));
		}
		fputc('\n', out);
	}
	fprintf(out, "Top %u stacks with open descriptors:\n", shown);
	for (i = 0; i < shown; i++) {
		const struct report_stack *rs = &r->stacks[i];

		print_resource_line(out, r, rs, "descriptors");
		if (!rs->nr_frames)
			fputs("\t\t[stack not captured]\n", out);
		for (j = 0; j < rs->nr_frames; j++)
			print_frame(out, &rs->frames[j]);
		if (o->show_allocs) {
			struct allocs_ctx c = {out, r->now_ms};

			report__for_each_alloc(r, rs->stack_id, print_fd, &c);
		}
	}
}
