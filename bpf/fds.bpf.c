// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Descriptors (--fds): every syscall that creates or releases one (linked into ualloc.bpf.o). */
#define LT_BPF_EXTERN
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "leaktrace.h"
#include "events.bpf.h"
#include "user.bpf.h"

/* x86_64 syscall numbers */
#define NR_open		   2
#define NR_close	   3
#define NR_pipe		   22
#define NR_dup		   32
#define NR_dup2		   33
#define NR_socket	   41
#define NR_accept	   43
#define NR_recvmsg	   47
#define NR_socketpair	   53
#define NR_fcntl	   72
#define NR_creat	   85
#define NR_epoll_create	   213
#define NR_inotify_init	   253
#define NR_openat	   257
#define NR_signalfd	   282
#define NR_timerfd_create  283
#define NR_eventfd	   284
#define NR_accept4	   288
#define NR_signalfd4	   289
#define NR_eventfd2	   290
#define NR_epoll_create1   291
#define NR_dup3		   292
#define NR_pipe2	   293
#define NR_inotify_init1   294
#define NR_perf_event_open 298
#define NR_fanotify_init   300
#define NR_open_by_handle  304
#define NR_memfd_create	   319
#define NR_bpf		   321
#define NR_userfaultfd	   323
#define NR_io_uring_setup  425
#define NR_pidfd_open	   434
#define NR_close_range	   436
#define NR_openat2	   437
#define NR_pidfd_getfd	   438

#define F_DUPFD		    0
#define F_SETFD		    2
#define F_DUPFD_CLOEXEC	    1030
#define FD_CLOEXEC	    1
#define CLOSE_RANGE_CLOEXEC 4
#define SOL_SOCKET	    1
#define SCM_RIGHTS	    1
#define S_IFMT		    00170000
#define S_IFSOCK	    0140000
#define EBADF		    9

/* descriptors read from one SCM_RIGHTS message; the rest are counted (LT_ST_FDS_UNREAD) */
#define LT_SCM_FDS 16

/* What a descriptor's record is built in (too large for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_fd_open);
} fd_scratch SEC(".maps");

/* A function ends this far from its start at most, for this unwinder. */
#define LT_FUNC_SIZE 8192
/* stack words scanned for return addresses; frames found that way */
#define LT_SCAN_WORDS 256

/*
 * Whether ret follows a direct call of a function that holds ip (or of its PLT stub). Global
 * functions are verified once, not at each call.
 */
__noinline int fd_calls_into(__u64 ret, __u64 ip)
{
	return calls_into(ret, ip, LT_FUNC_SIZE);
}

#define LT_FP_CANDS 4

/* The scan's state lives in a map, not on the stack: the verifier then checks the loop's
 * callback once, not once per state of it. */
/* the syscall's libc: its text lies this close to the syscall instruction */
#define LT_LIB_SPAN (4ULL << 20)

static __always_inline struct task_struct *cur_task(void)
{
	return bpf_get_current_task_btf();
}

struct scan {
	__u64 words[LT_SCAN_WORDS];
	__u64 ip, sp, bp, fp;
	__u64 code_lo, code_hi, lib_lo, lib_hi; /* where a return address may point */
	__u32 stop_at;		 /* a frame of the program found: scan a little further only */
	__u64 cand[LT_FP_CANDS]; /* words since the last frame found that point up the stack */
	__u32 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scan);
} fd_scan SEC(".maps");

/* Whether ret follows a call instruction (direct, or through a register or memory). */
__noinline int fd_after_call(__u64 ret)
{
	__u8 code[7];

	if (ret < 4096 || bpf_probe_read_user(code, sizeof(code), (void *)(ret - 7)))
		return 0;
	if (code[2] == 0xe8)
		return 1; /* call rel32 */
	if (code[1] == 0xff && code[2] == 0x15)
		return 1;				    /* call *rel32(%rip) */
	return code[5] == 0xff && (code[6] & 0xf8) == 0xd0; /* call *%reg */
}

/* Whether fp is a frame whose return address calls the function holding ip. */
__noinline int fd_frame_of(__u64 fp, __u64 above, __u64 ip)
{
	struct {
		__u64 next, ret;
	} fr;

	if (fp <= above || (fp & 7) || fp - above > (1 << 20))
		return 0;
	if (bpf_probe_read_user(&fr, sizeof(fr), (void *)fp))
		return 0;
	return fd_calls_into(fr.ret, ip);
}

