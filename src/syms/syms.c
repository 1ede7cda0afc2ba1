/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syms.h"
#include "demangle.h"
#include "dso.h"
#include "hash.h"
#include "htab.h"
#include "search.h"
#include "dwarf_lines.h"
#include "elf_symtab.h"
#include "guard.h"
#include "perfmap.h"
#include "procmaps.h"
#include "procstat.h"

#define MAX_INLINE_DEPTH  32
#define CACHE_MAX_ENTRIES (1U << 20)

struct mapping {
	uint64_t start;
	uint64_t end;
	uint64_t pgoff;
	uint64_t inode;
	unsigned int dev_major;
	unsigned int dev_minor;
	bool exec;
	char *path;   /* as in maps for files, NULL for anonymous and [pseudo] mappings */
	char *module; /* basename, "[vdso]", "[heap]", "[anon]" ... */
	struct dso *dso;
};

/*
 * A resolved address, valid while the same file is mapped at the same place. module and path
 * are not kept: they belong to the mapping, whose strings a refresh replaces.
 */
struct cache_ent {
	uint64_t key; /* addr << 1 | ret_addr; 0 (address 0) is not kept */
	uint64_t map_start;
	uint64_t map_pgoff;
	struct dso *dso;
	struct sym_frame *frames;
	int n;
};

/* /tmp/perf-PID.map, re-read when it changed (JITs append to it as they compile). */
struct perf_map {
	struct perfmap *pm;
	char path[64];
	char module[32];
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool checked; /* since the last refresh */
};

struct syms {
	int refs;		/* a forked child shares its parent's until its own maps differ */
	struct guard_ctx *gctx; /* the run's, NULL: never stopped */
	struct dso_cache *dsos; /* the run's files, or one of its own */
	pid_t pid;
	uid_t uid; /* the target's owner: only its own (or root's) perf map is believed */
	bool no_demangle;
	int root_fd; /* the target's root directory, still usable after it exits */
	struct mapping *maps;
	size_t nmaps;
	/* every file a mapping (now or before a refresh) pointed to: frames name their strings */
	struct dso **held;
	size_t nheld;
	size_t held_cap;
	struct htab strs;  /* owned strings handed out in frames (demangled, JIT names) */
	struct htab cache; /* struct cache_ent */
	struct perf_map perf;
};

static uint64_t strset__hash(const void *entry, void *ctx)
{
	(void)ctx;
	return hash__str(*(char *const *)entry);
}

static bool strset__eq(const void *entry, const void *str)
{
	return !strcmp(*(char *const *)entry, str);
}

/* Take ownership of str (freeing it when an equal string is already held). */
static const char *strset__own(struct htab *set, char *str)
{
	char **slot;
	bool found;

	if (!str)
		return NULL;
	slot = htab__insert_by(set, hash__str(str), strset__eq, str, &found);
	if (!slot || found) {
		free(str);
		return slot ? *slot : NULL;
	}
	*slot = str;
	return str;
}

static void strset__free(struct htab *set)
{
	char **str;
	size_t pos;

	for (pos = 0; (str = htab__next(set, &pos));)
		free(*str);
	htab__fini(set);
}

