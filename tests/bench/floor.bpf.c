// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * make bench's trap floor: programs that do nothing, attached by tests/bench/floor.c where
 * leaktrace attaches its own, so the difference between the two is what leaktrace's programs,
 * ring buffer and reader cost on top of the traps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("uprobe")
int empty_entry(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int empty_return(void *ctx)
{
	return 0;
}

/* session link (attach type set by the loader): 1 = this call's return is not wanted */
SEC("uprobe")
int empty_session_skip(void *ctx)
{
	return 1;
}

/* the same, 0 = run this program again at the return (leaktrace's sessions for sampled calls) */
SEC("uprobe")
int empty_session_keep(void *ctx)
{
	return 0;
}

/* uprobe_multi links (attach type set by the loader), one entry and one return link */
SEC("uprobe")
int empty_multi_entry(void *ctx)
{
	return 0;
}

SEC("uprobe")
int empty_multi_return(void *ctx)
{
	return 0;
}

/*
 * Not part of the floor: what leaktrace's programs add on top of it, one piece at a time
 * (floor modes stack, stack_entry, ringbuf).
 */
#define MAX_FRAMES 64 /* LT_MAX_FRAMES */
#define HDR_BYTES  64 /* LT_EVENT_HDR_SIZE */

struct frames {
	__u64 ip[MAX_FRAMES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct frames);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} events SEC(".maps");

__u64 depth_hist[MAX_FRAMES + 1]; /* user stacks captured, by number of frames */
__u64 last_stack[4];		  /* the first frames of the last one, to compare walks */

static __always_inline void keep(struct frames *f, long n)
{
	for (int i = 0; i < 4; i++)
		last_stack[i] = i < n ? f->ip[i] : 0;
}

static __always_inline int user_stack(void *ctx)
{
	__u32 zero = 0;
	struct frames *f = bpf_map_lookup_elem(&scratch, &zero);
	long n;

	if (!f)
		return 0;
	n = bpf_get_stack(ctx, f->ip, sizeof(f->ip), BPF_F_USER_STACK);
	if (n < 0)
		n = 0;
	n /= sizeof(f->ip[0]);
	if (n <= MAX_FRAMES)
		__sync_fetch_and_add(&depth_hist[n], 1);
	keep(f, n);
	return 0;
}

SEC("uretprobe")
int stack_return(void *ctx)
{
	return user_stack(ctx);
}

SEC("uprobe")
int stack_entry(void *ctx)
{
	return user_stack(ctx);
}

/*
 * The same walk as the kernel's perf_callchain_user(), in BPF, but ending at a null frame
 * pointer (the outermost frame's) instead of reading address 0: that read faults, and the
 * fault costs as much as a trap on this kind of VM.
 */
static __always_inline int user_stack_fp(struct pt_regs *ctx)
{
	struct {
		__u64 next, ret;
	} frame;
	__u32 zero = 0;
	struct frames *f = bpf_map_lookup_elem(&scratch, &zero);
	__u64 fp = ctx->bp;
	int n = 1;

	if (!f)
		return 0;
	f->ip[0] = ctx->ip;
	for (; n < MAX_FRAMES; n++) {
		if (!fp || (fp & 7))
			break;
		if (bpf_probe_read_user(&frame, sizeof(frame), (void *)fp))
			break;
		f->ip[n] = frame.ret;
		if (frame.next <= fp)
			fp = 0;
		else
			fp = frame.next;
	}
	__sync_fetch_and_add(&depth_hist[n], 1);
	keep(f, n);
	return 0;
}

SEC("uretprobe")
int stack_fp_return(struct pt_regs *ctx)
{
	return user_stack_fp(ctx);
}

static __always_inline int record(void)
{
	void *e = bpf_ringbuf_reserve(&events, HDR_BYTES, 0);

	if (!e)
		return 0;
	__builtin_memset(e, 0, HDR_BYTES);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("uretprobe")
int ringbuf_return(void *ctx)
{
	return record();
}

SEC("uprobe")
int ringbuf_entry(void *ctx)
{
	return record();
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
