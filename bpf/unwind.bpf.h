/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The user stack walked by CFI tables (see bpf/leaktrace.h, lt_uw_*): for each frame, the
 * process's executable mapping holding the PC (binary search over uw_procs), then its
 * object's row (binary search over uw_rows), then the CFA, the return address at CFA - 8 and
 * the caller's rbp. A PC the list does not hold (no list yet: a launched command, a new
 * image; a library mapped since) is looked up by file: its VMA (bpf_find_vma), the table of
 * its inode (uw_files), built by userspace before the process ran where it could. A frame in
 * an object without a table is walked by frame pointer and counted. Included by user.bpf.h;
 * one bpf_loop step per frame keeps the verifier's work independent of the depth.
 */
#ifndef __UNWIND_BPF_H
#define __UNWIND_BPF_H

#ifdef LT_BPF_EXTERN
extern const volatile bool uw_fp_fallback;
extern const volatile bool uw_cfi;
#else
/* --unwind auto: the frame pointer rule where an object has no table; cfi: the walk ends */
const volatile bool uw_fp_fallback = true;
/* --unwind auto or cfi: tables exist (a process without its list yet is walked by file) */
const volatile bool uw_cfi = false;
#endif

LT_SHARED __u64 uw_stats[LT_UW_ST_MAX];

LT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LT_UW_ROWS_DEFAULT);
	__type(key, __u32);
	__type(value, struct lt_uw_row);
} uw_rows SEC(".maps");

LT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LT_DEFAULT_PIDS);
	__type(key, __u32);
	__type(value, struct lt_uw_proc);
} uw_procs SEC(".maps");

/*
 * The walk's per-CPU scratch (a program runs on one CPU from start to end, as with the scratch
 * event; see owner for a program preempted). The user stack is read through a window: one probe
 * read per stack page the walk reaches (to the page's end, never into an unmapped page), not one or
 * two per frame.
 *
 * The frame count and the address of a read live here, not in the walk's state on the BPF
 * stack: an index into frames or the window and the size of a probe read must be precise for
 * the verifier, and computed from the state (n, sp, cfa) they made it precise back through
 * every earlier bpf_loop step, so that no two steps were the same state for it (the program
 * went over a million instructions). Loaded from a map value, a number has no history.
 */
#define UW_WIN 4096

struct uw_scratch {
	/*
	 * The task walking (pid_tgid): a uprobe program can be preempted (PREEMPT kernels) and
	 * another task's walk on the same CPU would overwrite this scratch; checked at the end.
	 */
	__u64 owner;
	__u64 start, len;  /* the user addresses b holds */
	__u64 addr;	   /* of the read in progress */
	__u32 lo, hi, mid; /* the binary search in progress */
	__u32 n;	   /* frames stored */
	__u32 nr_cfi;	   /* frames found by a CFI row */
	__u32 pad;
	__u8 b[UW_WIN + 8]; /* + 8: a word at the last offset; a word across pages */
};

LT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct uw_scratch);
} uw_scratch SEC(".maps");

/*
 * The last mappings each process's walks found by file: until userspace gives a list (a launched
 * command's first ~100 ms), bpf_find_vma runs only on a miss. It only tries the mmap lock, and
 * a thread of the process mapping memory at that moment (malloc making an arena) made it fail:
 * the frame fell back to frame pointers and the stack was cut (1 run in 6). Emptied at exec.
 */
#define UW_FOUND 4
struct uw_found {
	struct lt_uw_map m[UW_FOUND];
	__u32 next;
};

LT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LT_DEFAULT_PIDS);
	__type(key, __u32);
	__type(value, struct uw_found);
} uw_found SEC(".maps");

/* Every object's table by file, for PCs the process's list does not hold (yet). */
LT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_UW_FILES);
	__type(key, struct lt_uw_file_key);
	__type(value, struct lt_uw_file);
} uw_files SEC(".maps");

/*
 * Bumped when a traced process maps a file executable: userspace then gives it tables. */
LT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LT_DEFAULT_PIDS);
	__type(key, __u32);
	__type(value, __u64);
} uw_gen SEC(".maps");

static __always_inline void uw_stat(int s)
{
	if (s >= 0 && s < LT_UW_ST_MAX)
		__sync_fetch_and_add(&uw_stats[s], 1);
}

static __always_inline void uw_exec_mapped(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *g = bpf_map_lookup_elem(&uw_gen, &pid);

	if (g)
		__sync_fetch_and_add(g, 1);
	else
		bpf_map_update_elem(&uw_gen, &pid, &one, BPF_NOEXIST);
}