static long scan_word(__u32 i, void *unused)
{
	struct lt_fd_open *e;
	struct scan *c;
	__u32 zero = 0, k = i, m;
	__u64 w, slot;
	bool strong;
	int j;

	c = bpf_map_lookup_elem(&fd_scan, &zero);
	e = bpf_map_lookup_elem(&fd_scratch, &zero);
	if (!c || !e)
		return 1;
	if (i >= c->stop_at)
		return 1;
	barrier_var(k);
	k &= LT_SCAN_WORDS - 1;
	w = c->words[k];
	slot = c->sp + k * 8;
	if (w > slot && w - slot < (1 << 20) && !(w & 7)) {
		c->cand[k % LT_FP_CANDS] = w;
		return 0;
	}
	/*
	 * Reading memory at a word that is not code faults, which costs as much as a trap here
	 * (~1 us): only words in the program's text or near the syscall's libc are looked at.
	 * A frame in another library is skipped (the frame-pointer chain may still join).
	 */
	if (!(w >= c->code_lo && w < c->code_hi) && !(w >= c->lib_lo && w < c->lib_hi))
		return 0;
	strong = fd_calls_into(w, c->ip);
	if (!strong && !fd_after_call(w))
		return 0;
	/* where the frame-pointer chain takes over: rbp, or a saved rbp below the address */
	if (fd_frame_of(c->bp, slot, w))
		c->fp = c->bp;
	for (j = 0; j < LT_FP_CANDS && !c->fp; j++)
		if (fd_frame_of(c->cand[j], slot, w))
			c->fp = c->cand[j];
	if (!strong && !c->fp)
		return 0;
	m = c->n;
	barrier_var(m);
	m &= LT_MAX_FRAMES - 1;
	e->frames[m] = w;
	c->n++;
	c->ip = w;
	/* the program's own code keeps frame pointers: its caller is near, or beyond reach */
	if (w >= c->code_lo && w < c->code_hi && c->stop_at > i + 32)
		c->stop_at = i + 32;
	for (j = 0; j < LT_FP_CANDS; j++)
		c->cand[j] = 0;
	return c->fp || c->n >= 16;
}

/* One step of the frame-pointer walk, from where the scan left it. */
static long fp_frame(__u32 i, void *unused)
{
	struct {
		__u64 next, ret;
	} fr;
	struct lt_fd_open *e;
	struct scan *c;
	__u32 zero = 0, m;

	c = bpf_map_lookup_elem(&fd_scan, &zero);
	e = bpf_map_lookup_elem(&fd_scratch, &zero);
	if (!c || !e || !c->fp || (c->fp & 7) || c->n >= LT_MAX_FRAMES)
		return 1;
	if (bpf_probe_read_user(&fr, sizeof(fr), (void *)c->fp))
		return 1;
	m = c->n;
	barrier_var(m);
	m &= LT_MAX_FRAMES - 1;
	e->frames[m] = fr.ret;
	c->n++;
	c->fp = fr.next > c->fp ? fr.next : 0;
	return 0;
}

/*
 * The user stack of a syscall made inside libc, whose functions keep no frame pointer (and
 * may use rbp for data): the frame-pointer chain from rbp skips the functions between the
 * syscall and the first caller built with frame pointers, or is garbage. So the stack is
 * scanned from the stack pointer for return addresses: one that follows a direct call of the
 * function holding the frame below it is taken (open64 <- _IO_file_open <- ... <-
 * __fopen_internal), a stale word rarely does; one that follows any call is taken only where
 * the frame-pointer chain joins it (rbp, or an rbp saved below it, is a frame whose return
 * address calls its function: fopen's caller), and the walk goes on by frame pointers.
 * Fills e->frames; returns bytes stored.
 */
