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
	__type(value, struct lt_pyframes);
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
	struct lt_pyframes *e;
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
	rec_hdr_fill(&e->h, LT_EV_PYFRAMES, 0);
	e->addr = addr;
	e->pad = 0;
	out = e->frames;
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
	e->nr_frames = n;
	if (bpf_ringbuf_output(&events, e, offsetof(struct lt_pyframes, frames) + n * sizeof(*out),
			       rb_flags()))
		stat_inc(LT_ST_RINGBUF_DROP);
}

/*
 * CPython objects where pymalloc cannot be probed (inlined: Debian's python3.11 without
 * PYTHONMALLOC=malloc). The exported constructors of GC objects are probed instead
 * (src/probe/probes.c's FOR_PYTHON rows); each allocates, in one PyObject_Malloc, the object and
 * the pre-header of its type (the GC head, the managed dict's pointers) ahead of it. An object
 * is recorded as that block: its address is where the pre-header starts and its size what the
 * constructor asked PyObject_Malloc for, so that the malloc an object over 512 bytes falls back
 * to is the same allocation (nested, counted once), and so is its free (PyObject_GC_Del).
 * Objects of other types are left alone: their free (tp_free, PyObject_Free) is inlined at the
 * call sites of that build, as PyObject_Malloc is.
 */
enum py_sizing {
	PY_FIXED,	 /* _PyObject_GC_New: tp_basicsize */
	PY_VAR,		 /* _PyObject_GC_NewVar, _PyObject_GC_Resize: and nitems items */
	PY_VAR_SENTINEL, /* PyType_GenericAlloc: and nitems + 1 */
};

/* The pre-header ahead of a GC object of type (_PyType_PreHeaderSize); false if not one. */
static __always_inline bool py_presize(const struct lt_py_proc *py, __u64 type, __u64 *pre)
{
	__u64 flags = 0;

	if (!type || bpf_probe_read_user(&flags, sizeof(flags), (void *)(type + py->tp_flags)) ||
	    !(flags & py->gc_flag))
		return false;
	*pre = py->gc_size + (flags & py->pre_flags ? py->pre_size : 0);
	return true;
}

/*
 * What a constructor of the current process asks PyObject_Malloc for a GC object of type with
 * nitems items, its pre-header (*pre) included; false when the process has no known layout or
 * type is not a readable GC type: the call is then not traced (its malloc, if any, is seen as
 * one).
 */
static __always_inline bool py_object_size(__u64 type, __u64 nitems, enum py_sizing how,
					   __u64 *size, __u64 *pre)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	const struct lt_py_proc *py;
	__s64 basic = 0, item = 0;

	py = bpf_map_lookup_elem(&pyprocs, &pid);
	if (!py || !py_presize(py, type, pre))
		return false;
	if (bpf_probe_read_user(&basic, sizeof(basic), (void *)(type + py->tp_basicsize)) ||
	    bpf_probe_read_user(&item, sizeof(item), (void *)(type + py->tp_itemsize)))
		return false;
	if (basic <= 0 || basic > (1 << 20) || item < 0 || item > (1 << 20) ||
	    nitems > (1ULL << 40))
		return false;
	*size = basic;
	if (how != PY_FIXED)
		*size = (basic + (nitems + (how == PY_VAR_SENTINEL)) * item + 7) & ~7ULL;
	*size += *pre;
	return true;
}

/* The type of the object at op, or 0. */
static __always_inline __u64 py_type_of(__u64 op)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	const struct lt_py_proc *py;

	py = bpf_map_lookup_elem(&pyprocs, &pid);
	return py && op ? py_read_ptr(op + py->ob_type) : 0;
}

/* The tp_name pointer of the type of the object at op (the C string naming it), or 0. */
static __always_inline __u64 py_type_name(__u64 op)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	const struct lt_py_proc *py;
	__u64 type;

	py = bpf_map_lookup_elem(&pyprocs, &pid);
	if (!py || !op)
		return 0;
	type = py_read_ptr(op + py->ob_type);
	return type ? py_read_ptr(type + py->tp_name) : 0;
}

/*
 * For alloc_exit, whatever the allocation: what its address is less (an object's pre-header)
 * and what its record carries as py_type_name (its type's name). Global functions, verified
 * once apart from their caller: a branch on the kind there would have the verifier walk the
 * stack capture after it twice (alloc_return: 24,741 insns processed before, 50,980 so).
 */
__noinline __u64 py_alloc_pre(__u32 kind, __u64 pre)
{
	return kind == LT_K_PYOBJECT ? pre : 0;
}

__noinline __u64 py_alloc_type_name(__u32 kind, __u64 obj)
{
	return kind == LT_K_PYOBJECT ? py_type_name(obj) : 0;
}

/* The block a GC object at op was allocated as (op less its type's pre-header), or 0. */
static __always_inline __u64 py_object_block(__u64 op)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	const struct lt_py_proc *py;
	__u64 pre;

	py = bpf_map_lookup_elem(&pyprocs, &pid);
	if (!py || !op || !py_presize(py, py_read_ptr(op + py->ob_type), &pre))
		return 0;
	return op - pre;
}

#endif /* __PYTHON_BPF_H */
