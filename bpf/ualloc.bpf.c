// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * User-space allocations: the allocator uprobes (entry, return, session, uprobe_multi sites).
 * Linked with bpf/mmap.bpf.c and bpf/lifecycle.bpf.c into one object (Makefile): this file
 * defines what they share (bpf/events.bpf.h, bpf/user.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "leaktrace.h"
#include "events.bpf.h"
#include "user.bpf.h"
#include "python.bpf.h"

/* Sampling: addresses of sampled allocations still outstanding (sized from userspace). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u8);
} sampled SEC(".maps");

/*
 * Sampling: whether a free is of a sampled allocation (then forgotten here and sent), so that
 * the many frees of unsampled ones cost a hash delete and no event, and are counted apart.
 */
static __always_inline bool free_wanted(__u64 addr)
{
	if (!sampling())
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

	if (!sampling())
		return true;
	if (bpf_map_update_elem(&sampled, &addr, &one, BPF_ANY) == 0)
		return true;
	stat_inc(LT_ST_SAMPLED_FULL);
	return false;
}

static __always_inline void emit_free(__u32 kind, __u64 addr)
{
	struct lt_free *r = rec_reserve(sizeof(*r), LT_EV_FREE, kind);

	if (!r)
		return;
	r->addr = addr;
	rec_submit(r);
}

/* Largest request glibc serves without calling mmap (M_MMAP_THRESHOLD starts there). */
#define LT_NO_NEST_MAX (128 << 10)

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
	/* realloc, operator new and CPython's constructors call other probed functions; big
	 * requests call mmap */
	if (session && fresh.skip && size < LT_NO_NEST_MAX && kind != LT_K_REALLOC &&
	    kind != LT_K_NEW && kind != LT_K_PYOBJECT)
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

static __always_inline int alloc_exit(void *ctx, __u64 ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *in, cur;
	union lt_scratch *s;
	struct lt_alloc *e;
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
	addr -= py_alloc_pre(cur.kind, cur.arg); /* an object's block: from its pre-header */
	if (!sampled_remember(addr))
		return 0;

	s = scratch_get();
	if (!s)
		return 0;
	e = &s->alloc;
	rec_hdr_fill(&e->h, LT_EV_ALLOC, cur.kind);
	python_frames(addr);
	e->addr = addr;
	e->size = cur.size;
	e->py_type_name = py_alloc_type_name(cur.kind, ret); /* named in userspace (python.c) */
	e->pad = 0;
	SUBMIT_STACK(e);
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
	/*
	 * A free inside an allocator call (operator new's retry, realloc) is internal; not inside
	 * a CPython constructor: 3.11 collects garbage there (_PyObject_GC_Link), every free real.
	 */
	if (in_call(in, user_sp()) && in->kind != LT_K_PYOBJECT) {
		stat_inc(LT_ST_NESTED);
		return 0;
	}
	if (in && in->deleted == ptr) {
		stat_inc(LT_ST_NESTED);
		return 0;
	}
	/* the block an object's free hands to PyObject_Free and free is freed once */
	if (kind == LT_K_DELETE || kind == LT_K_PYOBJECT) {
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

/*
 * CPython's GC objects (python.bpf.h): constructors return the object, recorded as its block;
 * the return program is alloc_return. PyObject_GC_Del frees the block, and its own call of
 * free (an object over 512 bytes) is the same free, made once.
 */
static __always_inline int pyobj_enter(__u64 type, __u64 nitems, enum py_sizing how, bool session)
{
	__u64 size, pre;

	if (!py_object_size(type, nitems, how, &size, &pre))
		return session;
	return alloc_enter_mode(LT_K_PYOBJECT, size, pre, session);
}

/* _PyObject_GC_Resize(op, nitems): as realloc, the old block freed at entry */
static __always_inline int pyobj_resize(__u64 op, __u64 nitems, bool session)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 block = py_object_block(op), size, pre;
	struct inflight *in;

	if (!block || !py_object_size(py_type_of(op), nitems, PY_VAR, &size, &pre))
		return session;
	in = bpf_map_lookup_elem(&inflight, &tid);
	if (counting && !in_call(in, user_sp()) && free_wanted(block))
		emit_free(LT_K_PYOBJECT, block);
	return alloc_enter_mode(LT_K_PYOBJECT, size, pre, session);
}

SEC("uprobe")
int BPF_KPROBE(pytype_alloc_enter, void *type, long nitems)
{
	return pyobj_enter((__u64)type, nitems, PY_VAR_SENTINEL, false);
}

SEC("uprobe")
int BPF_KPROBE(pygc_new_enter, void *type)
{
	return pyobj_enter((__u64)type, 0, PY_FIXED, false);
}

SEC("uprobe")
int BPF_KPROBE(pygc_newvar_enter, void *type, long nitems)
{
	return pyobj_enter((__u64)type, nitems, PY_VAR, false);
}

SEC("uprobe")
int BPF_KPROBE(pygc_resize_enter, void *op, long nitems)
{
	return pyobj_resize((__u64)op, nitems, false);
}

SEC("uprobe")
int BPF_KPROBE(pygc_del_enter, void *op)
{
	__u64 block = py_object_block((__u64)op);

	return block ? free_enter(LT_K_PYOBJECT, block) : 0;
}

/*
 * x86 register n (0 rax .. 15 r15) of the probed context. Read through a helper: clang turns
 * a switch of ctx->reg loads into one load at a computed ctx offset, which the verifier refuses.
 */
static __always_inline __u64 reg_of(struct pt_regs *ctx, __u32 n)
{
	__u64 v = 0;
	__u32 off;

	switch (n) {
	case 0:
		off = offsetof(struct pt_regs, ax);
		break;
	case 1:
		off = offsetof(struct pt_regs, cx);
		break;
	case 2:
		off = offsetof(struct pt_regs, dx);
		break;
	case 3:
		off = offsetof(struct pt_regs, bx);
		break;
	case 4:
		off = offsetof(struct pt_regs, sp);
		break;
	case 5:
		off = offsetof(struct pt_regs, bp);
		break;
	case 6:
		off = offsetof(struct pt_regs, si);
		break;
	case 7:
		off = offsetof(struct pt_regs, di);
		break;
	case 8:
		off = offsetof(struct pt_regs, r8);
		break;
	case 9:
		off = offsetof(struct pt_regs, r9);
		break;
	case 10:
		off = offsetof(struct pt_regs, r10);
		break;
	case 11:
		off = offsetof(struct pt_regs, r11);
		break;
	case 12:
		off = offsetof(struct pt_regs, r12);
		break;
	case 13:
		off = offsetof(struct pt_regs, r13);
		break;
	case 14:
		off = offsetof(struct pt_regs, r14);
		break;
	default:
		off = offsetof(struct pt_regs, r15);
		break;
	}
	bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + off);
	return v;
}

/* Argument i where the cookie says the probe finds it (leaktrace.h), else abi. */
static __always_inline __u64 site_arg(struct pt_regs *ctx, __u64 cookie, int i, __u64 abi)
{
	__u32 n = (cookie >> LT_SITE_ARG_SHIFT(i)) & ((1 << LT_SITE_ARG_BITS) - 1);

	return n ? reg_of(ctx, n - 1) : abi;
}

static __always_inline int site_enter(struct pt_regs *ctx, __u64 cookie, bool session)
{
	__u64 a0 = site_arg(ctx, cookie, 0, PT_REGS_PARM1(ctx));
	__u64 a1 = site_arg(ctx, cookie, 1, PT_REGS_PARM2(ctx));
	__u64 a2 = site_arg(ctx, cookie, 2, PT_REGS_PARM3(ctx));

	switch (cookie & LT_SITE_MASK) {
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
	__u64 cookie = bpf_get_attach_cookie(ctx);

	if (bpf_session_is_return())
		return alloc_exit(ctx, PT_REGS_RC(ctx));
	return site_enter(ctx, cookie, true);
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

static __always_inline int pyobj_session(struct pt_regs *ctx, __u64 type, __u64 nitems,
					 enum py_sizing how)
{
	if (bpf_session_is_return())
		return alloc_exit(ctx, PT_REGS_RC(ctx));
	return pyobj_enter(type, nitems, how, true);
}

SEC("uprobe")
int BPF_KPROBE(pytype_alloc_session, void *type, long nitems)
{
	return pyobj_session(ctx, (__u64)type, nitems, PY_VAR_SENTINEL);
}

SEC("uprobe")
int BPF_KPROBE(pygc_new_session, void *type)
{
	return pyobj_session(ctx, (__u64)type, 0, PY_FIXED);
}

SEC("uprobe")
int BPF_KPROBE(pygc_newvar_session, void *type, long nitems)
{
	return pyobj_session(ctx, (__u64)type, nitems, PY_VAR);
}

SEC("uprobe")
int BPF_KPROBE(pygc_resize_session, void *op, long nitems)
{
	if (bpf_session_is_return())
		return alloc_exit(ctx, PT_REGS_RC(ctx));
	return pyobj_resize((__u64)op, nitems, true);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
