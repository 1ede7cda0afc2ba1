/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the kernel says about a process's memory. */
#ifndef __PROCSTAT_H
#define __PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

/* Anonymous resident memory (RssAnon of /proc/PID/status) in bytes. 0 or negative errno. */
int procstat__rss_anon(pid_t pid, uint64_t *bytes);

#endif /* __PROCSTAT_H */
