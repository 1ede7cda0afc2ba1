// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include "elf_func.h"
#include "escape.h"
#include "ldcache.h"
#include "leaktrace.h"
#include "options.h"
#include "placement.h"
#include "probes.h"
#include "python.h"
#include "uprobe_inherit.h"
#include "uprobe_session.h"
#include "target.h"
#include "ualloc.skel.h"

/* A path or name the target supplies, escaped for stderr (a compound literal: one per use). */
#define ESC(s) escape__str((s), (char[ESCAPE_SIZE(4096)]){0}, ESCAPE_SIZE(4096))

enum probe_where {
	IN_ALLOCATOR, /* the object serving malloc (and each other allocator family found) */
	IN_SERVER,    /* the first object in symbol resolution order that defines the symbol */
	IN_NON_CXX,   /* the same, unless it is the C++ runtime (whose delete calls free) */
	AT_EXIT,      /* a launched command only: hold it at exit so its maps can be read */
	FOR_THREADS,  /* --threads: where the symbol is served */
	FOR_PYTHON,   /* CPython whose pymalloc no probe reaches: where served (python.h) */
};

/*
 * A program of the user-mode skeleton, named by its field: renaming a program breaks the build
 * here instead of an attach at run time.
 */
#define PROG(name) offsetof(struct ualloc_bpf, progs.name)
#define NO_PROG	   0 /* the skeleton's first field is not a program */

struct alloc_probe {
	const char *sym;
	size_t entry; /* PROG run at entry */
	size_t ret;   /* PROG run at return, NO_PROG for none */
	enum probe_where where;
	bool required;
};

/*
 * IN_ALLOCATOR names are looked up with the allocator's prefix (-S, or one of
 * alloc_prefixes). Aliases (tcmalloc's tc_malloc = malloc, glibc's memalign = aligned_alloc)
 * are probed once. operator new is probed in libstdc++ too although it calls malloc: libstdc++
 * has no frame pointers, and a stack taken inside it would lose new's caller. jemalloc's and
 * tcmalloc's new and delete do not call malloc and free, so they are allocation entry points.
 */
