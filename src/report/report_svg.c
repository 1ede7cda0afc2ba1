// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A self-contained SVG flame graph of outstanding bytes: the root at the bottom, width in
 * proportion to bytes, a <title> on each frame for the browser's tooltip. No script.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "report.h"

#define WIDTH	     1200.0
#define PAD	     10.0
#define FRAME_H	     16.0
#define TOP_H	     48.0 /* title and totals */
#define BOTTOM_H     24.0 /* loss counters */
#define MIN_WIDTH    0.1  /* narrower frames are left out, as flamegraph.pl does */
#define CHAR_W	     7.0  /* of the 12px monospace font */
#define NAME_MAX_LEN 512

struct node {
	const char *name;   /* owned */
	const char *module; /* owned by the syms behind the report */
	uint64_t bytes;
	double count;
	bool growing;
	uint32_t first_child; /* index + 1 */
	uint32_t next;	      /* index + 1 of the next sibling */
};

struct tree {
	struct node *nodes;
	uint32_t n;
	uint32_t cap;
	uint32_t depth;
};

/* Hook: a stack the model knows to be growing is outlined in red (nothing sets it yet). */
static bool stack_is_growing(const struct report_stack *rs)
{
	return rs->verdict == VERDICT_LEAK || rs->verdict == VERDICT_GROWING;
}

static uint32_t tree__child(struct tree *t, uint32_t parent, const char *name, const char *module)
{
	uint32_t *link = &t->nodes[parent].first_child, i;
	struct node *nodes;

	for (i = *link; i; i = t->nodes[i - 1].next) {
		link = &t->nodes[i - 1].next;
		if (!strcmp(t->nodes[i - 1].name, name) &&
		    (t->nodes[i - 1].module == module ||
		     (module && t->nodes[i - 1].module && !strcmp(t->nodes[i - 1].module, module))))
			return i - 1;
	}
	if (t->n == t->cap) {
		uint32_t cap = t->cap * 2;

		nodes = realloc(t->nodes, cap * sizeof(*nodes));
		if (!nodes)
			return UINT32_MAX;
		t->nodes = nodes;
		t->cap = cap;
		link = &t->nodes[parent].first_child;
		while (*link)
			link = &t->nodes[*link - 1].next;
	}
	t->nodes[t->n] = (struct node){.name = strdup(name), .module = module};
	if (!t->nodes[t->n].name)
		return UINT32_MAX;
	*link = t->n + 1;
	return t->n++;
}

static int tree__add(struct tree *t, const struct report_stack *rs)
{
	char buf[NAME_MAX_LEN];
	uint32_t cur = 0, j, depth = 0;
	bool growing = stack_is_growing(rs);

	t->nodes[0].bytes += rs->bytes;
	t->nodes[0].count += rs->count;
	if (!rs->nr_frames) {
		cur = tree__child(t, 0, "[stack not captured]", NULL);
		if (cur == UINT32_MAX)
			return -ENOMEM;
		t->nodes[cur].bytes += rs->bytes;
		t->nodes[cur].count += rs->count;
		depth = 1;
	}
	for (j = rs->nr_frames; j-- > 0; depth++) {
		const struct sym_frame *fr = &rs->frames[j];

		cur = tree__child(t, cur, report__frame_name(fr, buf, sizeof(buf)), fr->module);
		if (cur == UINT32_MAX)
			return -ENOMEM;
		t->nodes[cur].bytes += rs->bytes;
		t->nodes[cur].count += rs->count;
		t->nodes[cur].growing |= growing;
	}
	if (depth > t->depth)
		t->depth = depth;
	return 0;
}

static void xml_escape(FILE *out, const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '&')
			fputs("&amp;", out);
		else if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else if (c < 0x20 || c == 0x7f)
			fputc('?', out); /* not allowed in XML 1.0 */
		else
			fputc(c, out);
	}
}

/* Warm colours from a hash of the name, so a function keeps its colour between reports. */
static void colour(const char *name, char *buf, size_t size)
{
	uint32_t h = hash__str(name);

	snprintf(buf, size, "rgb(%u,%u,%u)", 205 + h % 50, 80 + (h >> 8) % 150, (h >> 16) % 55);
}

