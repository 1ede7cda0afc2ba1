// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One JSON object per report, on one line. The schema is docs/json-schema.md: keep both in step. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "escape.h"
#include "report.h"

#define JSON_SCHEMA_VERSION 1
#define MAX_DEPTH	    16

/* A streaming writer: each field is one call, so adding one to the output is one line. */
struct jw {
	FILE *out;
	int depth;
	bool has_items[MAX_DEPTH];
};

/* Symbol and file names are bytes from ELF files: anything not UTF-8 becomes U+FFFD. */
void json__write_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	if (!str) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	while (*s) {
		if (*s == '"' || *s == '\\') {
			fputc('\\', out);
			fputc(*s++, out);
		} else if (*s == '\n') {
			fputs("\\n", out);
			s++;
		} else if (*s == '\t') {
			fputs("\\t", out);
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(out, "\\u%04x", *s++);
		} else if ((n = escape__utf8_len(s)) > 0) {
			fwrite(s, 1, n, out);
			s += n;
		} else {
			fputs("\\ufffd", out);
			s++;
		}
	}
	fputc('"', out);
}

static void jw_key(struct jw *w, const char *key)
{
	if (w->has_items[w->depth])
		fputc(',', w->out);
	w->has_items[w->depth] = true;
	if (key) {
		json__write_string(w->out, key);
		fputc(':', w->out);
	}
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_key(w, key);
	fputc(c, w->out);
	if (w->depth < MAX_DEPTH - 1)
		w->depth++;
	w->has_items[w->depth] = false;
}

static void jw_object(struct jw *w, const char *key)
{
	jw_open(w, key, '{');
}

static void jw_array(struct jw *w, const char *key)
{
	jw_open(w, key, '[');
}

static void jw_end(struct jw *w, char c)
{
	fputc(c, w->out);
	if (w->depth)
		w->depth--;
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->out, "%" PRIu64, v);
}

static void jw_int(struct jw *w, const char *key, long long v)
{
	jw_key(w, key);
	fprintf(w->out, "%lld", v);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->out);
}

static void jw_str(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	json__write_string(w->out, v);
}

static void jw_hex(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->out, "\"0x%" PRIx64 "\"", v);
}

static void jw_num(struct jw *w, const char *key, double v)
{
	jw_key(w, key);
	fprintf(w->out, "%.1f", v);
}

static void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->out);
}

static void write_frame(struct jw *w, const struct sym_frame *fr)
{
	jw_object(w, NULL);
	jw_hex(w, "address", fr->addr);
	jw_str(w, "symbol", fr->name);
	if (fr->name && !fr->script)
		jw_u64(w, "offset", fr->offset);
	else
		jw_null(w, "offset");
	jw_str(w, "module", fr->module);
	jw_str(w, "path", fr->path);
	jw_str(w, "file", fr->file);
	if (fr->file && fr->line > 0)
		jw_int(w, "line", fr->line);
	else
		jw_null(w, "line");
	jw_bool(w, "inlined", fr->inlined);
	jw_end(w, '}');
}

struct allocs_ctx {
	struct jw *w;
	uint64_t now_ms;
};

static void write_alloc(const struct alloc_rec *rec, bool is_map, void *data)
{
	struct allocs_ctx *c = data;

	jw_object(c->w, NULL);
	jw_hex(c->w, "address", rec->addr);
	jw_u64(c->w, "size", rec->size);
	jw_u64(c->w, "age_ms", c->now_ms - rec->ts_ms);
	jw_bool(c->w, "mapping", is_map);
	jw_end(c->w, '}');
}

static void write_stack(struct jw *w, const struct report *r, const struct report_stack *rs,
			const struct report_opts *o)
{
	uint32_t j;

	jw_object(w, NULL);
	jw_u64(w, "id", rs->stack_id);
	jw_str(w, "kind", report__kind_name(r, rs->kind));
	jw_u64(w, "bytes", rs->bytes);
	jw_u64(w, "count", (uint64_t)(rs->count + 0.5));
	jw_u64(w, "samples", rs->samples);
	jw_u64(w, "oldest_age_ms", r->now_ms - rs->oldest_ms);
	jw_u64(w, "median_age_ms", r->now_ms - rs->median_ms);
	jw_u64(w, "frees", rs->frees);
	jw_int(w, "delta_bytes", rs->delta_bytes);
	jw_num(w, "rate_bytes_per_s", rs->rate);
	jw_u64(w, "window_ms", rs->window_ms);
	jw_str(w, "verdict", verdict_names[rs->verdict]);
	if (rs->internal)
		jw_str(w, "internal", rs->internal);
	else
		jw_null(w, "internal");
	if (r->reach_done) {
		jw_u64(w, "unreachable_bytes", rs->unreachable_bytes);
		jw_u64(w, "unreachable_count", (uint64_t)(rs->unreachable_count + 0.5));
		jw_u64(w, "possibly_bytes", rs->possibly_bytes);
		jw_u64(w, "possibly_count", (uint64_t)(rs->possibly_count + 0.5));
	}
	if (rs->suppressed)
		jw_str(w, "suppressed", rs->suppressed);
	else
		jw_null(w, "suppressed");
	jw_bool(w, "captured", rs->nr_frames > 0);
	jw_bool(w, "truncated", rs->truncated);
	jw_array(w, "frames");
	for (j = 0; j < rs->nr_frames; j++)
		write_frame(w, &rs->frames[j]);
	jw_end(w, ']');
	if (o && o->show_allocs) {
		struct allocs_ctx c = {w, r->now_ms};

		jw_array(w, "allocations");
		report__for_each_alloc(r, rs->stack_id, write_alloc, &c);
		jw_end(w, ']');
	}
	jw_end(w, '}');
}

