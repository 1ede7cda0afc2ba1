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

/* kind of an LT_EV_NEW_OBJ */
enum {
	LT_NEW_OBJ_BY_RECORD = 1, /* not in uw_wait (full): continued after its record */
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
	LT_K_PYOBJECT, /* a CPython object from a constructor (bpf/python.bpf.h), or its free */
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

/*
 * A site's cookie: the lt_site in the low byte, then 5 bits per argument (LT_SITE_ARGS of
 * them) saying where the probe finds it when it is placed past the entry (src/probe/placement.c):
 * 0 in its ABI register, else 1 + the x86 register number (0 rax .. 15 r15).
 */
#define LT_SITE_ARGS	     3
#define LT_SITE_MASK	     0xffULL
#define LT_SITE_ARG_BITS     5
#define LT_SITE_ARG_SHIFT(i) (8 + LT_SITE_ARG_BITS * (i))

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
	/* kernel mode (bpf/kalloc.bpf.c keeps the outstanding allocations; see kalloc.bpf.c) */
	LT_ST_KALLOCS,	    /* allocations recorded in the live map */
	LT_ST_KFREES,	    /* frees that deleted a recorded allocation */
	LT_ST_KLIVE_FULL,   /* allocations not recorded: live map full */
	LT_ST_KREUSED,	    /* a recorded address allocated again: its free was not seen */
	LT_ST_KSTACK_SPILL, /* stacks kept apart: their stack-map bucket held another stack */
	/* kernel mode, system-wide (runs the kernel skips cannot be told apart by process) */
	LT_ST_KSKIP_ALLOC,   /* allocation tracepoint runs skipped: nested in our own program */
	LT_ST_KFREE_RESCUED, /* free runs skipped by the first program, handled by the second */
	LT_ST_KFREE_UNSEEN,  /* free runs skipped by both: so many shown may be freed (uncertain) */
	LT_ST_KUNCERTAIN_FULL, /* uncertain-stack map full: such a stack's objects look certain */
	LT_ST_FDS_UNREAD,      /* --fds: descriptors received (SCM_RIGHTS) past those BPF reads */
	/* kernel mode: stacks of a call site taken from its cache, not walked (kalloc.bpf.c) */
	LT_ST_KSTACK_CACHED,   /* allocations whose stack is its site's cached one: not walked */
	LT_ST_KSITE_AMBIGUOUS, /* call sites found to reach two stacks: every stack walked */
	LT_ST_KEVENT_SKIPPED,  /* kernel mode: records lost: their program's run skipped by the
				* kernel (it was running on that CPU already); not a full ring */
	LT_ST_MAX,
};

/*
 * Kernel mode: an outstanding allocation, kept in BPF until its free deletes it; userspace
 * reads the survivors at report time. stack: an id of the kstacks stack map, or
 * LT_KSTACK_SPILLED | hash for a stack kept in kstacks_spill, or LT_KSTACK_NONE.
 */
struct lt_klive {
	__u64 size;
	__u64 detail; /* struct kmem_cache * (LT_K_SLAB), page order (LT_K_PAGE) */
	__u64 ts_ns;
	__u64 stack;
	__u32 kind;
	__u32 pid;
};

#define LT_KSTACKS	  16384 /* buckets of the kernel stack map */
#define LT_KSTACKS_SPILL  4096	/* stacks whose bucket was taken */
#define LT_KSTACK_SPILLED (1ULL << 63)
#define LT_KSTACK_NONE	  (~0ULL)

/*
 * Kernel mode: what identifies an allocation's stack before it is walked: the allocator's
 * caller, the cache or size and gfp flags, the syscall or interrupt context.
 */
struct lt_ksite {
	__u64 call_site;
	__u64 detail; /* struct kmem_cache * (LT_K_SLAB), bytes_alloc (LT_K_KMALLOC, LT_K_PERCPU) */
	__u32 gfp;
	__u32 kind;
	__s64 context; /* syscall number; -1 on an interrupt's stack */
	__u64 window;  /* 0, or for a site reaching several stacks: a hash of what the stack above
			* the allocator holds (return addresses, kernel image pointers) */
};

