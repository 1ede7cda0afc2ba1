// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel allocations: kmem, page and percpu tracepoints (tp_btf), kernel stacks. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "leaktrace.h"
#include "events.bpf.h"

#define ZERO_SIZE_PTR 16
#define PAGE_SIZE     4096
#define EEXIST	      17
/* x86-64 and arm64 kernel stacks without KASAN; with it (32 KiB) a deep stack looks like an
 * interrupt's: only its site key changes */
#define LT_THREAD_SIZE 16384
/* site_stack's answer for a page allocation backing a slab or percpu chunk: not recorded */
#define KSTACK_NESTED (LT_KSTACK_NONE - 1)

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs___lt_arm64 {
	int syscallno;
} __attribute__((preserve_access_index));
#define SYSCALL_NR(regs) BPF_CORE_READ((struct pt_regs___lt_arm64 *)(regs), syscallno)
#else
#define SYSCALL_NR(regs) 0
#endif

/* Allocations are recorded for this process only (0: all); frees are matched from anywhere. */
const volatile __u32 target_pid = 0;
/* Sampling: an allocation of s bytes is recorded with probability 1 - exp(-s / sample_bytes);
 * the report scales it back. One not drawn costs no stack and no map update. */
const volatile __u64 sample_bytes = 0;
/* --kstack-exact: every stack walked, the call-site cache off */
const volatile bool kstack_exact = false;
/* The tracer's own ring buffer, maps and symbol tables are not what the user is after. */
const volatile __u32 self_pid = 0;
/* The kernel's text (_stext, _etext): stack words in it are return addresses, mostly. */
const volatile __u64 text_lo = 0;
const volatile __u64 text_hi = 0;
/* Code whose page allocations back a slab or percpu chunk: not charged twice (see README). */
const volatile __u64 nest_lo[LT_MAX_NEST_RANGES] = {};
const volatile __u64 nest_hi[LT_MAX_NEST_RANGES] = {};

/*
 * Outstanding allocations: a free deletes its entry here, so frees never reach userspace and
 * only the allocations that survive are read, at report time (kmode__sync). A free of an
 * object allocated before tracing (or by another process under -p) misses and costs a lookup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_DEFAULT_KLIVE);
	__type(key, __u64);
	__type(value, struct lt_klive);
} live SEC(".maps");

/* Kernel stacks interned in BPF: a stack seen before costs a hash of its frames, no copy out. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, LT_KSTACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, LT_MAX_FRAMES * sizeof(__u64));
} kstacks SEC(".maps");

/* Stacks whose kstacks bucket holds another stack (bpf_get_stackid: -EEXIST), by our hash. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_KSTACKS_SPILL);
	__type(key, __u64);
	__type(value, struct lt_kstack);
} kstacks_spill SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_kstack);
} kstack_scratch SEC(".maps");

/*
 * Stacks one of whose allocations was allocated again while still recorded: their objects
 * are (also) freed through a path without tracepoint (kfree_rcu batches, bulk frees, slab
 * sheaves), so what they hold outstanding is shown apart as uncertain.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_KSTACKS_SPILL);
	__type(key, __u64);
	__type(value, __u8);
} kuncertain SEC(".maps");

/* Frees per stack-map id (spilled stacks are not counted): churn tells a cache from a leak
 * in the report's verdicts. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LT_KSTACKS);
	__type(key, __u32);
	__type(value, __u64);
} kstack_frees SEC(".maps");

/* Hot counters, per CPU: no cache line bounces between CPUs on every event. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LT_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} kstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LT_KSITES);
	__type(key, struct lt_ksite);
	__type(value, struct lt_ksite_stack);
} ksites SEC(".maps");

/* Where this run's arguments are on the kernel stack, read back as a number. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ctx_addr SEC(".maps");

/* Slab caches whose name userspace has been sent. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} named SEC(".maps");

static __always_inline bool traced_context(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	return target_pid ? pid == target_pid : pid != self_pid;
}

/* A percpu pointer is an offset, not an address: flip bit 63 so it never equals one. */
static __always_inline __u64 percpu_key(const void *ptr)
{
	return (__u64)ptr ^ (1ULL << 63);
}

