/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The traced process: validation, its mapped objects, a launched command. */
#ifndef __TARGET_H
#define __TARGET_H

#include <stdbool.h>
#include <sys/types.h>

#define TARGET_MAX_OBJS 512

struct target {
	pid_t pid;
	char comm[32];
	bool launched;	/* started by us, held before exec until released */
	bool is_static; /* a launched executable without an ELF interpreter */
	int hold_fd;	/* write end of the pipe the held child waits on */
	int nr_objs;
	char *objs[TARGET_MAX_OBJS]; /* mapped executable files, paths as in /proc/PID/maps */
	char exe[4096];		     /* the main executable's path as the target sees it */
};

/* Check that pid is a live user-space process and read its name. 0 or negative errno:
 * -ESRCH none, -ECHILD a zombie (exited, not reaped), -EPERM a kernel thread. */
int target__open_pid(struct target *t, pid_t pid);
/*
 * Find argv[0] as execvp would, list the objects it will load (its ELF interpreter's --list,
 * in load order, with this process's environment, which the child inherits), then fork it,
 * held before exec; t->pid is the child. 0 or a negative errno after a one-line error.
 */
int target__launch(struct target *t, char **argv);
/*
 * A process stopped right after exec (-f): what its new image will load, found as for a
 * command (its interpreter's --list, with its LD_ variables). 0 or negative errno.
 */
int target__open_exec(struct target *t, pid_t pid);
/* The LD_ variables of pid's environment (at most 16, in buf, NULL-terminated envp[17]),
 * which decide what its loader loads. 0 or negative errno. */
int target__ld_env(pid_t pid, char *buf, size_t size, char **envp);
/* Let a launched child exec (run), or exit 127 without running. */
int target__release(struct target *t, bool run);
/* Re-read the executable files the target maps. 0 or negative errno. */
int target__scan_objs(struct target *t);
/* Path to open a file of the target: through /proc/PID/root so containers work. */
void target__path(const struct target *t, const char *path, char *buf, size_t sz);
/*
 * Whether the launched command has exited, without waiting: 1 (reaped; code is its status as
 * a shell gives it, 128 + the signal that killed it), 0 while it runs, negative errno.
 */
int target__reap(struct target *t, int *code);
void target__free(struct target *t);

#endif /* __TARGET_H */