static const struct alloc_probe probe_table[] = {
	{"malloc", PROG(malloc_enter), PROG(alloc_return), IN_ALLOCATOR, true},
	{"calloc", PROG(calloc_enter), PROG(alloc_return), IN_ALLOCATOR, true},
	{"realloc", PROG(realloc_enter), PROG(alloc_return), IN_ALLOCATOR, true},
	{"free", PROG(free_enter_prog), NO_PROG, IN_ALLOCATOR, true},
	{"reallocarray", PROG(reallocarray_enter), PROG(alloc_return), IN_ALLOCATOR, false},
	{"posix_memalign", PROG(posix_memalign_enter), PROG(posix_memalign_return), IN_ALLOCATOR,
	 false},
	{"aligned_alloc", PROG(memalign_enter), PROG(alloc_return), IN_ALLOCATOR, false},
	{"memalign", PROG(memalign_enter), PROG(alloc_return), IN_ALLOCATOR, false},
	{"valloc", PROG(valloc_enter), PROG(alloc_return), IN_ALLOCATOR, false},
	{"pvalloc", PROG(valloc_enter), PROG(alloc_return), IN_ALLOCATOR, false},
	/* jemalloc's non-standard API */
	{"mallocx", PROG(malloc_enter), PROG(alloc_return), IN_ALLOCATOR, false},
	{"rallocx", PROG(realloc_enter), PROG(alloc_return), IN_ALLOCATOR, false},
	{"sdallocx", PROG(free_enter_prog), NO_PROG, IN_ALLOCATOR, false},
	{"dallocx", PROG(free_enter_prog), NO_PROG, IN_ALLOCATOR, false},
	/* tcmalloc's sized free (its tc_* names are aliases of the rows above and below) */
	{"free_sized", PROG(free_enter_prog), NO_PROG, IN_ALLOCATOR, false},
	{"cfree", PROG(free_enter_prog), NO_PROG, IN_ALLOCATOR, false},
	/* C++: new, new[]; nothrow, aligned, aligned nothrow */
	{"_Znwm", PROG(new_enter), PROG(alloc_return), IN_SERVER, false},
	{"_Znam", PROG(new_enter), PROG(alloc_return), IN_SERVER, false},
	{"_ZnwmRKSt9nothrow_t", PROG(new_enter), PROG(alloc_return), IN_SERVER, false},
	{"_ZnamRKSt9nothrow_t", PROG(new_enter), PROG(alloc_return), IN_SERVER, false},
	{"_ZnwmSt11align_val_t", PROG(new_enter), PROG(alloc_return), IN_SERVER, false},
	{"_ZnamSt11align_val_t", PROG(new_enter), PROG(alloc_return), IN_SERVER, false},
	{"_ZnwmSt11align_val_tRKSt9nothrow_t", PROG(new_enter), PROG(alloc_return), IN_SERVER,
	 false},
	{"_ZnamSt11align_val_tRKSt9nothrow_t", PROG(new_enter), PROG(alloc_return), IN_SERVER,
	 false},
	/* delete, delete[]; sized, nothrow, aligned and their mixes */
	{"_ZdlPv", PROG(delete_enter), NO_PROG, IN_NON_CXX, false},
	{"_ZdaPv", PROG(delete_enter), NO_PROG, IN_NON_CXX, false},
	{"_ZdlPvm", PROG(delete_enter), NO_PROG, IN_NON_CXX, false},
	{"_ZdaPvm", PROG(delete_enter), NO_PROG, IN_NON_CXX, false},
	{"_ZdlPvRKSt9nothrow_t", PROG(delete_enter), NO_PROG, IN_NON_CXX, false},
	{"_ZdaPvRKSt9nothrow_t", PROG(delete_enter), NO_PROG, IN_NON_CXX, false},
	{"_ZdlPvSt11align_val_t", PROG(delete_enter), NO_PROG, IN_NON_CXX, false},
	{"_ZdaPvSt11align_val_t", PROG(delete_enter), NO_PROG, IN_NON_CXX, false},
	{"_ZdlPvmSt11align_val_t", PROG(delete_enter), NO_PROG, IN_NON_CXX, false},
	{"_ZdaPvmSt11align_val_t", PROG(delete_enter), NO_PROG, IN_NON_CXX, false},
	{"_ZdlPvSt11align_val_tRKSt9nothrow_t", PROG(delete_enter), NO_PROG, IN_NON_CXX, false},
	{"_ZdaPvSt11align_val_tRKSt9nothrow_t", PROG(delete_enter), NO_PROG, IN_NON_CXX, false},
	{"exit", PROG(exit_enter), NO_PROG, AT_EXIT, false},
	{"_exit", PROG(exit_enter), NO_PROG, AT_EXIT, false},
	{"pthread_create", PROG(thread_create_enter), NO_PROG, FOR_THREADS, false},
	{"pthread_join", PROG(thread_join_enter), NO_PROG, FOR_THREADS, false},
	/* joins that may fail (EBUSY, ETIMEDOUT): a join only when they return 0 */
	{"pthread_tryjoin_np", PROG(thread_tryjoin_enter), PROG(thread_tryjoin_return), FOR_THREADS,
	 false},
	{"pthread_timedjoin_np", PROG(thread_tryjoin_enter), PROG(thread_tryjoin_return),
	 FOR_THREADS, false},
	{"pthread_clockjoin_np", PROG(thread_tryjoin_enter), PROG(thread_tryjoin_return),
	 FOR_THREADS, false},
	{"pthread_detach", PROG(thread_detach_enter), NO_PROG, FOR_THREADS, false},
	/* CPython's GC object constructors and their free (bpf/python.bpf.h) */
	{"PyType_GenericAlloc", PROG(pytype_alloc_enter), PROG(alloc_return), FOR_PYTHON, false},
	{"_PyObject_GC_New", PROG(pygc_new_enter), PROG(alloc_return), FOR_PYTHON, false},
	{"_PyObject_GC_NewVar", PROG(pygc_newvar_enter), PROG(alloc_return), FOR_PYTHON, false},
	{"_PyObject_GC_Resize", PROG(pygc_resize_enter), PROG(alloc_return), FOR_PYTHON, false},
	{"PyObject_GC_Del", PROG(pygc_del_enter), NO_PROG, FOR_PYTHON, false},
};

#define NR_PROBES (sizeof(probe_table) / sizeof(probe_table[0]))

/*
 * Allocator families that export their API under a prefix, besides or instead of malloc:
 * jemalloc built with --with-jemalloc-prefix=je_ (and Rust's tikv-jemallocator, _rjem_),
 * mimalloc's mi_*, tcmalloc's tc_*. Each one found where malloc is not is traced too.
 */
static const char *const alloc_prefixes[] = {"je_", "_rjem_", "mi_", "tc_"};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* glibc, or musl whose dynamic linker is its libc */
static bool is_libc(const char *path)
{
	const char *b = base_name(path);

	return !strncmp(b, "libc.so", 7) || !strncmp(b, "libc-", 5) || !strncmp(b, "ld-", 3);
}

static bool is_cxx_runtime(const char *path)
{
	const char *b = base_name(path);

	return !strncmp(b, "libstdc++.so", 12) || !strncmp(b, "libc++.so", 9);
}