static __always_inline void send_cache_name(const struct kmem_cache *s)
{
	__u64 key = (__u64)s;
	struct lt_kcache *r;
	const char *name;
	__u8 one = 1;

	if (!s || bpf_map_lookup_elem(&named, &key))
		return;
	r = rec_reserve(sizeof(*r), LT_EV_KCACHE, LT_K_SLAB);
	if (!r)
		return;
	name = BPF_CORE_READ(s, name);
	if (bpf_probe_read_kernel_str(r->name, sizeof(r->name), name) <= 0) {
		bpf_ringbuf_discard(r, 0);
		return;
	}
	r->cache = key;
	r->sheaf_capacity = 0;
	r->pad = 0;
	/* 6.18: caches with per-CPU sheaves may free objects in bulk, without tracepoint */
	if (bpf_core_field_exists(s->sheaf_capacity))
		r->sheaf_capacity = BPF_CORE_READ(s, sheaf_capacity);
	rec_submit(r);
	bpf_map_update_elem(&named, &key, &one, BPF_ANY);
}

static __always_inline void kstat_inc(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&kstats, &stat);

	if (v)
		(*v)++;
}

/* True when one of the first frames lies in code that allocates on behalf of another kind. */
static __always_inline bool nested(void *ctx)
{
	__u64 frames[16];
	long n;
	__u32 i, j;

	n = bpf_get_stack(ctx, frames, sizeof(frames), 0);
	if (n <= 0)
		return false;
	for (i = 0; i < 16 && i < n / sizeof(frames[0]); i++) {
		for (j = 0; j < LT_MAX_NEST_RANGES && nest_lo[j]; j++) {
			if (frames[i] >= nest_lo[j] && frames[i] < nest_hi[j])
				return true;
		}
	}
	return false;
}

/* A stack whose kstacks bucket is taken: kept whole in kstacks_spill under a hash of it. */
static __always_inline __u64 spill_stack(void *ctx)
{
	__u32 zero = 0, i;
	struct lt_kstack *st;
	__u64 h = 0xcbf29ce484222325ULL;
	long n;

	st = bpf_map_lookup_elem(&kstack_scratch, &zero);
	if (!st)
		return LT_KSTACK_NONE;
	n = bpf_get_stack(ctx, st->frames, sizeof(st->frames), 0);
	if (n <= 0)
		return LT_KSTACK_NONE;
	st->nr_frames = n / sizeof(st->frames[0]);
	for (i = 0; i < LT_MAX_FRAMES && i < st->nr_frames; i++)
		h = (h ^ st->frames[i]) * 0x100000001b3ULL;
	h = (h >> 1) | LT_KSTACK_SPILLED;
	if (!bpf_map_lookup_elem(&kstacks_spill, &h) &&
	    bpf_map_update_elem(&kstacks_spill, &h, st, BPF_NOEXIST) == 0)
		kstat_inc(LT_ST_KSTACK_SPILL);
	else if (!bpf_map_lookup_elem(&kstacks_spill, &h))
		return LT_KSTACK_NONE;
	return h;
}

static __always_inline __u64 walk_stack(void *ctx)
{
	long id = bpf_get_stackid(ctx, &kstacks, 0);

	if (id >= 0)
		return id;
	if (id == -EEXIST)
		return spill_stack(ctx);
	return LT_KSTACK_NONE;
}

/* True when this program runs on its task's stack, not an interrupt's (irq stacks are apart
 * on x86-64, softirqs included). Without a kallsyms entry for __preempt_count (no
 * CONFIG_KALLSYMS_ALL) the address of ctx is what tells. */
static __always_inline __u64 stack_addr(void *ctx)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&ctx_addr, &zero);

	if (!slot)
		return 0;
	*(volatile __u64 *)slot = (__u64)ctx;
	return *(volatile __u64 *)slot;
}

static __always_inline bool on_task_stack(__u64 sp, struct task_struct *task)
{
	return sp - (__u64)BPF_CORE_READ(task, stack) < LT_THREAD_SIZE;
}

/*
 * What distinguishes two paths to one call site without walking: the words of stack above
 * the tracepoint's arguments that point into the kernel image (the return addresses of the
 * frames above the allocator among them). Data that changes between calls only makes a
 * miss; two paths are told apart as long as a return address they differ in is this close.
 */