/* --fds: "descriptors", stacks as memory's (count and bytes: how many), kinds as labels. */
static void write_descriptors(struct jw *w, const struct report *r, const struct report_opts *o)
{
	uint32_t i;

	jw_object(w, "descriptors");
	jw_u64(w, "open", (uint64_t)(r->total_count + 0.5));
	jw_u64(w, "created", r->opens);
	jw_u64(w, "closed", r->closes);
	jw_u64(w, "unknown_closes", r->unknown_closes);
	jw_object(w, "before_tracing");
	jw_u64(w, "open", r->nr_before);
	jw_object(w, "by_kind");
	for (i = 0; i < r->nr_kind_labels; i++)
		if (r->before_by_kind[i])
			jw_u64(w, r->kind_labels[i], r->before_by_kind[i]);
	jw_end(w, '}');
	jw_end(w, '}');
	jw_array(w, "stacks");
	for (i = 0; i < r->nr_stacks; i++)
		write_stack(w, r, &r->stacks[i], o);
	jw_end(w, ']');
	jw_end(w, '}');
}

/* --threads: "threads", stacks as memory's, kind "alive" or "exited, not joined". */
static void write_threads(struct jw *w, const struct report *r)
{
	uint64_t alive = 0;
	uint32_t i;

	for (i = 0; i < r->nr_stacks; i++)
		if (r->stacks[i].kind == LT_K_MAX)
			alive += (uint64_t)(r->stacks[i].count + 0.5);
	jw_object(w, "threads");
	jw_u64(w, "alive", alive);
	jw_u64(w, "unjoined", (uint64_t)(r->total_count + 0.5) - alive);
	jw_u64(w, "created", r->opens);
	jw_u64(w, "ended", r->closes);
	jw_array(w, "stacks");
	for (i = 0; i < r->nr_stacks; i++)
		write_stack(w, r, &r->stacks[i], NULL);
	jw_end(w, ']');
	jw_end(w, '}');
}

/* glibc's thread stacks by whose they are; null where unknown (--threads off). */
static void write_thread_stacks(struct jw *w, const struct report *r)
{
	static const char *const names[] = {"live", "unjoined", "cached"};
	const struct report_tstacks *t = &r->tstacks;
	uint64_t bytes = 0, n = 0;
	char key[32];
	uint32_t i;

	for (i = 0; i < TSTACK_MAX; i++) {
		n += t->n[i];
		bytes += t->bytes[i];
	}
	if (!n)
		return;
	jw_object(w, "thread_stacks");
	jw_u64(w, "mappings", n);
	jw_u64(w, "bytes", bytes);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(key, sizeof(key), "%s_mappings", names[i]);
		if (t->n[TSTACK_UNKNOWN])
			jw_null(w, key);
		else
			jw_u64(w, key, t->n[i]);
		snprintf(key, sizeof(key), "%s_bytes", names[i]);
		if (t->n[TSTACK_UNKNOWN])
			jw_null(w, key);
		else
			jw_u64(w, key, t->bytes[i]);
	}
	jw_end(w, '}');
}

