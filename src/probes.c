// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "elf_func.h"
#include "options.h"
#include "placement.h"
#include "probes.h"
#include "uprobe_session.h"
#include "target.h"

enum probe_lib {
	LIB_ALLOC, /* the object that serves malloc */
	LIB_CXX,   /* the C++ runtime: operator new, so the stack names the caller of new */
};

struct alloc_probe {
	const char *sym;
	const char *entry; /* BPF program run at entry */
	const char *ret;   /* BPF program run at return, NULL for none */
	enum probe_lib lib;
	bool required;
};

/*
 * operator delete is not probed: libstdc++'s delete calls free, which is. operator new is,
 * because libstdc++ has no frame pointers: a stack taken inside it would lose new's caller.
 */
static const struct alloc_probe probe_table[] = {
	{"malloc", "malloc_enter", "alloc_return", LIB_ALLOC, true},
	{"calloc", "calloc_enter", "alloc_return", LIB_ALLOC, true},
	{"realloc", "realloc_enter", "alloc_return", LIB_ALLOC, true},
	{"free", "free_enter_prog", NULL, LIB_ALLOC, true},
	{"reallocarray", "reallocarray_enter", "alloc_return", LIB_ALLOC, false},
	{"posix_memalign", "posix_memalign_enter", "posix_memalign_return", LIB_ALLOC, false},
	{"aligned_alloc", "memalign_enter", "alloc_return", LIB_ALLOC, false},
	{"memalign", "memalign_enter", "alloc_return", LIB_ALLOC, false},
	{"valloc", "valloc_enter", "alloc_return", LIB_ALLOC, false},
	{"pvalloc", "valloc_enter", "alloc_return", LIB_ALLOC, false},
	{"_Znwm", "new_enter", "alloc_return", LIB_CXX, false},
	{"_Znam", "new_enter", "alloc_return", LIB_CXX, false},
	{"_ZnwmRKSt9nothrow_t", "new_enter", "alloc_return", LIB_CXX, false},
	{"_ZnamRKSt9nothrow_t", "new_enter", "alloc_return", LIB_CXX, false},
	{"_ZnwmSt11align_val_t", "new_enter", "alloc_return", LIB_CXX, false},
	{"_ZnamSt11align_val_t", "new_enter", "alloc_return", LIB_CXX, false},
};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

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

static bool defines_malloc(const struct target *t, const char *obj)
{
	char path[4200];
	struct elf_funcs *ef;
	struct elf_func fn;
	bool ok;

	target__path(t, obj, path, sizeof(path));
	ef = elf_funcs__open(path);
	if (!ef)
		return false;
	ok = elf_funcs__find(ef, "malloc", &fn) == 0;
	elf_funcs__close(ef);
	return ok;
}

/* Symbol resolution order: the executable, then libraries that interpose, then libc. */
static const char *find_allocator(const struct target *t)
{
	int i;

	if (defines_malloc(t, t->exe))
		return t->exe;
	for (i = 0; i < t->nr_objs; i++)
		if (strcmp(t->objs[i], t->exe) && !is_libc(t->objs[i]) &&
		    defines_malloc(t, t->objs[i]))
			return t->objs[i];
	for (i = 0; i < t->nr_objs; i++)
		if (is_libc(t->objs[i]) && defines_malloc(t, t->objs[i]))
			return t->objs[i];
	return NULL;
}

static int attach_one(struct probes *p, struct bpf_object *obj, const char *path,
		      const char *prog_name, size_t off, bool retprobe, pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe);
	struct bpf_program *prog;
	struct bpf_link *link;

	if (p->nr_links == PROBES_MAX_LINKS)
		return -E2BIG;
	prog = bpf_object__find_program_by_name(obj, prog_name);
	if (!prog)
		return -ENOENT;
	link = bpf_program__attach_uprobe_opts(prog, pid, path, off, &opts);
	if (!link)
		return -errno;
	p->links[p->nr_links++] = link;
	return 0;
}

