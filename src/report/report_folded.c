// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Brendan Gregg's folded stacks: "root;...;leaf BYTES", one line per stack. */
#include <errno.h>
#include <inttypes.h>
#include "report.h"

#define NAME_MAX_LEN 1024

/* ';' separates frames and the last space the count: neither may appear inside a name. */
const char *folded__sanitize(const char *name, char *buf, size_t size)
{
	size_t i;

	if (!size)
		return "";
	for (i = 0; i < size - 1 && name[i]; i++) {
		unsigned char c = name[i];

		buf[i] = (c == ';' || c == ' ' || c == '\t' || c < 0x20 || c == 0x7f) ? '_' : c;
	}
	buf[i] = '\0';
	return buf;
}

int report__folded(const struct report *r, FILE *out, const struct report_opts *o)
{
	char name[NAME_MAX_LEN], clean[NAME_MAX_LEN];
	uint32_t i, j;

	(void)o;
	for (i = 0; i < r->nr_stacks; i++) {
		const struct report_stack *rs = &r->stacks[i];

		if (!rs->bytes)
			continue;
		if (!rs->nr_frames)
			fputs("[stack_not_captured]", out);
		/* frames are innermost first; folded stacks start at the root */
		for (j = rs->nr_frames; j-- > 0;) {
			const char *fn = report__frame_name(&rs->frames[j], name, sizeof(name));

			fputs(folded__sanitize(fn, clean, sizeof(clean)), out);
			if (j)
				fputc(';', out);
		}
		fprintf(out, " %" PRIu64 "\n", rs->bytes);
	}
	if (r->fds)
		report_folded__resources(r->fds, out);
	if (r->threads)
		report_folded__resources(r->threads, out);
	fflush(out);
	return ferror(out) ? -EIO : 0;
}

/* --fds, --threads: "descriptors;KIND;root;...;leaf COUNT" ("threads;alive;..."), apart from
 * the memory stacks by their root. */
void report_folded__resources(const struct report *r, FILE *out)
{
	char name[NAME_MAX_LEN], clean[NAME_MAX_LEN];
	uint32_t i, j;

	for (i = 0; i < r->nr_stacks; i++) {
		const struct report_stack *rs = &r->stacks[i];

		fprintf(out, "%s;%s;", r->threads_model ? "threads" : "descriptors",
			folded__sanitize(report__kind_name(r, rs->kind), clean, sizeof(clean)));
		if (!rs->nr_frames)
			fputs("[stack_not_captured]", out);
		for (j = rs->nr_frames; j-- > 0;) {
			const char *fn = report__frame_name(&rs->frames[j], name, sizeof(name));

			fputs(folded__sanitize(fn, clean, sizeof(clean)), out);
			if (j)
				fputc(';', out);
		}
		fprintf(out, " %.0f\n", rs->count);
	}
}
