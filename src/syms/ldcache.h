/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* -O NAME as memleak takes it: a soname or a short name ("c") found in the ld.so cache. */
#ifndef __LDCACHE_H
#define __LDCACHE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether a file's base name is what NAME stands for: NAME itself, lib<NAME>.so*, lib<NAME>-*. */
bool ldcache__name_matches(const char *base, const char *name);
/* The path of the first 64-bit library of the cache (NULL: /etc/ld.so.cache) NAME stands for,
 * in out. 0, -ENOENT, or another negative errno when the cache cannot be read. */
int ldcache__find(const char *cache_path, const char *name, char *out, size_t size);

#endif /* __LDCACHE_H */