/*
 * A new image: the list of the old one must never be used (its objects are elsewhere now, or
 * gone); frames are found by file until userspace gives the new list. The exec count (high
 * half of uw_gen) lets userspace drop a list it read from the old image's maps.
 */
static __always_inline void uw_exec(__u32 pid)
{
	__u64 exec = 1ULL << 32, *g;

	bpf_map_delete_elem(&uw_procs, &pid);
	bpf_map_delete_elem(&uw_found, &pid);
	g = bpf_map_lookup_elem(&uw_gen, &pid);
	if (g)
		__sync_fetch_and_add(g, exec);
	else
		bpf_map_update_elem(&uw_gen, &pid, &exec, BPF_NOEXIST);
}

/* -f: a child starts with its parent's mappings, so with its parent's list. */
static __always_inline void uw_fork(__u32 parent, __u32 child)
{
	struct lt_uw_proc *p = bpf_map_lookup_elem(&uw_procs, &parent);

	if (p)
		bpf_map_update_elem(&uw_procs, &child, p, BPF_ANY);
}

struct uw_state {
	__u64 ip, sp, bp;
	__u64 *frames;
	struct lt_uw_proc *proc; /* NULL: no list yet, every frame found by file */
	struct lt_uw_map cur; /* the last frame's mapping (end 0: none): callers often share it */
	struct uw_scratch *w;
	bool exact; /* ip is the interrupted PC (frame 0, a signal frame), not a return address */
};

/*
 * The searches are not bpf_loop steps: each step cost a call and a return, and a return is a
 * return thunk here (SRSO safe RET, retpolines): with ~20 per frame they were most of the
 * walk's time (bpf_stats: the walking program 4.3 us per run against 1.4 us for the frame
 * pointer walk). The mapping's search is a plain bounded loop whose bounds live in the
 * scratch (see above), so the verifier's states at each iteration are the same but for the
 * counter and it prunes each comparison's other branch at once; it runs only when a frame
 * leaves the last frame's mapping.
 */
static __always_inline struct lt_uw_map *uw_find_map(struct uw_state *s, __u64 pc)
{
	struct lt_uw_proc *p = s->proc;
	struct uw_scratch *w = s->w;
	struct lt_uw_map *m;
	__u32 lo, hi, mid, i;

	w->lo = 0;
	w->hi = p->n > LT_UW_MAPS ? LT_UW_MAPS : p->n;
	for (i = 0; i < 9; i++) { /* 2^9 > LT_UW_MAPS */
		lo = *(volatile __u32 *)&w->lo;
		hi = *(volatile __u32 *)&w->hi;
		if (lo >= hi)
			break;
		mid = (lo + hi) / 2;
		if (p->maps[mid & (LT_UW_MAPS - 1)].start <= pc)
			w->lo = mid + 1;
		else
			w->hi = mid;
	}
	lo = *(volatile __u32 *)&w->lo;
	if (!lo)
		return NULL;
	m = &p->maps[(lo - 1) & (LT_UW_MAPS - 1)];
	return pc < m->end ? m : NULL;
}

/*
 * The index of the last of rows [lo, hi) whose pc is at most key, or -1. A global function:
 * verified once, not again in each state of the walk's bpf_loop step. Inline, the walk took
 * ~250 ns less per stack of 14 frames, but the verifier went through 2.8x the instructions
 * (290k, +0.8 s per leaktrace start, 2x).
 */
