/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Uprobe session links (Linux 6.13), created by hand: libbpf 1.1 has no API for them. */
#ifndef __UPROBE_SESSION_H
#define __UPROBE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_object;

#define UPROBE_SESSION_ATTACH 57 /* BPF_TRACE_UPROBE_SESSION */

/* Does the running kernel create uprobe session links? Probed once, on our own libc. */
bool uprobe_session__supported(void);
/*
 * Programs named *_session: with use true, give them the session attach type (before load);
 * otherwise do not load them. 0 or negative errno.
 */
int uprobe_session__prepare(struct bpf_object *obj, bool use);
/* Attach prog_fd as a session probe at path+offset for process pid: a link fd or -errno. */
int uprobe_session__attach(int prog_fd, const char *path, uint64_t offset, pid_t pid);

#endif /* __UPROBE_SESSION_H */
