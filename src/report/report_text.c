// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
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

/* Suppressed stacks rank last: counted on the line under the header, listed after the top. */
static void print_suppressed_count(FILE *out, const struct report *r)
{
	if (!r->suppressed_stacks && !r->suppress_file_rules)
		return;
	fprintf(out,
		"\tsuppressed: %" PRIu64
		" bytes in %.0f allocations from %u stacks (glibc's one-time "
		"allocations and %u --suppress rules), listed after the top stacks\n",
		r->suppressed_bytes, r->suppressed_count, r->suppressed_stacks,
		r->suppress_file_rules);
}

/* One line per suppression, in the order of their largest stack. */
static void print_suppressed(FILE *out, const struct report *r)
{
	uint32_t i, k, stacks;
	uint64_t bytes;
	double count;

	if (!r->suppressed_stacks)
		return;
	fprintf(out, "Suppressed (not ranked as leaks):\n");
	for (i = 0; i < r->nr_stacks; i++) {
		const char *label = r->stacks[i].suppressed;

		if (!label)
			continue;
		for (k = 0; k < i; k++)
			if (r->stacks[k].suppressed && !strcmp(r->stacks[k].suppressed, label))
				break;
		if (k < i)
			continue; /* listed already */
		bytes = 0;
		count = 0;
		stacks = 0;
		for (k = i; k < r->nr_stacks; k++) {
			if (!r->stacks[k].suppressed || strcmp(r->stacks[k].suppressed, label))
				continue;
			bytes += r->stacks[k].bytes;
			count += r->stacks[k].count;
			stacks++;
		}
		fprintf(out,
			"\tsuppressed: %" PRIu64
			" bytes in %.0f allocations from %u stacks: %s%s\n",
			bytes, count, stacks, label,
			r->stacks[i].suppressed_builtin ? " (built in)" : " (--suppress)");
	}
}

/* The allocation site: the first frame outside the C library and the loader. */
static const struct sym_frame *site_frame(const struct report_stack *rs)
{
	uint32_t i;

	for (i = 0; i < rs->nr_frames; i++) {
		const char *m = rs->frames[i].module;

		if (!m || (strncmp(m, "libc.so", 7) && strncmp(m, "ld-linux", 8)))
			return &rs->frames[i];
	}
	return &rs->frames[0];
}

/*
 * glibc's thread stacks: an exited thread's stays mapped until it is joined (a leak), a joined
 * or detached one's is kept for reuse (a cache of up to 40 MiB); --threads tells which.
 */
static void print_thread_stacks(FILE *out, const struct report *r)
{
	const struct report_tstacks *t = &r->tstacks;
	uint64_t bytes = 0;
	uint32_t i, n = 0;

	for (i = 0; i < TSTACK_MAX; i++) {
		n += t->n[i];
		bytes += t->bytes[i];
	}
	if (!n)
		return;
	fprintf(out, "Thread stacks (glibc): %u %smappings, %" PRIu64 " bytes: ", n,
		r->sample_bytes || r->sample_every > 1 ? "sampled " : "", bytes);
	if (t->n[TSTACK_UNKNOWN]) {
		fputs("live threads', cached for reuse (glibc keeps up to 40 MiB) or held by exited "
		      "threads never joined (a leak) cannot be told apart without --threads\n",
		      out);
		return;
	}
	fprintf(out,
		"%u of live threads (%" PRIu64
		" bytes), %u held by exited threads not joined (%" PRIu64
		" bytes: a leak until joined), %u cached for reuse (%" PRIu64
		" bytes: glibc keeps up to 40 MiB)\n",
		t->n[TSTACK_LIVE], t->bytes[TSTACK_LIVE], t->n[TSTACK_UNJOINED],
		t->bytes[TSTACK_UNJOINED], t->n[TSTACK_CACHED], t->bytes[TSTACK_CACHED]);
}

/* At exit, what heaptrack prints: the run in numbers, and where the memory stayed. */
static void print_summary(FILE *out, const struct report *r)
{
	const struct tracker_stats *t = &r->tstats;
	char a[32], b[32], subject[128], name[256], esc[ESCAPE_SIZE(256)], comm[ESCAPE_SIZE(32)];
	struct report whose = *r;
	uint32_t i, n = 0;

	if (!r->final || r->kernel)
		return;
	/* names the target chose are escaped, as in the header and the stacks */
	whose.comm = r->comm ? escape__str(r->comm, comm, sizeof(comm)) : NULL;
	report__subject(&whose, subject, sizeof(subject));
	fprintf(out, "Summary of %s at exit:\n", subject);
	fprintf(out,
		"\trun time %.1fs; %" PRIu64 " allocations, %" PRIu64 " frees (and %" PRIu64
		" frees of memory allocated before tracing)%s\n",
		r->now_ms / 1000.0, t->allocs, t->frees, t->unknown_frees,
		r->sample_bytes || r->sample_every > 1 ? " (sampled records)" : "");
	fprintf(out, "\tpeak live heap %s (traced blocks and mappings); peak RSS %s\n",
		human(a, sizeof(a), t->peak_live_bytes),
		r->peak_rss ? human(b, sizeof(b), r->peak_rss) : "unknown (exited unseen)");
	fprintf(out,
		"\ttemporary allocations %" PRIu64 " (freed within %d ms of their allocation), "
		"%.1f%% of allocations\n",
		t->temporary, TRACKER_TEMPORARY_MS,
		t->allocs ? 100.0 * t->temporary / t->allocs : 0.0);
	fputs("\tlargest stacks:", out);
	for (i = 0; i < r->nr_stacks && n < 5; i++) {
		const struct report_stack *rs = &r->stacks[i];

		/* the ranked ones this report resolved */
		if (rs->suppressed || rs->internal || (!rs->frames && i >= r->top))
			continue;
		fprintf(out, "%s %s %s in %.0f", n ? "," : "",
			rs->nr_frames ? escape__str(report__frame_name(site_frame(rs), name,
								       sizeof(name)),
						    esc, sizeof(esc))
				      : "[stack not captured]",
			human(a, sizeof(a), rs->bytes), rs->count);
		n++;
	}
	fputs(n ? "\n" : " none\n", out);
}

