// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * make bench: does the running kernel take uprobe_multi and uprobe session links? libbpf 1.1.2
 * has no API for them, so this loads a 2-instruction program with the attach type set and
 * creates the link with a raw bpf(BPF_LINK_CREATE) on this process's own free().
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>

#define ATTACH_UPROBE_MULTI   48 /* BPF_TRACE_UPROBE_MULTI, Linux 6.6 */
#define ATTACH_UPROBE_SESSION 57 /* BPF_TRACE_UPROBE_SESSION, Linux 6.13 */

/* union bpf_attr for BPF_LINK_CREATE with uprobe_multi, as in Linux 6.6+ uapi */
struct link_create_uprobe_multi {
	__u32 prog_fd, target_fd, attach_type, flags;
	__u64 path, offsets, ref_ctr_offsets, cookies;
	__u32 cnt, um_flags, pid;
	__u8 pad[64];
};

static int try_link(__u32 type, const char *path, __u64 off)
{
	struct bpf_insn insns[] = {
		{.code = 0xb7, .dst_reg = 0, .imm = 0}, /* r0 = 0 */
		{.code = 0x95},				/* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type);
	struct link_create_uprobe_multi a;
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "lt_probe", "GPL", insns, 2, &opts);
	if (prog < 0)
		return -errno ? -errno : prog;
	memset(&a, 0, sizeof(a));
	a.prog_fd = prog;
	a.attach_type = type;
	a.path = (unsigned long)path;
	a.offsets = (unsigned long)&off;
	a.cnt = 1;
	a.pid = getpid();
	link = syscall(__NR_bpf, 28 /* BPF_LINK_CREATE */, &a, sizeof(a));
	if (link < 0) {
		link = -errno;
		close(prog);
		return link;
	}
	close(link);
	close(prog);
	return 0;
}

int main(void)
{
	Dl_info info;
	__u64 off;
	int err;

	if (!dladdr((void *)free, &info))
		return 1;
	off = (char *)dlsym(RTLD_NEXT, "free") - (char *)info.dli_fbase;
	err = try_link(ATTACH_UPROBE_MULTI, info.dli_fname, off);
	printf("uprobe_multi link: %s\n", err ? strerror(-err) : "supported");
	err = try_link(ATTACH_UPROBE_SESSION, info.dli_fname, off);
	printf("uprobe session link: %s\n", err ? strerror(-err) : "supported");
	return 0;
}