static int open_mapped_file(struct syms *s, const struct procmaps_entry *e, const char *path)
{
	char buf[64];
	struct stat st;
	int fd;

	/* map_files reaches the very inode mapped, even when deleted, replaced or in a container.
	 */
	snprintf(buf, sizeof(buf), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, s->pid, e->start,
		 e->end);
	fd = guard__openat(AT_FDCWD, buf, GUARD_ELF_MAX);
	if (fd >= 0 || fd == -EFBIG)
		goto out;

	/* The path is the target's to choose (a FIFO bind-mounted over its binary): untrusted. */
	if (s->root_fd >= 0) {
		while (*path == '/')
			path++;
		fd = guard__openat(s->root_fd, path, GUARD_ELF_MAX);
	} else {
		fd = guard__openat(AT_FDCWD, path, GUARD_ELF_MAX);
	}
out:
	if (fd == -EINVAL || fd == -EFBIG) {
		if (s->gctx && s->gctx->verbose)
			fprintf(stderr, "leaktrace: %s: %s; addresses only\n", e->path,
				guard__strerror(fd));
		return fd;
	}
	if (fd < 0)
		return fd;
	/* Another file now at the same path must not lend its symbols. */
	if (fstat(fd, &st) || st.st_ino != e->inode) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/* The process uses d from now until syms__free(). */
static struct dso *syms__hold(struct syms *s, struct dso *d)
{
	size_t i;

	if (!d)
		return NULL;
	for (i = 0; i < s->nheld; i++)
		if (s->held[i] == d)
			return d;
	if (s->nheld == s->held_cap) {
		size_t cap = s->held_cap ? s->held_cap * 2 : 16;
		struct dso **held = realloc(s->held, cap * sizeof(*held));

		if (!held)
			return NULL;
		s->held = held;
		s->held_cap = cap;
	}
	s->held[s->nheld++] = dso__get(d);
	return d;
}

static struct dso *syms__dso_for(struct syms *s, const struct procmaps_entry *e)
{
	static const char deleted[] = " (deleted)";
	size_t len = strlen(e->path);
	struct dso *dso = NULL;
	char *path;
	int fd;

	path = strdup(e->path);
	if (!path)
		return NULL;
	if (e->deleted)
		path[len - (sizeof(deleted) - 1)] = '\0';
	fd = open_mapped_file(s, e, path);
	if (fd >= 0)
		dso = syms__hold(s, dso_cache__file(s->dsos, fd, path));
	free(path);
	return dso;
}

static void mapping__clear(struct mapping *m)
{
	free(m->path);
	free(m->module);
}

static int mapping__init(struct mapping *m, const struct procmaps_entry *e)
{
	static const char deleted[] = " (deleted)";
	const char *base;
	size_t len;

	memset(m, 0, sizeof(*m));
	m->start = e->start;
	m->end = e->end;
	m->pgoff = e->pgoff;
	m->inode = e->inode;
	m->dev_major = e->dev_major;
	m->dev_minor = e->dev_minor;
	m->exec = e->perms[2] == 'x';

	if (!e->path) {
		m->module = strdup("[anon]");
		return m->module ? 0 : -ENOMEM;
	}
	if (e->path[0] != '/') {
		m->module = strdup(e->path);
		return m->module ? 0 : -ENOMEM;
	}
	m->path = strdup(e->path);
	base = strrchr(e->path, '/') + 1;
	len = strlen(base);
	if (e->deleted && len > sizeof(deleted) - 1)
		len -= sizeof(deleted) - 1;
	m->module = strndup(base, len);
	if (!m->path || !m->module) {
		mapping__clear(m);
		return -ENOMEM;
	}
	return 0;
}

static bool mapping__same(const struct mapping *a, const struct mapping *b)
{
	if (a->start != b->start || a->end != b->end || a->pgoff != b->pgoff ||
	    a->inode != b->inode || a->dev_major != b->dev_major || a->dev_minor != b->dev_minor ||
	    a->exec != b->exec || strcmp(a->module, b->module))
		return false;
	if (!a->path || !b->path)
		return a->path == b->path;
	return !strcmp(a->path, b->path);
}

/* Index of the first mapping with end > addr (a candidate to hold or follow addr). */
static size_t maps_lower(const struct mapping *maps, size_t n, uint64_t addr)
{
	return search__prefix(n, i, maps[i].end <= addr);
}

static struct mapping *syms__find_mapping(struct syms *s, uint64_t addr)
{
	size_t i = maps_lower(s->maps, s->nmaps, addr);

	if (i < s->nmaps && s->maps[i].start <= addr)
		return &s->maps[i];
	return NULL;
}

static int mapping_cmp(const void *a, const void *b)
{
	const struct mapping *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

static bool process_gone(pid_t pid)
{
	char state;

	return procstat__stat(pid, NULL, 0, &state, NULL) || state == 'Z' || state == 'X';
}

static int syms__read_maps(struct syms *s, struct mapping **out, size_t *nout)
{
	struct mapping *maps = NULL, *tmp;
	size_t n = 0, cap = 0;
	char path[64], *line = NULL;
	size_t linecap = 0;
	int err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", s->pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &linecap, f) > 0) {
		struct procmaps_entry e;

		if (procmaps__parse_line(line, &e))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(maps, cap * sizeof(*maps));
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			maps = tmp;
		}
		err = mapping__init(&maps[n], &e);
		if (err)
			goto out;
		n++;
	}
	if (ferror(f))
		err = errno == ESRCH ? -ESRCH : -EIO;
	else if (!n && process_gone(s->pid))
		err = -ESRCH;
out:
	free(line);
	fclose(f);
	if (err) {
		while (n)
			mapping__clear(&maps[--n]);
		free(maps);
		return err;
	}
	if (n) /* a process with no mappings left gives maps == NULL */
		qsort(maps, n, sizeof(*maps), mapping_cmp);
	*out = maps;
	*nout = n;
	return 0;
}