/*
 * At a terminal the header names only the counters that are not zero, and says "no losses"
 * when none is; a file or pipe (scripts, tests/lib.sh's header_stat) and -v get every counter.
 */
static bool compact_header(FILE *out, const struct report_opts *o)
{
	return !o->full_header && isatty(fileno(out));
}

static void print_compact_header(FILE *out, const struct report *r, const char *tbuf,
				 const char *subject)
{
	const uint64_t *b = r->bpf_stats;
	const struct {
		const char *fmt;
		uint64_t v;
	} lost[] = {
		{"%" PRIu64 " events", b[LT_ST_RINGBUF_DROP]},
		{"%" PRIu64 " stacks", b[LT_ST_STACK_FAIL]},
		{"%" PRIu64 " untracked threads", b[LT_ST_INFLIGHT_FULL]},
		{"%" PRIu64 " events skipped by the kernel", b[LT_ST_KEVENT_SKIPPED]},
		{"%" PRIu64 " out of memory", r->oom},
	};
	size_t i;
	int n = 0;

	fprintf(out, "[%s] %s%s: %" PRIu64 " bytes in %.0f allocations from %u stacks; ", tbuf,
		subject, r->final ? " final" : "", r->total_bytes, r->total_count, r->nr_stacks);
	for (i = 0; i < sizeof(lost) / sizeof(lost[0]); i++) {
		if (!lost[i].v)
			continue;
		fputs(n++ ? ", " : "lost: ", out);
		fprintf(out, lost[i].fmt, lost[i].v);
	}
	if (r->tstats.missed_frees)
		fprintf(out, "%smissed frees: %" PRIu64, n++ ? "; " : "", r->tstats.missed_frees);
	if (!n)
		fputs("no losses", out);
	if (r->tstats.unknown_frees)
		fprintf(out, "; unknown frees: %" PRIu64, r->tstats.unknown_frees);
	fputc('\n', out);
}

int report__text(const struct report *r, FILE *out, const struct report_opts *o)
{
	const uint64_t *b = r->bpf_stats;
	uint32_t i, j,
		shown = r->top < r->nr_stacks - r->suppressed_stacks
				? r->top
				: r->nr_stacks - r->suppressed_stacks;
	char tbuf[32], subject[128], why[256], comm[ESCAPE_SIZE(32)];
	struct report whose = *r;
	struct tm tm;

	localtime_r(&r->wall, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	whose.comm = r->comm ? escape__str(r->comm, comm, sizeof(comm)) : NULL;
	report__subject(&whose, subject, sizeof(subject));
	if (compact_header(out, o))
		print_compact_header(out, r, tbuf, subject);
	else
		fprintf(out,
			"[%s] %s%s: %" PRIu64 " bytes in %.0f allocations from %u stacks; "
			"lost: %" PRIu64 " events, %" PRIu64 " stacks, %" PRIu64
			" untracked threads, "
			"%" PRIu64 " out of memory; unknown frees: %" PRIu64
			", missed frees: %" PRIu64 "\n",
			tbuf, subject, r->final ? " final" : "", r->total_bytes, r->total_count,
			r->nr_stacks, b[LT_ST_RINGBUF_DROP], b[LT_ST_STACK_FAIL],
			b[LT_ST_INFLIGHT_FULL], r->oom, r->tstats.unknown_frees,
			r->tstats.missed_frees);
	print_suppressed_count(out, r);
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
			"(%" PRIu64 " more free runs recovered); %" PRIu64
			" stacks from the call-site cache, %" PRIu64 " sites walked every time\n",
			b[LT_ST_KALLOCS], b[LT_ST_KFREES], b[LT_ST_KLIVE_FULL], b[LT_ST_KREUSED],
			b[LT_ST_KSKIP_ALLOC], b[LT_ST_KFREE_UNSEEN], b[LT_ST_KFREE_RESCUED],
			b[LT_ST_KSTACK_CACHED], b[LT_ST_KSITE_AMBIGUOUS]);
		if (b[LT_ST_KEVENT_SKIPPED])
			fprintf(out,
				"\tlost: %" PRIu64 " events whose program the kernel skipped (it "
				"was running on that CPU already)\n",
				b[LT_ST_KEVENT_SKIPPED]);
		if (b[LT_ST_KFREE_UNSEEN])
			fprintf(out,
				"\tuncertain: %" PRIu64 " frees were not seen: up to so many of "
				"the allocations below may be freed already\n",
				b[LT_ST_KFREE_UNSEEN]);
	}
	if (r->sample_every > 1)
		fprintf(out,
			"\tsampling: one allocation in %u recorded (-s); bytes and counts are "
			"estimates (%" PRIu64 " allocations not recorded, %" PRIu64
			" frees of them not sent, %" PRIu64 " lost: sampled-address map full)\n",
			r->sample_every, b[LT_ST_SAMPLED_OUT], b[LT_ST_FREE_UNSAMPLED],
			b[LT_ST_SAMPLED_FULL]);
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
	if (!r->memory_off)
		print_thread_stacks(out, r);
	if (r->fds)
		report_text__resources(r->fds, out, o);
	if (r->threads)
		report_text__resources(r->threads, out, o);
	print_suppressed(out, r);
	print_summary(out, r);
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
