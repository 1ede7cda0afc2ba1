// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * make bench's trap floor: empty BPF programs on the probe sites leaktrace uses, with the link
 * types it uses, so that a malloc_bench run under this tool costs the traps and nothing else.
 *
 * Usage: floor MODE PID PATH MALLOC CALLOC REALLOC FREE
 *   PATH     the allocator's object (as /proc/PID/maps names it)
 *   MALLOC.. file offsets of the probe sites (placement included: free's is free+3 on glibc)
 *   MODE     full         perf-event uprobe + uretprobe on malloc, calloc, realloc; uprobe on
 *                         free (leaktrace without --sample-bytes)
 *            sampled      session links whose entry returns 1 (return skipped) on malloc,
 *                         calloc, realloc; uprobe on free (leaktrace --sample-bytes, every call
 *                         unsampled)
 *            session      as full, through session links whose entry returns 0 (return runs)
 *            multi        as full, through two uprobe_multi links (entries incl. free, returns)
 *            entry        full without the uretprobes
 *            multi_entry  multi without the return link
 *   and, to weigh leaktrace's work piece by piece (perf-event links, as full):
 *            stack        full whose return programs take the user stack (64 frames max)
 *            stack_entry  full whose entry programs (malloc..realloc) take it instead
 *            stack_fp     stack, walking frame pointers in BPF and stopping at a null one
 *            ringbuf      full whose return and free programs submit a 64-byte record
 * Prints "attached", detaches on SIGINT or SIGTERM. With kernel.bpf_stats_enabled=1, prints
 * each program's run count and run time at exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"
#include "uprobe_session.h"

#define NR_ALLOC   3 /* malloc, calloc, realloc: the sites with a return */
#define NR_SITES   4 /* and free */
#define MAX_LINKS  16
#define MAX_FRAMES 64

struct links {
	struct bpf_link *perf[MAX_LINKS];
	int nr_perf;
	int fd[MAX_LINKS];
	int nr_fd;
};

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

/* leaktrace's own raw link creation (libbpf 1.1 has none for these types) */
static int link_raw(struct links *l, int prog_fd, __u32 type, __u32 flags, const char *path,
		    const uint64_t *offs, __u32 cnt, pid_t pid)
{
	int fd = uprobe_link__create(prog_fd, type, flags, path, offs, NULL, cnt, pid);

	if (fd < 0)
		return fd;
	l->fd[l->nr_fd++] = fd;
	return 0;
}

static int link_perf(struct links *l, struct bpf_program *prog, bool ret, const char *path,
		     uint64_t off, pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);
	struct bpf_link *link;

	link = bpf_program__attach_uprobe_opts(prog, pid, path, off, &opts);
	if (!link)
		return -errno;
	l->perf[l->nr_perf++] = link;
	return 0;
}

static int attach(struct floor_bpf *skel, struct links *l, const char *mode, pid_t pid,
		  const char *path, const uint64_t *offs)
{
	bool multi = !strncmp(mode, "multi", 5), sampled = !strcmp(mode, "sampled");
	bool entry_only = !strcmp(mode, "entry") || !strcmp(mode, "multi_entry");
	struct bpf_program *entry_prog = skel->progs.empty_entry, *free_prog = entry_prog;
	struct bpf_program *ret_prog = skel->progs.empty_return;
	int i, err = 0;

	if (multi) {
		err = link_raw(l, bpf_program__fd(skel->progs.empty_multi_entry),
			       UPROBE_MULTI_ATTACH, 0, path, offs, NR_SITES, pid);
		if (!err && !entry_only)
			err = link_raw(l, bpf_program__fd(skel->progs.empty_multi_return),
				       UPROBE_MULTI_ATTACH, UPROBE_MULTI_RETURN, path, offs,
				       NR_ALLOC, pid);
		return err;
	}
	if (!strcmp(mode, "stack"))
		ret_prog = skel->progs.stack_return;
	else if (!strcmp(mode, "stack_fp"))
		ret_prog = skel->progs.stack_fp_return;
	else if (!strcmp(mode, "stack_entry"))
		entry_prog = skel->progs.stack_entry;
	else if (!strcmp(mode, "ringbuf"))
		ret_prog = skel->progs.ringbuf_return, free_prog = skel->progs.ringbuf_entry;
	for (i = 0; i < NR_ALLOC && !err; i++) {
		if (sampled || !strcmp(mode, "session")) {
			/* one link per site, as leaktrace makes them */
			err = link_raw(l,
				       bpf_program__fd(sampled ? skel->progs.empty_session_skip
							       : skel->progs.empty_session_keep),
				       UPROBE_SESSION_ATTACH, 0, path, &offs[i], 1, pid);
			continue;
		}
		err = link_perf(l, entry_prog, false, path, offs[i], pid);
		if (!err && !entry_only)
			err = link_perf(l, ret_prog, true, path, offs[i], pid);
	}
	if (!err)
		err = link_perf(l, free_prog, false, path, offs[NR_ALLOC], pid);
	return err;
}

