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

/* Allocations are recorded for this process only (0: all); frees are matched from anywhere. */
const volatile __u32 target_pid = 0;
/* The tracer's own ring buffer, maps and symbol tables are not what the user is after. */
const volatile __u32 self_pid = 0;
/* memleak's --perf-max-stack-depth: frames kept at most */
const volatile __u32 max_frames = LT_MAX_FRAMES;
/* Code whose page allocations back a slab or percpu chunk: not charged twice (see README). */
const volatile __u64 nest_lo[LT_MAX_NEST_RANGES] = {};
const volatile __u64 nest_hi[LT_MAX_NEST_RANGES] = {};

/*
 * Allocations handed to userspace and not freed yet. A free is emitted only when it hits
 * this map, so frees of objects allocated before tracing (or by other processes under -p)
 * cost no event.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_DEFAULT_KLIVE);
	__type(key, __u64);
	__type(value, __u8);
} live SEC(".maps");

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
	struct lt_event *e;
	const char *name;
	__u8 one = 1;
	long n;

	if (!s || bpf_map_lookup_elem(&named, &key))
		return;
	e = event_init(LT_EV_KCACHE, LT_K_SLAB);
	if (!e)
		return;
	name = BPF_CORE_READ(s, name);
	n = bpf_probe_read_kernel_str(e->frames, LT_KCACHE_NAME, name);
	if (n <= 0)
		return;
	e->addr = key;
	e->size = n;
	if (bpf_ringbuf_output(&events, e, LT_EVENT_HDR_SIZE + LT_KCACHE_NAME, rb_flags())) {
		stat_inc(LT_ST_RINGBUF_DROP);
		return;
	}
	bpf_map_update_elem(&named, &key, &one, BPF_ANY);
}

/* True when one of the first frames lies in code that allocates on behalf of another kind. */
static __always_inline bool nested(const struct lt_event *e)
{
	__u32 i, j;

	for (i = 0; i < 16 && i < e->nr_frames; i++) {
		for (j = 0; j < LT_MAX_NEST_RANGES && nest_lo[j]; j++) {
			if (e->frames[i] >= nest_lo[j] && e->frames[i] < nest_hi[j])
				return true;
		}
	}
	return false;
}

static __always_inline int record_alloc(void *ctx, __u32 kind, __u64 key, __u64 size, __u64 detail)
{
	struct lt_event *e;
	__u8 one = 1;
	long n;

	if (!key || key == ZERO_SIZE_PTR) {
		stat_inc(LT_ST_FAILED_ALLOC);
		return 0;
	}
	e = event_init(LT_EV_ALLOC, kind);
	if (!e)
		return 0;
	e->addr = key;
	e->size = size;
	e->detail = detail;
	n = bpf_get_stack(ctx, e->frames, sizeof(e->frames), 0);
	if (n < 0) {
		e->stack_err = n;
		stat_inc(LT_ST_STACK_FAIL);
		n = 0;
	}
	if (n > sizeof(e->frames))
		n = sizeof(e->frames);
	if (n > max_frames * sizeof(e->frames[0]))
		n = max_frames * sizeof(e->frames[0]);
	e->nr_frames = n / sizeof(e->frames[0]);
	if (kind == LT_K_PAGE && nested(e)) {
		stat_inc(LT_ST_NESTED);
		return 0;
	}
	/* an address still live lost its free: the update replaces it, userspace counts it */
	if (bpf_map_update_elem(&live, &key, &one, BPF_ANY)) {
		stat_inc(LT_ST_INFLIGHT_FULL);
		return 0;
	}
	if (bpf_ringbuf_output(&events, e, LT_EVENT_HDR_SIZE + n, rb_flags())) {
		bpf_map_delete_elem(&live, &key);
		stat_inc(LT_ST_RINGBUF_DROP);
	}
	return 0;
}

static __always_inline int record_free(__u32 kind, __u64 key)
{
	if (bpf_map_delete_elem(&live, &key))
		return 0;
	emit_header(LT_EV_FREE, kind, key, 0, 0, 0);
	return 0;
}

SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc)
{
	if (!traced_context())
		return 0;
	return record_alloc(ctx, LT_K_KMALLOC, (__u64)ptr, bytes_alloc, 0);
}

/* Before 6.1 the node variants were separate tracepoints; the arguments up to bytes_alloc
 * are the same. */
SEC("tp_btf/kmalloc_node")
int BPF_PROG(kmalloc_node, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc)
{
	if (!traced_context())
		return 0;
	return record_alloc(ctx, LT_K_KMALLOC, (__u64)ptr, bytes_alloc, 0);
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree, unsigned long call_site, const void *ptr)
{
	return record_free(LT_K_KMALLOC, (__u64)ptr);
}

/* Since 6.1: (call_site, ptr, struct kmem_cache *s, gfp, node); the size is the cache's. */
SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc, unsigned long call_site, const void *ptr, struct kmem_cache *s)
{
	if (!traced_context() || !ptr)
		return 0;
	send_cache_name(s);
	return record_alloc(ctx, LT_K_SLAB, (__u64)ptr, BPF_CORE_READ(s, size), (__u64)s);
}

/* Before 6.1: (call_site, ptr, bytes_req, bytes_alloc, gfp[, node]); the cache is unknown. */
SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc_old, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc)
{
	if (!traced_context())
		return 0;
	return record_alloc(ctx, LT_K_SLAB, (__u64)ptr, bytes_alloc, 0);
}

SEC("tp_btf/kmem_cache_alloc_node")
int BPF_PROG(kmem_cache_alloc_node, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc)
{
	if (!traced_context())
		return 0;
	return record_alloc(ctx, LT_K_SLAB, (__u64)ptr, bytes_alloc, 0);
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(kmem_cache_free, unsigned long call_site, const void *ptr)
{
	return record_free(LT_K_SLAB, (__u64)ptr);
}

/* Pages are keyed by their struct page, the same pointer at allocation and free. */
SEC("tp_btf/mm_page_alloc")
int BPF_PROG(mm_page_alloc, struct page *page, unsigned int order)
{
	if (!traced_context())
		return 0;
	return record_alloc(ctx, LT_K_PAGE, (__u64)page, (__u64)PAGE_SIZE << order, order);
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(mm_page_free, struct page *page)
{
	return record_free(LT_K_PAGE, (__u64)page);
}

SEC("tp_btf/mm_page_free_batched")
int BPF_PROG(mm_page_free_batched, struct page *page)
{
	return record_free(LT_K_PAGE, (__u64)page);
}

SEC("tp_btf/percpu_alloc_percpu")
int BPF_PROG(percpu_alloc_percpu, unsigned long call_site, bool reserved, bool is_atomic,
	     size_t size, size_t align, void *base_addr, int off, void *ptr, size_t bytes_alloc)
{
	if (!traced_context() || !ptr)
		return 0;
	/* bytes_alloc (6.2+) counts every CPU's copy; older kernels lack it: size per CPU */
	return record_alloc(ctx, LT_K_PERCPU, percpu_key(ptr), bytes_alloc ?: size, 0);
}

/* Before 6.2: (reserved, is_atomic, size, align, base_addr, off, ptr). */
SEC("tp_btf/percpu_alloc_percpu")
int BPF_PROG(percpu_alloc_percpu_old, bool reserved, bool is_atomic, size_t size, size_t align,
	     void *base_addr, int off, void *ptr)
{
	if (!traced_context() || !ptr)
		return 0;
	return record_alloc(ctx, LT_K_PERCPU, percpu_key(ptr), size, 0);
}

SEC("tp_btf/percpu_free_percpu")
int BPF_PROG(percpu_free_percpu, void *base_addr, int off, void *ptr)
{
	return record_free(LT_K_PERCPU, percpu_key(ptr));
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *p)
{
	struct lt_event *e;

	if (!target_pid || BPF_CORE_READ(p, tgid) != target_pid ||
	    BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	e = event_init(LT_EV_EXIT, 0);
	if (e && bpf_ringbuf_output(&events, e, LT_EVENT_HDR_SIZE, rb_flags()))
		stat_inc(LT_ST_RINGBUF_DROP);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