/* The target's objects, each ELF opened once, in symbol resolution order. */
struct objs {
	const struct target *t;
	int n;
	const char *path[TARGET_MAX_OBJS + 1];
	struct elf_funcs *ef[TARGET_MAX_OBJS + 1];
	bool failed[TARGET_MAX_OBJS + 1];
};

static struct elf_funcs *objs__elf(struct objs *o, int i)
{
	char path[4200];

	if (!o->ef[i] && !o->failed[i]) {
		target__path(o->t, o->path[i], path, sizeof(path));
		o->ef[i] = elf_funcs__open(path);
		o->failed[i] = !o->ef[i];
	}
	return o->ef[i];
}

static bool objs__defines(struct objs *o, int i, const char *sym, struct elf_func *fn)
{
	struct elf_funcs *ef = objs__elf(o, i);
	struct elf_func tmp;

	return ef && elf_funcs__find(ef, sym, fn ?: &tmp) == 0;
}

/*
 * The object that serves sym: the executable, then libraries in load order; libc last, so a
 * malloc that interposes on libc's wins even when the order of the list is approximate.
 */
static int objs__server(struct objs *o, const char *sym)
{
	int i, pass;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < o->n; i++)
			if (is_libc(o->path[i]) == (pass == 1) && objs__defines(o, i, sym, NULL))
				return i;
	return -1;
}

/* The target's objects in resolution order, first (-O) ahead of them when given. */
static struct objs *objs__new(const struct target *t, const char *first)
{
	struct objs *o = calloc(1, sizeof(*o));
	int i;

	if (!o)
		return NULL;
	o->t = t;
	if (first)
		o->path[o->n++] = first;
	for (i = 0; i < t->nr_objs; i++)
		if (!first || strcmp(first, t->objs[i]))
			o->path[o->n++] = t->objs[i];
	return o;
}

static void objs__close(struct objs *o)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (o->ef[i])
			elf_funcs__close(o->ef[i]);
}

enum probe_req_kind {
	REQ_ENTRY,
	REQ_RETURN,
	REQ_SESSION, /* the entry program's *_session twin, at entry and return */
};

static int attach_perf(struct probes *p, struct bpf_program *prog, const char *path, uint64_t off,
		       uint64_t cookie, bool retprobe, pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe, .bpf_cookie = cookie);
	struct bpf_link *link;

	if (p->nr_links == PROBES_MAX_LINKS)
		return -E2BIG;
	if (p->inherit) {
		int err = uprobe_inherit__attach(p->inherit, prog, path, off, retprobe, &link);

		if (err)
			return err;
	} else {
		link = bpf_program__attach_uprobe_opts(prog, pid, path, off, &opts);
		if (!link)
			return -errno;
	}
	p->links[p->nr_links++] = link;
	return 0;
}

static struct bpf_program *prog_of(struct ualloc_bpf *skel, size_t prog)
{
	return *(struct bpf_program **)((char *)skel + prog);
}

/*
 * One program at cnt sites of one file: one uprobe_multi or session link, or (-f, or a kernel
 * without uprobe_multi) a perf-event uprobe per site.
 */
static int attach_group(struct probes *p, struct ualloc_bpf *skel, const struct probe_req *r,
			const uint64_t *offs, int cnt, pid_t pid)
{
	struct bpf_program *prog = prog_of(skel, r->prog);
	const char *path = p->files[r->file].path;
	uint32_t type = UPROBE_MULTI_ATTACH, flags = 0;
	const uint64_t *cookies = r->cookie ? offs + PROBES_MAX_LINKS : NULL;
	int i, fd, err = 0;

	if (r->kind != REQ_SESSION && !p->multi) {
		for (i = 0; i < cnt && !err; i++)
			err = attach_perf(p, prog, path, offs[i], cookies ? cookies[i] : 0,
					  r->kind == REQ_RETURN, pid);
		return err;
	}
	if (p->nr_fds == PROBES_MAX_LINKS)
		return -E2BIG;
	if (r->kind == REQ_SESSION)
		type = UPROBE_SESSION_ATTACH;
	else if (r->kind == REQ_RETURN)
		flags = UPROBE_MULTI_RETURN;
	fd = uprobe_link__create(bpf_program__fd(prog), type, flags, path, offs, cookies, cnt, pid);
	if (fd < 0)
		return fd;
	p->fds[p->nr_fds++] = fd;
	if (r->kind == REQ_SESSION)
		p->nr_session += cnt;
	return 0;
}