/* Attach the file of a newly seen mapping; reuse what an identical old mapping had. */
static void syms__attach_dso(struct syms *s, struct mapping *m)
{
	struct procmaps_entry e;
	size_t i;

	i = maps_lower(s->maps, s->nmaps, m->start);
	if (i < s->nmaps && mapping__same(&s->maps[i], m)) {
		m->dso = s->maps[i].dso;
		return;
	}
	if (!strcmp(m->module, "[vdso]")) {
		m->dso = syms__hold(s, dso_cache__vdso(s->dsos, m->end - m->start));
		return;
	}
	if (!m->path)
		return;
	e = (struct procmaps_entry){
		.start = m->start,
		.end = m->end,
		.pgoff = m->pgoff,
		.inode = m->inode,
		.path = m->path,
	};
	e.deleted = strlen(m->path) > 10 && !strcmp(m->path + strlen(m->path) - 10, " (deleted)");
	m->dso = syms__dso_for(s, &e);
}

int syms__refresh(struct syms *s)
{
	struct mapping *cur = NULL, *merged;
	size_t ncur = 0, i, n;
	int err;

	s->perf.checked = false;
	err = syms__read_maps(s, &cur, &ncur);
	if (err)
		return err;
	for (i = 0; i < ncur; i++)
		syms__attach_dso(s, &cur[i]);

	merged = realloc(cur, (ncur + s->nmaps) * sizeof(*merged) + 1);
	if (!merged) {
		for (i = 0; i < ncur; i++)
			mapping__clear(&cur[i]);
		free(cur);
		return -ENOMEM;
	}
	n = ncur;
	/* Old mappings live on where nothing new overlaps them; the newest view wins. */
	for (i = 0; i < s->nmaps; i++) {
		struct mapping *old = &s->maps[i];
		size_t j = maps_lower(merged, ncur, old->start);

		if (j < ncur && merged[j].start < old->end)
			mapping__clear(old);
		else
			merged[n++] = *old;
	}
	free(s->maps);
	qsort(merged, n, sizeof(*merged), mapping_cmp);
	s->maps = merged;
	s->nmaps = n;
	return 0;
}

struct syms *syms__get(struct syms *s)
{
	s->refs++;
	return s;
}

struct syms *syms__new(pid_t pid, const struct syms_opts *opts)
{
	char path[64];
	struct syms *s;
	struct stat st;
	int err;

	if (pid <= 0) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->refs = 1;
	htab__init_by(&s->strs, sizeof(char *), sizeof(char *), strset__hash, NULL);
	htab__init(&s->cache, sizeof(struct cache_ent), sizeof(uint64_t));
	s->pid = pid;
	s->root_fd = -1;
	s->gctx = opts ? opts->guard : NULL;
	s->no_demangle = opts && opts->no_demangle;
	s->dsos = opts && opts->dsos ? dso_cache__get(opts->dsos) : dso_cache__new(opts);
	if (!s->dsos) {
		err = -ENOMEM;
		goto err_free;
	}
	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	s->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d", pid);
	s->uid = stat(path, &st) ? 0 : st.st_uid;

	err = syms__refresh(s);
	if (err)
		goto err_free;
	return s;

err_free:
	syms__free(s);
	errno = -err;
	return NULL;
}

static const char *syms__sym_name(struct syms *s, struct elf_sym *sym)
{
	if (s->no_demangle)
		return sym->name;
	if (!sym->demangled && sym->name[0] == '_' && sym->name[1] == 'Z')
		sym->demangled = demangle__name(sym->name);
	return sym->demangled ? sym->demangled : sym->name;
}

