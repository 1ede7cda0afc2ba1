/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The real symbolization path at scale: 10k distinct stacks of this very process (libc, named
 * through libc6-dbg's build-ID debug file when installed, and this binary's own DWARF) resolved
 * with report__resolve through syms, as a report does. Prints the time taken.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "report.h"
#include "stacks.h"
#include "syms.h"
#include "unit.h"

#define NR_STACKS 10000
#define DEPTH	  16
#define POOL	  20000

static int resolve_user(void *ctx, uint64_t addr, struct sym_frame *out, int max)
{
	return syms__resolve(ctx, addr, true, out, max);
}

/* The executable mapping of the file whose name ends with suffix. */
static int text_range(const char *suffix, uint64_t *start, uint64_t *end)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512], perms[8], path[256];
	size_t n = strlen(suffix);
	int found = -1;

	while (f && fgets(line, sizeof(line), f)) {
		path[0] = '\0';
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %*s %*s %*s %255s", start, end, perms,
			   path) < 3)
			continue;
		if (perms[2] == 'x' && strlen(path) >= n &&
		    !strcmp(path + strlen(path) - n, suffix)) {
			found = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double resolve_all(struct stacks *st, const uint32_t *ids, struct resolver *res,
			  uint64_t *frames, uint64_t *named, uint64_t *lines)
{
	struct report r = {.nr_stacks = NR_STACKS};
	double t0, t;
	uint32_t i, j;

	r.stacks = calloc(NR_STACKS, sizeof(*r.stacks));
	for (i = 0; i < NR_STACKS; i++)
		r.stacks[i].stack_id = ids[i];
	t0 = now_s();
	CHECK(report__resolve(&r, st, res, NR_STACKS) == 0, "report__resolve");
	t = now_s() - t0;
	*frames = *named = *lines = 0;
	for (i = 0; i < NR_STACKS; i++) {
		for (j = 0; j < r.stacks[i].nr_frames; j++) {
			(*frames)++;
			*named += r.stacks[i].frames[j].name != NULL;
			*lines += r.stacks[i].frames[j].file != NULL;
		}
	}
	report__free(&r);
	return t;
}

int main(void)
{
	uint64_t libc_s, libc_e, self_s, self_e, frames, named, lines;
	uint64_t *pool = malloc(POOL * sizeof(*pool));
	uint32_t *ids = malloc(NR_STACKS * sizeof(*ids));
	struct stacks *st = stacks__new();
	struct syms_opts so = {};
	struct resolver res = {resolve_user, NULL, NULL};
	double cold, warm;
	uint32_t i, j;

	CHECK(!text_range("/libc.so.6", &libc_s, &libc_e), "libc text found");
	CHECK(!text_range("/test_resolve", &self_s, &self_e), "own text found");
	res.ctx = syms__new(getpid(), &so);
	CHECK(res.ctx != NULL, "syms__new(self)");
	if (!res.ctx || !pool || !ids || !st)
		return unit_summary();
	/* Stacks share frames as real ones do: 20k distinct addresses, 4 in 5 in libc. */
	srand(7);
	for (i = 0; i < POOL; i++)
		pool[i] = i % 5 ? libc_s + (uint64_t)rand() % (libc_e - libc_s)
				: self_s + (uint64_t)rand() % (self_e - self_s);
	for (i = 0; i < NR_STACKS; i++) {
		uint64_t f[DEPTH];

		for (j = 0; j < DEPTH; j++)
			f[j] = pool[(i * 7919u + j * 104729u + (uint32_t)rand()) % POOL];
		ids[i] = stacks__intern(st, f, DEPTH, 0);
	}
	CHECK(stacks__count(st) >= NR_STACKS - 1, "%u distinct stacks", stacks__count(st));

	cold = resolve_all(st, ids, &res, &frames, &named, &lines);
	printf("# %d stacks x %d frames: %.3f s cold (files opened, DWARF indexed), %" PRIu64
	       " frames, %" PRIu64 " named, %" PRIu64 " with file:line\n",
	       NR_STACKS, DEPTH, cold, frames, named, lines);
	warm = resolve_all(st, ids, &res, &frames, &named, &lines);
	printf("# the same report again: %.3f s\n", warm);
	CHECK(named > frames / 2, "most frames named (%" PRIu64 " of %" PRIu64 ")", named, frames);
	/* the times above are printed, not asserted: a loaded machine is not a regression */
	syms__free(res.ctx);
	stacks__free(st);
	free(pool);
	free(ids);
	return unit_summary();
}