/*
 * Attach what the table walk queued, grouped by program and file, in an order that makes no
 * false leak even without BPF's counting flag (a child's probes added while it runs): frees
 * first, then returns, then entries, so that no call is seen entering before its return and
 * free can be seen.
 */
static int attach_queued(struct probes *p, struct ualloc_bpf *skel, pid_t pid)
{
	uint64_t offs[2 * PROBES_MAX_LINKS]; /* offsets, then their cookies */
	bool done[2 * PROBES_MAX_LINKS] = {};
	int order, i, j, cnt, err;

	for (order = 0; order < 3; order++) {
		for (i = 0; i < p->nr_reqs; i++) {
			const struct probe_req *r = &p->reqs[i];

			if (done[i] || r->order != order)
				continue;
			for (cnt = 0, j = i; j < p->nr_reqs; j++) {
				const struct probe_req *q = &p->reqs[j];

				if (done[j] || q->order != order || q->kind != r->kind ||
				    q->file != r->file || q->prog != r->prog)
					continue;
				done[j] = true;
				offs[PROBES_MAX_LINKS + cnt] = q->cookie;
				offs[cnt++] = q->off;
			}
			err = attach_group(p, skel, r, offs, cnt, pid);
			if (err) {
				fprintf(stderr,
					"leaktrace: cannot attach %s at %d sites of %s: %s\n",
					bpf_program__name(prog_of(skel, r->prog)), cnt,
					ESC(p->files[r->file].path), strerror(-err));
				return err;
			}
			p->nr_probes += cnt;
		}
	}
	p->nr_reqs = 0;
	return 0;
}

static bool probed_file(const struct probes *p, const struct stat *st)
{
	int i;

	for (i = 0; i < p->nr_files; i++)
		if (p->files[i].dev == st->st_dev && p->files[i].ino == st->st_ino)
			return true;
	return false;
}

int probes__covers(const struct probes *p, const char *path)
{
	struct stat st;

	return stat(path, &st) ? -errno : probed_file(p, &st);
}

/* The index of the file at path in files[], added when new; negative errno. */
static int file_index(struct probes *p, const char *path)
{
	struct stat st;
	int i;

	if (stat(path, &st))
		return -errno;
	for (i = 0; i < p->nr_files; i++)
		if (p->files[i].dev == st.st_dev && p->files[i].ino == st.st_ino)
			return i;
	if (p->nr_files == PROBES_MAX_FILES)
		return -E2BIG;
	p->files[i].dev = st.st_dev;
	p->files[i].ino = st.st_ino;
	snprintf(p->files[i].path, sizeof(p->files[i].path), "%s", path);
	return p->nr_files++;
}

/*
 * Each allocator entry program: the site it serves, for the programs that serve them all (0:
 * none), and its session twin, run at entry and return (NO_PROG: none).
 */
static const struct {
	size_t entry, session;
	enum lt_site site;
} entry_progs[] = {
	{PROG(malloc_enter), PROG(malloc_session), LT_S_MALLOC},
	{PROG(new_enter), PROG(new_session), LT_S_NEW},
	{PROG(calloc_enter), PROG(calloc_session), LT_S_CALLOC},
	{PROG(realloc_enter), PROG(realloc_session), LT_S_REALLOC},
	{PROG(reallocarray_enter), PROG(reallocarray_session), LT_S_REALLOCARRAY},
	{PROG(memalign_enter), PROG(memalign_session), LT_S_MEMALIGN},
	{PROG(posix_memalign_enter), PROG(posix_memalign_session), LT_S_POSIX_MEMALIGN},
	{PROG(valloc_enter), PROG(valloc_session), LT_S_VALLOC},
	{PROG(free_enter_prog), NO_PROG, LT_S_FREE},
	{PROG(delete_enter), NO_PROG, LT_S_DELETE},
	{PROG(pytype_alloc_enter), PROG(pytype_alloc_session), 0},
	{PROG(pygc_new_enter), PROG(pygc_new_session), 0},
	{PROG(pygc_newvar_enter), PROG(pygc_newvar_session), 0},
	{PROG(pygc_resize_enter), PROG(pygc_resize_session), 0},
	{PROG(site_enter_prog), PROG(site_session), 0},
};

#define NR_ENTRY_PROGS (sizeof(entry_progs) / sizeof(entry_progs[0]))

/* entry's row of entry_progs, or NULL */
static const typeof(entry_progs[0]) *entry_row(size_t entry)
{
	unsigned int i;

	for (i = 0; i < NR_ENTRY_PROGS; i++)
		if (entry_progs[i].entry == entry)
			return &entry_progs[i];
	return NULL;
}

static uint64_t site_of(size_t entry)
{
	const typeof(entry_progs[0]) *r = entry_row(entry);

	return r ? r->site : 0;
}

