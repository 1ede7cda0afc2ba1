// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* User-space allocations: allocator uprobes, mmap-family syscalls, process lifecycle. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "leaktrace.h"
#include "events.bpf.h"

#define MAP_ANONYMOUS 0x20
#define MAP_NORESERVE 0x4000

/*
 * Sampling: an allocation of size s is recorded with probability 1 - exp(-s / sample_bytes)
 * (Poisson sampling of bytes, as tcmalloc does); userspace scales it back. 0 traces all.
 */
const volatile __u64 sample_bytes = 0;
const volatile bool trace_mmap = true;
/* -f: the processes a traced process forks are traced too */
const volatile bool follow = false;
/* the process given with -p or launched: its exec is not held */
const volatile __u32 target_pid = 0;

/*
 * Set by userspace once every probe and tracepoint of the run is attached: nothing is recorded
 * before, so no block is allocated before the free probe exists and no call is entered before
 * its return probe does. Lifecycle events (fork, exec, exit) are sent regardless.
 */
bool counting;

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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_DEFAULT_THREADS);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* Sampling: addresses of sampled allocations still outstanding (sized from userspace). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u8);
} sampled SEC(".maps");

/* Processes whose syscalls and lifecycle are traced (uprobes are filtered by the kernel). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_DEFAULT_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");

static __always_inline bool sampled_out(__u64 size)
{
	__u64 p;

	if (!sample_bytes)
		return false;
	p = lt_sample_p32(size, sample_bytes);
	return p < LT_SAMPLE_ONE && bpf_get_prandom_u32() >= p;
}

/*
 * Sampling: whether a free is of a sampled allocation (then forgotten here and sent), so that
 * the many frees of unsampled ones cost a hash delete and no event, and are counted apart.
 */
static __always_inline bool free_wanted(__u64 addr)
{
	if (!sample_bytes)
		return true;
	if (bpf_map_delete_elem(&sampled, &addr) == 0)
		return true;
	stat_inc(LT_ST_FREE_UNSAMPLED);
	return false;
}

/* Sampling: remember a sampled address; false when it cannot be (the map is full). */
static __always_inline bool sampled_remember(__u64 addr)
{
	__u8 one = 1;

	if (!sample_bytes)
		return true;
	if (bpf_map_update_elem(&sampled, &addr, &one, BPF_ANY) == 0)
		return true;
	stat_inc(LT_ST_SAMPLED_FULL);
	return false;
}

static __always_inline void emit_free(__u32 kind, __u64 addr)
{
	emit_header(LT_EV_FREE, kind, addr, 0, 0, 0);
}

/* Largest request glibc serves without calling mmap (M_MMAP_THRESHOLD starts there). */
#define LT_NO_NEST_MAX (128 << 10)

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
 * Entry of an allocator call. Returns 0 when the return must be seen, 1 when it need not:
 * only a session probe (see alloc_session) acts on that, skipping its return trap.
 */
static __always_inline int alloc_enter_mode(__u32 kind, __u64 size, __u64 arg, bool session)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *in, fresh = {};
	__u64 sp;

	if (!counting)
		return session;
	stat_inc(LT_ST_CALLS);
	sp = user_sp();
	in = bpf_map_lookup_elem(&inflight, &tid);
	if (in_call(in, sp)) {
		stat_inc(LT_ST_NESTED);
		/* a session's return will not run; a classic one finds a frame below the record's
		 */
		return session;
	}
	/*
	 * realloc releases the old block before it returns, and another thread can be handed
	 * its address first (musl's shared heap does it within microseconds): an event at return
	 * would free that thread's new block. The old block is freed here; a realloc that fails
	 * keeps it, and its later free is counted as unknown.
	 */
	if (kind == LT_K_REALLOC && arg) {
		if (free_wanted(arg))
			emit_free(LT_K_REALLOC, arg);
		arg = 0;
	}
	fresh.kind = kind;
	fresh.size = size;
	fresh.arg = arg;
	fresh.sp = sp;
	fresh.skip = sampled_out(size);
	if (fresh.skip)
		stat_inc(LT_ST_SAMPLED_OUT);
	/* realloc and operator new call other probed functions; big requests call mmap */
	if (session && fresh.skip && size < LT_NO_NEST_MAX && kind != LT_K_REALLOC &&
	    kind != LT_K_NEW)
		return 1;
	if (in) {
		*in = fresh;
		return 0;
	}
	if (bpf_map_update_elem(&inflight, &tid, &fresh, BPF_ANY))
		stat_inc(LT_ST_INFLIGHT_FULL);
	return 0;
}

