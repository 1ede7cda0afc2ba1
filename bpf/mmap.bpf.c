// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* User-space mappings: the mmap family's syscall tracepoints (linked into ualloc.bpf.o). */
#define LT_BPF_EXTERN
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "leaktrace.h"
#include "events.bpf.h"
#include "user.bpf.h"

#define MAP_ANONYMOUS 0x20
#define PROT_EXEC     0x4
#define MAP_NORESERVE 0x4000

/* lifecycle.bpf.c: a launched process is held until a new object's table is built */
extern int uw_hold_new_object(__u64 addr);

/*
 * mmap family: syscall tracepoints, so direct syscalls count too and no libc uprobe is needed
 * (glibc's mmap and munmap start with instructions the kernel must single-step).
 */

/*
 * Only the exit tracepoints: the arguments are still in the user registers then (the kernel
 * preserves rdi, rsi, rdx, r10 across a syscall). Each tracepoint costs its detach an RCU
 * grace period or two in the kernel (~30 ms here): three fewer make leaving 0.1 s faster.
 */
struct syscall_args {
	__u64 a0, a1, a2, a3;
};

static __always_inline bool traced_syscall(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *in;

	if (!counting || !bpf_map_lookup_elem(&pids, &pid))
		return false;
	in = bpf_map_lookup_elem(&inflight, &tid);
	if (in_call(in, user_sp())) {
		/* malloc's own mmap for a large block: charged to the malloc caller already */
		stat_inc(LT_ST_NESTED);
		return false;
	}
	return true;
}

/* The arguments of the syscall this traced thread is leaving; false when it is not traced. */
static __always_inline bool syscall_args_take(struct syscall_args *out)
{
	struct pt_regs *regs;

	if (!traced_syscall())
		return false;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	out->a0 = BPF_CORE_READ(regs, di);
	out->a1 = BPF_CORE_READ(regs, si);
	out->a2 = BPF_CORE_READ(regs, dx);
	out->a3 = BPF_CORE_READ(regs, r10);
	return true;
}

/* Words of the stack looked at for the libc wrapper's return address (musl's mmap: 7). */
#define LT_WRAPPER_WORDS 8
/* A wrapper's syscall instruction lies this close after its start. */
#define LT_WRAPPER_SIZE 4096

/* Whether ret follows a direct call of the function holding ip (or of its PLT stub). */
static __always_inline bool returns_from(__u64 ret, __u64 ip)
{
	return calls_into(ret, ip, LT_WRAPPER_SIZE);
}

/*
 * A syscall's user stack starts inside the libc wrapper, which sets up no frame pointer, so
 * the frame-pointer chain skips the wrapper's caller. Its return address is on the stack near
 * the stack pointer: at it for glibc's assembly wrappers, above the wrapper's saved registers
 * and locals for musl's C mmap (7 words up), where stale return addresses of earlier calls
 * also lie. Take the word at the stack pointer when it follows a call of the wrapper
 * itself, else the highest such word below the caller's frame. 0 when none does.
 */
static __always_inline __u64 wrapper_return(struct pt_regs *regs)
{
	__u64 sp = BPF_CORE_READ(regs, sp), bp = BPF_CORE_READ(regs, bp);
	__u64 ip = BPF_CORE_READ(regs, ip), words[LT_WRAPPER_WORDS], found = 0;
	int i;

	if (bpf_probe_read_user(words, sizeof(words), (void *)sp))
		return 0;
	if (returns_from(words[0], ip))
		return words[0]; /* glibc's assembly wrappers push nothing */
	for (i = 1; i < LT_WRAPPER_WORDS; i++) {
		if (bp > sp && sp + i * 8 >= bp)
			break; /* the caller's own frame */
		if (returns_from(words[i], ip))
			found = words[i];
	}
	return found;
}

SEC("tp/syscalls/sys_exit_mmap")
int mmap_exit(struct syscall_trace_exit *ctx)
{
	long ret = BPF_CORE_READ(ctx, ret);
	struct syscall_args a;
	union lt_scratch *s;
	struct lt_mmap *e;
	struct pt_regs *regs;

	if (!syscall_args_take(&a))
		return 0;
	if (ret < 0 && ret > -4096) {
		stat_inc(LT_ST_FAILED_ALLOC);
		return 0;
	}
	/* a file mapped executable (dlopen): userspace gives BPF its CFI table */
	if ((a.a2 & PROT_EXEC) && !(a.a3 & MAP_ANONYMOUS) && ret >= 0) {
		uw_exec_mapped();
		uw_hold_new_object(ret);
		return 0;
	}
	/*
	 * PROT_NONE with MAP_NORESERVE reserves address space, not memory: glibc's arenas, JIT
	 * and GC heaps. (Thread stacks are PROT_NONE at first too, but without MAP_NORESERVE.)
	 */
	if (!(a.a3 & MAP_ANONYMOUS) || (!a.a2 && (a.a3 & MAP_NORESERVE)))
		return 0;
	if (sampled_out(a.a1)) {
		stat_inc(LT_ST_SAMPLED_OUT);
		return 0;
	}
	s = scratch_get();
	if (!s)
		return 0;
	e = &s->mmap;
	rec_hdr_fill(&e->h, LT_EV_MMAP, LT_K_MMAP);
	e->addr = ret;
	e->size = a.a1;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	e->wrapper_ret = wrapper_return(regs);
	e->pad = 0;
	SUBMIT_STACK(e);
	return 0;
}

SEC("tp/syscalls/sys_exit_munmap")
int munmap_exit(struct syscall_trace_exit *ctx)
{
	struct syscall_args a;
	struct lt_munmap *r;

	if (!syscall_args_take(&a) || BPF_CORE_READ(ctx, ret) != 0)
		return 0;
	r = rec_reserve(sizeof(*r), LT_EV_MUNMAP, LT_K_MMAP);
	if (!r)
		return 0;
	r->addr = a.a0;
	r->size = a.a1;
	rec_submit(r);
	return 0;
}

SEC("tp/syscalls/sys_exit_mremap")
int mremap_exit(struct syscall_trace_exit *ctx)
{
	long ret = BPF_CORE_READ(ctx, ret);
	struct syscall_args a;
	struct lt_mremap *r;

	if (!syscall_args_take(&a))
		return 0;
	if (ret < 0 && ret > -4096) {
		stat_inc(LT_ST_FAILED_ALLOC);
		return 0;
	}
	/* userspace moves a tracked range; the old range is released either way */
	r = rec_reserve(sizeof(*r), LT_EV_MREMAP, LT_K_MREMAP);
	if (!r)
		return 0;
	r->old_addr = a.a0;
	r->old_size = a.a1;
	r->new_addr = ret;
	r->new_size = a.a2;
	rec_submit(r);
	return 0;
}
