/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Allocator probes: the table of entry points and the one loop that attaches them. */
#ifndef __PROBES_H
#define __PROBES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ualloc_bpf;
struct bpf_link;
struct target;
struct uprobe_inherit;

#define PROBES_MAX_LINKS 256
#define PROBES_MAX_FILES 16

/* One program at one site, queued by the table walk and attached all at once. */
struct probe_req {
	size_t prog; /* the program: its field in struct ualloc_bpf (probes.c) */
	int file;    /* index in files[] */
	uint64_t off;
	uint64_t cookie; /* enum lt_site, for the programs that serve every site of a file */
	uint8_t kind;	 /* enum probe_req_kind (probes.c) */
	uint8_t order;	 /* frees first, then returns, then entries */
};

struct probes {
	struct bpf_link *links[PROBES_MAX_LINKS]; /* perf-event uprobes */
	int nr_links;
	bool session; /* set before attach: allocators with a return use uprobe session links */
	bool multi;   /* set before attach: one uprobe_multi link per program and file */
	struct uprobe_inherit *inherit; /* set before attach (-f): children inherit the probes */
	int fds[PROBES_MAX_LINKS];	/* uprobe_multi and session links */
	int nr_fds;
	int nr_session; /* sites probed through session links */
	int nr_probes;	/* program-site pairs attached */
	struct probe_req reqs[2 * PROBES_MAX_LINKS];
	int nr_reqs;
	struct {
		int obj;
		uint64_t file_off;
	} sites[PROBES_MAX_LINKS]; /* code probed already: aliases are probed once */
	int nr_sites;
	int nr_single_step; /* probes the kernel must single-step (no better place found) */
	struct {
		uint64_t dev, ino;
		char path[4200];   /* as leaktrace opens it (through /proc/PID/root) */
	} files[PROBES_MAX_FILES]; /* the files probed: uprobes are per inode */
	int nr_files;
	char alloc_obj[4096]; /* the object serving malloc, as the target names it */
};

struct probes_opts {
	const char *obj;    /* -O: the allocator, a path as the target sees it; NULL: find it */
	const char *prefix; /* -S: the allocator's symbols are PREFIXmalloc...; NULL: none */
	bool hold_exit;	    /* a launched command: stop it in exit() so its maps can be read */
	bool verbose;
	const struct probes *covered; /* -f: files these probe already (inherited): skipped */
	bool no_allocator;	      /* --fds/--threads alone: only the exit hold */
	bool threads;		      /* --threads: pthread_create, pthread_join, pthread_detach */
};

/*
 * Find the object that serves malloc for the target (the first that defines it in symbol
 * resolution order, t->objs) and attach every probe of the table to the objects that serve
 * each symbol. 0, or a negative errno after printing a one-line error.
 */
int probes__attach(struct probes *p, struct ualloc_bpf *skel, const struct target *t,
		   const struct probes_opts *opts);
/*
 * Before the load: each session twin loaded as one (session) or not at all, and the other
 * uprobe programs typed for uprobe_multi links (multi).
 */
int probes__prepare(struct ualloc_bpf *skel, bool session, bool multi);
/* Whether the file at path is one these probes are in: 1 yes, 0 no, negative errno. */
int probes__covers(const struct probes *p, const char *path);
/*
 * -f: whether the allocator that serves malloc among the objects t lists (a process that has
 * exec'ed: from its loader's --list) is a file probed already. 1 yes, 0 no (its path in obj),
 * negative errno (no malloc found).
 */
int probes__serve_objs(const struct probes *p, const struct target *t, char *obj, size_t size);
void probes__detach(struct probes *p);

#endif /* __PROBES_H */
