/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CPython frames at an allocation: the thread's PyThreadState (the GIL holder's if it is this
 * thread, else found in the interpreter's list by native thread id, so a call made with the GIL
 * released, as ctypes makes them, still finds its own), then its chain of interpreter frames.
 * Only code object pointers and instruction indexes are taken; names and lines are read by
 * userspace (src/syms/python.c). Included by bpf/ualloc.bpf.c after user.bpf.h.
 */
#ifndef __PYTHON_BPF_H
#define __PYTHON_BPF_H

/* Processes running a supported CPython, and where their structures are (set by userspace). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_DEFAULT_PIDS);
	__type(key, __u32);
	__type(value, struct lt_py_proc);
} pyprocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lt_event);
} pyscratch SEC(".maps");

static __always_inline __u64 py_read_ptr(__u64 addr)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

static __always_inline __u64 py_tstate(const struct lt_py_proc *py, __u32 tid)
{
	__u64 ts, interp;
	__u32 ntid = 0;
	int i;

	ts = py_read_ptr(py->runtime + py->tstate_current);
	if (ts && !bpf_probe_read_user(&ntid, sizeof(ntid), (void *)(ts + py->ts_native_tid)) &&
	    ntid == tid)
		return ts;
	interp = py_read_ptr(py->runtime + py->interp_head);
	if (!interp)
		return 0;
	ts = py_read_ptr(interp + py->threads_head);
	for (i = 0; i < LT_PY_MAX_THREADS && ts; i++) {
		if (!bpf_probe_read_user(&ntid, sizeof(ntid), (void *)(ts + py->ts_native_tid)) &&
		    ntid == tid)
			return ts;
		ts = py_read_ptr(ts + py->ts_next);
	}
	return 0;
}

/*
 * Send the Python frames of the allocation at addr, ahead of its record (one ordered ring: the
 * record that follows from this thread is the allocation's). Nothing when the thread runs no
 * Python code.
 */
static __always_inline void python_frames(__u64 addr)
{
	__u64 id = bpf_get_current_pid_tgid(), ts, frame, code, instr, ptrs[4];
	__u32 pid = id >> 32, zero = 0;
	const struct lt_py_proc *py;
	struct lt_py_frame *out;
	struct lt_event *e;
	__u8 entry;
	int n;

	py = bpf_map_lookup_elem(&pyprocs, &pid);
	if (!py)
		return;
	ts = py_tstate(py, (__u32)id);
	if (!ts)
		return;
	frame = py_read_ptr(py_read_ptr(ts + py->ts_cframe) + py->cf_current_frame);
	if (!frame)
		return;
	e = bpf_map_lookup_elem(&pyscratch, &zero);
	if (!e)
		return;
	header_fill(e, LT_EV_PYFRAMES, 0, addr, 0, 0, 0);
	out = (struct lt_py_frame *)e->frames;
	for (n = 0; n < LT_PY_MAX_FRAMES && frame; n++) {
		code = py_read_ptr(frame + py->fr_code);
		instr = py_read_ptr(frame + py->fr_prev_instr);
		entry = 0;
		bpf_probe_read_user(&entry, 1, (void *)(frame + py->fr_is_entry));
		if (!code ||
		    bpf_probe_read_user(ptrs, sizeof(ptrs), (void *)(code + py->co_filename)))
			break;
		out[n].code = code;
		out[n].lasti = (__s64)(instr - (code + py->co_code_adaptive)) >> 1;
		ptrs[0] ^= ptrs[1] ^ ptrs[3];
		out[n].fingerprint = (ptrs[0] ^ (ptrs[0] >> 31)) & 0x7fffffff;
		out[n].is_entry = entry & 1;
		frame = py_read_ptr(frame + py->fr_previous);
	}
	if (!n)
		return;
	e->nr_frames = n * 2;
	if (bpf_ringbuf_output(&events, e, LT_EVENT_HDR_SIZE + n * sizeof(*out), rb_flags()))
		stat_inc(LT_ST_RINGBUF_DROP);
}

#endif /* __PYTHON_BPF_H */
