// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "uprobe_session.h"

#define BPF_LINK_CREATE_CMD 28

/* union bpf_attr for BPF_LINK_CREATE with uprobe_multi (uapi of Linux 6.6 and later) */
struct link_create_uprobe_multi {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t um_flags;
	uint32_t pid;
	uint8_t pad[64];
};

int uprobe_link__create(int prog_fd, uint32_t attach_type, uint32_t flags, const char *path,
			const uint64_t *offsets, const uint64_t *cookies, uint32_t cnt, pid_t pid)
{
	struct link_create_uprobe_multi a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_fd = prog_fd;
	a.attach_type = attach_type;
	a.path = (uintptr_t)path;
	a.offsets = (uintptr_t)offsets;
	a.cookies = (uintptr_t)cookies;
	a.cnt = cnt;
	a.um_flags = flags;
	a.pid = pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE_CMD, &a, sizeof(a));
	return fd < 0 ? -errno : fd;
}

bool uprobe_link__supported(uint32_t attach_type)
{
	struct bpf_insn insns[] = {
		{.code = 0xb7, .dst_reg = 0, .imm = 0}, /* r0 = 0 */
		{.code = 0x95},				/* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach_type);
	Dl_info info;
	uint64_t off;
	void *fn;
	int prog, link;

	fn = dlsym(RTLD_DEFAULT, "getpid");
	if (!fn || !dladdr(fn, &info) || !info.dli_fname)
		return false;
	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "lt_probe", "GPL", insns, 2, &opts);
	if (prog < 0)
		return false;
	/* a probe on a function of ours that this process will not call while it exists */
	off = (char *)fn - (char *)info.dli_fbase;
	link = uprobe_link__create(prog, attach_type, 0, info.dli_fname, &off, NULL, 1, getpid());
	close(prog);
	if (link < 0)
		return false;
	close(link);
	return true;
}