static __noinline long syscall_stack(struct lt_fd_open *e, __u64 sp, __u64 ip, __u64 bp)
{
	struct scan *c;
	__u64 top, len = sizeof(c->words);
	__u32 zero = 0;
	int n, j;

	e->frames[0] = ip;
	c = bpf_map_lookup_elem(&fd_scan, &zero);
	if (!c)
		return 8;
	/*
	 * Near the top of the main thread's stack (main's frame) a whole window is not mapped:
	 * read up to its strings' end (env_end, just under the mapping's end), else less of it
	 * (a fixed 512 B fallback lost the creating function when it ran near main: 2 in 20).
	 * Words past what was read are not scanned (the scratch holds an older scan's).
	 */
	top = BPF_CORE_READ(cur_task(), mm, env_end);
	if (top > sp && top - sp < len)
		len = (top - sp) & 0x7f8; /* < 2048, whole words: a bound the verifier sees */
	if (len < 16 * 8 || bpf_probe_read_user(c->words, len, (void *)sp)) {
		/*
		 * The window's second page is not present: never touched, as the padding exec
		 * leaves above the first frame is (a small environment puts main's frame below
		 * it). Every frame is in pages written to: read up to the end of sp's page.
		 */
		len = 4096 - (sp & 4095);
		len = len < sizeof(c->words) && len >= 16 * 8 ? len & 0x7f8 : 64 * 8;
		if (bpf_probe_read_user(c->words, len, (void *)sp)) {
			len = 16 * 8;
			if (bpf_probe_read_user(c->words, len, (void *)sp))
				return 8;
		}
	}
	c->ip = ip;
	c->sp = sp;
	c->code_lo = BPF_CORE_READ(cur_task(), mm, start_code);
	c->code_hi = BPF_CORE_READ(cur_task(), mm, end_code);
	c->lib_lo = ip - LT_LIB_SPAN;
	c->lib_hi = ip + LT_LIB_SPAN;
	c->stop_at = len / 8;
	c->bp = bp;
	c->fp = 0;
	c->n = 1;
	for (j = 0; j < LT_FP_CANDS; j++)
		c->cand[j] = 0;
	/* a syscall wrapper called from code with frame pointers: rbp is its caller's frame */
	if (fd_frame_of(bp, sp, ip))
		c->fp = bp;
	else
		bpf_loop(LT_SCAN_WORDS, scan_word, NULL, 0);
	if (c->fp)
		bpf_loop(LT_MAX_FRAMES, fp_frame, NULL, 0);
	n = c->n;
	if (n < 1 || n > LT_MAX_FRAMES)
		n = 1;
	return n * sizeof(e->frames[0]);
}

/*
 * A descriptor's creating stack: the CFI walk (bpf/unwind.bpf.h), which goes through libc's
 * wrappers by their tables and, with the list dropped at exec, never by a stale one; with
 * --unwind fp, the scan above.
 */
static __always_inline long fd_stack(struct lt_fd_open *e, __u64 sp, __u64 ip, __u64 bp)
{
	__u32 nr;

	if (uw_walk(e->frames, &nr))
		return (nr > LT_MAX_FRAMES ? LT_MAX_FRAMES : nr) * sizeof(e->frames[0]);
	return syscall_stack(e, sp, ip, bp);
}

static __always_inline struct file *fd_file(struct task_struct *t, int fd, bool *cloexec)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	unsigned long word = 0, *coe;
	struct file **arr, *f = NULL;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	arr = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	coe = BPF_CORE_READ(fdt, close_on_exec);
	bpf_probe_read_kernel(&word, sizeof(word), &coe[fd / 64]);
	*cloexec = word >> (fd % 64) & 1;
	return f;
}

__noinline int fd_record(__u64 nr, int fd, __u64 sp, __u64 ip, __u64 bp)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();
	struct lt_fd_open *e;
	struct socket *sock;
	const unsigned char *name;
	struct file *f;
	bool cloexec = false;
	__u32 zero = 0;
	long n;

	e = bpf_map_lookup_elem(&fd_scratch, &zero);
	if (!e)
		return 0;
	e->h.type = LT_EV_FD_OPEN;
	e->h.kind = 0;
	e->h.pid = id >> 32;
	e->h.tid = (__u32)id;
	e->h.ts_ns = bpf_ktime_get_ns();
	e->fd = fd;
	e->nr = nr;
	e->mode = 0;
	e->family = 0;
	e->socktype = 0;
	e->name[0] = '\0';
	e->ino = 0;
	e->dev = 0;
	f = fd_file(t, fd, &cloexec);
	e->flags = cloexec ? LT_FD_CLOEXEC : 0;
	if (f) {
		e->mode = BPF_CORE_READ(f, f_inode, i_mode);
		e->ino = BPF_CORE_READ(f, f_inode, i_ino);
		e->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
		name = BPF_CORE_READ(f, f_path.dentry, d_name.name);
		bpf_probe_read_kernel_str(e->name, sizeof(e->name), name);
		if ((e->mode & S_IFMT) == S_IFSOCK) {
			sock = BPF_CORE_READ(f, private_data);
			e->socktype = BPF_CORE_READ(sock, type);
			e->family = BPF_CORE_READ(sock, sk, __sk_common.skc_family);
		}
	}
	n = fd_stack(e, sp, ip, bp);
	if (n < 8 || n > sizeof(e->frames))
		n = 8;
	e->nr_frames = n / sizeof(e->frames[0]);
	e->pad = 0;
	if (bpf_ringbuf_output(&events, e, LT_FD_OPEN_HDR_SIZE + n, rb_flags()))
		stat_inc(LT_ST_RINGBUF_DROP);
	return 0;
}

