/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the running system offers: privileges, kernel BTF, optional attach points. */
#ifndef __SYSTEM_H
#define __SYSTEM_H

struct bpf_object;

/* Root (or CAP_BPF + CAP_PERFMON) and kernel BTF; prints a one-line error. 0 or -errno. */
int system__check(void);
/* Path of the kernel BTF in use: $LEAKTRACE_BTF or /sys/kernel/btf/vmlinux. */
const char *system__btf_path(void);
/* Where tracefs is, mounted now if it was not; NULL when it cannot be. */
const char *system__tracefs(void);
/* Mount tracefs when needed; switch off syscall tracepoints the kernel lacks. 0 or -errno. */
int system__autoload_syscalls(struct bpf_object *obj);
void system__explain_load_error(int err);

#endif /* __SYSTEM_H */
