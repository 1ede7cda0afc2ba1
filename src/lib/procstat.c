// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "procstat.h"

ssize_t procstat__read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n == 0)
		return -ENODATA;
	if (n > 0)
		buf[n] = '\0';
	return n;
}

/* A "Key: N kB" field of /proc/PID/status, in bytes. */
static int status_kb(pid_t pid, const char *key, uint64_t *bytes)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	unsigned long long kb;
	int err = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':' &&
		    sscanf(line + klen + 1, "%llu kB", &kb) == 1) {
			*bytes = kb * 1024;
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

int procstat__rss_anon(pid_t pid, uint64_t *bytes)
{
	return status_kb(pid, "RssAnon", bytes);
}

int procstat__stat(pid_t pid, char *comm, size_t comm_size, char *state, unsigned long *flags)
{
	char path[64], buf[1024], *open_p, *close_p, st;
	unsigned long fl;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = procstat__read(path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT || n == -ENODATA ? -ESRCH : n;
	/* the comm may hold anything, ')' included: the fields start after the last one */
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p)
		return -EINVAL;
	/* after ") ": state ppid pgrp session tty_nr tpgid flags */
	if (sscanf(close_p + 1, " %c %*d %*d %*d %*d %*d %lu", &st, &fl) != 2)
		return -EINVAL;
	if (comm)
		snprintf(comm, comm_size, "%.*s", (int)(close_p - open_p - 1), open_p + 1);
	if (state)
		*state = st;
	if (flags)
		*flags = fl;
	return 0;
}

int procstat__comm(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	n = procstat__read(path, buf, size);
	if (n < 0)
		return n == -ENOENT ? -ESRCH : n;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int procstat__vm_hwm(pid_t pid, uint64_t *bytes)
{
	return status_kb(pid, "VmHWM", bytes);
}