static __always_inline void fd_open(void *ctx, struct pt_regs *regs, __u64 nr, int fd)
{
	fd_record(nr, fd, regs->sp, regs->ip, regs->bp);
}

static __always_inline void fd_close(__u32 kind, __u32 lo, __u32 hi)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct lt_fd_close *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(LT_ST_RINGBUF_DROP);
		return;
	}
	e->h.type = LT_EV_FD_CLOSE;
	e->h.kind = kind;
	e->h.pid = id >> 32;
	e->h.tid = (__u32)id;
	e->h.ts_ns = bpf_ktime_get_ns();
	e->lo = lo;
	e->hi = hi;
	bpf_ringbuf_submit(e, rb_flags());
}

/* The two descriptors a pipe or socketpair wrote to user memory at arr. */
static __always_inline void fd_pair(void *ctx, struct pt_regs *regs, __u64 nr, __u64 arr)
{
	int fds[2];

	if (bpf_probe_read_user(fds, sizeof(fds), (void *)arr))
		return;
	fd_open(ctx, regs, nr, fds[0]);
	fd_open(ctx, regs, nr, fds[1]);
}

/* Descriptors received: the SCM_RIGHTS message among the first control messages. */
static __always_inline void fd_received(void *ctx, struct pt_regs *regs, __u64 msg)
{
	struct user_msghdr mh;
	struct cmsghdr ch;
	__u64 at, end;
	int i, k, fd;

	if (bpf_probe_read_user(&mh, sizeof(mh), (void *)msg) || !mh.msg_control)
		return;
	at = (__u64)mh.msg_control;
	end = at + mh.msg_controllen;
	for (k = 0; k < 4; k++) {
		if (at + sizeof(ch) > end || bpf_probe_read_user(&ch, sizeof(ch), (void *)at))
			return;
		if (ch.cmsg_len < sizeof(ch))
			return;
		if (ch.cmsg_level == SOL_SOCKET && ch.cmsg_type == SCM_RIGHTS) {
			for (i = 0; i < LT_SCM_FDS; i++) {
				if (sizeof(ch) + (i + 1) * sizeof(int) > ch.cmsg_len)
					return;
				if (bpf_probe_read_user(
					    &fd, sizeof(fd),
					    (void *)(at + sizeof(ch) + i * sizeof(int))))
					return;
				fd_open(ctx, regs, NR_recvmsg, fd);
			}
			if (sizeof(ch) + (LT_SCM_FDS + 1) * sizeof(int) <= ch.cmsg_len)
				__sync_fetch_and_add(&stats[LT_ST_FDS_UNREAD],
						     (ch.cmsg_len - sizeof(ch)) / sizeof(int) -
							     LT_SCM_FDS);
			return;
		}
		at += (ch.cmsg_len + 7) & ~7ULL;
	}
}