static size_t session_of(size_t entry)
{
	const typeof(entry_progs[0]) *r = entry_row(entry);

	return r ? r->session : NO_PROG;
}

static bool is_session(struct ualloc_bpf *skel, const struct bpf_program *prog)
{
	unsigned int i;

	for (i = 0; i < NR_ENTRY_PROGS; i++)
		if (entry_progs[i].session != NO_PROG &&
		    prog_of(skel, entry_progs[i].session) == prog)
			return true;
	return false;
}

static bool is_uprobe(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog);

	return !strcmp(sec, "uprobe") || !strcmp(sec, "uretprobe");
}

int probes__prepare(struct ualloc_bpf *skel, bool session, bool multi)
{
	struct bpf_program *prog;
	int err;

	bpf_object__for_each_program(prog, skel->obj)
	{
		if (!is_session(skel, prog))
			err = multi && is_uprobe(prog) ? bpf_program__set_expected_attach_type(
								 prog, UPROBE_MULTI_ATTACH)
						       : 0;
		else if (session)
			err = bpf_program__set_expected_attach_type(prog, UPROBE_SESSION_ATTACH);
		else
			err = bpf_program__set_autoload(prog, false);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Whether entry and return probes can carry cookies: uprobe_multi links do, and so do
 * perf-event uprobes attached by libbpf (no uprobe_multi: before Linux 6.6, or
 * LEAKTRACE_NO_MULTI); -f's inherited tracefs events do not.
 */
static bool cookies_ok(const struct probes *p)
{
	return p->multi || !p->inherit;
}

/*
 * With uprobe_multi (and with session links), every allocator site of a file is served by one
 * program per kind of link, told by the cookie which site it is at: one link to detach each.
 */
static int queue(struct probes *p, size_t entry, size_t ret, int file, uint64_t off, uint64_t args,
		 enum probe_req_kind kind, int order)
{
	uint64_t site = cookies_ok(p) || kind == REQ_SESSION ? site_of(entry) : 0;
	size_t prog = kind == REQ_RETURN ? ret : kind == REQ_SESSION ? session_of(entry) : entry;

	if (prog == NO_PROG)
		return -ENOENT;
	if (p->nr_reqs == 2 * PROBES_MAX_LINKS)
		return -E2BIG;
	/* BPF's counting flag makes the order moot: frees share the allocators' entry link */
	if (site && p->multi && kind == REQ_ENTRY)
		order = 2;
	if (site)
		prog = kind == REQ_SESSION  ? PROG(site_session)
		       : kind == REQ_RETURN ? PROG(site_return)
					    : PROG(site_enter_prog);
	p->reqs[p->nr_reqs++] =
		(struct probe_req){prog, file, off, site ? site | args : 0, kind, order};
	return 0;
}

/* The arguments (bit i: argument i) the entry program of a site reads. */
static unsigned int site_args(uint64_t site)
{
	switch (site) {
	case LT_S_CALLOC:
	case LT_S_REALLOC:
		return 3;
	case LT_S_REALLOCARRAY:
		return 7;
	case LT_S_MEMALIGN:
		return 2;
	case LT_S_POSIX_MEMALIGN:
		return 5;
	}
	return 1;
}

/*
 * The entry points every program calls all the time: a single step there is a cost worth a
 * word. Not the nothrow new: libstdc++'s (sub $8,%rsp; call _Znwm) moves the stack pointer
 * first, and programs seldom call it.
 */
static bool hot_site(uint64_t site, const char *sym)
{
	return (site == LT_S_MALLOC || site == LT_S_NEW || site == LT_S_CALLOC ||
		site == LT_S_REALLOC || site == LT_S_FREE || site == LT_S_DELETE) &&
	       !strstr(sym, "nothrow");
}

static const char *const reg_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
					  "r8",	 "r9",	"r10", "r11", "r12", "r13", "r14", "r15"};

/*
 * Where in fn to probe (placement.c), from its code as the file holds it (the whole function,
 * so that a branch back into the probed prefix is seen); its argument locations in *args as
 * the cookie carries them. Arguments may move to other registers only where the program that
 * runs there reads them through the cookie.
 */
static int place(const char *path, const struct elf_func *fn, unsigned int want, bool moves,
		 struct placement *pl, uint64_t *args)
{
	size_t len = fn->size < 65536 ? fn->size : 65536;
	uint8_t *code = NULL;
	ssize_t n = -1;
	int fd, i, err;

	*args = 0;
	if (len > fn->code_len) {
		code = malloc(len);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (code && fd >= 0)
			n = pread(fd, code, len, fn->file_off);
		if (fd >= 0)
			close(fd);
	}
	if (n > 0)
		err = placement__find(code, n, want, moves, pl);
	else
		err = placement__find(fn->code, fn->code_len, want, moves, pl);
	free(code);
	if (err)
		return err;
	if (env.probe_at_entry && pl->off) {
		memset(pl, 0, sizeof(*pl));
		for (i = 0; i < PLACEMENT_MAX_ARGS; i++)
			pl->reg[i] = placement__abi_reg(i);
		snprintf(pl->insn, sizeof(pl->insn), "entry");
	}
	for (i = 0; i < PLACEMENT_MAX_ARGS && i < LT_SITE_ARGS; i++)
		if ((want & (1u << i)) && pl->reg[i] != placement__abi_reg(i))
			*args |= (uint64_t)(pl->reg[i] + 1) << LT_SITE_ARG_SHIFT(i);
	return 0;
}

/* "; arg1 in rsi, arg2 in rdx": the arguments read elsewhere than their ABI registers */
static const char *moved_args(const struct placement *pl, unsigned int want, char *buf, size_t size)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < PLACEMENT_MAX_ARGS; i++)
		if ((want & (1u << i)) && pl->reg[i] != placement__abi_reg(i) && n < size)
			n += snprintf(buf + n, size - n, "%sarg%d in %s", n ? ", " : "; ", i,
				      reg_names[pl->reg[i] & 15]);
	return buf;
}

