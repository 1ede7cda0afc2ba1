/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Open descriptors of one process (--fds): each traced one an outstanding item of its
 * creating stack (a restab's, key fd + 1); stacks are interned with a label kind ("socket
 * AF_INET STREAM").
 */
#ifndef __FDS_H
#define __FDS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct events;
struct proc;
struct restab;

struct fdtab;

/* Times count from start_ns, as the process's tracker's do (restab__set_start moves it). */
struct fdtab *fdtab__new(uint64_t start_ns);
void fdtab__free(struct fdtab *t);
/* What /proc/PID/fd holds now, as descriptors open before tracing began. 0 or negative errno. */
int fdtab__scan(struct fdtab *t, pid_t pid);
/* The kind id of a label ("pipe", "file /etc/hosts"): LT_K_MAX + index; negative errno. */
int64_t fdtab__label(struct fdtab *t, const char *label);
/* fd was created by stack_id; what was open at fd is replaced (dup2, dup3). */
int fdtab__open(struct fdtab *t, int fd, uint32_t stack_id, uint32_t kind, uint64_t ts_ns,
		bool cloexec);
void fdtab__close(struct fdtab *t, uint32_t lo, uint32_t hi);
void fdtab__set_cloexec(struct fdtab *t, uint32_t lo, uint32_t hi, bool on);
/* exec: close-on-exec descriptors are closed; the rest outlive the image that made them and
 * count from now on as open before tracing began (their stacks were the old image's). */
void fdtab__exec(struct fdtab *t);
/* A forked child's table: the parent's descriptors, counted as open before its tracing. */
int fdtab__inherit(struct fdtab *child, const struct fdtab *parent);

/* The open descriptors as outstanding items (key fd + 1); ended: closed, replaced by dup2,
 * or closed at exec. */
struct restab *fdtab__items(struct fdtab *t);
/* Closes of descriptors neither traced nor seen open at the start. */
uint64_t fdtab__unknown_closes(const struct fdtab *t);
/* Labels by kind id - LT_K_MAX, for struct report. */
const char *const *fdtab__labels(const struct fdtab *t, uint32_t *nr);
/* Descriptors open before tracing began and still open, by kind id - LT_K_MAX (nr labels). */
uint32_t fdtab__preexisting(const struct fdtab *t, uint32_t *by_label, uint32_t nr);

/* Apply an LT_EV_FD_* or LT_EV_THREAD record; 0 or negative errno. */
int fds__apply(struct events *ev, const void *data, size_t size);

#endif /* __FDS_H */
