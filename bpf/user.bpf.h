/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the user-mode BPF objects share once bpftool links them into one (ualloc.bpf.o): the
 * settings, the counting switch, the per-thread in-flight record, the traced processes, the
 * user stack walk. BPF-only, included after events.bpf.h. bpf/ualloc.bpf.c defines these;
 * bpf/mmap.bpf.c and bpf/lifecycle.bpf.c define LT_BPF_EXTERN first and see them as extern.
 */
#ifndef __USER_BPF_H
#define __USER_BPF_H

#ifdef LT_BPF_EXTERN
extern const volatile __u64 sample_bytes;
extern const volatile bool follow;
extern const volatile __u32 target_pid;
extern const volatile __u32 sample_every;
extern const volatile __u32 max_frames;
#else
/*
 * Sampling: an allocation of size s is recorded with probability 1 - exp(-s / sample_bytes)
 * (Poisson sampling of bytes, as tcmalloc does); userspace scales it back. 0 traces all.
 */
const volatile __u64 sample_bytes = 0;
/* -f: the processes a traced process forks are traced too */
const volatile bool follow = false;
/* the process given with -p or launched: its exec is not held */
const volatile __u32 target_pid = 0;
/* memleak's -s N: one allocation in N is recorded, whatever its size (instead of bytes) */
const volatile __u32 sample_every = 0;
/* memleak's --perf-max-stack-depth: frames walked at most (up to LT_MAX_FRAMES) */
const volatile __u32 max_frames = LT_MAX_FRAMES;
#endif

/*
 * Set by userspace once every probe and tracepoint of the run is attached: nothing is recorded
 * before, so no block is allocated before the free probe exists and no call is entered before
 * its return probe does. Lifecycle events (fork, exec, exit) are sent regardless.
 */
LT_SHARED bool counting;

/*
 * The allocator call in flight on a thread, outermost only. sp is the user stack pointer at its
 * entry: the address of its return address, which the kernel replaces with its uretprobe
 * trampoline while the return is pending. A record whose frame the stack has left, or whose
 * return address is no longer the trampoline, belongs to a call that will never be seen
 * returning (longjmp, an exception thrown through operator new, a return the kernel dropped):
 * it is dropped at the thread's next probe (counted as healed), never left to make every
 * later call look nested.
 */
struct inflight {
	__u64 size;
	__u64 arg; /* realloc: old pointer; posix_memalign: memptr */
	__u64 sp;  /* 0: no call in flight */
	__u32 kind;
	__u32 skip;    /* not sampled: the return records nothing */
	__u64 deleted; /* last pointer given to a probed operator delete on this thread */
};

LT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_DEFAULT_THREADS);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* Processes whose syscalls and lifecycle are traced (uprobes are filtered by the kernel). */
LT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_DEFAULT_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");

static __always_inline bool sampling(void)
{
	return sample_bytes || sample_every > 1;
}

static __always_inline bool sampled_out(__u64 size)
{
	__u64 p;

	if (!sampling())
		return false;
	p = lt_sample_p(size, sample_bytes, sample_every);
	return p < LT_SAMPLE_ONE && bpf_get_prandom_u32() >= p;
}

static __always_inline __u64 user_sp(void)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	return BPF_CORE_READ(regs, sp);
}

/* What the kernel writes over a return address whose return it traces: the first slot of the
 * process's uprobe XOL page; 0 before the process has one. */
static __always_inline __u64 uretprobe_trampoline(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return BPF_CORE_READ(t, mm, uprobes_state.xol_area, vaddr);
}

/*
 * Whether the call recorded in `in` is still running, seen from a probe of the same thread at
 * stack pointer sp: its frame is still on the stack (sp below it; equal is a tail call from
 * inside it, as glibc's realloc(NULL, n) jumps to malloc) and its return address is still the
 * trampoline, so its return will be seen.
 */
static __always_inline bool call_live(const struct inflight *in, __u64 sp)
{
	__u64 ret, tramp;

	if (!in->sp || sp > in->sp)
		return false;
	tramp = uretprobe_trampoline();
	if (!tramp || bpf_probe_read_user(&ret, sizeof(ret), (void *)in->sp))
		return false;
	return ret == tramp;
}