#ifdef LT_BPF_EXTERN
extern int uw_row_search(__u32 lo, __u32 hi, __u64 key);
#else
__noinline int uw_row_search(__u32 lo, __u32 hi, __u64 key)
{
	__u32 first = lo, mid, i;
	struct lt_uw_row *r;

	for (i = 0; i < 24 && lo < hi; i++) { /* 2^24 > LT_UW_ROWS_DEFAULT */
		mid = lo + (hi - lo) / 2;
		r = bpf_map_lookup_elem(&uw_rows, &mid);
		if (!r)
			return -1;
		if (r->pc <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == first ? -1 : (int)(lo - 1);
}
#endif

static __always_inline struct lt_uw_row *uw_find_row(struct uw_state *s, struct lt_uw_map *m,
						     __u64 pc)
{
	__u64 key = pc - m->bias;
	int i;

	if (key > 0xffffffffULL)
		return NULL;
	i = uw_row_search(m->first, m->first + m->nrows, key);
	if (i < 0)
		return NULL;
	s->w->mid = i;
	return bpf_map_lookup_elem(&uw_rows, &s->w->mid);
}

struct uw_vma_ctx {
	__u64 pc;
	struct lt_uw_map map; /* end 0: no table */
};

/* bpf_find_vma's callback: the table of the file vma maps, and the bias at this mapping. */
static long uw_vma_cb(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	struct uw_vma_ctx *s = ctx;
	struct lt_uw_file_key k = {};
	struct lt_uw_file *o;
	struct file *f = vma->vm_file;
	__u64 base, off;
	int i;

	if (!f)
		return 0;
	k.ino = BPF_CORE_READ(f, f_inode, i_ino);
	k.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	o = bpf_map_lookup_elem(&uw_files, &k);
	if (!o || !o->nrows)
		return 0;
	base = vma->vm_start - (vma->vm_pgoff << 12);
	off = s->pc - base;
	for (i = 0; i < LT_UW_FILE_LOADS; i++) {
		if (i >= o->nloads)
			break;
		if (off < (o->loads[i].off & ~4095ULL) || off >= o->loads[i].end)
			continue;
		s->map.start = vma->vm_start;
		s->map.end = vma->vm_end;
		s->map.bias = base + o->loads[i].off - o->loads[i].vaddr;
		s->map.first = o->first;
		s->map.nrows = o->nrows;
		break;
	}
	return 0;
}

/*
 * The VMA holding pc and its file's table, in *out (end 0: none). A global function: the
 * verifier checks it once per program, not again in every state of the walk's bpf_loop step
 * (inline, bpf_find_vma's callback inside that step made each program that walks take ~6x
 * longer to load: +0.7 s per leaktrace start). ualloc.bpf.c defines it, the others link to it.
 */
#ifdef LT_BPF_EXTERN
extern int uw_file_lookup(struct lt_uw_map *out, __u64 pc);
#else
__noinline int uw_file_lookup(struct lt_uw_map *out, __u64 pc)
{
	struct uw_vma_ctx c = {.pc = pc};
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct uw_found *f, empty = {};
	int i;

	if (!out)
		return 0;
	f = bpf_map_lookup_elem(&uw_found, &pid);
	if (f) {
		for (i = 0; i < UW_FOUND; i++) {
			if (pc >= f->m[i].start && pc < f->m[i].end) {
				*out = f->m[i];
				goto found;
			}
		}
	}
	bpf_find_vma(bpf_get_current_task_btf(), pc, uw_vma_cb, &c, 0);
	*out = c.map;
	if (!c.map.end)
		return 0;
	if (!f) {
		bpf_map_update_elem(&uw_found, &pid, &empty, BPF_NOEXIST);
		f = bpf_map_lookup_elem(&uw_found, &pid);
	}
	if (f) {
		f->m[f->next % UW_FOUND] = c.map;
		f->next++;
	}
found:
	/* its list lacks the mapping (mapped since, without the mmap tracepoint: --fds alone):
	 * userspace gives a new one at the next drain */
	uw_exec_mapped();
	return 1;
}
#endif

/* A PC outside the process's list: its mapping and table found by file, counted. */
static __always_inline struct lt_uw_map *uw_by_file(struct uw_state *s, __u64 pc)
{
	if (!uw_file_lookup(&s->cur, pc)) {
		uw_stat(LT_UW_ST_NO_FILE);
		return NULL;
	}
	uw_stat(LT_UW_ST_FILE);
	return &s->cur;
}

/* Offsets in the ucontext at rsp in __restore_rt: uc_mcontext is at 40, its rbp, rsp, rip
 * are its 11th, 16th and 17th words. */
#define UW_UC_RBP (40 + 8 * 10)
#define UW_UC_RSP (40 + 8 * 15)

/* The user word at addr, through the window (refilled from addr to its page's end); 0: unreadable.
 */
static __always_inline __u64 uw_read(struct uw_state *s, __u64 addr)
{
	struct uw_scratch *w = s->w;
	__u64 off, len;

	w->addr = addr;
	addr = *(volatile __u64 *)&w->addr;
	off = addr - w->start;
	if (addr < w->start || off + 8 > w->len) {
		len = UW_WIN - (addr & (UW_WIN - 1));
		w->len = 0;
		if (len < 8) { /* a word across two pages: read alone, past the window */
			off = UW_WIN;
			len = 8;
		} else {
			off = 0;
		}
		if (bpf_probe_read_user(&w->b[off], len, (void *)addr))
			return 0;
		if (!off) {
			w->start = addr;
			w->len = len;
		}
	}
	if (off > UW_WIN)
		return 0;
	return *(__u64 *)&w->b[off];
}

static long uw_step(__u32 i, void *ctx)
{
	struct uw_state *s = ctx;
	struct lt_uw_map *m, *found;
	struct lt_uw_row *r = NULL;
	__u64 pc = s->exact ? s->ip : s->ip - 1, cfa = 0, ra = 0, bp = s->bp;
	__u8 rule = LT_UW_FP;
	__u32 n;

	m = &s->cur;
	if (pc < m->start || pc >= m->end) {
		found = s->proc ? uw_find_map(s, pc) : NULL;
		if (found)
			s->cur = *found;
		else
			m = uw_by_file(s, pc);
	}
	if (m && m->nrows)
		r = uw_find_row(s, m, pc);
	if (r)
		rule = r->rule;
	s->exact = false;
	switch (rule) {
	case LT_UW_RSP:
	case LT_UW_RBP:
	case LT_UW_PLT:
		if (rule == LT_UW_RSP)
			cfa = s->sp + r->cfa_off;
		else if (rule == LT_UW_RBP)
			cfa = s->bp + r->cfa_off;
		else
			cfa = s->sp + 8 + ((s->ip & 15) >= r->cfa_off ? 8 : 0);
		if (cfa <= s->sp)
			return 1;
		ra = uw_read(s, cfa - 8);
		if (r->rbp_slot)
			bp = uw_read(s, cfa - 8 * (__u64)r->rbp_slot);
		s->w->nr_cfi++;
		break;
	case LT_UW_END:
		return 1;
	case LT_UW_SIGNAL:
		bp = uw_read(s, s->sp + UW_UC_RBP);
		cfa = uw_read(s, s->sp + UW_UC_RSP);
		ra = uw_read(s, s->sp + UW_UC_RSP + 8);
		s->exact = true;
		s->w->nr_cfi++;
		break;
	default:
		if (!uw_fp_fallback)
			return 1;
		uw_stat(rule == LT_UW_EXPR ? LT_UW_ST_EXPR : m ? LT_UW_ST_FP : LT_UW_ST_UNMAPPED);
		if (!bp || (bp & 7) || bp < s->sp)
			return 1;
		ra = uw_read(s, bp + 8);
		bp = uw_read(s, bp);
		cfa = s->bp + 16;
		break;
	}
	if (!ra || !cfa) /* ra 0: the end or unreadable */
		return 1;
	s->ip = ra;
	s->sp = cfa;
	s->bp = bp;
	n = s->w->n;
	if (n >= LT_MAX_FRAMES || n >= max_frames)
		return 1;
	s->frames[n & (LT_MAX_FRAMES - 1)] = ra;
	s->w->n = ++n;
	return n >= LT_MAX_FRAMES || n >= max_frames;
}

/* The CFI walk from the task's user registers; false when tables are off (--unwind fp). */
static __always_inline bool uw_walk(__u64 *frames, __u32 *n)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	struct uw_state s = {};
	__u32 zero = 0;

	if (!uw_cfi)
		return false;
	s.w = bpf_map_lookup_elem(&uw_scratch, &zero);
	if (!s.w)
		return false;
	s.w->owner = id;
	s.w->len = 0; /* what the window holds is another walk's */
	s.w->nr_cfi = 0;
	s.proc = bpf_map_lookup_elem(&uw_procs, &pid);
	s.ip = BPF_CORE_READ(regs, ip);
	s.sp = BPF_CORE_READ(regs, sp);
	s.bp = BPF_CORE_READ(regs, bp);
	s.frames = frames;
	s.exact = true;
	frames[0] = s.ip;
	s.w->n = 1;
	bpf_loop(LT_MAX_FRAMES - 1, uw_step, &s, 0);
	uw_stat(LT_UW_ST_STACKS);
	if (s.w->owner != id) { /* its window, count and frames may be another stack's */
		uw_stat(LT_UW_ST_RACED);
		*n = 1;
		return true;
	}
	if (s.w->nr_cfi)
		__sync_fetch_and_add(&uw_stats[LT_UW_ST_FRAMES], s.w->nr_cfi);
	*n = s.w->n;
	return true;
}

#endif /* __UNWIND_BPF_H */
