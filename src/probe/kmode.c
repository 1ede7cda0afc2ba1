// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kalloc.skel.h"
#include "htab.h"
#include "klabels.h"
#include "kmode.h"
#include "ksyms.h"
#include "proc.h"
#include "stacks.h"
#include "system.h"
#include "tracker.h"

/* Argument layouts a tracepoint has had; a program is loaded only for the one in use. */
enum layout {
	ANY,
	CACHE_ARG,     /* kmem_cache_alloc since 6.1: (call_site, ptr, struct kmem_cache *, ...) */
	NO_CACHE_ARG,  /* kmem_cache_alloc before: (call_site, ptr, bytes_req, bytes_alloc, ...) */
	PCPU_CALLER,   /* percpu_alloc_percpu since 6.2: (call_site, ..., bytes_alloc, gfp) */
	PCPU_NO_CALLER /* before: (reserved, is_atomic, size, align, base_addr, off, ptr) */
};

/* What a run the kernel skips (recursion_misses) costs: see kmode__stats. */
enum role {
	ALLOC,	     /* an allocation not recorded */
	FREE,	     /* a free not seen, unless the FREE_NESTED program saw it */
	FREE_NESTED, /* nothing: it acts only when FREE skipped */
	EVENT,	     /* an event lost */
};

/*
 * A program of the kernel-mode skeleton, named by its field: renaming a program breaks the
 * build here instead of a load at run time.
 */
#define KPROG(name) offsetof(struct kalloc_bpf, progs.name)

/* One row per program: adding a tracepoint is one row. */
static const struct ktp {
	const char *tp;
	size_t prog; /* KPROG */
	enum layout layout;
	enum role role;
} ktps[] = {
	{"kmalloc", KPROG(kmalloc), ANY, ALLOC},
	{"kmalloc_node", KPROG(kmalloc_node), ANY, ALLOC},
	{"kfree", KPROG(kfree), ANY, FREE},
	{"kfree", KPROG(kfree_nested), ANY, FREE_NESTED},
	{"kmem_cache_alloc", KPROG(kmem_cache_alloc), CACHE_ARG, ALLOC},
	{"kmem_cache_alloc", KPROG(kmem_cache_alloc_old), NO_CACHE_ARG, ALLOC},
	{"kmem_cache_alloc_node", KPROG(kmem_cache_alloc_node), ANY, ALLOC},
	{"kmem_cache_free", KPROG(kmem_cache_free), ANY, FREE},
	{"kmem_cache_free", KPROG(kmem_cache_free_nested), ANY, FREE_NESTED},
	{"mm_page_alloc", KPROG(mm_page_alloc), ANY, ALLOC},
	{"mm_page_free", KPROG(mm_page_free), ANY, FREE},
	{"mm_page_free", KPROG(mm_page_free_nested), ANY, FREE_NESTED},
	{"mm_page_free_batched", KPROG(mm_page_free_batched), ANY, FREE},
	{"mm_page_free_batched", KPROG(mm_page_free_batched_nested), ANY, FREE_NESTED},
	{"percpu_alloc_percpu", KPROG(percpu_alloc_percpu), PCPU_CALLER, ALLOC},
	{"percpu_alloc_percpu", KPROG(percpu_alloc_percpu_old), PCPU_NO_CALLER, ALLOC},
	{"percpu_free_percpu", KPROG(percpu_free_percpu), ANY, FREE},
	{"percpu_free_percpu", KPROG(percpu_free_percpu_nested), ANY, FREE_NESTED},
	{"sched_process_exit", KPROG(proc_exit), ANY, EVENT},
};

/*
 * Page allocations made inside these functions back objects traced on their own (slab
 * objects, large kmallocs, percpu chunks): they are counted as nested, not shown again.
 */
static const char *const nest_funcs[] = {
	"allocate_slab",
	"new_slab",
	"___slab_alloc",
	"alloc_slab_page",
	"___kmalloc_large_node",
	"__kmalloc_large_noprof",
	"__kmalloc_large_node_noprof",
	"kmalloc_large",
	"kmalloc_large_node",
	"kmalloc_order",
	"pcpu_populate_chunk",
	"pcpu_alloc_pages",
};

