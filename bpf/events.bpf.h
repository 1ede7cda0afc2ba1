/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every BPF object of leaktrace has: the ring buffer its records leave through, the .bss
 * loss counters, the per-CPU scratch record, and how records are reserved and submitted.
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

/* Records with a stack are built here, then sent up to their last frame. */
union lt_scratch {
	struct lt_alloc alloc;
	struct lt_mmap mmap;
};

LT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, union lt_scratch);
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

/* The header of a record of the current task. */
static __always_inline void rec_hdr_fill(struct lt_rec_hdr *h, __u32 type, __u32 kind)
{
	__u64 id = bpf_get_current_pid_tgid();

	h->type = type;
	h->kind = kind;
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->ts_ns = bpf_ktime_get_ns();
}

/* The per-CPU scratch record; NULL never in practice. */
static __always_inline union lt_scratch *scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/*
 * A record of size bytes (a constant: sizeof its struct) reserved in the ring, its header
 * filled for the current task; NULL (counted) when the ring is full.
 */
static __always_inline void *rec_reserve(__u64 size, __u32 type, __u32 kind)
{
	struct lt_rec_hdr *h;

	h = bpf_ringbuf_reserve(&events, size, 0);
	if (!h) {
		stat_inc(LT_ST_RINGBUF_DROP);
		return NULL;
	}
	rec_hdr_fill(h, type, kind);
	return h;
}

static __always_inline void rec_submit(void *rec)
{
	bpf_ringbuf_submit(rec, rb_flags());
}

#endif /* __EVENTS_BPF_H */