int report__json(const struct report *r, FILE *out, const struct report_opts *o)
{
	struct jw w = {.out = out};
	char tbuf[32], since[48], why[256];
	struct tm tm;
	uint32_t i;

	gmtime_r(&r->wall, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);

	jw_object(&w, NULL);
	jw_u64(&w, "version", JSON_SCHEMA_VERSION);
	jw_str(&w, "timestamp", tbuf);
	jw_int(&w, "time_unix", (long long)r->wall);
	jw_u64(&w, "elapsed_ms", r->now_ms);
	jw_bool(&w, "final", r->final);

	jw_object(&w, "target");
	jw_int(&w, "pid", r->pid);
	jw_str(&w, "comm", r->comm);
	if (r->ppid)
		jw_int(&w, "ppid", r->ppid);
	jw_end(&w, '}');

	jw_object(&w, "totals");
	jw_u64(&w, "bytes", r->total_bytes);
	jw_u64(&w, "count", (uint64_t)(r->total_count + 0.5));
	jw_u64(&w, "stacks", r->nr_stacks);
	jw_end(&w, '}');

	jw_object(&w, "losses");
	jw_object(&w, "bpf");
	for (i = 0; i < LT_ST_MAX; i++)
		jw_u64(&w, lt_stat_names[i], r->bpf_stats[i]);
	jw_end(&w, '}');
	jw_object(&w, "tracker");
	jw_u64(&w, "allocs", r->tstats.allocs);
	jw_u64(&w, "frees", r->tstats.frees);
	jw_u64(&w, "unknown_frees", r->tstats.unknown_frees);
	jw_u64(&w, "missed_frees", r->tstats.missed_frees);
	jw_u64(&w, "untracked_unmaps", r->tstats.untracked_unmaps);
	jw_end(&w, '}');
	jw_u64(&w, "oom", r->oom);
	jw_u64(&w, "truncated_stacks", r->truncated_stacks);
	jw_end(&w, '}');

	if (r->rss_anon) {
		jw_object(&w, "memory");
		jw_u64(&w, "rss_anon", r->rss_anon);
		jw_u64(&w, "rss_anon_start", r->rss_anon_start);
		jw_u64(&w, "live_heap", r->total_bytes);
		jw_end(&w, '}');
	}

	if (!r->kernel && r->counting_since.tv_sec) {
		gmtime_r(&r->counting_since.tv_sec, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(since, sizeof(since), "%s.%03ldZ", tbuf,
			 r->counting_since.tv_nsec / 1000000);
		jw_object(&w, "counting");
		jw_str(&w, "since", since);
		jw_u64(&w, "since_unix_ms",
		       r->counting_since.tv_sec * 1000ULL + r->counting_since.tv_nsec / 1000000);
		jw_end(&w, '}');
	}
	if (report__tracing_failed(r, why, sizeof(why)))
		jw_str(&w, "tracing_failed", why);
	else
		jw_str(&w, "tracing_failed", NULL);

	if (r->reach_requested) {
		jw_object(&w, "reachability");
		jw_bool(&w, "done", r->reach_done);
		jw_str(&w, "note", r->reach_done ? NULL : r->reach_note);
		if (r->reach_done) {
			jw_u64(&w, "unreachable_bytes", r->unreachable_bytes);
			jw_u64(&w, "unreachable_count", (uint64_t)(r->unreachable_count + 0.5));
			jw_u64(&w, "possibly_bytes", r->possibly_bytes);
			jw_u64(&w, "possibly_count", (uint64_t)(r->possibly_count + 0.5));
			jw_u64(&w, "reachable_bytes",
			       r->total_bytes - r->unreachable_bytes - r->possibly_bytes);
			jw_num(&w, "pause_ms", r->reach_pause_ns / 1e6);
			jw_u64(&w, "scanned_bytes", r->reach_scanned_bytes);
			jw_u64(&w, "unreadable_bytes", r->reach_unreadable_bytes);
			jw_u64(&w, "threads", r->reach_threads);
		}
		jw_end(&w, '}');
	}

	jw_object(&w, "sampling");
	jw_bool(&w, "enabled", r->sample_bytes > 0 || r->sample_every > 1);
	jw_u64(&w, "sample_bytes", r->sample_bytes);
	jw_u64(&w, "sample_every", r->sample_every > 1 ? r->sample_every : 0);
	jw_end(&w, '}');

	jw_object(&w, "suppressed");
	jw_u64(&w, "bytes", r->suppressed_bytes);
	jw_u64(&w, "count", (uint64_t)(r->suppressed_count + 0.5));
	jw_u64(&w, "stacks", r->suppressed_stacks);
	jw_u64(&w, "file_rules", r->suppress_file_rules);
	jw_end(&w, '}');

	if (r->final && !r->kernel) {
		/* the end summary; the stacks below are the largest, ranked */
		jw_object(&w, "summary");
		jw_u64(&w, "run_ms", r->now_ms);
		jw_u64(&w, "allocations", r->tstats.allocs);
		jw_u64(&w, "frees", r->tstats.frees);
		jw_u64(&w, "unknown_frees", r->tstats.unknown_frees);
		jw_u64(&w, "peak_live_bytes", r->tstats.peak_live_bytes);
		if (r->peak_rss)
			jw_u64(&w, "peak_rss_bytes", r->peak_rss);
		else
			jw_null(&w, "peak_rss_bytes");
		jw_u64(&w, "temporary", r->tstats.temporary);
		jw_u64(&w, "temporary_ms", TRACKER_TEMPORARY_MS);
		jw_end(&w, '}');
	}

	jw_array(&w, "stacks");
	for (i = 0; i < r->nr_stacks; i++)
		write_stack(&w, r, &r->stacks[i], o);
	jw_end(&w, ']');
	if (!r->memory_off)
		write_thread_stacks(&w, r);
	if (r->fds)
		write_descriptors(&w, r->fds, o);
	if (r->threads)
		write_threads(&w, r->threads);
	jw_end(&w, '}');
	fputc('\n', out);
	fflush(out);
	return ferror(out) ? -EIO : 0;
}