/*
 * One program on the raw sys_exit tracepoint rather than a tracepoint per syscall: ~25
 * syscalls would each cost an attach through tracefs and a detach of one or two RCU grace
 * periods (bpf/mmap.bpf.c: ~30 ms each here), and sys_enter/exit tracing is already switched
 * on for every task by the mmap tracepoints, so the extra cost is this program's run on each
 * syscall exit, which leaves at the syscall number test for all but these.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(fds_sys_exit, struct pt_regs *regs, long ret)
{
	__u64 nr = regs->orig_ax, a0, a1, a2;
	__u32 pid;

	switch (nr) {
	case NR_open:
	case NR_close:
	case NR_pipe:
	case NR_dup:
	case NR_dup2:
	case NR_socket:
	case NR_accept:
	case NR_recvmsg:
	case NR_socketpair:
	case NR_fcntl:
	case NR_creat:
	case NR_epoll_create:
	case NR_inotify_init:
	case NR_openat:
	case NR_signalfd:
	case NR_timerfd_create:
	case NR_eventfd:
	case NR_accept4:
	case NR_signalfd4:
	case NR_eventfd2:
	case NR_epoll_create1:
	case NR_dup3:
	case NR_pipe2:
	case NR_inotify_init1:
	case NR_perf_event_open:
	case NR_fanotify_init:
	case NR_open_by_handle:
	case NR_memfd_create:
	case NR_bpf:
	case NR_userfaultfd:
	case NR_io_uring_setup:
	case NR_pidfd_open:
	case NR_close_range:
	case NR_openat2:
	case NR_pidfd_getfd:
		break;
	default:
		return 0;
	}
	pid = bpf_get_current_pid_tgid() >> 32;
	if (!counting || !bpf_map_lookup_elem(&pids, &pid))
		return 0;
	a0 = regs->di;
	a1 = regs->si;
	a2 = regs->dx;
	switch (nr) {
	case NR_close:
		/* closed whatever the error, but a descriptor that was not open */
		if (ret != -EBADF)
			fd_close(LT_FDC_CLOSE, a0, a0);
		return 0;
	case NR_close_range:
		if (!ret)
			fd_close(a2 & CLOSE_RANGE_CLOEXEC ? LT_FDC_CLOEXEC_ON : LT_FDC_CLOSE, a0,
				 a1 > 0x7fffffff ? 0x7fffffff : a1);
		return 0;
	case NR_fcntl:
		if (ret < 0)
			return 0;
		if (a1 == F_SETFD)
			fd_close(a2 & FD_CLOEXEC ? LT_FDC_CLOEXEC_ON : LT_FDC_CLOEXEC_OFF, a0, a0);
		else if (a1 == F_DUPFD || a1 == F_DUPFD_CLOEXEC)
			fd_open(ctx, regs, nr, ret);
		return 0;
	case NR_pipe:
	case NR_pipe2:
		if (!ret)
			fd_pair(ctx, regs, nr, a0);
		return 0;
	case NR_socketpair:
		if (!ret)
			fd_pair(ctx, regs, nr, regs->r10);
		return 0;
	case NR_recvmsg:
		if (ret >= 0)
			fd_received(ctx, regs, a1);
		return 0;
	default:
		/* dup2 and dup3 over an open descriptor: userspace replaces it */
		if (ret >= 0)
			fd_open(ctx, regs, nr, ret);
		return 0;
	}
}

/*
 * Threads (--threads): created (the creating thread's stack), exited, joined, detached.
 * pthread_t is the thread's struct pthread, which glibc gives clone as its TLS pointer: the
 * new task's fsbase. A thread created detached is known from its attributes, read at
 * pthread_create's entry (glibc's struct pthread_attr: flags after two ints, bit 0 detached).
 */
#define ATTR_FLAG_DETACHSTATE 1
#define SIGNAL_GROUP_EXIT     4

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LT_DEFAULT_THREADS);
	__type(key, __u32);
	__type(value, __u32);
} creating_detached SEC(".maps");

static __always_inline bool thread_traced(__u32 pid)
{
	return counting && bpf_map_lookup_elem(&pids, &pid);
}

static __always_inline void thread_emit(__u32 kind, __u32 child, __u64 handle, __u32 detached)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct lt_thread *t;

	t = bpf_ringbuf_reserve(&events, LT_THREAD_HDR_SIZE, 0);
	if (!t) {
		stat_inc(LT_ST_RINGBUF_DROP);
		return;
	}
	t->h.type = LT_EV_THREAD;
	t->h.kind = kind;
	t->h.pid = id >> 32;
	t->h.tid = (__u32)id;
	t->h.ts_ns = bpf_ktime_get_ns();
	t->child = child;
	t->detached = detached;
	t->handle = handle;
	t->nr_frames = 0;
	t->pad = 0;
	bpf_ringbuf_submit(t, rb_flags());
}