/* True when a call is in flight on the thread (the probe at sp is nested in it); a record of a
 * call that will never return is dropped here. */
static __always_inline bool in_call(struct inflight *in, __u64 sp)
{
	if (!in || !in->sp)
		return false;
	if (call_live(in, sp))
		return true;
	in->sp = 0;
	stat_inc(LT_ST_HEALED);
	return false;
}

/*
 * The user stack by frame pointers, walked as the kernel's perf_callchain_user() does, but
 * ending at a null, misaligned or not increasing frame pointer instead of reading through it:
 * bpf_get_stack() reads address 0 at the end of every chain, and on this kind of VM (PVM,
 * pti) that fault costs as much as a trap: 6.4 us of the 22.5 us a malloc+free cost traced
 * (make bench: floor_stack vs floor_stack_fp). The user registers come from the task, so
 * the same walk serves uprobes, return probes and syscall tracepoints. Returns bytes stored.
 */
#include "unwind.bpf.h"

static __always_inline long user_stack(__u64 *frames)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	struct {
		__u64 next, ret;
	} fr;
	__u64 fp = BPF_CORE_READ(regs, bp);
	__u32 nr;
	int n;

	if (uw_walk(frames, &nr))
		return (nr > LT_MAX_FRAMES ? LT_MAX_FRAMES : nr) * sizeof(frames[0]);
	frames[0] = BPF_CORE_READ(regs, ip);
	for (n = 1; n < LT_MAX_FRAMES; n++) {
		if (n >= max_frames || !fp || (fp & 7))
			break;
		if (bpf_probe_read_user(&fr, sizeof(fr), (void *)fp))
			break;
		frames[n] = fr.ret;
		fp = fr.next > fp ? fr.next : 0;
	}
	return n * sizeof(frames[0]);
}

/* Send rec (hdr bytes, then the user stack walked into frames, its length in *nr). */
static __always_inline void submit_stack(void *rec, __u64 hdr, __u64 *frames, __u32 *nr)
{
	long n = user_stack(frames);

	*nr = n / sizeof(frames[0]);
	if (bpf_ringbuf_output(&events, rec, hdr + n, rb_flags()))
		stat_inc(LT_ST_RINGBUF_DROP);
}

/* r: a record struct with nr_frames and frames[] last */
#define SUBMIT_STACK(r) \
	submit_stack(r, __builtin_offsetof(typeof(*(r)), frames), (r)->frames, &(r)->nr_frames)

/* The function a PLT stub at stub jumps to ("jmp *GOT(%rip)", after endbr64 / bnd), or 0. */
static __always_inline __u64 plt_target(__u64 stub)
{
	__u8 code[16];
	__s32 rel;
	__u64 fn = 0;
	int o;

	if (bpf_probe_read_user(code, sizeof(code), (void *)stub))
		return 0;
	o = code[0] == 0xff ? 0 : code[4] == 0xff ? 4 : code[5] == 0xff ? 5 : -1;
	if (o < 0 || code[(o + 1) & 15] != 0x25)
		return 0;
	__builtin_memcpy(&rel, &code[(o + 2) & 15], sizeof(rel));
	if (bpf_probe_read_user(&fn, sizeof(fn), (void *)(stub + o + 6 + rel)))
		return 0;
	return fn;
}

/*
 * Whether ret follows a direct call (e8 rel32) of a function starting at most size bytes
 * before ip, or of a PLT stub that jumps there.
 */
static __always_inline bool calls_into(__u64 ret, __u64 ip, __u64 size)
{
	__u8 code[5];
	__s32 rel;
	__u64 target;

	if (ret < 4096 || bpf_probe_read_user(code, sizeof(code), (void *)(ret - 5)))
		return false;
	if (code[0] != 0xe8)
		return false;
	__builtin_memcpy(&rel, &code[1], sizeof(rel));
	target = ret + rel;
	if (ip >= target && ip - target < size)
		return true;
	target = plt_target(target);
	return ip >= target && ip - target < size;
}

#endif /* __USER_BPF_H */