static void draw(FILE *out, const struct tree *t, uint32_t i, double x, double scale,
		 uint32_t level, double base_y)
{
	const struct node *nd = &t->nodes[i];
	double w = nd->bytes * scale, y = base_y - (level + 1) * FRAME_H, cx = x;
	char fill[32];
	size_t fit;
	uint32_t c;

	if (w < MIN_WIDTH)
		return;
	if (i) {
		colour(nd->name, fill, sizeof(fill));
		fprintf(out, "<g%s><title>", nd->growing ? " class=\"growing\"" : "");
		xml_escape(out, nd->name, SIZE_MAX);
		fputs(" [", out);
		xml_escape(out, nd->module ? nd->module : "unknown", SIZE_MAX);
		fprintf(out, "]: %" PRIu64 " bytes in %.0f allocations (%.2f%%)</title>", nd->bytes,
			nd->count, 100.0 * nd->bytes / t->nodes[0].bytes);
		fprintf(out,
			"<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\" "
			"rx=\"2\"/>",
			x, y, w, FRAME_H - 1, fill);
		fit = w > 2 * CHAR_W ? (size_t)((w - 6) / CHAR_W) : 0;
		if (fit >= 3) {
			fprintf(out, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + FRAME_H - 5);
			if (strlen(nd->name) <= fit) {
				xml_escape(out, nd->name, fit);
			} else {
				xml_escape(out, nd->name, fit - 2);
				fputs("..", out);
			}
			fputs("</text>", out);
		}
		fputs("</g>\n", out);
		level++;
	}
	for (c = nd->first_child; c; c = t->nodes[c - 1].next) {
		draw(out, t, c - 1, cx, scale, level, base_y);
		cx += t->nodes[c - 1].bytes * scale;
	}
}

int report__svg(const struct report *r, FILE *out, const struct report_opts *o)
{
	struct tree t = {.cap = 256};
	double height, scale;
	char tbuf[32];
	struct tm tm;
	uint32_t i;
	int err = 0;

	(void)o;
	t.nodes = calloc(t.cap, sizeof(*t.nodes));
	if (!t.nodes)
		return -ENOMEM;
	t.nodes[0] = (struct node){.name = strdup("all")};
	t.n = 1;
	for (i = 0; !err && i < r->nr_stacks; i++)
		err = tree__add(&t, &r->stacks[i]);
	if (err)
		goto out;

	height = TOP_H + (t.depth + 1) * FRAME_H + BOTTOM_H;
	scale = t.nodes[0].bytes ? (WIDTH - 2 * PAD) / t.nodes[0].bytes : 0;
	localtime_r(&r->wall, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S", &tm);

	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
		"height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n"
		"<style>text{font-family:monospace;font-size:12px;fill:#000}"
		"g:hover rect{stroke:#000;stroke-width:0.5}"
		"g.growing rect{stroke:#c00;stroke-width:1.5}"
		".head{font-size:17px;font-family:sans-serif}.info{fill:#555}</style>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#fdfdf6\"/>\n",
		WIDTH, height, WIDTH, height);
	fprintf(out, "<text class=\"head\" x=\"%.0f\" y=\"22\" text-anchor=\"middle\">", WIDTH / 2);
	fputs("Outstanding memory: pid ", out);
	fprintf(out, "%d (", r->pid);
	xml_escape(out, r->comm ? r->comm : "?", SIZE_MAX);
	fprintf(out, ")</text>\n<text class=\"info\" x=\"%.0f\" y=\"40\" text-anchor=\"middle\">",
		WIDTH / 2);
	fprintf(out,
		"%s%s: %" PRIu64 " bytes in %.0f allocations from %u stacks%s (hover a frame for "
		"details)</text>\n",
		tbuf, r->final ? " final" : "", r->total_bytes, r->total_count, r->nr_stacks,
		r->sample_bytes || r->sample_every > 1 ? ", estimated from samples" : "");
	draw(out, &t, 0, PAD, scale, 0, height - BOTTOM_H);
	fprintf(out,
		"<text class=\"info\" x=\"%.0f\" y=\"%.0f\">lost: %" PRIu64 " events, %" PRIu64
		" stacks, %" PRIu64 " untracked threads, %" PRIu64 " out of memory; unknown frees: "
		"%" PRIu64 ", missed frees: %" PRIu64 "</text>\n</svg>\n",
		PAD, height - 7, r->bpf_stats[LT_ST_RINGBUF_DROP], r->bpf_stats[LT_ST_STACK_FAIL],
		r->bpf_stats[LT_ST_INFLIGHT_FULL], r->oom, r->tstats.unknown_frees,
		r->tstats.missed_frees);
	fflush(out);
	err = ferror(out) ? -EIO : 0;
out:
	for (i = 0; i < t.n; i++)
		free((char *)t.nodes[i].name);
	free(t.nodes);
	return err;
}