SEC("uprobe")
int BPF_KPROBE(thread_create_enter, void *thread, void *attr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, flags = 0;

	if (!thread_traced(id >> 32))
		return 0;
	if (attr)
		bpf_probe_read_user(&flags, sizeof(flags), attr + 8);
	flags &= ATTR_FLAG_DETACHSTATE;
	bpf_map_update_elem(&creating_detached, &tid, &flags, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(threads_fork, struct task_struct *parent, struct task_struct *child)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(cur);
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, *detached, zero = 0;
	struct lt_fd_open *e;
	struct lt_thread *t;
	long n;

	if (child->pid == child->tgid || !thread_traced(child->tgid))
		return 0;
	e = bpf_map_lookup_elem(&fd_scratch, &zero);
	if (!e)
		return 0;
	/* the scan, not CFI: glibc's clone3 ends its FDE before the syscall (the child's unwind
	 * info would be wrong), so the CFI walk stops at clone3 */
	n = syscall_stack(e, BPF_CORE_READ(regs, sp), BPF_CORE_READ(regs, ip),
			  BPF_CORE_READ(regs, bp));
	if (n < 8 || n > sizeof(e->frames))
		n = 8;
	t = bpf_ringbuf_reserve(&events, sizeof(*t), 0);
	if (!t) {
		stat_inc(LT_ST_RINGBUF_DROP);
		return 0;
	}
	t->h.type = LT_EV_THREAD;
	t->h.kind = LT_TH_NEW;
	t->h.pid = id >> 32;
	t->h.tid = tid;
	t->h.ts_ns = bpf_ktime_get_ns();
	t->child = child->pid;
	detached = bpf_map_lookup_elem(&creating_detached, &tid);
	t->detached = detached ? *detached : 0;
	t->handle = child->thread.fsbase;
	t->nr_frames = n / sizeof(e->frames[0]);
	t->pad = 0;
	bpf_probe_read_kernel(t->frames, sizeof(t->frames), e->frames);
	bpf_ringbuf_submit(t, rb_flags());
	if (detached)
		bpf_map_delete_elem(&creating_detached, &tid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(threads_exit, struct task_struct *p)
{
	/* the process ends (exit_group): its threads are not the ones that exited alone */
	if (p->pid == p->tgid || !thread_traced(p->tgid))
		return 0;
	thread_emit(LT_TH_EXIT, p->pid, 0, !!(p->signal->flags & SIGNAL_GROUP_EXIT));
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(thread_join_enter, __u64 handle)
{
	if (thread_traced(bpf_get_current_pid_tgid() >> 32))
		thread_emit(LT_TH_JOIN, 0, handle, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(thread_detach_enter, __u64 handle)
{
	if (thread_traced(bpf_get_current_pid_tgid() >> 32))
		thread_emit(LT_TH_DETACH, 0, handle, 0);
	return 0;
}

/*
 * pthread_tryjoin_np, pthread_timedjoin_np and pthread_clockjoin_np join only when they return
 * 0 (not EBUSY, ETIMEDOUT, EINVAL): the handle is kept from the entry to the return, by thread,
 * with the entry's stack pointer, so that a return whose entry was not seen, or a call that
 * never returned (cancelled in a timed join), cannot lend its handle to another call.
 */
struct join_call {
	__u64 handle;
	__u64 sp;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LT_DEFAULT_THREADS);
	__type(key, __u32);
	__type(value, struct join_call);
} joining SEC(".maps");

static __always_inline int tryjoin_enter(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct join_call c = {.handle = PT_REGS_PARM1(ctx), .sp = PT_REGS_SP(ctx)};
	__u32 tid = (__u32)id;

	if (thread_traced(id >> 32))
		bpf_map_update_elem(&joining, &tid, &c, BPF_ANY);
	return 0;
}

static __always_inline int tryjoin_exit(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct join_call *c;
	__u64 handle, sp;

	c = bpf_map_lookup_elem(&joining, &tid);
	if (!c)
		return 0;
	handle = c->handle;
	sp = c->sp;
	bpf_map_delete_elem(&joining, &tid);
	/* the return popped the address the entry found at sp */
	if ((int)PT_REGS_RC(ctx) == 0 && PT_REGS_SP(ctx) == sp + 8 && thread_traced(id >> 32))
		thread_emit(LT_TH_JOIN, 0, handle, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(thread_tryjoin_enter)
{
	return tryjoin_enter(ctx);
}

SEC("uretprobe")
int BPF_KRETPROBE(thread_tryjoin_return)
{
	return tryjoin_exit(ctx);
}