/* Queue sym (found as fn in object i) unless that code is probed already. */
static int attach_sym(struct probes *p, struct objs *o, int i, const struct alloc_probe *ap,
		      const char *sym, const struct elf_func *fn, const struct probes_opts *opts)
{
	const struct probes *covered = opts->covered;
	uint64_t site = site_of(ap->entry), args;
	bool moves = site && (cookies_ok(p) || (p->session && ap->ret));
	/* CPython's constructors read (type, nitems) */
	unsigned int want = ap->where == FOR_PYTHON ? 3 : site_args(site);
	struct placement pl;
	char path[4200], where[64];
	size_t off;
	int j, err, file;

	target__path(o->t, o->path[i], path, sizeof(path));
	if (covered && probes__covers(covered, path) == 1)
		return 0; /* an exec'ed child's inherited probes are there already */
	for (j = 0; j < p->nr_sites; j++)
		if (p->sites[j].obj == i && p->sites[j].file_off == fn->file_off)
			return 0;
	if (p->nr_sites == PROBES_MAX_LINKS)
		return -E2BIG;
	p->sites[p->nr_sites].obj = i;
	p->sites[p->nr_sites++].file_off = fn->file_off;

	err = place(path, fn, want, moves, &pl, &args);
	if (err)
		goto out;
	off = pl.off;
	if (!pl.emulated)
		p->nr_single_step++;
	if (opts->verbose)
		fprintf(stderr, "leaktrace: probe %s at %s+0x%llx (+%zu, %s: %s%s)\n", sym,
			ESC(base_name(o->path[i])), (unsigned long long)fn->file_off, off,
			pl.emulated ? "emulated" : "single-stepped", pl.insn,
			moved_args(&pl, want, where, sizeof(where)));
	else if (!pl.emulated && hot_site(site, sym))
		fprintf(stderr,
			"leaktrace: %s in %s is single-stepped (probed at its entry, %s%s): each "
			"call costs a trap and a step\n",
			sym, ESC(base_name(o->path[i])), pl.insn,
			moves ? ""
			      : "; -f's inherited probes read arguments only where the ABI puts them");
	err = file_index(p, path);
	if (err < 0)
		goto out;
	file = err;
	/* sessions save a return trap when sampling; the joins are not sampled */
	if (p->session && ap->ret && ap->where != FOR_THREADS) {
		err = queue(p, ap->entry, ap->ret, file, fn->file_off + off, args, REQ_SESSION, 2);
	} else {
		err = queue(p, ap->entry, ap->ret, file, fn->file_off + off, args, REQ_ENTRY,
			    ap->ret ? 2 : 0);
		if (!err && ap->ret)
			err = queue(p, ap->entry, ap->ret, file, fn->file_off + off, args,
				    REQ_RETURN, 1);
	}
out:
	if (err)
		fprintf(stderr, "leaktrace: cannot attach uprobe to %s in %s: %s\n", sym,
			ESC(o->path[i]), strerror(-err));
	return err;
}

