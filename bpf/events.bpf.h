/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every BPF object of leaktrace has: the ring buffer its events leave through, the .bss
 * loss counters, the per-CPU scratch event, and how events are started and submitted.
 * BPF-only: included once by each BPF object, after vmlinux.h and leaktrace.h.
 */
#ifndef __EVENTS_BPF_H
#define __EVENTS_BPF_H

/* The objects bpftool links into one: one defines, the others (LT_BPF_EXTERN) declare. */
#ifdef LT_BPF_EXTERN
#define LT_SHARED extern
#else
#define LT_SHARED
#endif

LT_SHARED __u64 stats[LT_ST_MAX];

LT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, LT_DEFAULT_RINGBUF);
} events SEC(".maps");

LT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_event);
} scratch SEC(".maps");

/*
 * Waking the reader for every event costs the traced thread an irq_work and a context switch
 * (the reader keeps up, so nearly every event finds the ring empty and would wake it). The
 * reader polls every 100 ms anyway; wake it early only when the ring is a quarter full.
 * Userspace sets this to a quarter of the size it gives the ring.
 */
#ifdef LT_BPF_EXTERN
extern const volatile __u64 wakeup_bytes;
#else
const volatile __u64 wakeup_bytes = LT_DEFAULT_RINGBUF / 4;
#endif

static __always_inline __u64 rb_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									    : BPF_RB_NO_WAKEUP;
}

static __always_inline void stat_inc(enum lt_stat s)
{
	if (s < LT_ST_MAX)
		__sync_fetch_and_add(&stats[s], 1);
}

/* The header of a record for the current task; no frames yet. */
static __always_inline void header_fill(struct lt_event *e, __u32 type, __u32 kind, __u64 addr,
					__u64 size, __u64 old_addr, __u64 detail)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->type = type;
	e->kind = kind;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->ts_ns = bpf_ktime_get_ns();
	e->addr = addr;
	e->size = size;
	e->old_addr = old_addr;
	e->detail = detail;
	e->nr_frames = 0;
	e->stack_err = 0;
}

/* The per-CPU scratch event, its header filled for the current task; NULL never in practice. */
static __always_inline struct lt_event *event_init(__u32 type, __u32 kind)
{
	__u32 zero = 0;
	struct lt_event *e;

	e = bpf_map_lookup_elem(&scratch, &zero);
	if (e)
		header_fill(e, type, kind, 0, 0, 0, 0);
	return e;
}

/* A record with no stack (frees, unmaps, lifecycle), reserved and filled; NULL (counted)
 * when the ring is full. */
static __always_inline struct lt_event *header_reserve(__u32 type, __u32 kind, __u64 addr,
						       __u64 size, __u64 old_addr, __u64 detail)
{
	struct lt_event *e;

	e = bpf_ringbuf_reserve(&events, LT_EVENT_HDR_SIZE, 0);
	if (!e) {
		stat_inc(LT_ST_RINGBUF_DROP);
		return NULL;
	}
	header_fill(e, type, kind, addr, size, old_addr, detail);
	return e;
}

static __always_inline void emit_header(__u32 type, __u32 kind, __u64 addr, __u64 size,
					__u64 old_addr, __u64 detail)
{
	struct lt_event *e = header_reserve(type, kind, addr, size, old_addr, detail);

	if (e)
		bpf_ringbuf_submit(e, rb_flags());
}

#endif /* __EVENTS_BPF_H */
