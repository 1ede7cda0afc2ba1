// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * make bench: how long attaching and detaching uprobes takes with each link type, for the same
 * probe sites leaktrace uses. Empty programs; the cost measured is the kernel's.
 *
 * Usage: detach MODE PID PATH OFF[:r]...
 *   OFF   a file offset in PATH; ":r" also probes its return
 *   MODE  perf      one perf-event uprobe (and uretprobe) per site, closed one by one
 *         perf_par  the same, closed from one thread per link at once
 *         multi     one uprobe_multi link for the entries, one for the returns
 *         session   one uprobe session link per site with a return, uprobe_multi for the rest
 *         session1  one uprobe session link for every site with a return, as multi otherwise
 * Prints "MODE links N attach_ms A detach_ms D".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include "uprobe_session.h"

#define MAX_SITES 256

static int fds[4 * MAX_SITES], nr_fds;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int load(__u32 attach_type)
{
	struct bpf_insn insns[] = {
		{.code = 0xb7, .dst_reg = 0, .imm = 0}, /* r0 = 0 */
		{.code = 0x95},				/* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach_type);
	int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "lt_detach", "GPL", insns, 2, &opts);

	return fd < 0 ? -errno : fd;
}

/* leaktrace's own raw link creation (libbpf 1.1 has none for these types) */
static int link_multi(int prog, __u32 type, __u32 flags, const char *path, const uint64_t *offs,
		      __u32 cnt, pid_t pid)
{
	int fd = uprobe_link__create(prog, type, flags, path, offs, NULL, cnt, pid);

	if (fd < 0)
		return fd;
	fds[nr_fds++] = fd;
	return 0;
}

static int uprobe_pmu(int *retbit)
{
	char buf[64];
	FILE *f;
	int type = -1;

	f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	if (!f || fscanf(f, "%d", &type) != 1)
		type = -1;
	if (f)
		fclose(f);
	*retbit = 0;
	f = fopen("/sys/bus/event_source/devices/uprobe/format/retprobe", "r");
	if (f && fgets(buf, sizeof(buf), f))
		sscanf(buf, "config:%d", retbit);
	if (f)
		fclose(f);
	return type;
}

static int link_perf(int prog, int pmu, int retbit, bool ret, const char *path, uint64_t off,
		     pid_t pid)
{
	struct perf_event_attr attr = {};
	int pfd, lfd;

	attr.size = sizeof(attr);
	attr.type = pmu;
	attr.config = ret ? 1ULL << retbit : 0;
	attr.config1 = (unsigned long)path;
	attr.config2 = off;
	pfd = syscall(__NR_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	lfd = bpf_link_create(prog, pfd, BPF_PERF_EVENT, NULL);
	if (lfd < 0) {
		close(pfd);
		return -errno;
	}
	fds[nr_fds++] = lfd;
	fds[nr_fds++] = pfd;
	return 0;
}

static void *close_one(void *arg)
{
	close((int)(long)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t offs[MAX_SITES], rets[MAX_SITES];
	int nr = 0, nr_ret = 0, i, err = 0, prog, prog_ret, pmu, retbit;
	const char *mode, *path;
	pthread_t th[4 * MAX_SITES];
	double t0, t1, t2;
	pid_t pid;

	if (argc < 5) {
		fprintf(stderr, "usage: detach MODE PID PATH OFF[:r]...\n");
		return 2;
	}
	mode = argv[1];
	pid = atoi(argv[2]);
	path = argv[3];
	for (i = 4; i < argc && nr < MAX_SITES; i++) {
		char *end;

		offs[nr] = strtoull(argv[i], &end, 0);
		if (!strcmp(end, ":r"))
			rets[nr_ret++] = offs[nr];
		nr++;
	}
	pmu = uprobe_pmu(&retbit);
	bool multi = !strcmp(mode, "multi"), perf = !strncmp(mode, "perf", 4);
	bool session = !strcmp(mode, "session"), session1 = !strcmp(mode, "session1");

	if (!multi && !perf && !session && !session1) {
		fprintf(stderr, "detach: unknown mode %s\n", mode);
		return 2;
	}
	prog = load(perf ? 0 : UPROBE_MULTI_ATTACH);
	prog_ret = load(session || session1 ? UPROBE_SESSION_ATTACH
			: perf		    ? 0
					    : UPROBE_MULTI_ATTACH);
	if (prog < 0 || prog_ret < 0) {
		fprintf(stderr, "detach: cannot load: %s\n",
			strerror(prog < 0 ? -prog : -prog_ret));
		return 1;
	}
	t0 = now_ms();
	if (perf) {
		for (i = 0; i < nr && !err; i++)
			err = link_perf(prog, pmu, retbit, false, path, offs[i], pid);
		for (i = 0; i < nr_ret && !err; i++)
			err = link_perf(prog, pmu, retbit, true, path, rets[i], pid);
	} else if (multi) {
		err = link_multi(prog, UPROBE_MULTI_ATTACH, 0, path, offs, nr, pid);
		if (!err && nr_ret)
			err = link_multi(prog_ret, UPROBE_MULTI_ATTACH, UPROBE_MULTI_RETURN, path,
					 rets, nr_ret, pid);
	} else {
		uint64_t plain[MAX_SITES];
		int n = 0, j;

		for (i = 0; i < nr; i++) {
			for (j = 0; j < nr_ret && rets[j] != offs[i]; j++)
				;
			if (j == nr_ret)
				plain[n++] = offs[i];
		}
		if (n)
			err = link_multi(prog, UPROBE_MULTI_ATTACH, 0, path, plain, n, pid);
		if (session1 && nr_ret && !err)
			err = link_multi(prog_ret, UPROBE_SESSION_ATTACH, 0, path, rets, nr_ret,
					 pid);
		for (i = 0; session && i < nr_ret && !err; i++)
			err = link_multi(prog_ret, UPROBE_SESSION_ATTACH, 0, path, &rets[i], 1,
					 pid);
	}
	t1 = now_ms();
	if (err) {
		fprintf(stderr, "detach: cannot attach (%s): %s\n", mode, strerror(-err));
		return 1;
	}
	if (!strcmp(mode, "perf_par")) {
		for (i = 0; i < nr_fds; i++)
			pthread_create(&th[i], NULL, close_one, (void *)(long)fds[i]);
		for (i = 0; i < nr_fds; i++)
			pthread_join(th[i], NULL);
	} else {
		for (i = 0; i < nr_fds; i++)
			close(fds[i]);
	}
	t2 = now_ms();
	printf("%s links %d attach_ms %.1f detach_ms %.1f\n", mode, perf ? nr_fds / 2 : nr_fds,
	       t1 - t0, t2 - t1);
	return 0;
}
