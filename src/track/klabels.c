// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "leaktrace.h"
#include "klabels.h"
#include "report.h"

#define UNCERTAIN "uncertain "

struct cache_name {
	uint64_t cache;
	int64_t kind;
	bool sheaves;
};

/* Both tables are small (a few hundred caches, a dozen page orders): arrays searched linearly. */
struct klabels {
	char **names;
	uint32_t nr, cap;
	struct cache_name *caches;
	uint32_t nr_caches, cap_caches;
};

struct klabels *klabels__new(void)
{
	return calloc(1, sizeof(struct klabels));
}

static int64_t intern(struct klabels *k, const char *label)
{
	uint32_t i;
	char **names;

	for (i = 0; i < k->nr; i++)
		if (!strcmp(k->names[i], label))
			return LT_K_MAX + i;
	if (k->nr == k->cap) {
		names = realloc(k->names, (k->cap ? k->cap * 2 : 32) * sizeof(*names));
		if (!names)
			return -ENOMEM;
		k->names = names;
		k->cap = k->cap ? k->cap * 2 : 32;
	}
	k->names[k->nr] = strdup(label);
	if (!k->names[k->nr])
		return -ENOMEM;
	return LT_K_MAX + k->nr++;
}

static struct cache_name *find_cache(const struct klabels *k, uint64_t cache)
{
	uint32_t i;

	for (i = 0; i < k->nr_caches; i++)
		if (k->caches[i].cache == cache)
			return &k->caches[i];
	return NULL;
}

bool klabels__cache_has_sheaves(const struct klabels *k, uint64_t cache)
{
	const struct cache_name *c = find_cache(k, cache);

	return c && c->sheaves;
}

int klabels__name_cache(struct klabels *k, uint64_t cache, const char *name, uint64_t sheaves)
{
	struct cache_name *c = find_cache(k, cache), *caches;
	char label[LT_KCACHE_NAME + 8];
	int64_t kind;

	snprintf(label, sizeof(label), "slab:%s", name);
	kind = intern(k, label);
	if (kind < 0)
		return kind;
	if (c) {
		/* the address of a destroyed cache was reused by a new one */
		c->kind = kind;
		c->sheaves = sheaves;
		return 0;
	}
	if (k->nr_caches == k->cap_caches) {
		caches = realloc(k->caches,
				 (k->cap_caches ? k->cap_caches * 2 : 64) * sizeof(*caches));
		if (!caches)
			return -ENOMEM;
		k->caches = caches;
		k->cap_caches = k->cap_caches ? k->cap_caches * 2 : 64;
	}
	k->caches[k->nr_caches++] = (struct cache_name){cache, kind, sheaves > 0};
	return 0;
}

int64_t klabels__kind(struct klabels *k, uint32_t kind, uint64_t detail)
{
	const struct cache_name *c;
	char label[32];

	switch (kind) {
	case LT_K_SLAB:
		c = detail ? find_cache(k, detail) : NULL;
		return c ? c->kind : LT_K_SLAB;
	case LT_K_PAGE:
		snprintf(label, sizeof(label), "page order %u", (unsigned int)detail);
		return intern(k, label);
	default:
		return kind;
	}
}

int64_t klabels__uncertain(struct klabels *k, int64_t kind)
{
	char label[LT_KCACHE_NAME + 32];
	const char *name;

	if (kind >= LT_K_MAX && kind - LT_K_MAX < k->nr)
		name = k->names[kind - LT_K_MAX];
	else if (kind >= 0 && kind < LT_K_MAX)
		name = lt_kind_names[kind];
	else
		return -EINVAL;
	if (!strncmp(name, UNCERTAIN, strlen(UNCERTAIN)))
		return kind;
	snprintf(label, sizeof(label), UNCERTAIN "%s", name);
	return intern(k, label);
}

void klabels__mark_uncertain(const struct klabels *k, struct report *r)
{
	struct report_stack *rs;
	uint32_t i;

	for (i = 0; i < r->nr_stacks; i++) {
		rs = &r->stacks[i];
		if (rs->kind < LT_K_MAX || rs->kind - LT_K_MAX >= k->nr ||
		    strncmp(k->names[rs->kind - LT_K_MAX], UNCERTAIN, strlen(UNCERTAIN)))
			continue;
		rs->internal = "frees untraced (kfree_rcu batch, bulk, sheaf), fate unknown";
		if (rs->verdict == VERDICT_LEAK)
			rs->verdict = VERDICT_GROWING;
	}
}

const char *const *klabels__names(const struct klabels *k, uint32_t *nr)
{
	*nr = k->nr;
	return (const char *const *)k->names;
}

void klabels__free(struct klabels *k)
{
	uint32_t i;

	if (!k)
		return;
	for (i = 0; i < k->nr; i++)
		free(k->names[i]);
	free(k->names);
	free(k->caches);
	free(k);
}
