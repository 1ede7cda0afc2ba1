/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Uprobe session links (Linux 6.13), created by hand: libbpf 1.1 has no API for them. */
#ifndef __UPROBE_SESSION_H
#define __UPROBE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define UPROBE_SESSION_ATTACH 57 /* BPF_TRACE_UPROBE_SESSION */
#define UPROBE_MULTI_ATTACH   48 /* BPF_TRACE_UPROBE_MULTI */
#define UPROBE_MULTI_RETURN   1	 /* BPF_F_UPROBE_MULTI_RETURN */

/*
 * Does the running kernel create links of this type (UPROBE_SESSION_ATTACH or
 * UPROBE_MULTI_ATTACH)? Probed on our own libc.
 */
bool uprobe_link__supported(uint32_t attach_type);
/*
 * One link attaching prog_fd at cnt offsets of path for process pid: attach_type is
 * UPROBE_SESSION_ATTACH or UPROBE_MULTI_ATTACH (flags UPROBE_MULTI_RETURN for returns);
 * cookies (NULL: none) is what bpf_get_attach_cookie() gives the program at each offset.
 * A link fd or -errno.
 */
int uprobe_link__create(int prog_fd, uint32_t attach_type, uint32_t flags, const char *path,
			const uint64_t *offsets, const uint64_t *cookies, uint32_t cnt, pid_t pid);

#endif /* __UPROBE_SESSION_H */
