// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "target.h"

#define PF_KTHREAD 0x00200000

static int read_stat(pid_t pid, char *comm, size_t sz, unsigned long *flags)
{
	char path[64], buf[1024], *open_p, *close_p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p)
		return -EINVAL;
	snprintf(comm, sz, "%.*s", (int)(close_p - open_p - 1), open_p + 1);
	/* after ") ": state ppid pgrp session tty_nr tpgid flags */
	if (sscanf(close_p + 2, "%*c %*d %*d %*d %*d %*d %lu", flags) != 1)
		return -EINVAL;
	return 0;
}

int target__open_pid(struct target *t, pid_t pid)
{
	char path[64];
	unsigned long flags = 0;
	ssize_t n;
	int err;

	memset(t, 0, sizeof(*t));
	t->hold_fd = -1;
	t->pid = pid;
	err = read_stat(pid, t->comm, sizeof(t->comm), &flags);
	if (err == -ENOENT)
		err = -ESRCH;
	if (err)
		return err;
	if (flags & PF_KTHREAD)
		return -EPERM;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, t->exe, sizeof(t->exe) - 1);
	if (n < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	t->exe[n] = '\0';
	return target__scan_objs(t);
}

int target__scan_objs(struct target *t)
{
	char path[64], line[4608], perms[8], file[4096];
	FILE *f;
	int i, n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", t->pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	for (i = 0; i < t->nr_objs; i++)
		free(t->objs[i]);
	while (fgets(line, sizeof(line), f)) {
		file[0] = '\0';
		if (sscanf(line, "%*x-%*x %7s %*x %*x:%*x %*u %4095[^\n]", perms, file) < 1)
			continue;
		if (perms[2] != 'x' || file[0] != '/')
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(t->objs[i], file))
				break;
		if (i < n || n == TARGET_MAX_OBJS)
			continue;
		t->objs[n] = strdup(file);
		if (!t->objs[n]) {
			fclose(f);
			t->nr_objs = n;
			return -ENOMEM;
		}
		n++;
	}
	fclose(f);
	t->nr_objs = n;
	return 0;
}

void target__path(const struct target *t, const char *path, char *buf, size_t sz)
{
	snprintf(buf, sz, "/proc/%d/root%s", t->pid, path);
}

int target__launch(struct target *t, char **argv)
{
	int pfd[2], err;
	char c;
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->hold_fd = -1;
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (pid == 0) {
		close(pfd[1]);
		/* wait until every probe is attached; EOF without a byte means "give up" */
		if (read(pfd[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "leaktrace: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[0]);
	t->pid = pid;
	t->launched = true;
	t->hold_fd = pfd[1];
	snprintf(t->comm, sizeof(t->comm), "%s",
		 strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]);
	return 0;
}

int target__release(struct target *t)
{
	char c = 'g';
	int err = 0;

	if (t->hold_fd < 0)
		return 0;
	if (write(t->hold_fd, &c, 1) != 1)
		err = -errno;
	close(t->hold_fd);
	t->hold_fd = -1;
	return err;
}

int target__wait(struct target *t)
{
	int status;

	if (!t->launched)
		return 0;
	if (waitpid(t->pid, &status, 0) < 0)
		return 0;
	t->launched = false;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 0;
}

bool target__alive(const struct target *t)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", t->pid);
	return access(path, F_OK) == 0;
}

void target__free(struct target *t)
{
	int i;

	if (t->hold_fd >= 0) {
		close(t->hold_fd);
		t->hold_fd = -1;
	}
	for (i = 0; i < t->nr_objs; i++)
		free(t->objs[i]);
	t->nr_objs = 0;
}