/* Every IN_ALLOCATOR row, named with prefix, in object i. */
static int attach_allocator(struct probes *p, struct objs *o, int i, const char *prefix,
			    const struct probes_opts *opts)
{
	char sym[128], missing[256] = "";
	struct elf_func fn;
	unsigned int k;
	int err;

	if (!objs__elf(o, i)) {
		err = -errno;
		fprintf(stderr, "leaktrace: cannot read %s: %s\n", ESC(o->path[i]),
			err == -ENOEXEC ? "not a valid ELF file" : strerror(-err));
		return err;
	}
	for (k = 0; k < NR_PROBES; k++) {
		const struct alloc_probe *ap = &probe_table[k];

		if (ap->where != IN_ALLOCATOR || !ap->required)
			continue;
		snprintf(sym, sizeof(sym), "%s%s", prefix, ap->sym);
		if (!objs__defines(o, i, sym, NULL))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s'%s'", missing[0] ? ", " : "", sym);
	}
	if (missing[0]) {
		fprintf(stderr, "leaktrace: %s has no usable %s symbol%s\n", ESC(o->path[i]),
			missing, strchr(missing, ',') ? "s" : "");
		return -ENOENT;
	}
	for (k = 0; k < NR_PROBES; k++) {
		const struct alloc_probe *ap = &probe_table[k];

		if (ap->where != IN_ALLOCATOR)
			continue;
		snprintf(sym, sizeof(sym), "%s%s", prefix, ap->sym);
		if (!objs__defines(o, i, sym, &fn))
			continue;
		err = attach_sym(p, o, i, ap, sym, &fn, opts);
		if (err)
			return err;
	}
	if (!p->alloc_obj[0])
		snprintf(p->alloc_obj, sizeof(p->alloc_obj), "%s", o->path[i]);
	return 0;
}

static bool family_complete(struct objs *o, int i, const char *prefix)
{
	char sym[128];
	unsigned int k;

	for (k = 0; k < NR_PROBES; k++) {
		if (probe_table[k].where != IN_ALLOCATOR || !probe_table[k].required)
			continue;
		snprintf(sym, sizeof(sym), "%s%s", prefix, probe_table[k].sym);
		if (!objs__defines(o, i, sym, NULL))
			return false;
	}
	return true;
}

/* Prefixed allocator families found in objects other than (or besides) the main one. */
static int attach_prefixed(struct probes *p, struct objs *o, const struct probes_opts *opts)
{
	char sym[64];
	unsigned int k;
	int i, err;

	for (k = 0; k < sizeof(alloc_prefixes) / sizeof(alloc_prefixes[0]); k++) {
		snprintf(sym, sizeof(sym), "%smalloc", alloc_prefixes[k]);
		i = objs__server(o, sym);
		if (i < 0 || !family_complete(o, i, alloc_prefixes[k]))
			continue;
		if (opts->verbose)
			fprintf(stderr, "leaktrace: %s also defines %s*\n", ESC(o->path[i]),
				alloc_prefixes[k]);
		err = attach_allocator(p, o, i, alloc_prefixes[k], opts);
		if (err)
			return err;
	}
	return 0;
}

static int attach_served(struct probes *p, struct objs *o, const struct probes_opts *opts)
{
	int py_objects = -1; /* unknown until a CPython is found serving the rows */
	char path[4200];
	struct elf_func fn;
	unsigned int k;
	int i, err;

	for (k = 0; k < NR_PROBES; k++) {
		const struct alloc_probe *ap = &probe_table[k];

		if (ap->where == IN_ALLOCATOR || (ap->where == AT_EXIT && !opts->hold_exit))
			continue;
		if (ap->where == FOR_THREADS && !opts->threads)
			continue;
		if (opts->no_allocator && ap->where != AT_EXIT && ap->where != FOR_THREADS)
			continue;
		i = objs__server(o, ap->sym);
		if (i < 0 || (ap->where == IN_NON_CXX && is_cxx_runtime(o->path[i])))
			continue;
		if (!objs__defines(o, i, ap->sym, &fn))
			continue;
		if (ap->where == FOR_PYTHON && py_objects < 0) {
			target__path(o->t, o->path[i], path, sizeof(path));
			py_objects = !env.no_python &&
				     python__objects_wanted(path, o->t->pid, o->t->launched);
		}
		if (ap->where == FOR_PYTHON && !py_objects)
			continue;
		err = attach_sym(p, o, i, ap, ap->sym, &fn, opts);
		if (err)
			return err;
	}
	return 0;
}

static void no_allocator(const struct target *t, const char *prefix)
{
	if (t->is_static)
		fprintf(stderr,
			"leaktrace: %s is statically linked and defines no '%smalloc' symbol "
			"(stripped?); name the allocator with -O PATH [-S PREFIX]\n",
			ESC(t->exe), prefix);
	else
		fprintf(stderr,
			"leaktrace: pid %d (%s): none of its %d objects defines '%smalloc' (a "
			"stripped static binary?); name the allocator with -O PATH [-S PREFIX]\n",
			t->pid, ESC(t->comm), t->nr_objs, prefix);
}