static void print_stats(struct floor_bpf *skel)
{
	struct bpf_prog_info info;
	struct bpf_program *prog;
	__u32 len;
	int i;

	bpf_object__for_each_program(prog, skel->obj)
	{
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) || !info.run_cnt)
			continue;
		printf("prog %s run_cnt %llu run_time_ns %llu\n", bpf_program__name(prog),
		       (unsigned long long)info.run_cnt, (unsigned long long)info.run_time_ns);
	}
	for (i = 0; i <= MAX_FRAMES; i++)
		if (skel->bss->depth_hist[i])
			printf("user stacks of %d frames: %llu\n", i,
			       (unsigned long long)skel->bss->depth_hist[i]);
	if (skel->bss->last_stack[0])
		printf("last user stack: %llx %llx %llx %llx\n",
		       (unsigned long long)skel->bss->last_stack[0],
		       (unsigned long long)skel->bss->last_stack[1],
		       (unsigned long long)skel->bss->last_stack[2],
		       (unsigned long long)skel->bss->last_stack[3]);
}

int main(int argc, char **argv)
{
	static const char *const modes[] = {"full",	"sampled",     "session", "multi",
					    "entry",	"multi_entry", "stack",	  "stack_entry",
					    "stack_fp", "ringbuf"};
	struct links l = {};
	struct floor_bpf *skel;
	uint64_t offs[NR_SITES];
	bool known = false;
	unsigned int i;
	pid_t pid;
	int err;

	if (argc != 8) {
		fprintf(stderr, "usage: floor MODE PID PATH MALLOC CALLOC REALLOC FREE (see the "
				"source for modes)\n");
		return 2;
	}
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		known |= !strcmp(argv[1], modes[i]);
	pid = atoi(argv[2]);
	if (!known || pid <= 0) {
		fprintf(stderr, "floor: bad mode or pid\n");
		return 2;
	}
	for (i = 0; i < NR_SITES; i++)
		offs[i] = strtoull(argv[4 + i], NULL, 0);

	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: open: %s\n", strerror(errno));
		return 1;
	}
	err = bpf_program__set_expected_attach_type(skel->progs.empty_session_skip,
						    UPROBE_SESSION_ATTACH);
	err = err
		      ?: bpf_program__set_expected_attach_type(skel->progs.empty_session_keep,
							       UPROBE_SESSION_ATTACH);
	err = err
		      ?: bpf_program__set_expected_attach_type(skel->progs.empty_multi_entry,
							       UPROBE_MULTI_ATTACH);
	err = err
		      ?: bpf_program__set_expected_attach_type(skel->progs.empty_multi_return,
							       UPROBE_MULTI_ATTACH);
	err = err ?: floor_bpf__load(skel);
	if (err) {
		fprintf(stderr, "floor: load: %s\n", strerror(-err));
		goto cleanup;
	}
	err = attach(skel, &l, argv[1], pid, argv[3], offs);
	if (err) {
		fprintf(stderr, "floor: cannot attach (%s) to pid %d: %s\n", argv[1], pid,
			strerror(-err));
		goto cleanup;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached %s: %d perf-event links, %d raw links\n", argv[1], l.nr_perf, l.nr_fd);
	fflush(stdout);
	while (!exiting)
		pause();
	print_stats(skel);
cleanup:
	for (i = 0; i < (unsigned int)l.nr_perf; i++)
		bpf_link__destroy(l.perf[i]);
	for (i = 0; i < (unsigned int)l.nr_fd; i++)
		close(l.fd[i]);
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}
