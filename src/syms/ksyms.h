/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kernel symbols from /proc/kallsyms. */
#ifndef __KSYMS_H
#define __KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksym {
	const char *name;
	uint64_t addr;	    /* start address */
	const char *module; /* from the [mod] column, NULL for the core kernel */
};

struct ksyms;

/*
 * Load the text symbols of a kallsyms file (NULL means /proc/kallsyms). NULL with errno set
 * on failure; EPERM when every address reads as zero (kptr_restrict, no CAP_SYSLOG).
 */
struct ksyms *ksyms__load(const char *path);
/* The same from len bytes of kallsyms text in memory (copied). */
struct ksyms *ksyms__load_mem(const char *data, size_t len);
/* The symbol at or before addr, NULL when addr precedes every symbol. */
const struct ksym *ksyms__find(const struct ksyms *ks, uint64_t addr);
/* First symbol called name, NULL when none. Linear: meant for rare look-ups. */
const struct ksym *ksyms__get(const struct ksyms *ks, const char *name);
size_t ksyms__count(const struct ksyms *ks);
/* The i-th symbol in address order (i < ksyms__count), to walk them all. */
const struct ksym *ksyms__at(const struct ksyms *ks, size_t i);
void ksyms__free(struct ksyms *ks);

#endif /* __KSYMS_H */
