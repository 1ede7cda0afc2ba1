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
	struct lt_uw_map file;	 /* the last mapping found by file; end 0: none */
	__u32 n;
	bool exact; /* ip is the interrupted PC (frame 0, a signal frame), not a return address */
};

/*
 * Binary searches as bpf_loop steps: unrolled, each comparison would double the states the
 * verifier explores (a million instructions before the depth of a stack is reached).
 */
struct uw_search {
	__u32 lo, hi;
	__u64 key;
	struct lt_uw_proc *proc;
};

static long uw_map_step(__u32 i, void *ctx)
{
	struct uw_search *b = ctx;
	__u32 mid;

	if (b->lo >= b->hi)
		return 1;
	mid = (b->lo + b->hi) / 2;
	if (b->proc->maps[mid & (LT_UW_MAPS - 1)].start <= b->key)
		b->lo = mid + 1;
	else
		b->hi = mid;
	return 0;
}

static __always_inline struct lt_uw_map *uw_find_map(struct lt_uw_proc *p, __u64 pc)
{
	struct uw_search b = {.lo = 0, .hi = p->n, .key = pc, .proc = p};
	struct lt_uw_map *m;

	if (b.hi > LT_UW_MAPS)
		b.hi = LT_UW_MAPS;
	bpf_loop(9, uw_map_step, &b, 0);
	if (!b.lo)
		return NULL;
	m = &p->maps[(b.lo - 1) & (LT_UW_MAPS - 1)];
	return pc < m->end ? m : NULL;
}

static long uw_row_step(__u32 i, void *ctx)
{
	struct uw_search *b = ctx;
	struct lt_uw_row *r;
	__u32 mid;

	if (b->lo >= b->hi)
		return 1;
	mid = b->lo + (b->hi - b->lo) / 2;
	r = bpf_map_lookup_elem(&uw_rows, &mid);
	if (!r)
		return 1;
	if (r->pc <= b->key)
		b->lo = mid + 1;
	else
		b->hi = mid;
	return 0;
}

static __always_inline struct lt_uw_row *uw_find_row(struct lt_uw_map *m, __u64 pc)
{
	struct uw_search b = {.lo = m->first, .hi = m->first + m->nrows, .key = pc - m->bias};
	__u32 idx;

	if (b.key > 0xffffffffULL)
		return NULL;
	bpf_loop(24, uw_row_step, &b, 0);
	if (b.lo == m->first)
		return NULL;
	idx = b.lo - 1;
	return bpf_map_lookup_elem(&uw_rows, &idx);
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
				return 1;
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
	return 1;
}
#endif

/* A PC outside the process's list: its mapping and table found by file, counted. */
static __always_inline struct lt_uw_map *uw_by_file(struct uw_state *s, __u64 pc)
{
	if (pc >= s->file.start && pc < s->file.end)
		return &s->file;
	if (!uw_file_lookup(&s->file, pc)) {
		uw_stat(LT_UW_ST_NO_FILE);
		return NULL;
	}
	uw_stat(LT_UW_ST_FILE);
	/* its list lacks the mapping (mapped since, without the mmap tracepoint: --fds alone):
	 * userspace gives a new one at the next drain */
	uw_exec_mapped();
	return &s->file;
}

/* Offsets in the ucontext at rsp in __restore_rt: uc_mcontext is at 40, its rbp, rsp, rip
 * are its 11th, 16th and 17th words. */
#define UW_UC_RBP (40 + 8 * 10)
#define UW_UC_RSP (40 + 8 * 15)

static long uw_step(__u32 i, void *ctx)
{
	struct uw_state *s = ctx;
	struct lt_uw_map *m;
	struct lt_uw_row *r = NULL;
	__u64 pc = s->exact ? s->ip : s->ip - 1, cfa, ra = 0, bp = s->bp, two[2];
	__u8 rule = LT_UW_FP;

	m = s->proc ? uw_find_map(s->proc, pc) : NULL;
	if (!m)
		m = uw_by_file(s, pc);
	if (m && m->nrows)
		r = uw_find_row(m, pc);
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
		if (cfa <= s->sp || bpf_probe_read_user(&ra, sizeof(ra), (void *)(cfa - 8)))
			return 1;
		if (r->rbp_slot &&
		    bpf_probe_read_user(&bp, sizeof(bp), (void *)(cfa - 8 * (__u64)r->rbp_slot)))
			return 1;
		uw_stat(LT_UW_ST_FRAMES);
		break;
	case LT_UW_END:
		return 1;
	case LT_UW_SIGNAL:
		if (bpf_probe_read_user(&bp, sizeof(bp), (void *)(s->sp + UW_UC_RBP)) ||
		    bpf_probe_read_user(two, sizeof(two), (void *)(s->sp + UW_UC_RSP)))
			return 1;
		cfa = two[0];
		ra = two[1];
		s->exact = true;
		uw_stat(LT_UW_ST_FRAMES);
		break;
	default:
		if (!uw_fp_fallback)
			return 1;
		uw_stat(rule == LT_UW_EXPR ? LT_UW_ST_EXPR : m ? LT_UW_ST_FP : LT_UW_ST_UNMAPPED);
		if (!bp || (bp & 7) || bp < s->sp ||
		    bpf_probe_read_user(two, sizeof(two), (void *)bp))
			return 1;
		cfa = bp + 16;
		ra = two[1];
		bp = two[0];
		break;
	}
	if (!ra)
		return 1;
	s->ip = ra;
	s->sp = cfa;
	s->bp = bp;
	if (s->n >= LT_MAX_FRAMES || s->n >= max_frames)
		return 1;
	s->frames[s->n & (LT_MAX_FRAMES - 1)] = ra;
	s->n++;
	return s->n >= LT_MAX_FRAMES || s->n >= max_frames;
}

/* The CFI walk from the task's user registers; false when tables are off (--unwind fp). */
static __always_inline bool uw_walk(__u64 *frames, __u32 *n)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct uw_state s = {};

	if (!uw_cfi)
		return false;
	s.proc = bpf_map_lookup_elem(&uw_procs, &pid);
	s.ip = BPF_CORE_READ(regs, ip);
	s.sp = BPF_CORE_READ(regs, sp);
	s.bp = BPF_CORE_READ(regs, bp);
	s.frames = frames;
	s.exact = true;
	frames[0] = s.ip;
	s.n = 1;
	bpf_loop(LT_MAX_FRAMES - 1, uw_step, &s, 0);
	uw_stat(LT_UW_ST_STACKS);
	*n = s.n;
	return true;
}

#endif /* __UNWIND_BPF_H */