/*
 * -O NAME without a slash, as memleak takes it: a file the target maps named NAME or
 * lib<NAME>.so* (its own binary too), else a library of the ld.so cache ("c", "libc.so.6").
 */
static int resolve_obj(const struct target *t, const char *name, char *out, size_t size)
{
	char want[PATH_MAX], have[PATH_MAX], path[4200];
	int i, err;

	for (i = 0; i < t->nr_objs; i++) {
		if (ldcache__name_matches(base_name(t->objs[i]), name)) {
			snprintf(out, size, "%s", t->objs[i]);
			return 0;
		}
	}
	err = ldcache__find(NULL, name, out, size);
	if (err) {
		fprintf(stderr,
			"leaktrace: -O %s: pid %d maps no such file and the ld.so cache has no "
			"such library%s\n",
			ESC(name), t->pid, err == -ENOENT ? "" : " (cannot read /etc/ld.so.cache)");
		return -ENOENT;
	}
	/* the file the target maps under another name (/lib and /usr/lib): one object */
	if (!realpath(out, want))
		return 0;
	for (i = 0; i < t->nr_objs; i++) {
		target__path(t, t->objs[i], path, sizeof(path));
		if (realpath(path, have) && !strcmp(want, have)) {
			snprintf(out, size, "%s", t->objs[i]);
			break;
		}
	}
	return 0;
}

int probes__attach(struct probes *p, struct ualloc_bpf *skel, const struct target *t,
		   const struct probes_opts *opts)
{
	const char *prefix = opts->prefix ? opts->prefix : "";
	const char *first = opts->obj;
	char named[4200];
	struct objs *o;
	char sym[128];
	int i, err;

	if (first && !strchr(first, '/')) {
		err = resolve_obj(t, first, named, sizeof(named));
		if (err)
			return err;
		first = named;
	}
	o = objs__new(t, first);
	if (!o)
		return -ENOMEM;

	if (opts->no_allocator) {
		err = attach_served(p, o, opts);
		if (!err)
			err = attach_queued(p, skel, t->pid);
		goto out;
	}
	snprintf(sym, sizeof(sym), "%smalloc", prefix);
	i = opts->obj ? 0 : objs__server(o, sym);
	if (i < 0) {
		no_allocator(t, prefix);
		err = -ENOENT;
		goto out;
	}
	err = attach_allocator(p, o, i, prefix, opts);
	if (!err && !opts->obj && !opts->prefix)
		err = attach_prefixed(p, o, opts);
	if (!err)
		err = attach_served(p, o, opts);
	if (!err)
		err = attach_queued(p, skel, t->pid);
out:
	p->nr_reqs = 0;
	objs__close(o);
	free(o);
	return err;
}

int probes__serve_objs(const struct probes *p, const struct target *t, char *obj, size_t size)
{
	struct objs *o;
	char path[4200];
	int i, err;

	o = objs__new(t, NULL);
	if (!o)
		return -ENOMEM;
	i = objs__server(o, "malloc");
	if (i < 0) {
		err = -ENOENT;
	} else {
		snprintf(obj, size, "%s", o->path[i]);
		target__path(t, o->path[i], path, sizeof(path));
		err = probes__covers(p, path);
	}
	objs__close(o);
	free(o);
	return err;
}

static void *close_one(void *fd)
{
	close((int)(intptr_t)fd);
	return NULL;
}

/*
 * Each link's release waits for RCU grace periods (uprobe_unregister_sync); closed from one
 * thread each, they wait for the same ones.
 */
static void close_all(const int *fds, int n)
{
	pthread_t th[PROBES_MAX_LINKS];
	bool started[PROBES_MAX_LINKS];
	int i;

	for (i = 0; i < n; i++) {
		started[i] =
			n > 1 && !pthread_create(&th[i], NULL, close_one, (void *)(intptr_t)fds[i]);
		if (!started[i])
			close(fds[i]);
	}
	for (i = 0; i < n; i++)
		if (started[i])
			pthread_join(th[i], NULL);
}

void probes__detach(struct probes *p)
{
	int i;

	for (i = 0; i < p->nr_links; i++)
		bpf_link__destroy(p->links[i]);
	p->nr_links = 0;
	if (p->inherit)
		uprobe_inherit__close(p->inherit);
	close_all(p->fds, p->nr_fds);
	p->nr_fds = 0;
	p->nr_session = 0;
	p->nr_probes = 0;
	p->nr_sites = 0;
	p->nr_files = 0;
}