/*
 * A BPF stack with what it allocates (the key: its first KSTACK_KEY bytes), and its interned
 * id: a known stack costs no syscall. The all-zero key (htab's empty slot) never comes from
 * BPF: kind 0 is LT_K_MALLOC.
 */
struct kstack_id {
	uint64_t stack;
	uint64_t detail;
	uint32_t kind;
	uint32_t id;
};

#define KSTACK_KEY offsetof(struct kstack_id, id)

struct kmode {
	struct kalloc_bpf *skel;
	struct ksyms *ksyms;
	int nr_attached;
	int nr_cpus;
	struct htab ids;     /* struct kstack_id */
	uint64_t *uncertain; /* stacks whose frees take untraced paths: read_uncertain */
	size_t nr_uncertain, cap_uncertain;
	unsigned int max_frames; /* --perf-max-stack-depth: frames kept of each stack */
};

static const struct btf_type *skip_mods(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	return t;
}

/* The parameters of tracepoint tp as the kernel declares them (first one: void *__data). */
static const struct btf_param *tp_params(const struct btf *btf, const char *tp, int *nr)
{
	char name[128];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return NULL;
	t = skip_mods(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = skip_mods(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return NULL;
	*nr = btf_vlen(t);
	return btf_params(t);
}

static bool layout_matches(const struct btf *btf, const struct btf_param *p, int nr, enum layout l)
{
	const struct btf_type *t;
	bool cache_arg = false;

	switch (l) {
	case CACHE_ARG:
	case NO_CACHE_ARG:
		if (nr > 3) {
			t = skip_mods(btf, p[3].type);
			if (t && btf_is_ptr(t)) {
				t = skip_mods(btf, t->type);
				cache_arg = t && btf_is_struct(t) &&
					    !strcmp(btf__name_by_offset(btf, t->name_off),
						    "kmem_cache");
			}
		}
		return cache_arg == (l == CACHE_ARG);
	case PCPU_CALLER:
		return nr >= 11;
	case PCPU_NO_CALLER:
		return nr < 11;
	default:
		return true;
	}
}

static int set_autoload(struct kmode *km, bool verbose)
{
	struct btf *btf;
	const struct btf_param *params;
	struct bpf_program *prog;
	size_t i;
	int nr, err = 0;

	btf = btf__parse(system__btf_path(), NULL);
	if (!btf) {
		err = -errno;
		fprintf(stderr, "leaktrace: cannot read kernel BTF %s: %s\n", system__btf_path(),
			strerror(-err));
		return err;
	}
	for (i = 0; i < sizeof(ktps) / sizeof(ktps[0]); i++) {
		prog = *(struct bpf_program **)((char *)km->skel + ktps[i].prog);
		params = tp_params(btf, ktps[i].tp, &nr);
		if (params && layout_matches(btf, params, nr, ktps[i].layout)) {
			km->nr_attached++;
			continue;
		}
		if (verbose)
			fprintf(stderr, "leaktrace: tracepoint %s %s: %s not loaded\n", ktps[i].tp,
				params ? "has another layout" : "not in this kernel",
				bpf_program__name(prog));
		err = bpf_program__set_autoload(prog, false);
		if (err)
			break;
	}
	btf__free(btf);
	return err;
}

static int set_nest_ranges(struct kalloc_bpf *skel, const struct ksyms *ks)
{
	size_t i, j, n = 0, nlen, cnt = ksyms__count(ks);
	const struct ksym *s, *next;

	for (i = 0; i < cnt && n < LT_MAX_NEST_RANGES; i++) {
		s = ksyms__at(ks, i);
		if (s->module)
			continue;
		for (j = 0; j < sizeof(nest_funcs) / sizeof(nest_funcs[0]); j++) {
			nlen = strlen(nest_funcs[j]);
			/* compilers add .isra.0, .constprop.0 to the names of clones */
			if (!strncmp(s->name, nest_funcs[j], nlen) &&
			    (!s->name[nlen] || s->name[nlen] == '.'))
				break;
		}
		if (j == sizeof(nest_funcs) / sizeof(nest_funcs[0]))
			continue;
		for (next = ksyms__at(ks, i + 1); next && next->addr == s->addr;)
			next = ksyms__at(ks, ++i + 1);
		skel->rodata->nest_lo[n] = s->addr;
		skel->rodata->nest_hi[n] = next ? next->addr : s->addr + 1;
		n++;
	}
	return n;
}

int kmode__open(struct kmode **out, const struct kmode_opts *o)
{
	const struct ksym *stext, *etext;
	struct kmode *km;
	int err;

	km = calloc(1, sizeof(*km));
	if (!km)
		return -ENOMEM;
	htab__init(&km->ids, sizeof(struct kstack_id), KSTACK_KEY);
	km->ksyms = ksyms__load(NULL);
	if (!km->ksyms) {
		err = -errno;
		fprintf(stderr, "leaktrace: cannot read /proc/kallsyms: %s\n",
			err == -EPERM ? "addresses hidden (kptr_restrict)" : strerror(-err));
		goto err_free;
	}
	km->skel = kalloc_bpf__open();
	if (!km->skel) {
		err = -errno;
		fprintf(stderr, "leaktrace: cannot open BPF object: %s\n", strerror(-err));
		goto err_free;
	}
	km->nr_cpus = libbpf_num_possible_cpus();
	if (km->nr_cpus < 0) {
		err = km->nr_cpus;
		goto err_free;
	}
	km->skel->rodata->target_pid = o->pid;
	km->skel->rodata->sample_bytes = o->sample_bytes;
	km->skel->rodata->kstack_exact = o->kstack_exact;
	km->skel->rodata->self_pid = getpid();
	km->max_frames =
		o->max_frames && o->max_frames < LT_MAX_FRAMES ? o->max_frames : LT_MAX_FRAMES;
	stext = ksyms__get(km->ksyms, "_stext");
	etext = ksyms__get(km->ksyms, "_etext");
	km->skel->rodata->text_lo = stext ? stext->addr : 0xffffffff80000000ULL;
	km->skel->rodata->text_hi = etext ? etext->addr : 0xffffffffff000000ULL;
	err = set_nest_ranges(km->skel, km->ksyms);
	if (o->verbose)
		fprintf(stderr, "leaktrace: %d code ranges allocate pages for slabs and percpu\n",
			err);
	km->skel->rodata->wakeup_bytes = (o->ringbuf_mb << 20) / 4;
	err = bpf_map__set_max_entries(km->skel->maps.events, o->ringbuf_mb << 20);
	if (!err)
		err = set_autoload(km, o->verbose);
	if (err)
		goto err_free;
	err = kalloc_bpf__load(km->skel);
	if (err) {
		system__explain_load_error(err);
		goto err_free;
	}
	err = kalloc_bpf__attach(km->skel);
	if (err) {
		fprintf(stderr, "leaktrace: cannot attach kernel tracepoints: %s\n",
			strerror(-err));
		goto err_free;
	}
	/* again, now that our own programs are listed: their frames are hidden by name */
	ksyms__free(km->ksyms);
	km->ksyms = ksyms__load(NULL);
	if (!km->ksyms) {
		err = -errno;
		fprintf(stderr, "leaktrace: cannot read /proc/kallsyms: %s\n", strerror(-err));
		goto err_free;
	}
	*out = km;
	return 0;
err_free:
	kmode__free(km);
	return err;
}

int kmode__ringbuf_fd(const struct kmode *km)
{
	return bpf_map__fd(km->skel->maps.events);
}

static void add_percpu_stats(const struct kmode *km, uint64_t out[LT_ST_MAX])
{
	__u64 v[km->nr_cpus];
	__u32 i;
	int c;

	for (i = 0; i < LT_ST_MAX; i++) {
		if (bpf_map__lookup_elem(km->skel->maps.kstats, &i, sizeof(i), v, sizeof(v), 0))
			continue;
		for (c = 0; c < km->nr_cpus; c++)
			out[i] += v[c];
	}
}

void kmode__stats(const struct kmode *km, uint64_t out[LT_ST_MAX])
{
	struct bpf_program *prog;
	struct bpf_prog_info info;
	uint64_t free_skips = 0;
	__u32 len;
	size_t i;

	memcpy(out, (const void *)km->skel->bss->stats, LT_ST_MAX * sizeof(out[0]));
	add_percpu_stats(km, out);
	/* runs the kernel skipped because the same program was running on that CPU (a free in
	 * an interrupt that landed in our program): for any process, so counted system-wide */
	for (i = 0; i < sizeof(ktps) / sizeof(ktps[0]); i++) {
		prog = *(struct bpf_program **)((char *)km->skel + ktps[i].prog);
		if (bpf_program__fd(prog) < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		if (ktps[i].role == ALLOC)
			out[LT_ST_KSKIP_ALLOC] += info.recursion_misses;
		else if (ktps[i].role == FREE)
			free_skips += info.recursion_misses;
		else if (ktps[i].role == EVENT)
			out[LT_ST_KEVENT_SKIPPED] += info.recursion_misses;
	}
	out[LT_ST_KFREE_UNSEEN] =
		free_skips > out[LT_ST_KFREE_RESCUED] ? free_skips - out[LT_ST_KFREE_RESCUED] : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The frames of a BPF stack: from the stack map, or the spill map; 0 frames when gone. */
static uint32_t read_stack(struct kmode *km, uint64_t stack, uint64_t *frames)
{
	struct lt_kstack st;
	__u32 id = stack, n;

	if (stack == LT_KSTACK_NONE)
		return 0;
	if (stack & LT_KSTACK_SPILLED) {
		if (bpf_map__lookup_elem(km->skel->maps.kstacks_spill, &stack, sizeof(stack), &st,
					 sizeof(st), 0))
			return 0;
		n = st.nr_frames < km->max_frames ? st.nr_frames : km->max_frames;
		memcpy(frames, st.frames, n * sizeof(frames[0]));
		return n;
	}
	memset(frames, 0, LT_MAX_FRAMES * sizeof(frames[0]));
	if (bpf_map__lookup_elem(km->skel->maps.kstacks, &id, sizeof(id), frames,
				 LT_MAX_FRAMES * sizeof(frames[0]), 0))
		return 0;
	for (n = 0; n < km->max_frames && frames[n]; n++)
		;
	return n;
}

#define KIND_UNCERTAIN 0x80000000U

static int64_t stack_id_of(struct kmode *km, struct proc *p, const struct lt_klive *v,
			   bool uncertain)
{
	struct kstack_id key = {.stack = v->stack,
				.detail = v->detail,
				.kind = v->kind | (uncertain ? KIND_UNCERTAIN : 0)};
	uint64_t frames[LT_MAX_FRAMES];
	struct kstack_id *e;
	int64_t kind, id;
	bool found;
	uint32_t n;

	e = htab__find(&km->ids, &key);
	if (e)
		return e->id;
	kind = klabels__kind(p->klabels, v->kind, v->detail);
	if (kind >= 0 && uncertain)
		kind = klabels__uncertain(p->klabels, kind);
	if (kind < 0)
		return kind;
	n = read_stack(km, v->stack, frames);
	id = stacks__intern(p->stacks, frames, n, kind);
	if (id < 0)
		return id;
	/* a slab cache not named yet (its name is on its way) is asked again next time */
	if (kind == LT_K_SLAB && v->detail)
		return id;
	e = htab__insert(&km->ids, &key, &found);
	if (!e)
		return -ENOMEM;
	e->id = id;
	return id;
}

#define SYNC_BATCH 4096

/* Frees counted in BPF per stack-map id, to the first interned stack of that id. */
static int add_stack_frees(struct kmode *km, struct proc *p)
{
	uint8_t *done = calloc(LT_KSTACKS / 8, 1);
	const struct kstack_id *e;
	__u64 n;
	__u32 i;
	size_t j;

	if (!done)
		return -ENOMEM;
	for (j = 0; (e = htab__next(&km->ids, &j));) {
		if (e->stack >= LT_KSTACKS)
			continue;
		i = e->stack;
		if (done[i / 8] & (1 << (i % 8)))
			continue;
		done[i / 8] |= 1 << (i % 8);
		if (!bpf_map__lookup_elem(km->skel->maps.kstack_frees, &i, sizeof(i), &n, sizeof(n),
					  0))
			tracker__add_stack_frees(p->tracker, e->id, n);
	}
	free(done);
	return 0;
}

/* Read the stacks BPF found freed through untraced paths; sorted, for bsearch. */
static int read_uncertain(struct kmode *km)
{
	int fd = bpf_map__fd(km->skel->maps.kuncertain);
	__u64 key, next;
	uint64_t *v;
	int err = 0;

	km->nr_uncertain = 0;
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		if (km->nr_uncertain == km->cap_uncertain) {
			v = realloc(km->uncertain, (km->cap_uncertain * 2 + 64) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			km->uncertain = v;
			km->cap_uncertain = km->cap_uncertain * 2 + 64;
		}
		km->uncertain[km->nr_uncertain++] = next;
		key = next;
	}
	if (km->nr_uncertain) /* none yet: no array (qsort of NULL is undefined) */
		qsort(km->uncertain, km->nr_uncertain, sizeof(*km->uncertain), cmp_u64);
	return 0;
}

static bool is_uncertain(const struct kmode *km, uint64_t stack)
{
	return km->nr_uncertain &&
	       bsearch(&stack, km->uncertain, km->nr_uncertain, sizeof(*km->uncertain), cmp_u64);
}

int kmode__sync(struct kmode *km, struct proc *p)
{
	static __u64 keys[SYNC_BATCH];
	static struct lt_klive vals[SYNC_BATCH];
	uint64_t st[LT_ST_MAX] = {};
	struct tracker_stats ts = {};
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd = bpf_map__fd(km->skel->maps.live);
	__u64 batch = 0;
	bool first = true;
	__u32 i, n;
	int64_t id;
	int err;

	err = read_uncertain(km);
	if (err)
		return err;
	tracker__reset(p->tracker);
	do {
		n = SYNC_BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &n,
					   &opts);
		if (err && errno != ENOENT)
			return -errno;
		first = false;
		for (i = 0; i < n; i++) {
			id = stack_id_of(
				km, p, &vals[i],
				is_uncertain(km, vals[i].stack) ||
					(vals[i].kind == LT_K_SLAB &&
					 klabels__cache_has_sheaves(p->klabels, vals[i].detail)));
			if (id < 0)
				return id;
			err = tracker__alloc(p->tracker, keys[i], vals[i].size, vals[i].ts_ns, id);
			if (err)
				return err;
		}
	} while (!err);
	err = add_stack_frees(km, p);
	if (err)
		return err;
	add_percpu_stats(km, st);
	ts.allocs = st[LT_ST_KALLOCS];
	ts.frees = st[LT_ST_KFREES];
	ts.missed_frees = st[LT_ST_KREUSED];
	tracker__set_stats(p->tracker, &ts);
	return 0;
}

int kmode__nr_attached(const struct kmode *km)
{
	return km->nr_attached;
}

/* The kernel's BPF trampolines and our own programs, between the tracepoint and its caller. */
static bool tracer_frame(const struct ksym *s)
{
	static const char *const prefixes[] = {"bpf_prog_", "bpf_trace_run", "__bpf_trace_",
					       "__traceiter_", "bpf_trampoline_"};
	size_t i;

	if (s->module && !strcmp(s->module, "bpf"))
		return true;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(s->name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static int resolve_kernel(void *ctx, uint64_t addr, struct sym_frame *out, int max)
{
	const struct ksym *s;

	(void)max;
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	/* return addresses: the call may be a function's last instruction */
	s = ksyms__find(ctx, addr - 1);
	if (!s)
		return 1;
	if (tracer_frame(s))
		return 0;
	out->name = s->name;
	out->offset = addr - s->addr;
	out->module = s->module ? s->module : "kernel";
	return 1;
}

struct resolver kmode__resolver(struct kmode *km)
{
	return (struct resolver){.resolve = resolve_kernel, .ctx = km->ksyms};
}

void kmode__free(struct kmode *km)
{
	if (!km)
		return;
	kalloc_bpf__destroy(km->skel);
	ksyms__free(km->ksyms);
	htab__fini(&km->ids);
	free(km->uncertain);
	free(km);
}
