// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Process lifecycle (fork, exec, exit) and holds (linked into ualloc.bpf.o). */
#define LT_BPF_EXTERN
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "leaktrace.h"
#include "events.bpf.h"
#include "user.bpf.h"

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

/*
 * Processes held until the table of a file they mapped is built, with the time they were held
 * (held's value): userspace serves them as soon as uw_waits moves, in the middle of a drain,
 * not when it reaches their record behind seconds of others (src/target/holds.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_DEFAULT_PIDS);
	__type(key, __u32);
	__type(value, __u64);
} uw_wait SEC(".maps");
/* entries ever added to uw_wait: userspace looks at the map when it moves */
__u64 uw_waits;

/*
 * type: LT_EV_EXITING, LT_EV_EXEC or LT_EV_NEW_OBJ, records that are their header only.
 * table: the hold waits for a table (uw_wait), else for its record to be read.
 */
static __always_inline bool hold(__u32 type, __u32 kind, bool table)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 now = bpf_ktime_get_ns();
	struct lt_rec_hdr *e;

	if (!holds || holds_off || !bpf_map_lookup_elem(&pids, &pid))
		return false;
	e = rec_reserve(sizeof(*e), type, kind);
	if (!e)
		return false;
	/* nobody is stopped whom the watchdog cannot see (held already: another thread) */
	if (bpf_map_update_elem(&held, &pid, &now, BPF_NOEXIST)) {
		bpf_ringbuf_discard(e, 0);
		return false;
	}
	bpf_send_signal(19 /* SIGSTOP */);
	/* after the signal: a SIGCONT must not come before it */
	if (table && !bpf_map_update_elem(&uw_wait, &pid, &now, BPF_ANY))
		__sync_fetch_and_add(&uw_waits, 1);
	else if (table)
		e->kind = LT_NEW_OBJ_BY_RECORD;
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP); /* the process waits on it */
	return true;
}

/*
 * A SIGCONT to a held process ends its hold here, in the sender's context: the woken process
 * takes the siglock the sender holds before it returns to user space, so its next hold (exit
 * after exec) always finds its entry gone, and no later delete by userspace can remove the
 * entry of a newer hold. Whoever sends it: leaktrace, its watchdog, or the user.
 */
SEC("tp_btf/signal_generate")
int BPF_PROG(hold_continued, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	__u32 pid;

	if (!holds || sig != 18 /* SIGCONT */)
		return 0;
	pid = BPF_CORE_READ(task, tgid);
	bpf_map_delete_elem(&held, &pid);
	return 0;
}

static long known_file(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	struct lt_uw_file_key k = {};
	struct file *f = vma->vm_file;
	bool *known = ctx;

	*known = true; /* not a file (unmapped since): nothing to build */
	if (!f)
		return 0;
	k.ino = BPF_CORE_READ(f, f_inode, i_ino);
	k.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	*known = bpf_map_lookup_elem(&uw_files, &k) != NULL;
	return 0;
}

/*
 * A file the process just mapped executable at addr (dlopen) whose table userspace has not
 * built yet (uw_files has an entry for every file it looked at, with a table or without): held
 * as at exec, so the table exists before a frame in it is walked; without a hold its frames
 * would go by frame pointer until the next drain. When the VMA cannot be read (another thread
 * holds the mmap lock), held too: a hold too many costs a round trip, one too few a stack.
 * A global function, verified once: mmap.bpf.c's mmap_exit calls it.
 */
__noinline int uw_hold_new_object(__u64 addr)
{
	bool known = false;

	if (!holds || holds_off || !uw_cfi)
		return 0;
	bpf_find_vma(bpf_get_current_task_btf(), addr, known_file, &known, 0);
	if (!known)
		hold(LT_EV_NEW_OBJ, 0, true);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(exit_enter)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u8 one = 1;

	if (bpf_map_lookup_elem(&exit_held, &pid))
		return 0;
	if (hold(LT_EV_EXITING, 0, false))
		bpf_map_update_elem(&exit_held, &pid, &one, BPF_ANY);
	return 0;
}

/* Process lifecycle */

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, tgid);
	__u32 tid = BPF_CORE_READ(p, pid);
	struct lt_exit *r;

	if (!bpf_map_lookup_elem(&pids, &pid))
		return 0;
	bpf_map_delete_elem(&inflight, &tid);
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	r = rec_reserve(sizeof(*r), LT_EV_EXIT, 0);
	if (r)
		rec_submit(r);
	bpf_map_delete_elem(&exit_held, &pid);
	if (follow)
		bpf_map_delete_elem(&pids, &pid); /* its pid may be reused by anyone */
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *p, pid_t old_pid)
{
	__u32 pid = BPF_CORE_READ(p, tgid);
	struct lt_exec *e;

	if (!bpf_map_lookup_elem(&pids, &pid))
		return 0;
	uw_exec(pid);
	/*
	 * -f: a child's new image may allocate through a file the inherited probes do not
	 * cover: held before its first instruction while userspace looks (and probes it).
	 */
	if (follow && pid != target_pid) {
		if (hold(LT_EV_EXEC, LT_EXEC_HELD, false))
			return 0;
		/* not held (-p): the reader is woken now, to read its maps while it lives */
		e = rec_reserve(sizeof(*e), LT_EV_EXEC, 0);
		if (e)
			bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
		return 0;
	}
	e = rec_reserve(sizeof(*e), LT_EV_EXEC, 0);
	if (e)
		rec_submit(e);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 pid = BPF_CORE_READ(parent, tgid);
	__u32 cpid = BPF_CORE_READ(child, tgid);
	struct lt_fork *r;
	__u8 one = 1;

	if (cpid != BPF_CORE_READ(child, pid) || !bpf_map_lookup_elem(&pids, &pid))
		return 0;
	/* before the child first runs: its syscalls are traced from its first one */
	if (follow && bpf_map_update_elem(&pids, &cpid, &one, BPF_ANY))
		stat_inc(LT_ST_PIDS_FULL);
	if (follow)
		uw_fork(pid, cpid);
	r = rec_reserve(sizeof(*r), LT_EV_FORK, 0);
	if (!r)
		return 0;
	r->child = cpid;
	r->pad = 0;
	rec_submit(r);
	return 0;
}