/* The stack a call site was last walked to; a site found to reach two is walked every time. */
struct lt_ksite_stack {
	__u64 stack;
	__u32 hits;
	__u32 ambiguous;
};

#define LT_KSITES	    65536 /* call sites whose stack is cached (LRU; 18 Ki seen system-wide) */
#define LT_KSITE_WALK_FIRST 64	  /* the first hits of a site are all walked and compared */
#define LT_KSITE_WALK_EVERY 16	  /* then one hit in so many (random): checks the site */
#define LT_KSITE_WINDOW	    64	  /* words of stack above the tracepoint hashed into window */

struct lt_kstack {
	__u64 nr_frames;
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

/*
 * CFI unwinding of user stacks (issue 15). Userspace turns each mapped object's .eh_frame into
 * rows sorted by PC (one array for every object: uw_rows) and gives BPF, per process, its
 * executable mappings sorted by address (uw_procs), each with its object's rows and load bias.
 */
#define LT_UW_MAPS	   256	      /* executable mappings of a process given to BPF */
#define LT_UW_ROWS_DEFAULT (1U << 20) /* rows of every object together (8 bytes each) */

enum lt_uw_rule {
	LT_UW_FP,     /* no CFI here: frame pointer rule */
	LT_UW_RSP,    /* CFA = rsp + cfa_off */
	LT_UW_RBP,    /* CFA = rbp + cfa_off */
	LT_UW_PLT,    /* CFA = rsp + 8, + 8 when (rip & 15) >= cfa_off: the .plt expression */
	LT_UW_SIGNAL, /* __restore_rt: the interrupted registers are in the ucontext at rsp */
	LT_UW_END,    /* undefined return address: the outermost frame (_start, clone3) */
	LT_UW_EXPR,   /* a CFA or rbp expression not run in BPF: frame pointer rule, counted */
};

struct lt_uw_row {
	__u32 pc; /* offset from the object's load bias */
	__u16 cfa_off;
	__u8 rule;     /* enum lt_uw_rule */
	__u8 rbp_slot; /* rbp saved at CFA - 8 * rbp_slot; 0: unchanged */
};

struct lt_uw_map {
	__u64 start, end;
	__u64 bias;  /* row pc = address - bias */
	__u32 first; /* index of the object's first row in uw_rows */
	__u32 nrows; /* 0: no table (yet): frame pointer rule, counted */
};

/*
 * An object's table by file (uw_files), for a PC the process's list does not hold yet (a
 * launched command, an exec, before userspace gives the list): the mapping is found from the
 * PC (bpf_find_vma) and its bias computed from vm_start, vm_pgoff and the executable PT_LOAD.
 */
#define LT_UW_FILES	 4096
#define LT_UW_FILE_LOADS 2

struct lt_uw_file_key {
	__u64 ino; /* inode->i_ino */
	__u32 dev; /* inode->i_sb->s_dev: the kernel's encoding, major << 20 | minor */
	__u32 pad;
};

struct lt_uw_file {
	__u32 first, nrows;
	__u32 nloads, pad;
	struct {
		__u64 off, end; /* file offsets of the executable PT_LOAD: p_offset, + p_filesz */
		__u64 vaddr;	/* its p_vaddr */
	} loads[LT_UW_FILE_LOADS];
};

struct lt_uw_proc {
	__u32 n;
	__u32 pad;
	struct lt_uw_map maps[LT_UW_MAPS];
};

enum lt_uw_stat {
	LT_UW_ST_STACKS,   /* stacks walked with CFI tables */
	LT_UW_ST_FRAMES,   /* frames found by a CFI row */
	LT_UW_ST_FP,	   /* frames walked by frame pointer: the object has no table (yet) */
	LT_UW_ST_EXPR,	   /* frames walked by frame pointer: a CFI expression */
	LT_UW_ST_UNMAPPED, /* frames outside every mapping BPF knows: frame pointer rule */
	LT_UW_ST_FILE,	   /* frames whose mapping was found by bpf_find_vma, table by file */
	LT_UW_ST_NO_FILE,  /* such lookups that found no table for the file: frame pointer rule */
	LT_UW_ST_RACED,	   /* walks cut to one frame: another used the CPU's scratch meanwhile */
	LT_UW_ST_MAX,
};

/*
 * CPython: where a traced process keeps its thread states and frames, given to BPF per pid
 * (src/syms/python.c has the table per version). Offsets in bytes.
 */
#define LT_PY_MAX_FRAMES  32
#define LT_PY_MAX_THREADS 32

struct lt_py_proc {
	__u64 runtime;		/* address of _PyRuntime */
	__u16 tstate_current;	/* _PyRuntime.gilstate.tstate_current */
	__u16 interp_head;	/* _PyRuntime.interpreters.head */
	__u16 threads_head;	/* PyInterpreterState.threads.head */
	__u16 ts_next;		/* PyThreadState.next */
	__u16 ts_native_tid;	/* PyThreadState.native_thread_id */
	__u16 ts_cframe;	/* PyThreadState.cframe */
	__u16 cf_current_frame; /* _PyCFrame.current_frame */
	__u16 fr_code;		/* _PyInterpreterFrame.f_code */
	__u16 fr_previous;	/* _PyInterpreterFrame.previous */
	__u16 fr_prev_instr;	/* _PyInterpreterFrame.prev_instr */
	__u16 fr_is_entry;	/* _PyInterpreterFrame.is_entry (a byte) */
	__u16 co_filename; /* PyCodeObject.co_filename, then co_name, co_qualname, co_linetable */
	__u16 co_code_adaptive; /* PyCodeObject.co_code_adaptive: the first instruction */
	/* objects, where pymalloc is out of the probes' reach: what sizes them */
	__u16 tp_basicsize; /* PyTypeObject.tp_basicsize */
	__u16 tp_itemsize;  /* PyTypeObject.tp_itemsize */
	__u16 tp_flags;	    /* PyTypeObject.tp_flags */
	__u16 ob_type;	    /* PyObject.ob_type */
	__u16 gc_size;	    /* sizeof(PyGC_Head): ahead of an object whose type has gc_flag */
	__u16 pre_size;	    /* the managed dict's pointers: ahead of one whose type has pre_flags */
	__u16 tp_name;	    /* PyTypeObject.tp_name: an object's ALLOC carries it (py_type_name) */
	__u32 gc_flag;	    /* Py_TPFLAGS_HAVE_GC */
	__u32 pre_flags;    /* Py_TPFLAGS_MANAGED_DICT (3.12 adds MANAGED_WEAKREF) */
};

/* One Python frame as BPF sees it: the code object and what identifies it cheaply. */
struct lt_py_frame {
	__u64 code;
	__s32 lasti;		/* instruction index (2-byte units) last run; -1 not started */
	__u32 fingerprint : 31; /* fold of co_filename, co_name, co_linetable pointers */
	__u32 is_entry : 1;	/* the first frame of one C-level _PyEval_EvalFrameDefault */
};
/* memleak's -s N: one allocation in N whatever its size (every > 1), else bytes as above */
static inline __u64 lt_sample_p(__u64 size, __u64 mean, __u32 every)
{
	if (every > 1)
		return LT_SAMPLE_ONE / every;
	return lt_sample_p32(size, mean);
}

/*
 * Ring-buffer records: a common header, then one struct per type (named in the comment), sized
 * to what it carries; a record with a stack is sent up to its last frame. A field means one
 * thing; the header's kind is the record type's own sub-kind (enum lt_kind for memory).
 */
enum lt_rec_type {
	LT_EV_ALLOC = 1,    /* struct lt_alloc: a block allocated (kind: enum lt_kind) */
	LT_EV_FREE,	    /* struct lt_free: a block freed (kind: the call that freed it) */
	LT_EV_MUNMAP,	    /* struct lt_munmap: a range unmapped */
	LT_EV_EXEC,	    /* struct lt_exec: the process replaced its image (kind: LT_EXEC_*) */
	LT_EV_EXIT,	    /* struct lt_exit: the whole process exited */
	LT_EV_FORK,	    /* struct lt_fork: the process forked a child */
	LT_EV_KCACHE,	    /* struct lt_kcache: a slab cache's name */
	LT_EV_EXITING,	    /* struct lt_exiting: it called exit() and was sent SIGSTOP: read its
			     * maps, then SIGCONT */
	LT_EV_PYFRAMES,	    /* struct lt_pyframes: the Python frames of the thread's next ALLOC */
	LT_EV_MMAP,	    /* struct lt_mmap: anonymous memory mapped (mmap) */
	LT_EV_MREMAP,	    /* struct lt_mremap: a range moved or resized (mremap) */
	LT_EV_NEW_OBJ,	    /* struct lt_new_obj: it mapped executable a file without a CFI table
			     * (dlopen) and was sent SIGSTOP: build the table, then SIGCONT
			     * (src/target/holds.c; kind: LT_NEW_OBJ_*) */
	LT_EV_FD_OPEN = 32, /* struct lt_fd_open: a new descriptor */
	LT_EV_FD_CLOSE,	    /* struct lt_fd_close: descriptors [lo, hi] closed, or flagged */
	LT_EV_THREAD,	    /* struct lt_thread: a thread created, exited, joined or detached */
	LT_EV_MAX,
};

struct lt_rec_hdr {
	__u32 type; /* enum lt_rec_type */
	__u32 kind;
	__u32 pid;
	__u32 tid;
	__u64 ts_ns;
};

struct lt_alloc {
	struct lt_rec_hdr h;
	__u64 addr;
	__u64 size;
	__u64 py_type_name; /* LT_K_PYOBJECT: address of its type's tp_name (a C string); else 0 */
	__u32 nr_frames;
	__u32 pad;
	__u64 frames[LT_MAX_FRAMES]; /* the user stack, innermost first */
};

struct lt_mmap {
	struct lt_rec_hdr h;
	__u64 addr;
	__u64 size;
	__u64 wrapper_ret; /* the libc wrapper's return address, found on the stack; 0: none */
	__u32 nr_frames;
	__u32 pad;
	__u64 frames[LT_MAX_FRAMES];
};

struct lt_free {
	struct lt_rec_hdr h;
	__u64 addr;
};

struct lt_munmap {
	struct lt_rec_hdr h;
	__u64 addr;
	__u64 size;
};

struct lt_mremap {
	struct lt_rec_hdr h;
	__u64 old_addr;
	__u64 old_size;
	__u64 new_addr; /* released either way; a tracked range moves here */
	__u64 new_size;
};

struct lt_exec {
	struct lt_rec_hdr h;
};

struct lt_exit {
	struct lt_rec_hdr h;
};

struct lt_exiting {
	struct lt_rec_hdr h;
};

struct lt_new_obj {
	struct lt_rec_hdr h;
};

struct lt_fork {
	struct lt_rec_hdr h;
	__u32 child; /* its pid */
	__u32 pad;
};

struct lt_kcache {
	struct lt_rec_hdr h;
	__u64 cache;	      /* struct kmem_cache * */
	__u32 sheaf_capacity; /* 6.18: per-CPU sheaves may free its objects untraced; 0: none */
	__u32 pad;
	char name[LT_KCACHE_NAME]; /* NUL-terminated */
};

struct lt_pyframes {
	struct lt_rec_hdr h;
	__u64 addr; /* the allocation they belong to */
	__u32 nr_frames;
	__u32 pad;
	struct lt_py_frame frames[LT_PY_MAX_FRAMES]; /* innermost first */
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
