// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>
#include "procstat.h"
#include "system.h"
#include "uprobe_inherit.h"

#define GROUP_PREFIX "leaktrace_"

/* Append one command to tracefs uprobe_events. 0 or negative errno. */
static int uprobe_events_write(const struct uprobe_inherit *ui, const char *cmd)
{
	char path[128];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/uprobe_events", ui->tracing);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, cmd, strlen(cmd));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

static int read_event_id(const struct uprobe_inherit *ui, const char *group, const char *event)
{
	char path[256], buf[32];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/events/%s/%s/id", ui->tracing, group, event);
	n = procstat__read(path, buf, sizeof(buf));
	return n < 0 ? n : atoi(buf);
}

/* Remove every event of a group (best effort: an event still open stays). */
static void remove_group(const struct uprobe_inherit *ui, const char *group)
{
	char path[256], cmd[320];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/events/%s", ui->tracing, group);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		snprintf(cmd, sizeof(cmd), "-:%s/%s\n", group, d->d_name);
		uprobe_events_write(ui, cmd);
	}
	closedir(dir);
}

/* Groups of tracers that were killed before they could remove their events. */
static void remove_stale_groups(const struct uprobe_inherit *ui)
{
	char path[128];
	struct dirent *d;
	DIR *dir;
	long pid;

	snprintf(path, sizeof(path), "%s/events", ui->tracing);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, GROUP_PREFIX, strlen(GROUP_PREFIX)))
			continue;
		pid = strtol(d->d_name + strlen(GROUP_PREFIX), NULL, 10);
		if (pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH))
			continue;
		remove_group(ui, d->d_name);
	}
	closedir(dir);
}

static int list_threads(struct uprobe_inherit *ui, pid_t pid)
{
	char path[64];
	struct dirent *d;
	pid_t *tids;
	DIR *dir;
	int cap = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		if (ui->nr_tids == cap) {
			cap = cap ? cap * 2 : 16;
			tids = realloc(ui->tids, cap * sizeof(*tids));
			if (!tids) {
				closedir(dir);
				return -ENOMEM;
			}
			ui->tids = tids;
		}
		ui->tids[ui->nr_tids++] = atoi(d->d_name);
	}
	closedir(dir);
	return ui->nr_tids ? 0 : -ESRCH;
}

/*
 * A perf event per probe and thread: a 50-thread server passes the usual 1024, 2,000 threads
 * the usual hard limit. Root (CAP_SYS_RESOURCE) may raise that to fs.nr_open; else the soft
 * limit goes up to the hard one. A launched command, forked before, keeps its own limits.
 */