static __always_inline __u64 stack_window(__u64 sp)
{
	struct lt_kstack *st;
	__u64 h = 0xcbf29ce484222325ULL, w;
	__u32 zero = 0, i;

	st = bpf_map_lookup_elem(&kstack_scratch, &zero);
	if (!st || !sp || bpf_probe_read_kernel(st->frames, LT_KSITE_WINDOW * 8, (void *)sp))
		return 0;
	for (i = 0; i < LT_KSITE_WINDOW; i++) {
		w = st->frames[i];
		if (w >= text_lo && w < text_hi)
			h = (h ^ w) * 0x100000001b3ULL;
	}
	return h | 1;
}

static __always_inline void site_init(__u64 sp, struct lt_ksite *site, __u64 call_site, __u32 kind,
				      __u64 detail, __u32 gfp)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs;

	site->window = 0;
	site->call_site = call_site;
	site->detail = detail;
	site->gfp = gfp;
	site->kind = kind;
	site->context = -1;
	if (on_task_stack(sp, task)) {
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
		site->context = SYSCALL_NR(regs);
	}
}

/*
 * Walking a kernel stack (the ORC unwinder, ~2.5 us on this VM, 4 frames already ~1.4 us) is
 * most of what an allocation costs. The stack a call site leads to is cached: a hit costs a
 * lookup. Each site's first LT_KSITE_WALK_FIRST hits and then one in LT_KSITE_WALK_EVERY
 * (random) are walked and compared; a site found to reach another stack is walked for ever
 * after (ksite_ambiguous). What this can get wrong: a rare path sharing a site with a common
 * one, until one of its allocations is walked (kstack_cached counts what was not walked).
 */
static __always_inline __u64 site_stack(void *ctx, struct lt_ksite *site, __u64 sp, bool page)
{
	struct lt_ksite_stack *c = NULL, n = {};
	__u64 stack;

	if (kstack_exact)
		site = NULL;
	if (site) {
		c = bpf_map_lookup_elem(&ksites, site);
		if (c && c->ambiguous && !site->window) {
			site->window = stack_window(sp);
			c = site->window ? bpf_map_lookup_elem(&ksites, site) : NULL;
			if (!site->window)
				site = NULL;
		}
	}
	if (c && !c->ambiguous) {
		if (c->hits >= LT_KSITE_WALK_FIRST && bpf_get_prandom_u32() % LT_KSITE_WALK_EVERY) {
			kstat_inc(LT_ST_KSTACK_CACHED);
			return c->stack;
		}
		c->hits++;
	}
	/* one call of the walk: the program's own frame is part of the stack */
	stack = page && nested(ctx) ? KSTACK_NESTED : walk_stack(ctx);
	if (stack == LT_KSTACK_NONE || !site)
		return stack;
	if (!c) {
		n.stack = stack;
		bpf_map_update_elem(&ksites, site, &n, BPF_NOEXIST);
	} else if (stack != c->stack && !c->ambiguous) {
		c->ambiguous = 1;
		kstat_inc(LT_ST_KSITE_AMBIGUOUS);
	}
	return stack;
}

/* call_site 0: none known (pages: keyed by their window; old percpu layout: walked) */
static __always_inline int record_alloc(void *ctx, __u32 kind, __u64 key, __u64 size, __u64 detail,
					__u64 call_site, __u64 site_detail, __u32 gfp)
{
	struct lt_ksite site;
	__u64 sp = 0;
	struct lt_klive v = {
		.size = size,
		.detail = detail,
		.kind = kind,
	};
	struct lt_klive *old;
	__u8 one = 1;

	if (!key || key == ZERO_SIZE_PTR) {
		stat_inc(LT_ST_FAILED_ALLOC);
		return 0;
	}
	if (sample_bytes) {
		__u64 p = lt_sample_p32(size, sample_bytes);

		if (p < LT_SAMPLE_ONE && bpf_get_prandom_u32() >= p) {
			kstat_inc(LT_ST_SAMPLED_OUT);
			return 0;
		}
	}
	/* pages have no call site: their window is part of the key from the start */
	sp = stack_addr(ctx);
	site_init(sp, &site, call_site, kind, site_detail, gfp);
	if (kind == LT_K_PAGE)
		site.window = stack_window(sp);
	v.stack = site_stack(ctx, call_site || site.window ? &site : NULL, sp, kind == LT_K_PAGE);
	if (v.stack == KSTACK_NESTED) {
		kstat_inc(LT_ST_NESTED);
		return 0;
	}
	v.ts_ns = bpf_ktime_get_ns();
	v.pid = bpf_get_current_pid_tgid() >> 32;
	if (v.stack == LT_KSTACK_NONE)
		kstat_inc(LT_ST_STACK_FAIL);
	/* an address still live lost its free: the entry is replaced, and counted */
	if (bpf_map_update_elem(&live, &key, &v, BPF_NOEXIST)) {
		old = bpf_map_lookup_elem(&live, &key);
		if (old && bpf_map_update_elem(&kuncertain, &old->stack, &one, BPF_ANY))
			kstat_inc(LT_ST_KUNCERTAIN_FULL);
		if (bpf_map_update_elem(&live, &key, &v, BPF_EXIST)) {
			kstat_inc(LT_ST_KLIVE_FULL);
			return 0;
		}
		kstat_inc(LT_ST_KREUSED);
	}
	kstat_inc(LT_ST_KALLOCS);
	return 0;
}