/* The session twin of an entry program: malloc_enter -> malloc_session (bpf/ualloc.bpf.c). */
static int attach_session(struct probes *p, struct bpf_object *obj, const char *path,
			  const char *entry, size_t off, pid_t pid)
{
	struct bpf_program *prog;
	char name[64];
	size_t n = strlen(entry);
	int fd;

	if (p->nr_session == PROBES_MAX_LINKS)
		return -E2BIG;
	if (n < 6 || n >= sizeof(name) || strcmp(entry + n - 6, "_enter"))
		return -ENOENT;
	snprintf(name, sizeof(name), "%.*s_session", (int)(n - 6), entry);
	prog = bpf_object__find_program_by_name(obj, name);
	if (!prog)
		return -ENOENT;
	fd = uprobe_session__attach(bpf_program__fd(prog), path, off, pid);
	if (fd < 0)
		return fd;
	p->session_fds[p->nr_session++] = fd;
	return 0;
}

static int attach_table(struct probes *p, struct bpf_object *obj, const struct target *t,
			enum probe_lib lib, const char *target_path, bool verbose)
{
	char path[4200];
	struct elf_funcs *ef;
	struct elf_func fn;
	size_t off, seen[sizeof(probe_table) / sizeof(probe_table[0])];
	int nr_seen = 0, i, j, err = 0;
	unsigned int k;

	target__path(t, target_path, path, sizeof(path));
	ef = elf_funcs__open(path);
	if (!ef) {
		err = -errno;
		fprintf(stderr, "leaktrace: cannot read %s: %s\n", target_path,
			err == -ENOEXEC ? "not a valid ELF file" : strerror(-err));
		return err;
	}
	for (k = 0; k < sizeof(probe_table) / sizeof(probe_table[0]); k++) {
		const struct alloc_probe *ap = &probe_table[k];

		if (ap->lib != lib)
			continue;
		err = elf_funcs__find(ef, ap->sym, &fn);
		if (err) {
			if (ap->required) {
				fprintf(stderr, "leaktrace: %s has no usable '%s' symbol\n",
					target_path, ap->sym);
				goto out;
			}
			err = 0;
			continue;
		}
		/* aliases (memalign = aligned_alloc in glibc) are probed once */
		for (j = 0; j < nr_seen; j++)
			if (seen[j] == fn.file_off)
				break;
		if (j < nr_seen)
			continue;
		seen[nr_seen++] = fn.file_off;

		off = env.probe_at_entry ? 0 : placement__offset(fn.code, fn.code_len);
		if (!placement__emulated(fn.code + off, fn.code_len - off))
			p->nr_single_step++;
		if (verbose)
			fprintf(stderr, "leaktrace: probe %s at %s+0x%llx (+%zu%s)\n", ap->sym,
				base_name(target_path), (unsigned long long)fn.file_off, off,
				placement__emulated(fn.code + off, fn.code_len - off)
					? ", emulated"
					: ", single-stepped");
		if (p->session && ap->ret)
			err = attach_session(p, obj, path, ap->entry, fn.file_off + off, t->pid);
		else
			err = attach_one(p, obj, path, ap->entry, fn.file_off + off, false, t->pid);
		if (!err && ap->ret && !p->session)
			err = attach_one(p, obj, path, ap->ret, fn.file_off + off, true, t->pid);
		if (err) {
			fprintf(stderr, "leaktrace: cannot attach uprobe to %s in %s: %s\n",
				ap->sym, target_path, strerror(-err));
			goto out;
		}
	}
out:
	elf_funcs__close(ef);
	(void)i;
	return err;
}

int probes__attach(struct probes *p, struct bpf_object *obj, const struct target *t,
		   const char *obj_override, bool verbose)
{
	const char *alloc_obj;
	int i, err;

	alloc_obj = obj_override ? obj_override : find_allocator(t);
	if (!alloc_obj) {
		fprintf(stderr,
			"leaktrace: pid %d (%s) maps no library that defines malloc (static binary "
			"without symbols?); name the allocator with -O PATH\n",
			t->pid, t->comm);
		return -ENOENT;
	}
	snprintf(p->alloc_obj, sizeof(p->alloc_obj), "%s", alloc_obj);
	err = attach_table(p, obj, t, LIB_ALLOC, alloc_obj, verbose);
	if (err)
		return err;
	for (i = 0; i < t->nr_objs; i++) {
		if (!is_cxx_runtime(t->objs[i]))
			continue;
		err = attach_table(p, obj, t, LIB_CXX, t->objs[i], verbose);
		if (err)
			return err;
	}
	return 0;
}

void probes__detach(struct probes *p)
{
	int i;

	for (i = 0; i < p->nr_links; i++)
		bpf_link__destroy(p->links[i]);
	p->nr_links = 0;
	for (i = 0; i < p->nr_session; i++)
		close(p->session_fds[i]);
	p->nr_session = 0;
}