static __always_inline int alloc_enter(__u32 kind, __u64 size, __u64 arg)
{
	return alloc_enter_mode(kind, size, arg, false);
}

/*
 * The user stack by frame pointers, walked as the kernel's perf_callchain_user() does, but
 * ending at a null, misaligned or not increasing frame pointer instead of reading through it:
 * bpf_get_stack() reads address 0 at the end of every chain, and on this kind of VM (PVM,
 * pti) that fault costs as much as a trap: 6.4 us of the 22.5 us a malloc+free cost traced
 * (make bench: floor_stack vs floor_stack_fp). The user registers come from the task, so
 * the same walk serves uprobes, return probes and syscall tracepoints. Returns bytes stored.
 */
static __always_inline long user_stack(__u64 *frames)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	struct {
		__u64 next, ret;
	} fr;
	__u64 fp = BPF_CORE_READ(regs, bp);
	int n;

	frames[0] = BPF_CORE_READ(regs, ip);
	for (n = 1; n < LT_MAX_FRAMES; n++) {
		if (!fp || (fp & 7))
			break;
		if (bpf_probe_read_user(&fr, sizeof(fr), (void *)fp))
			break;
		frames[n] = fr.ret;
		fp = fr.next > fp ? fr.next : 0;
	}
	return n * sizeof(frames[0]);
}

static __always_inline void submit(void *ctx, struct lt_event *e, bool with_stack)
{
	long n = 0;

	if (with_stack)
		n = user_stack(e->frames);
	e->nr_frames = n / sizeof(e->frames[0]);
	if (bpf_ringbuf_output(&events, e, LT_EVENT_HDR_SIZE + n, rb_flags()))
		stat_inc(LT_ST_RINGBUF_DROP);
}

