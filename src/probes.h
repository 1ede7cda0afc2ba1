/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Allocator probes: the table of entry points and the one loop that attaches them. */
#ifndef __PROBES_H
#define __PROBES_H

#include <stdbool.h>

struct bpf_object;
struct bpf_link;
struct target;

#define PROBES_MAX_LINKS 64

struct probes {
	struct bpf_link *links[PROBES_MAX_LINKS];
	int nr_links;
	bool session; /* set before attach: allocators with a return use uprobe session links */
	int session_fds[PROBES_MAX_LINKS];
	int nr_session;
	int nr_single_step;   /* probes the kernel must single-step (no better place found) */
	char alloc_obj[4096]; /* the object serving malloc, as the target names it */
};

/*
 * Find the object that serves malloc for the target (override: obj, a path as the target
 * sees it) and attach every probe of the table that it and the target's C++ runtime define.
 * 0, or a negative errno after printing a one-line error.
 */
int probes__attach(struct probes *p, struct bpf_object *obj, const struct target *t,
		   const char *obj_override, bool verbose);
void probes__detach(struct probes *p);

#endif /* __PROBES_H */