static const char *syms__dwarf_name(struct syms *s, const char *name)
{
	char *dem;

	if (!name || s->no_demangle)
		return name;
	dem = demangle__name(name);
	if (!dem)
		return name;
	return strset__own(&s->strs, dem) ?: name;
}

static void addr_cache__free(struct htab *c)
{
	struct cache_ent *e;
	size_t pos;

	for (pos = 0; (e = htab__next(c, &pos));)
		free(e->frames);
	htab__clear(c);
}

/* Keep frames[0..n-1] for key; a failure only costs a later lookup. */
static void addr_cache__put(struct htab *c, uint64_t key, const struct mapping *m,
			    const struct sym_frame *frames, int n)
{
	struct sym_frame *copy;
	struct cache_ent *e;
	bool found;

	if (!key)
		return;
	if (htab__count(c) >= CACHE_MAX_ENTRIES)
		addr_cache__free(c);
	copy = malloc(n * sizeof(*copy));
	if (!copy)
		return;
	e = htab__insert(c, &key, &found);
	if (!e || found) {
		free(copy);
		return;
	}
	memcpy(copy, frames, n * sizeof(*copy));
	e->map_start = m->start;
	e->map_pgoff = m->pgoff;
	e->dso = m->dso;
	e->frames = copy;
	e->n = n;
}

static const struct perfmap *syms__perfmap(struct syms *s)
{
	struct perf_map *p = &s->perf;
	struct perfmap *pm;
	struct stat st;

	if (p->checked)
		return p->pm;
	p->checked = true;
	if (!p->path[0]) {
		snprintf(p->path, sizeof(p->path), "/tmp/perf-%d.map", s->pid);
		snprintf(p->module, sizeof(p->module), "perf-%d.map", s->pid);
	}
	/* /tmp is anyone's: a map another user planted there must not name our frames. */
	if (lstat(p->path, &st) || !S_ISREG(st.st_mode) || (st.st_uid && st.st_uid != s->uid))
		return p->pm;
	if (p->pm && st.st_ino == p->ino && st.st_size == p->size &&
	    st.st_mtim.tv_sec == p->mtime.tv_sec && st.st_mtim.tv_nsec == p->mtime.tv_nsec)
		return p->pm;
	pm = perfmap__load(p->path);
	if (!pm)
		return p->pm;
	perfmap__free(p->pm);
	p->pm = pm;
	p->ino = st.st_ino;
	p->size = st.st_size;
	p->mtime = st.st_mtim;
	return pm;
}

/* JIT code: anonymous executable memory (or memory unmapped since), named by the perf map. */
static bool syms__resolve_jit(struct syms *s, const struct mapping *m, uint64_t look,
			      struct sym_frame *f)
{
	const struct perfmap_sym *sym;
	const char *name;

	if (m && (m->path || !m->exec || strcmp(m->module, "[anon]")))
		return false;
	sym = perfmap__find(syms__perfmap(s), look);
	if (!sym)
		return false;
	/* The map may be re-read before this frame is printed: keep our own copy of the name. */
	name = strset__own(&s->strs, strdup(sym->name));
	if (!name)
		return false;
	f->name = name;
	f->offset = f->addr - sym->start;
	f->module = s->perf.module;
	return true;
}

/* DWARF lookups build their indexes as they go: each is charged to the file's time budget. */
static int syms__resolve_file(struct syms *s, struct mapping *m, uint64_t addr, uint64_t look,
			      struct sym_frame *out, int max)
{
	struct dwarf_frame df[MAX_INLINE_DEPTH];
	struct sym_frame base = {.addr = addr, .module = m->module, .path = m->path};
	struct elf_sym *sym;
	uint64_t vaddr;
	int n = 0, i, k = 0, skip;

	if (dso__load(m->dso, s->root_fd) || dso__vaddr(m->dso, look - m->start + m->pgoff, &vaddr))
		goto out_base;

	sym = dso__symbol(m->dso, vaddr);
	if (sym) {
		base.name = syms__sym_name(s, sym);
		base.offset = vaddr + (addr - look) - sym->addr;
	}
	n = dso__lines(m->dso, vaddr, df, MAX_INLINE_DEPTH);
	if (n <= 0)
		goto out_base;

