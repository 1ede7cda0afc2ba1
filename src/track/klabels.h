/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a kernel allocation holds, as shown on its stack line: "kmalloc", "slab:filp",
 * "page order 0", "percpu". Each distinct label gets a kind id >= LT_K_MAX.
 */
#ifndef __KLABELS_H
#define __KLABELS_H

#include <stdbool.h>
#include <stdint.h>

struct klabels;

struct klabels *klabels__new(void);
/*
 * Remember the name of the slab cache at address cache, and whether it has sheaves (6.18:
 * objects freed in bulk through them take no tracepoint). 0 or negative errno.
 */
int klabels__name_cache(struct klabels *k, uint64_t cache, const char *name, uint64_t sheaves);
/* Whether the cache at address cache has sheaves. */
bool klabels__cache_has_sheaves(const struct klabels *k, uint64_t cache);
/* The kind id of an allocation of kind (enum lt_kind) with its event detail; negative errno. */
int64_t klabels__kind(struct klabels *k, uint32_t kind, uint64_t detail);
/*
 * The kind id for allocations of kind (an id from klabels__kind) whose frees may take a path
 * without tracepoint: labelled "uncertain slab:maple_node". Negative errno.
 */
int64_t klabels__uncertain(struct klabels *k, int64_t kind);
struct report;
/* Rank r's uncertain stacks last and never call them leaks: their fate is unknown. */
void klabels__mark_uncertain(const struct klabels *k, struct report *r);
/* Labels by id - LT_K_MAX, for struct report. */
const char *const *klabels__names(const struct klabels *k, uint32_t *nr);
void klabels__free(struct klabels *k);

#endif /* __KLABELS_H */
