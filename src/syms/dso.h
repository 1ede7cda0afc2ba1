/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The files processes map, read once for the whole run: ELF symbols, debug files, DWARF lines.
 * A file is known by its device, inode, size and mtime, and its GNU build ID, so every process
 * that maps it, a -f child or a process of another command, shares one copy of its tables, and
 * a file replaced at the same path (or rewritten in place) gets tables of its own; where a
 * process maps it (load bias, addresses) stays in struct syms.
 */
#ifndef __DSO_H
#define __DSO_H

#include <stdbool.h>
#include <stdint.h>

struct dso_cache;
struct dso;
struct dwarf_frame;
struct elf_sym;
struct syms_opts;

/* A cache with opts' limits and search paths (opts may be NULL). NULL with errno set. */
struct dso_cache *dso_cache__new(const struct syms_opts *opts);
/* One more user of c: one more dso_cache__put() to drop it. */
struct dso_cache *dso_cache__get(struct dso_cache *c);
/* Drop a user; the last one frees every file, after saying what was shared (-v). */
void dso_cache__put(struct dso_cache *c);

/*
 * The file open at fd (a mapping of path, " (deleted)" cut off): the cache's entry for the same
 * file, or a new one read on first use. fd is the cache's from here on (closed when not
 * kept). NULL when fd is not a regular file or memory runs out.
 */
struct dso *dso_cache__file(struct dso_cache *c, int fd, const char *path);
/* The vdso, read from leaktrace's own (the same image in every process), if of that size. */
struct dso *dso_cache__vdso(struct dso_cache *c, uint64_t size);

/* A process starts using d. A file no process uses is kept a while (DSO_IDLE_MAX): the next
 * command a shell runs maps the same files. */
struct dso *dso__get(struct dso *d);
void dso__put(struct dso *d);

/*
 * Read the symbols (and lines) on first use: root_fd is the root directory of a process that
 * maps the file, where its debug files are looked for. 0, or a negative errno (the file stays
 * unusable: addresses only).
 */
int dso__load(struct dso *d, int root_fd);
/* The ELF virtual address of file offset off. 0 or -ENOENT. */
int dso__vaddr(const struct dso *d, uint64_t off, uint64_t *vaddr);
/* The function symbol holding vaddr, or NULL. */
struct elf_sym *dso__symbol(struct dso *d, uint64_t vaddr);
/* Inlined frames and lines at vaddr, innermost first (dwarf_lines__lookup); 0 when none. */
int dso__lines(struct dso *d, uint64_t vaddr, struct dwarf_frame *out, int max);
/* GNU build ID in hex, NULL when the file has none. */
const char *dso__build_id(struct dso *d);

#endif /* __DSO_H */
