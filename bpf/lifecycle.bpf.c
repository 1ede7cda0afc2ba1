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

/* type: LT_EV_EXITING or LT_EV_EXEC, records that are their header only */
static __always_inline bool hold(__u32 type, __u32 kind)
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
		if (hold(LT_EV_EXEC, LT_EXEC_HELD))
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
