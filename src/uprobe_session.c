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

int uprobe_session__attach(int prog_fd, const char *path, uint64_t offset, pid_t pid)
{
	struct link_create_uprobe_multi a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_fd = prog_fd;
	a.attach_type = UPROBE_SESSION_ATTACH;
	a.path = (uintptr_t)path;
	a.offsets = (uintptr_t)&offset;
	a.cnt = 1;
	a.pid = pid;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE_CMD, &a, sizeof(a));
	return fd < 0 ? -errno : fd;
}

bool uprobe_session__supported(void)
{
	struct bpf_insn insns[] = {
		{.code = 0xb7, .dst_reg = 0, .imm = 0}, /* r0 = 0 */
		{.code = 0x95},				/* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = UPROBE_SESSION_ATTACH);
	Dl_info info;
	void *fn;
	int prog, link;

	fn = dlsym(RTLD_DEFAULT, "getpid");
	if (!fn || !dladdr(fn, &info) || !info.dli_fname)
		return false;
	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "lt_probe", "GPL", insns, 2, &opts);
	if (prog < 0)
		return false;
	/* a probe on a function of ours that this process will not call while it exists */
	link = uprobe_session__attach(prog, info.dli_fname, (char *)fn - (char *)info.dli_fbase,
				      getpid());
	close(prog);
	if (link < 0)
		return false;
	close(link);
	return true;
}

int uprobe_session__prepare(struct bpf_object *obj, bool use)
{
	struct bpf_program *prog;
	const char *name;
	size_t n;
	int err;

	bpf_object__for_each_program(prog, obj)
	{
		name = bpf_program__name(prog);
		n = strlen(name);
		if (n < 8 || strcmp(name + n - 8, "_session"))
			continue;
		if (use)
			err = bpf_program__set_expected_attach_type(prog, UPROBE_SESSION_ATTACH);
		else
			err = bpf_program__set_autoload(prog, false);
		if (err)
			return err;
	}
	return 0;
}