static __always_inline int record_free(__u32 kind, __u64 key)
{
	struct lt_klive *v = bpf_map_lookup_elem(&live, &key);
	__u64 *n, stack;
	__u32 i;

	if (!v)
		return 0;
	stack = v->stack;
	if (bpf_map_delete_elem(&live, &key))
		return 0;
	kstat_inc(LT_ST_KFREES);
	if (stack < LT_KSTACKS) {
		i = stack;
		n = bpf_map_lookup_elem(&kstack_frees, &i);
		if (n)
			__sync_fetch_and_add(n, 1);
	}
	return 0;
}

/*
 * The kernel skips a program that is already running on this CPU: a free in an interrupt
 * (an RCU callback batch in softirq) that lands while our free program runs would be lost,
 * and its object would look outstanding for ever. Each free tracepoint has a second program:
 * it does nothing unless the first one is busy on this CPU, i.e. this run was skipped by it.
 */
enum free_slot { FREE_KFREE, FREE_CACHE, FREE_PAGE, FREE_PAGE_BATCHED, FREE_PERCPU, FREE_SLOTS };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FREE_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} free_busy SEC(".maps");

static __always_inline int free_first(__u32 slot, __u32 kind, __u64 key)
{
	__u32 *busy = bpf_map_lookup_elem(&free_busy, &slot);

	if (busy)
		*busy = 1;
	record_free(kind, key);
	if (busy)
		*busy = 0;
	return 0;
}

static __always_inline int free_second(__u32 slot, __u32 kind, __u64 key)
{
	__u32 *busy = bpf_map_lookup_elem(&free_busy, &slot);

	if (!busy || !*busy)
		return 0;
	kstat_inc(LT_ST_KFREE_RESCUED);
	return record_free(kind, key);
}

SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc, gfp_t gfp)
{
	if (!traced_context())
		return 0;
	return record_alloc(ctx, LT_K_KMALLOC, (__u64)ptr, bytes_alloc, 0, call_site, bytes_alloc,
			    gfp);
}

/* Before 6.1 the node variants were separate tracepoints; the arguments up to bytes_alloc
 * are the same. */
SEC("tp_btf/kmalloc_node")
int BPF_PROG(kmalloc_node, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc, gfp_t gfp)
{
	if (!traced_context())
		return 0;
	return record_alloc(ctx, LT_K_KMALLOC, (__u64)ptr, bytes_alloc, 0, call_site, bytes_alloc,
			    gfp);
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree, unsigned long call_site, const void *ptr)
{
	return free_first(FREE_KFREE, LT_K_KMALLOC, (__u64)ptr);
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree_nested, unsigned long call_site, const void *ptr)
{
	return free_second(FREE_KFREE, LT_K_KMALLOC, (__u64)ptr);
}

/* Since 6.1: (call_site, ptr, struct kmem_cache *s, gfp, node); the size is the cache's. */
SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc, unsigned long call_site, const void *ptr, struct kmem_cache *s,
	     gfp_t gfp)
{
	if (!traced_context() || !ptr)
		return 0;
	send_cache_name(s);
	return record_alloc(ctx, LT_K_SLAB, (__u64)ptr, BPF_CORE_READ(s, size), (__u64)s, call_site,
			    (__u64)s, gfp);
}

