// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "options.h"
#include "system.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int has_caps(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return 0;
	return (data[CAP_BPF / 32].effective & (1U << (CAP_BPF % 32))) &&
	       (data[CAP_PERFMON / 32].effective & (1U << (CAP_PERFMON % 32)));
}

const char *system__btf_path(void)
{
	const char *p = getenv("LEAKTRACE_BTF");

	return p && *p ? p : "/sys/kernel/btf/vmlinux";
}

int system__check(void)
{
	const char *btf = system__btf_path();

	if (geteuid() != 0 && !has_caps()) {
		fprintf(stderr, "leaktrace: permission denied: run as root (or with CAP_BPF and "
				"CAP_PERFMON)\n");
		return -EPERM;
	}
	if (access(btf, R_OK)) {
		fprintf(stderr,
			"leaktrace: kernel BTF not found at %s: a kernel built with "
			"CONFIG_DEBUG_INFO_BTF=y is needed\n",
			btf);
		return -ENOENT;
	}
	return 0;
}

const char *system__tracefs(void)
{
	if (!access("/sys/kernel/tracing/events", F_OK))
		return "/sys/kernel/tracing";
	if (!access("/sys/kernel/debug/tracing/events", F_OK))
		return "/sys/kernel/debug/tracing";
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 &&
	    !access("/sys/kernel/tracing/events", F_OK))
		return "/sys/kernel/tracing";
	return NULL;
}

int system__autoload_syscalls(struct bpf_object *obj)
{
	const char *tracing = system__tracefs(), *sec;
	struct bpf_program *prog;
	char path[512];
	int err = 0;

	bpf_object__for_each_program(prog, obj)
	{
		sec = bpf_program__section_name(prog);
		if (strncmp(sec, "tp/", 3))
			continue;
		snprintf(path, sizeof(path), "%s/events/%s", tracing ? tracing : "", sec + 3);
		if (tracing && !access(path, F_OK))
			continue;
		fprintf(stderr,
			"leaktrace: warning: tracepoint %s unavailable (%s): %s not traced\n",
			sec + 3, tracing ? "not in this kernel" : "cannot mount tracefs",
			bpf_program__name(prog));
		err = bpf_program__set_autoload(prog, false);
		if (err)
			break;
	}
	return err;
}

void system__explain_load_error(int err)
{
	if (err == -EPERM || err == -EACCES)
		fprintf(stderr,
			"leaktrace: loading BPF programs was refused (%s): run as root or "
			"with CAP_BPF and CAP_PERFMON\n",
			strerror(-err));
	else
		fprintf(stderr,
			"leaktrace: cannot load BPF programs: %s (run with -v for the "
			"verifier's log)\n",
			strerror(-err));
}
