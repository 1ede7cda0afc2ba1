/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one header shared by the BPF programs and userspace. */
#ifndef __LEAKTRACE_H
#define __LEAKTRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LT_MAX_FRAMES	   64
#define LT_DEFAULT_RINGBUF (32U << 20)
#define LT_DEFAULT_THREADS 16384
#define LT_DEFAULT_PIDS	   1024
#define LT_DEFAULT_KLIVE   (1U << 20) /* outstanding kernel allocations tracked in BPF */
#define LT_MAX_NEST_RANGES 12	      /* code ranges whose page allocations back another one */
#define LT_KCACHE_NAME	   64

enum lt_event_type {
	LT_EV_ALLOC = 1, /* addr/size allocated; old_addr freed first when non-zero */
	LT_EV_FREE,	 /* addr freed */
	LT_EV_MUNMAP,	 /* [addr, addr + size) unmapped */
	LT_EV_EXEC,	 /* pid replaced its image */
	LT_EV_EXIT,	 /* pid (whole process) exited */
	LT_EV_FORK,	 /* pid forked child addr */
	LT_EV_KCACHE,	 /* slab cache addr (struct kmem_cache *) is named frames[] (a string) */
	LT_EV_EXITING,	 /* pid called exit() and was sent SIGSTOP: read its maps, then SIGCONT */
};

/* kind of an LT_EV_EXEC */
enum {
	LT_EXEC_HELD = 1, /* -f: a child stopped at exec (SIGSTOP): probe it, then SIGCONT */
};

/* What kind of call produced an allocation; indexes lt_kind_names in userspace. */
enum lt_kind {
	LT_K_MALLOC,
	LT_K_CALLOC,
	LT_K_REALLOC,
	LT_K_MEMALIGN,
	LT_K_POSIX_MEMALIGN,
	LT_K_VALLOC,
	LT_K_NEW,
	LT_K_MMAP,
	LT_K_MREMAP,
	LT_K_FREE,
	LT_K_DELETE,
	LT_K_KMALLOC,
	LT_K_SLAB,
	LT_K_PAGE,
	LT_K_PERCPU,
	LT_K_MAX,
};

/*
 * What an allocator probe site is, given as the BPF cookie of a uprobe_multi link: one entry
 * and one return program then serve every site of a file (one link each to detach).
 */
enum lt_site {
	LT_S_MALLOC = 1,     /* size */
	LT_S_NEW,	     /* size */
	LT_S_CALLOC,	     /* nmemb, size */
	LT_S_REALLOC,	     /* ptr, size */
	LT_S_REALLOCARRAY,   /* ptr, nmemb, size */
	LT_S_MEMALIGN,	     /* align, size */
	LT_S_POSIX_MEMALIGN, /* memptr, align, size; returns an error number */
	LT_S_VALLOC,	     /* size */
	LT_S_FREE,	     /* ptr */
	LT_S_DELETE,	     /* ptr */
};

/* Loss and health counters kept in BPF .bss; every report prints them. */
enum lt_stat {
	LT_ST_RINGBUF_DROP,   /* event not delivered: ring buffer full */
	LT_ST_STACK_FAIL,     /* stack capture failed: event carries no frames */
	LT_ST_INFLIGHT_FULL,  /* per-thread in-flight map full: allocation missed */
	LT_ST_NESTED,	      /* allocator calls nested in another (not double counted) */
	LT_ST_FAILED_ALLOC,   /* allocator returned NULL / MAP_FAILED: ignored */
	LT_ST_SAMPLED_OUT,    /* allocations skipped by sampling */
	LT_ST_FREE_UNSAMPLED, /* sampling: frees of allocations not sampled (no event sent) */
	LT_ST_SAMPLED_FULL,   /* sampling: sampled-address map full: allocation not recorded */
	LT_ST_PIDS_FULL,      /* -f: process map full: a child is not traced */
	LT_ST_HEALED,	      /* in-flight records of calls whose return was never seen, dropped */
	LT_ST_CALLS,	      /* allocator calls seen while counting (nested ones included) */
	LT_ST_FDS_UNREAD,     /* --fds: descriptors received (SCM_RIGHTS) past those BPF reads */
	LT_ST_MAX,
};

/*
 * Head of every ring-buffer record; ALLOC records are followed by nr_frames addresses (user
 * ones from bpf/ualloc.bpf.c, kernel ones from bpf/kalloc.bpf.c).
 */
struct lt_event {
	__u32 type;
	__u32 kind;
	__u32 pid;
	__u32 tid;
	__u64 ts_ns;
	__u64 addr;
	__u64 size;
	__u64 old_addr;
	union {
		__u64 sp_word; /* user (mmap): the libc wrapper's return address, from the stack */
		__u64 detail;  /* kernel: struct kmem_cache * (LT_K_SLAB), page order (LT_K_PAGE) */
	};
	__u32 nr_frames;
	__s32 stack_err;
	__u64 frames[LT_MAX_FRAMES];
};