static __always_inline int alloc_exit(void *ctx, __u64 ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *in, cur;
	struct lt_event *e;
	__u64 addr = ret, sp;

	/* ret popped the return address: the entry's stack pointer is 8 bytes below */
	sp = user_sp() - 8;
	in = bpf_map_lookup_elem(&inflight, &tid);
	if (!in || !in->sp || sp < in->sp)
		return 0; /* nothing recorded, or a call nested in the recorded one returned */
	cur = *in;
	in->sp = 0;
	if (sp > cur.sp) {
		/* the stack is above the recorded call's frame: that call's return was lost */
		stat_inc(LT_ST_HEALED);
		return 0;
	}

	if (cur.kind == LT_K_POSIX_MEMALIGN) {
		addr = 0;
		if ((int)ret == 0)
			bpf_probe_read_user(&addr, sizeof(addr), (void *)cur.arg);
	}
	if (!addr) {
		/* glibc: realloc(p, 0) frees p (at entry, above) and returns NULL */
		if (cur.kind != LT_K_REALLOC || cur.size != 0)
			stat_inc(LT_ST_FAILED_ALLOC);
		return 0;
	} else if (cur.skip) {
		return 0;
	}
	if (!sampled_remember(addr))
		return 0;

	e = event_init(LT_EV_ALLOC, cur.kind);
	if (!e)
		return 0;
	e->addr = addr;
	e->size = cur.size;
	submit(ctx, e, true);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter, size_t size)
{
	return alloc_enter(LT_K_MALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(new_enter, size_t size)
{
	return alloc_enter(LT_K_NEW, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, size_t nmemb, size_t size)
{
	return alloc_enter(LT_K_CALLOC, (__u64)nmemb * size, 0);
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, void *ptr, size_t size)
{
	return alloc_enter(LT_K_REALLOC, size, (__u64)ptr);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, void *ptr, size_t nmemb, size_t size)
{
	return alloc_enter(LT_K_REALLOC, (__u64)nmemb * size, (__u64)ptr);
}

SEC("uprobe")
int BPF_KPROBE(memalign_enter, size_t align, size_t size)
{
	return alloc_enter(LT_K_MEMALIGN, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, void **memptr, size_t align, size_t size)
{
	return alloc_enter(LT_K_POSIX_MEMALIGN, size, (__u64)memptr);
}

SEC("uprobe")
int BPF_KPROBE(valloc_enter, size_t size)
{
	return alloc_enter(LT_K_VALLOC, size, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_return, void *ret)
{
	return alloc_exit(ctx, (__u64)ret);
}

SEC("uretprobe")
int BPF_KRETPROBE(posix_memalign_return, int ret)
{
	return alloc_exit(ctx, (__u64)(long)ret);
}

/*
 * uprobe_multi links: one entry program for every allocator site of a file, told by the cookie
 * which one it is (enum lt_site), and one return program.
 */
static __always_inline int site_enter(struct pt_regs *ctx, __u64 site, bool session);

SEC("uprobe")
int BPF_KPROBE(site_enter_prog)
{
	return site_enter(ctx, bpf_get_attach_cookie(ctx), false);
}

SEC("uretprobe")
int BPF_KRETPROBE(site_return, void *ret)
{
	return alloc_exit(ctx, (__u64)ret); /* posix_memalign's is an int: alloc_exit knows */
}

/*
 * operator delete is probed only where the C++ runtime does not hand the pointer to free
 * (jemalloc, tcmalloc, a static binary); where it does, or where sized delete calls plain
 * delete, the same pointer reaches another probe on the same thread: it is freed once. The
 * next allocation on the thread forgets it (alloc_enter starts a fresh record).
 */
static __always_inline int free_enter(__u32 kind, __u64 ptr)
{
	__u32 tid;
	struct inflight *in, fresh = {};

	if (!ptr)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	if (!counting)
		return 0;
	in = bpf_map_lookup_elem(&inflight, &tid);
	if (in_call(in, user_sp())) {
		/* a free inside an allocator call (operator new's retry, realloc) is internal */
		stat_inc(LT_ST_NESTED);
		return 0;
	}
	if (in && in->deleted == ptr) {
		stat_inc(LT_ST_NESTED);
		return 0;
	}
	if (kind == LT_K_DELETE) {
		if (in) {
			in->deleted = ptr;
		} else {
			fresh.deleted = ptr;
			bpf_map_update_elem(&inflight, &tid, &fresh, BPF_ANY);
		}
	}
	if (free_wanted(ptr))
		emit_free(kind, ptr);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(free_enter_prog, void *ptr)
{
	return free_enter(LT_K_FREE, (__u64)ptr);
}

SEC("uprobe")
int BPF_KPROBE(delete_enter, void *ptr)
{
	return free_enter(LT_K_DELETE, (__u64)ptr);
}

static __always_inline int site_enter(struct pt_regs *ctx, __u64 site, bool session)
{
	__u64 a0 = PT_REGS_PARM1(ctx), a1 = PT_REGS_PARM2(ctx), a2 = PT_REGS_PARM3(ctx);

	switch (site) {
	case LT_S_MALLOC:
		return alloc_enter_mode(LT_K_MALLOC, a0, 0, session);
	case LT_S_NEW:
		return alloc_enter_mode(LT_K_NEW, a0, 0, session);
	case LT_S_CALLOC:
		return alloc_enter_mode(LT_K_CALLOC, a0 * a1, 0, session);
	case LT_S_REALLOC:
		return alloc_enter_mode(LT_K_REALLOC, a1, a0, session);
	case LT_S_REALLOCARRAY:
		return alloc_enter_mode(LT_K_REALLOC, a1 * a2, a0, session);
	case LT_S_MEMALIGN:
		return alloc_enter_mode(LT_K_MEMALIGN, a1, 0, session);
	case LT_S_POSIX_MEMALIGN:
		return alloc_enter_mode(LT_K_POSIX_MEMALIGN, a2, a0, session);
	case LT_S_VALLOC:
		return alloc_enter_mode(LT_K_VALLOC, a0, 0, session);
	case LT_S_FREE:
		free_enter(LT_K_FREE, a0);
		return 1;
	case LT_S_DELETE:
		free_enter(LT_K_DELETE, a0);
		return 1;
	}
	return 1;
}

/*
 * Session variants, for uprobe session links (Linux 6.13): one program runs at entry and, only
 * if the entry returned 0, at return. Used when sampling, so that an unsampled call that cannot
 * nest another probed call costs one trap instead of two. Attach type and links are set up by
 * userspace (src/probe/uprobe_session.c): libbpf 1.1 knows neither.
 */
extern bool bpf_session_is_return(void) __ksym __weak;

static __always_inline int alloc_session(struct pt_regs *ctx, __u32 kind, __u64 size, __u64 arg)
{
	if (bpf_session_is_return())
		return alloc_exit(ctx, PT_REGS_RC(ctx));
	return alloc_enter_mode(kind, size, arg, true);
}

SEC("uprobe")
int BPF_KPROBE(site_session)
{
	__u64 site = bpf_get_attach_cookie(ctx);

	if (bpf_session_is_return())
		return alloc_exit(ctx, PT_REGS_RC(ctx));
	return site_enter(ctx, site, true);
}

SEC("uprobe")
int BPF_KPROBE(malloc_session, size_t size)
{
	return alloc_session(ctx, LT_K_MALLOC, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(new_session, size_t size)
{
	return alloc_session(ctx, LT_K_NEW, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(calloc_session, size_t nmemb, size_t size)
{
	return alloc_session(ctx, LT_K_CALLOC, (__u64)nmemb * size, 0);
}

SEC("uprobe")
int BPF_KPROBE(realloc_session, void *ptr, size_t size)
{
	return alloc_session(ctx, LT_K_REALLOC, size, (__u64)ptr);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_session, void *ptr, size_t nmemb, size_t size)
{
	return alloc_session(ctx, LT_K_REALLOC, (__u64)nmemb * size, (__u64)ptr);
}

SEC("uprobe")
int BPF_KPROBE(memalign_session, size_t align, size_t size)
{
	return alloc_session(ctx, LT_K_MEMALIGN, size, 0);
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_session, void **memptr, size_t align, size_t size)
{
	return alloc_session(ctx, LT_K_POSIX_MEMALIGN, size, (__u64)memptr);
}

SEC("uprobe")
int BPF_KPROBE(valloc_session, size_t size)
{
	return alloc_session(ctx, LT_K_VALLOC, size, 0);
}

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

/* Whether ret follows a direct call of the function holding ip (or of its PLT stub). */
static __always_inline bool returns_from(__u64 ret, __u64 ip)
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
	if (ip >= target && ip - target < LT_WRAPPER_SIZE)
		return true;
	target = plt_target(target);
	return ip >= target && ip - target < LT_WRAPPER_SIZE;
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
	struct lt_event *e;
	struct pt_regs *regs;

	if (!syscall_args_take(&a))
		return 0;
	if (ret < 0 && ret > -4096) {
		stat_inc(LT_ST_FAILED_ALLOC);
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
	e = event_init(LT_EV_ALLOC, LT_K_MMAP);
	if (!e)
		return 0;
	e->addr = ret;
	e->size = a.a1;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	e->sp_word = wrapper_return(regs);
	submit(ctx, e, true);
	return 0;
}

SEC("tp/syscalls/sys_exit_munmap")
int munmap_exit(struct syscall_trace_exit *ctx)
{
	struct syscall_args a;

	if (syscall_args_take(&a) && BPF_CORE_READ(ctx, ret) == 0)
		emit_header(LT_EV_MUNMAP, LT_K_MMAP, a.a0, a.a1, 0, 0);
	return 0;
}

SEC("tp/syscalls/sys_exit_mremap")
int mremap_exit(struct syscall_trace_exit *ctx)
{
	long ret = BPF_CORE_READ(ctx, ret);
	struct syscall_args a;

	if (!syscall_args_take(&a))
		return 0;
	if (ret < 0 && ret > -4096) {
		stat_inc(LT_ST_FAILED_ALLOC);
		return 0;
	}
	/* userspace moves a tracked range; the old range is released either way */
	emit_header(LT_EV_MUNMAP, LT_K_MREMAP, a.a0, a.a1, ret, a.a2);
	return 0;
}

/*
 * Holds: a launched command (and, with -f, its descendants) is stopped with SIGSTOP where
 * userspace must look before it goes on: at exit(), to read its maps while they exist (a
 * short-lived process is gone before a poll could see it), and, for a child, at exec, to
 * probe an allocator its new image brings. Userspace sends SIGCONT (or its watchdog, see
 * held). The record is reserved before the signal and submitted after it, so userspace cannot
 * continue the process before it is stopped, and nothing is stopped that userspace will not
 * hear of. A process given with -p and its children are never held: their parents may be
 * watching for stops.
 */
const volatile bool holds = false;
/* set by userspace as it ends: nobody is stopped any more, none would be continued */
bool holds_off;
/* processes held in exit() already: exit() calls _exit(), which is probed too */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LT_DEFAULT_PIDS);
	__type(key, __u32);
	__type(value, __u8);
} exit_held SEC(".maps");

/*
 * Processes stopped now, with the time they were stopped: userspace deletes one as it
 * continues it; its watchdog continues the rest when leaktrace dies or stops answering.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_DEFAULT_PIDS);
	__type(key, __u32);
	__type(value, __u64);
} held SEC(".maps");

static __always_inline bool hold(__u32 type, __u32 kind)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 now = bpf_ktime_get_ns();
	struct lt_event *e;

	if (!holds || holds_off || !bpf_map_lookup_elem(&pids, &pid))
		return false;
	e = header_reserve(type, kind, 0, 0, 0, 0);
	if (!e)
		return false;
	/* nobody is stopped whom the watchdog cannot see (held already: another thread) */
	if (bpf_map_update_elem(&held, &pid, &now, BPF_NOEXIST)) {
		bpf_ringbuf_discard(e, 0);
		return false;
	}
	bpf_send_signal(19 /* SIGSTOP */);
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP); /* the process waits on it */
	return true;
}

SEC("uprobe")
int BPF_KPROBE(exit_enter)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u8 one = 1;

	if (bpf_map_lookup_elem(&exit_held, &pid))
		return 0;
	if (hold(LT_EV_EXITING, 0))
		bpf_map_update_elem(&exit_held, &pid, &one, BPF_ANY);
	return 0;
}

/* Process lifecycle */

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, tgid);
	__u32 tid = BPF_CORE_READ(p, pid);

	if (!bpf_map_lookup_elem(&pids, &pid))
		return 0;
	bpf_map_delete_elem(&inflight, &tid);
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	emit_header(LT_EV_EXIT, 0, 0, 0, 0, 0);
	bpf_map_delete_elem(&exit_held, &pid);
	if (follow)
		bpf_map_delete_elem(&pids, &pid); /* its pid may be reused by anyone */
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *p, pid_t old_pid)
{
	__u32 pid = BPF_CORE_READ(p, tgid);
	struct lt_event *e;

	if (!bpf_map_lookup_elem(&pids, &pid))
		return 0;
	/*
	 * -f: a child's new image may allocate through a file the inherited probes do not
	 * cover: held before its first instruction while userspace looks (and probes it).
	 */
	if (follow && pid != target_pid) {
		if (hold(LT_EV_EXEC, LT_EXEC_HELD))
			return 0;
		/* not held (-p): the reader is woken now, to read its maps while it lives */
		e = header_reserve(LT_EV_EXEC, 0, 0, 0, 0, 0);
		if (e)
			bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
		return 0;
	}
	emit_header(LT_EV_EXEC, 0, 0, 0, 0, 0);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 pid = BPF_CORE_READ(parent, tgid);
	__u32 cpid = BPF_CORE_READ(child, tgid);

	__u8 one = 1;

	if (cpid != BPF_CORE_READ(child, pid) || !bpf_map_lookup_elem(&pids, &pid))
		return 0;
	/* before the child first runs: its syscalls are traced from its first one */
	if (follow && bpf_map_update_elem(&pids, &cpid, &one, BPF_ANY))
		stat_inc(LT_ST_PIDS_FULL);
	emit_header(LT_EV_FORK, 0, cpid, 0, 0, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