	base.file = df[n - 1].file;
	base.line = df[n - 1].line;
	if (!base.name && df[n - 1].func) {
		base.name = syms__dwarf_name(s, df[n - 1].func);
		if (df[n - 1].entry && vaddr + (addr - look) >= df[n - 1].entry)
			base.offset = vaddr + (addr - look) - df[n - 1].entry;
	}
	/* Out of room: keep the outer frames, the function that really holds addr last. */
	skip = n > max ? n - max : 0;
	for (i = skip; i < n - 1; i++) {
		out[k] = (struct sym_frame){
			.addr = addr,
			.name = syms__dwarf_name(s, df[i].func),
			.module = base.module,
			.path = base.path,
			.file = df[i].file,
			.line = df[i].line,
			.inlined = true,
		};
		/* Inlined code may be split; an offset before the entry point means nothing. */
		if (df[i].entry && out[k].name && vaddr + (addr - look) >= df[i].entry)
			out[k].offset = vaddr + (addr - look) - df[i].entry;
		k++;
	}
out_base:
	out[k++] = base;
	return k;
}

int syms__resolve(struct syms *s, uint64_t addr, bool ret_addr, struct sym_frame *out, int max)
{
	struct sym_frame all[MAX_INLINE_DEPTH];
	uint64_t look = ret_addr && addr ? addr - 1 : addr, key = addr << 1 | ret_addr;
	struct cache_ent *e;
	struct mapping *m;
	int n, i, skip;

	if (max <= 0)
		return 0;
	guard_ctx__stopping(s->gctx); /* a stop seen first here did not interrupt a file read */
	m = syms__find_mapping(s, look);
	if (!m || !m->dso) {
		out[0] = (struct sym_frame){.addr = addr};
		if (m) {
			out[0].module = m->module;
			out[0].path = m->path;
		}
		syms__resolve_jit(s, m, look, &out[0]);
		return 1;
	}
	e = htab__find(&s->cache, &key);
	if (e && e->dso == m->dso && e->map_start == m->start && e->map_pgoff == m->pgoff) {
		n = e->n;
		memcpy(all, e->frames, n * sizeof(all[0]));
	} else {
		n = syms__resolve_file(s, m, addr, look, all, MAX_INLINE_DEPTH);
		if (!e)
			addr_cache__put(&s->cache, key, m, all, n);
		else if (n <= e->n) {
			/* The same address now in another file: the newest answer wins. */
			e->dso = m->dso;
			e->map_start = m->start;
			e->map_pgoff = m->pgoff;
			e->n = n;
			memcpy(e->frames, all, n * sizeof(all[0]));
		}
	}
	/* Out of room: keep the outer frames, the function that really holds addr last. */
	skip = n > max ? n - max : 0;
	for (i = skip; i < n; i++) {
		out[i - skip] = all[i];
		out[i - skip].module = m->module;
		out[i - skip].path = m->path;
	}
	return n - skip;
}

const char *syms__module_path(struct syms *s, uint64_t addr)
{
	struct mapping *m = syms__find_mapping(s, addr);

	return m ? m->path : NULL;
}

bool syms__is_exec(struct syms *s, uint64_t addr)
{
	struct mapping *m = syms__find_mapping(s, addr);

	return m && m->exec;
}

int syms__mapping(struct syms *s, uint64_t addr, struct sym_mapping *out)
{
	struct mapping *m = syms__find_mapping(s, addr);

	if (!m)
		return -ENOENT;
	*out = (struct sym_mapping){
		.start = m->start,
		.end = m->end,
		.pgoff = m->pgoff,
		.path = m->path,
		.module = m->module,
	};
	if (m->dso && !dso__load(m->dso, s->root_fd))
		out->build_id = dso__build_id(m->dso);
	return 0;
}

void syms__free(struct syms *s)
{
	size_t i;

	if (!s || --s->refs > 0)
		return;
	for (i = 0; i < s->nmaps; i++)
		mapping__clear(&s->maps[i]);
	free(s->maps);
	strset__free(&s->strs);
	addr_cache__free(&s->cache);
	htab__fini(&s->cache);
	for (i = 0; i < s->nheld; i++)
		dso__put(s->held[i]);
	free(s->held);
	dso_cache__put(s->dsos);
	perfmap__free(s->perf.pm);
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s);
}