#define LT_SAMPLE_ONE  (1ULL << 32)
#define LT_SAMPLED_MAX (1U << 20) /* sampled allocations outstanding at once (BPF hash) */

/*
 * Poisson sampling of bytes, as tcmalloc does: an allocation of size bytes is sampled with
 * probability 1 - exp(-size / mean), returned in units of 2^-32 (LT_SAMPLE_ONE: always).
 * Integer-only, so BPF draws with exactly the probability userspace divides by: the scaled
 * estimate is unbiased by construction, whatever the rounding. Sizes of 16 means or more are
 * always sampled (1 - exp(-16) differs from 1 by 1e-7).
 */
static inline __u64 lt_sample_p32(__u64 size, __u64 mean)
{
	const __u64 one = 1ULL << 30; /* Q30 */
	__u64 x, f, e, ek = one;
	int i;

	if (!mean || size >= 16 * mean)
		return LT_SAMPLE_ONE;
	if (!size)
		size = 1;	 /* malloc(0) holds a block too */
	x = (size << 24) / mean; /* size / mean in Q24, < 16 << 24 */
	f = (x & 0xffffff) << 6; /* fractional part in Q30 */
	/* exp(-f) by Horner, degree 7: error < 1 / 8! */
	e = one;
	for (i = 7; i >= 1; i--)
		e = one - ((f * e) >> 30) / i;
	/* exp(-integer part): exp(-1) = 0x178b5639 in Q30 */
	for (i = 0; i < 16; i++)
		if (i < (int)(x >> 24))
			ek = (ek * 0x178b5639ULL) >> 30;
	e = (ek * e) >> 30;
	return e >= one ? 1 : (one - e) << 2;
}

#define LT_EVENT_HDR_SIZE ((unsigned long)&((struct lt_event *)0)->frames)

/*
 * Descriptors and threads (--fds, --threads): records with their own structs behind a common
 * header whose first fields are struct lt_event's, so one ring carries both.
 */
enum lt_rec_type {
	LT_EV_FD_OPEN = 32, /* struct lt_fd_open: a new descriptor */
	LT_EV_FD_CLOSE,	    /* struct lt_fd_close: descriptors [lo, hi] closed, or flagged */
	LT_EV_THREAD,	    /* struct lt_thread: a thread created, exited, joined or detached */
};

#define LT_FD_NAME 48

/* kind of an LT_EV_FD_CLOSE */
enum {
	LT_FDC_CLOSE,	    /* closed */
	LT_FDC_CLOEXEC_ON,  /* marked close-on-exec (fcntl F_SETFD, close_range) */
	LT_FDC_CLOEXEC_OFF, /* close-on-exec cleared */
};

/* kind of an LT_EV_THREAD */
enum {
	LT_TH_NEW,    /* tid created; frames: the creating thread's stack */
	LT_TH_EXIT,   /* tid exited */
	LT_TH_HANDLE, /* tid's pthread_t is handle (pthread_create returned) */
	LT_TH_JOIN,   /* the thread of pthread_t handle was joined */
	LT_TH_DETACH, /* ... detached; created detached: LT_TH_HANDLE with detached set */
};

struct lt_rec_hdr {
	__u32 type;
	__u32 kind;
	__u32 pid;
	__u32 tid;
	__u64 ts_ns;
};

#define LT_FD_CLOEXEC 1 /* flags: close-on-exec set at creation */

struct lt_fd_open {
	struct lt_rec_hdr h;
	__s32 fd;
	__u32 flags;
	__u32 mode;	       /* the inode's i_mode (S_IFMT: socket, fifo, regular...) */
	__u16 family;	       /* a socket's address family */
	__u16 socktype;	       /* SOCK_STREAM... */
	__u64 nr;	       /* the syscall */
	char name[LT_FD_NAME]; /* the dentry's name: a file's last component, "[eventfd]" */
	__u64 ino; /* the inode, on device dev: one label per file, whenever its path is read */
	__u64 dev;
	__u32 nr_frames;
	__s32 pad;
	__u64 frames[LT_MAX_FRAMES];
};

struct lt_fd_close {
	struct lt_rec_hdr h;
	__u32 lo, hi;
};

struct lt_thread {
	struct lt_rec_hdr h;
	__u32 child;	/* the thread */
	__u32 detached; /* NEW: created detached; EXIT: the whole process is exiting */
	__u64 handle;	/* pthread_t */
	__u32 nr_frames;
	__s32 pad;
	__u64 frames[LT_MAX_FRAMES];
};

#define LT_FD_OPEN_HDR_SIZE ((unsigned long)&((struct lt_fd_open *)0)->frames)
#define LT_THREAD_HDR_SIZE  ((unsigned long)&((struct lt_thread *)0)->frames)

#endif /* __LEAKTRACE_H */
