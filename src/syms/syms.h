/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* User-space symbolization: /proc/PID/maps snapshots, ELF symbols, DWARF lines. */
#ifndef __SYMS_H
#define __SYMS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct dso_cache;
struct guard_ctx;

struct syms_opts {
	/* the run's stop request, memory budget and -v, shared by every struct syms; NULL: each
	 * has its own, never stopped */
	struct guard_ctx *guard;
	/* the files read so far (dso.h), shared by every struct syms given it; NULL: each has
	 * its own, with the options below */
	struct dso_cache *dsos;
	bool no_lines;	       /* skip DWARF file:line lookups */
	bool no_demangle;      /* keep C++ names mangled */
	const char *debug_dir; /* extra debug-file search root, may be NULL */
	/* ask DEBUGINFOD_URLS for debug files not found locally, each query at most this
	 * many seconds; 0: never */
	unsigned int debuginfod_timeout_s;
};

/* One resolved frame. Its strings live until syms__free() (owned by it or by the files it
 * holds). */
struct sym_frame {
	uint64_t addr;	    /* the address looked up */
	const char *name;   /* function name, NULL when unknown */
	uint64_t offset;    /* addr - symbol start (valid when name != NULL) */
	const char *module; /* basename of the mapped file, "[vdso]", "[anon]"; NULL if unmapped */
	const char *path;   /* full path of the mapped file as in /proc/PID/maps, or NULL */
	const char *file;   /* source file, NULL when unknown */
	int line;	    /* source line, 0 when unknown */
	bool inlined;	    /* an inlined call site expanded from the frame that follows it */
	bool script;	    /* an interpreter's frame (Python): name, file and line, no offset */
};

/* The mapping that holds an address. Strings are owned by the struct syms. */
struct sym_mapping {
	uint64_t start;
	uint64_t end;
	uint64_t pgoff;	      /* file offset of start */
	const char *path;     /* mapped file as in /proc/PID/maps, NULL when anonymous */
	const char *module;   /* basename, "[vdso]", "[anon]" ... */
	const char *build_id; /* GNU build ID in hex, NULL when unknown */
};

struct syms;

/* Snapshot the maps of pid; NULL with errno set on failure. */
struct syms *syms__new(pid_t pid, const struct syms_opts *opts);
/*
 * Re-read /proc/PID/maps, keeping every mapping seen before (so addresses of libraries the
 * target has since unmapped, or of a target that has exited, still resolve). Returns 0, or
 * a negative errno (-ESRCH once the process is gone; the old snapshot stays usable).
 */
int syms__refresh(struct syms *s);
/*
 * Resolve addr into out[0..max-1]: inlined frames first (innermost), the containing function
 * last. A return address (ret_addr true) is looked up at addr - 1 so the call site is found.
 * Returns the number of frames filled (>= 1 always: an unknown address still gives one
 * frame with name NULL).
 */
int syms__resolve(struct syms *s, uint64_t addr, bool ret_addr, struct sym_frame *out, int max);
/* Path of the mapped file that holds addr (for attach decisions), NULL when none. */
const char *syms__module_path(struct syms *s, uint64_t addr);
/* Fill out with the mapping that holds addr (its file is read for the build ID).
 * Returns 0 or -ENOENT. */
int syms__mapping(struct syms *s, uint64_t addr, struct sym_mapping *out);
/* True when addr lies in an executable mapping. */
bool syms__is_exec(struct syms *s, uint64_t addr);
/* Share s (a forked child sees its parent's maps): one more syms__free() to drop it. */
struct syms *syms__get(struct syms *s);
/* Drop a reference; the last one frees. */
void syms__free(struct syms *s);

#endif /* __SYMS_H */
