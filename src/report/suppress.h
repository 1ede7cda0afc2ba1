/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Stacks that are not leaks, shown apart: glibc's one-time allocations (built in) and the
 * user's --suppress FILE, in LeakSanitizer's form: "leak:PATTERN" lines matching a function,
 * source file or library name in any frame, '*' a wildcard, '^' and '$' anchors (else a
 * substring), '#' a comment.
 */
#ifndef __SUPPRESS_H
#define __SUPPRESS_H

#include <stdint.h>
#include "report.h"

struct stacks;
struct suppressions;

/* The built-in rules, then path's (NULL: none). One-line error; 0 or negative errno. */
int suppress__load(struct suppressions **out, const char *path);
/*
 * Mark r's stacks that a rule matches (report_stack.suppressed), resolving each stack once:
 * the verdict is kept in *marks (a per-process array by stack id, grown here; free() it).
 */
int suppress__apply(const struct suppressions *s, struct report *r, const struct stacks *st,
		    const struct resolver *res, uint16_t **marks, uint32_t *nr_marks);
void suppress__free(struct suppressions *s);

#endif /* __SUPPRESS_H */