/* Before 6.1: (call_site, ptr, bytes_req, bytes_alloc, gfp[, node]); the cache is unknown. */
SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc_old, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc, gfp_t gfp)
{
	if (!traced_context())
		return 0;
	return record_alloc(ctx, LT_K_SLAB, (__u64)ptr, bytes_alloc, 0, call_site, bytes_alloc,
			    gfp);
}

SEC("tp_btf/kmem_cache_alloc_node")
int BPF_PROG(kmem_cache_alloc_node, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc, gfp_t gfp)
{
	if (!traced_context())
		return 0;
	return record_alloc(ctx, LT_K_SLAB, (__u64)ptr, bytes_alloc, 0, call_site, bytes_alloc,
			    gfp);
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(kmem_cache_free, unsigned long call_site, const void *ptr)
{
	return free_first(FREE_CACHE, LT_K_SLAB, (__u64)ptr);
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(kmem_cache_free_nested, unsigned long call_site, const void *ptr)
{
	return free_second(FREE_CACHE, LT_K_SLAB, (__u64)ptr);
}

/* Pages are keyed by their struct page, the same pointer at allocation and free. */
SEC("tp_btf/mm_page_alloc")
int BPF_PROG(mm_page_alloc, struct page *page, unsigned int order, gfp_t gfp)
{
	if (!traced_context())
		return 0;
	return record_alloc(ctx, LT_K_PAGE, (__u64)page, (__u64)PAGE_SIZE << order, order, 0, order,
			    gfp);
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(mm_page_free, struct page *page)
{
	return free_first(FREE_PAGE, LT_K_PAGE, (__u64)page);
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(mm_page_free_nested, struct page *page)
{
	return free_second(FREE_PAGE, LT_K_PAGE, (__u64)page);
}

SEC("tp_btf/mm_page_free_batched")
int BPF_PROG(mm_page_free_batched, struct page *page)
{
	return free_first(FREE_PAGE_BATCHED, LT_K_PAGE, (__u64)page);
}

SEC("tp_btf/mm_page_free_batched")
int BPF_PROG(mm_page_free_batched_nested, struct page *page)
{
	return free_second(FREE_PAGE_BATCHED, LT_K_PAGE, (__u64)page);
}

SEC("tp_btf/percpu_alloc_percpu")
int BPF_PROG(percpu_alloc_percpu, unsigned long call_site, bool reserved, bool is_atomic,
	     size_t size, size_t align, void *base_addr, int off, void *ptr, size_t bytes_alloc,
	     gfp_t gfp)
{
	if (!traced_context() || !ptr)
		return 0;
	/* bytes_alloc (6.2+) counts every CPU's copy; older kernels lack it: size per CPU */
	return record_alloc(ctx, LT_K_PERCPU, percpu_key(ptr), bytes_alloc ?: size, 0, call_site,
			    size, gfp);
}

/* Before 6.2: (reserved, is_atomic, size, align, base_addr, off, ptr). */
SEC("tp_btf/percpu_alloc_percpu")
int BPF_PROG(percpu_alloc_percpu_old, bool reserved, bool is_atomic, size_t size, size_t align,
	     void *base_addr, int off, void *ptr)
{
	if (!traced_context() || !ptr)
		return 0;
	return record_alloc(ctx, LT_K_PERCPU, percpu_key(ptr), size, 0, 0, 0, 0);
}

SEC("tp_btf/percpu_free_percpu")
int BPF_PROG(percpu_free_percpu, void *base_addr, int off, void *ptr)
{
	return free_first(FREE_PERCPU, LT_K_PERCPU, percpu_key(ptr));
}

SEC("tp_btf/percpu_free_percpu")
int BPF_PROG(percpu_free_percpu_nested, void *base_addr, int off, void *ptr)
{
	return free_second(FREE_PERCPU, LT_K_PERCPU, percpu_key(ptr));
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *p)
{
	struct lt_exit *r;

	if (!target_pid || BPF_CORE_READ(p, tgid) != target_pid ||
	    BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	r = rec_reserve(sizeof(*r), LT_EV_EXIT, 0);
	if (r)
		rec_submit(r);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