static void raise_nofile(void)
{
	struct rlimit rl, all;
	char buf[32] = "";

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	procstat__read("/proc/sys/fs/nr_open", buf, sizeof(buf));
	all.rlim_cur = all.rlim_max = strtoull(buf, NULL, 10);
	if (all.rlim_max > rl.rlim_max && !setrlimit(RLIMIT_NOFILE, &all))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int uprobe_inherit__open(struct uprobe_inherit *ui, pid_t pid)
{
	static unsigned int opened;
	const char *tracing;

	memset(ui, 0, sizeof(*ui));
	tracing = system__tracefs();
	if (!tracing) {
		fprintf(stderr, "leaktrace: -f needs tracefs, which cannot be mounted\n");
		return -ENOENT;
	}
	snprintf(ui->tracing, sizeof(ui->tracing), "%s", tracing);
	raise_nofile();
	/* tracefs names are the machine's: one group per set, named for this process */
	if (opened++)
		snprintf(ui->group, sizeof(ui->group), GROUP_PREFIX "%d_%u", getpid(), opened);
	else
		snprintf(ui->group, sizeof(ui->group), GROUP_PREFIX "%d", getpid());
	if (opened == 1)
		remove_stale_groups(ui);
	return list_threads(ui, pid);
}

/*
 * inherit: children get a copy of the event. The copies must not carry the program: the
 * kernel takes an inherited event's program out of the trace event when that child exits,
 * which would stop the program for every process. So one event per probe, not inherited,
 * holds the program; inherited ones without it make the kernel's filter accept the children.
 * PERF_SAMPLE_READ on inherited events keeps the scheduler from swapping a parent's and a
 * child's perf contexts (whose exit would then take the other's events along).
 */
static int perf_open(int id, pid_t tid, bool inherit)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_TRACEPOINT,
		.config = id,
		.inherit = inherit,
		.sample_type = inherit ? PERF_SAMPLE_READ | PERF_SAMPLE_TID : 0,
	};
	int fd;

	fd = syscall(__NR_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int keep_fd(struct uprobe_inherit *ui, int fd)
{
	int *fds;

	if (ui->nr_fds == ui->cap_fds) {
		ui->cap_fds = ui->cap_fds ? ui->cap_fds * 2 : 64;
		fds = realloc(ui->fds, ui->cap_fds * sizeof(*fds));
		if (!fds)
			return -ENOMEM;
		ui->fds = fds;
	}
	ui->fds[ui->nr_fds++] = fd;
	return 0;
}

static void explain_emfile(const struct uprobe_inherit *ui)
{
	struct rlimit rl = {};

	getrlimit(RLIMIT_NOFILE, &rl);
	fprintf(stderr,
		"leaktrace: -f opens a perf event per probe and thread: %d threads need more than "
		"the %llu open files allowed (the hard limit, ulimit -Hn)\n",
		ui->nr_tids, (unsigned long long)rl.rlim_cur);
}

int uprobe_inherit__attach(struct uprobe_inherit *ui, struct bpf_program *prog, const char *path,
			   uint64_t offset, bool retprobe, struct bpf_link **link)
{
	char event[16], cmd[4400];
	int i, id, fd, prog_fd, err, *ids;

	if (strpbrk(path, " \t\n"))
		return -EINVAL; /* tracefs cannot name it */
	snprintf(event, sizeof(event), "p%d", ui->nr_events);
	snprintf(cmd, sizeof(cmd), "%c:%s/%s %s:0x%llx\n", retprobe ? 'r' : 'p', ui->group, event,
		 path, (unsigned long long)offset);
	ids = realloc(ui->ids, (ui->nr_events + 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	ui->ids = ids;
	err = uprobe_events_write(ui, cmd);
	if (err)
		return err;
	ui->nr_events++;
	id = read_event_id(ui, ui->group, event);
	if (id < 0)
		return id;
	ui->ids[ui->nr_events - 1] = id;
	prog_fd = perf_open(id, ui->tids[0], false);
	if (prog_fd < 0)
		return prog_fd;
	for (i = 0; i < ui->nr_tids; i++) {
		fd = perf_open(id, ui->tids[i], true);
		if (fd == -ESRCH)
			continue; /* a thread that has ended since */
		if (fd < 0) {
			err = fd;
			goto err_close;
		}
		err = keep_fd(ui, fd);
		if (err) {
			close(fd);
			goto err_close;
		}
	}
	/* the program runs once per hit, from the trace event, whichever process hits it */
	*link = bpf_program__attach_perf_event(prog, prog_fd);
	if (!*link) {
		err = -errno;
		goto err_close;
	}
	return 0;
err_close:
	close(prog_fd);
	if (err == -EMFILE)
		explain_emfile(ui);
	return err;
}

int uprobe_inherit__add_task(struct uprobe_inherit *ui, pid_t pid)
{
	int i, j, fd, err;

	free(ui->tids);
	ui->tids = NULL;
	ui->nr_tids = 0;
	err = list_threads(ui, pid);
	for (i = 0; !err && i < ui->nr_events; i++) {
		for (j = 0; !err && j < ui->nr_tids; j++) {
			fd = perf_open(ui->ids[i], ui->tids[j], true);
			if (fd == -ESRCH)
				continue;
			err = fd < 0 ? fd : keep_fd(ui, fd);
			if (err && fd >= 0)
				close(fd);
		}
	}
	return err;
}

void uprobe_inherit__close(struct uprobe_inherit *ui)
{
	int i;

	for (i = 0; i < ui->nr_fds; i++)
		close(ui->fds[i]);
	if (ui->nr_events)
		remove_group(ui, ui->group);
	free(ui->fds);
	free(ui->ids);
	free(ui->tids);
	memset(ui, 0, sizeof(*ui));
}
