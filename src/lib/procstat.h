/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the kernel says about a process (/proc), and small kernel files read whole. */
#ifndef __PROCSTAT_H
#define __PROCSTAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read a small file (/proc, tracefs) into buf, NUL-terminated: its length, or negative errno
 * (-ENODATA when empty). */
ssize_t procstat__read(const char *path, char *buf, size_t size);
/* Anonymous resident memory (RssAnon of /proc/PID/status) in bytes. 0 or negative errno. */
int procstat__rss_anon(pid_t pid, uint64_t *bytes);
/*
 * The comm (into comm, comm_size bytes), state letter and kernel task flags (PF_*) of
 * /proc/PID/stat; each output may be NULL. 0 or negative errno (-ESRCH: gone, -EINVAL:
 * unparsable).
 */
int procstat__stat(pid_t pid, char *comm, size_t comm_size, char *state, unsigned long *flags);
/* Peak resident memory (VmHWM of /proc/PID/status) in bytes. 0 or negative errno. */
int procstat__vm_hwm(pid_t pid, uint64_t *bytes);
/* The process's name (/proc/PID/comm). 0 or negative errno (-ESRCH: gone). */
int procstat__comm(pid_t pid, char *buf, size_t size);

#endif /* __PROCSTAT_H */
