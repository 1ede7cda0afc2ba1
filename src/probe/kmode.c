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
#include "kmode.h"
#include "ksyms.h"
#include "system.h"

/* Argument layouts a tracepoint has had; a program is loaded only for the one in use. */
enum layout {
	ANY,
	CACHE_ARG,     /* kmem_cache_alloc since 6.1: (call_site, ptr, struct kmem_cache *, ...) */
	NO_CACHE_ARG,  /* kmem_cache_alloc before: (call_site, ptr, bytes_req, bytes_alloc, ...) */
	PCPU_CALLER,   /* percpu_alloc_percpu since 6.2: (call_site, ..., bytes_alloc, gfp) */
	PCPU_NO_CALLER /* before: (reserved, is_atomic, size, align, base_addr, off, ptr) */
};

/* One row per program: adding a tracepoint is one row. */
static const struct ktp {
	const char *tp;
	const char *prog;
	enum layout layout;
} ktps[] = {
	{"kmalloc", "kmalloc", ANY},
	{"kmalloc_node", "kmalloc_node", ANY},
	{"kfree", "kfree", ANY},
	{"kmem_cache_alloc", "kmem_cache_alloc", CACHE_ARG},
	{"kmem_cache_alloc", "kmem_cache_alloc_old", NO_CACHE_ARG},
	{"kmem_cache_alloc_node", "kmem_cache_alloc_node", ANY},
	{"kmem_cache_free", "kmem_cache_free", ANY},
	{"mm_page_alloc", "mm_page_alloc", ANY},
	{"mm_page_free", "mm_page_free", ANY},
	{"mm_page_free_batched", "mm_page_free_batched", ANY},
	{"percpu_alloc_percpu", "percpu_alloc_percpu", PCPU_CALLER},
	{"percpu_alloc_percpu", "percpu_alloc_percpu_old", PCPU_NO_CALLER},
	{"percpu_free_percpu", "percpu_free_percpu", ANY},
	{"sched_process_exit", "proc_exit", ANY},
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

struct kmode {
	struct kalloc_bpf *skel;
	struct ksyms *ksyms;
	int nr_attached;
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
		prog = bpf_object__find_program_by_name(km->skel->obj, ktps[i].prog);
		if (!prog) {
			err = -ENOENT;
			break;
		}
		params = tp_params(btf, ktps[i].tp, &nr);
		if (params && layout_matches(btf, params, nr, ktps[i].layout)) {
			km->nr_attached++;
			continue;
		}
		if (verbose)
			fprintf(stderr, "leaktrace: tracepoint %s %s: %s not loaded\n", ktps[i].tp,
				params ? "has another layout" : "not in this kernel", ktps[i].prog);
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
	struct kmode *km;
	int err;

	km = calloc(1, sizeof(*km));
	if (!km)
		return -ENOMEM;
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
	km->skel->rodata->target_pid = o->pid;
	km->skel->rodata->self_pid = getpid();
	km->skel->rodata->max_frames = o->max_frames ?: LT_MAX_FRAMES;
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

void kmode__stats(const struct kmode *km, uint64_t out[LT_ST_MAX])
{
	struct bpf_program *prog;
	struct bpf_prog_info info;
	__u32 len;

	memcpy(out, (const void *)km->skel->bss->stats, LT_ST_MAX * sizeof(out[0]));
	/* a kfree inside another BPF program's run (a map update freeing memory) skips ours */
	bpf_object__for_each_program(prog, km->skel->obj)
	{
		if (bpf_program__fd(prog) < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			out[LT_ST_RINGBUF_DROP] += info.recursion_misses;
	}
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
	free(km);
}
