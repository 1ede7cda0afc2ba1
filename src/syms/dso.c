/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gelf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>

#include "dso.h"
#include "debuginfo.h"
#include "debuginfod.h"
#include "dwarf_lines.h"
#include "elf_symtab.h"
#include "guard.h"
#include "htab.h"
#include "procmaps.h"
#include "syms.h"

/*
 * Files no process maps any more, kept for the next one: a shell loop runs the same binary
 * again after the report of the last one freed its maps. Fewer if the memory budget needs it.
 */
#define DSO_IDLE_MAX 32
#define BUILD_ID_MAX 64

/*
 * What makes two files the same file: the same inode as it was, with the same build ID (a file
 * rewritten in place, same inode and mtime within the clock's grain, has another). A build ID
 * alone is not enough: it is the file's own claim, which a copy truncated, corrupted or patched
 * after the build keeps (tests/integration/hostile.sh and untrusted.sh map such copies side by
 * side), and tables are read later than the lookup, from one of the copies. Zeroed before it is
 * filled: it is hashed and compared as bytes.
 */
struct dso_key {
	uint8_t id[BUILD_ID_MAX];
	size_t id_len; /* 0: none */
	off_t size;
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
};

/* One file, shared by every mapping of it in every process, read at most once. */
struct dso {
	struct dso *next;
	struct dso **pprev;
	struct dso_cache *cache;
	unsigned int refs; /* processes using it; 0: idle */
	unsigned int uses; /* processes that used it, over the run */
	uint64_t idle_seq; /* when it became idle: the oldest goes first */
	struct dso_key key;
	char *path; /* the first mapped path, for the debuglink search next to it */
	int fd;
	int dbg_fd;
	Elf *elf;
	Elf *dbg_elf;
	Dwarf *dw;
	int alt_fd; /* the dwz supplement of dw, opened by us so that libdw never opens one */
	Elf *alt_elf;
	Dwarf *alt_dw;
	struct dwarf_lines *lines;
	GElf_Phdr *loads;
	size_t nloads;
	struct elf_symtab *symtab;
	void *image;	   /* in-memory copy backing elf (vdso) */
	uint64_t spent_ns; /* reading this file, over the run: GUARD_FILE_NS at most */
	uint64_t mem;	   /* reserved from the run's memory budget */
	bool lines_off;	   /* DWARF given up (over a limit) */
	char *build_id;	   /* hex, made on first use */
	bool loaded;
	bool usable;
};

struct dso_cache {
	unsigned int refs;
	struct guard_ctx *gctx; /* the run's, or own_gctx */
	struct guard_ctx own_gctx;
	bool no_lines;
	char *debug_dir;
	unsigned int debuginfod_timeout_s;
	struct debuginfod *debuginfod; /* made on the first query */
	bool debuginfod_tried;
	struct dso *files;
	struct htab by_key; /* struct file_ent */
	struct dso *vdso;
	bool vdso_tried;
	unsigned int nidle;
	uint64_t idle_seq;
	/* for -v: what was read, and what was not read again */
	unsigned int users;   /* struct syms that used the cache */
	unsigned int loaded;  /* files read */
	uint64_t loaded_mem;  /* their tables */
	unsigned int reused;  /* a process given a file another one had */
	unsigned int revived; /* ... after the last process using it was gone */
	uint64_t saved_mem;   /* tables not built again */
	unsigned int dropped; /* idle files freed: over DSO_IDLE_MAX, or the memory budget */
};

struct file_ent {
	struct dso_key key;
	struct dso *d;
};

static void dso__free(struct dso *d)
{
	struct dso_cache *c = d->cache;

	c->gctx->mem_used -= d->mem;
	if (d->uses > 1)
		c->saved_mem += d->mem * (d->uses - 1);
	if (d->pprev) {
		htab__delete(&c->by_key, &d->key);
		*d->pprev = d->next;
		if (d->next)
			d->next->pprev = d->pprev;
	}
	dwarf_lines__free(d->lines);
	if (d->dw)
		dwarf_end(d->dw);
	if (d->alt_dw)
		dwarf_end(d->alt_dw);
	if (d->alt_elf)
		elf_end(d->alt_elf);
	if (d->alt_fd >= 0)
		close(d->alt_fd);
	elf_symtab__free(d->symtab);
	if (d->dbg_elf)
		elf_end(d->dbg_elf);
	if (d->dbg_fd >= 0)
		close(d->dbg_fd);
	if (d->elf)
		elf_end(d->elf);
	if (d->fd >= 0)
		close(d->fd);
	free(d->loads);
	free(d->image);
	free(d->build_id);
	free(d->path);
	free(d);
}

static struct dso *dso__new(struct dso_cache *c)
{
	struct dso *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cache = c;
	d->fd = -1;
	d->dbg_fd = -1;
	d->alt_fd = -1;
	return d;
}

static int cache__link(struct dso_cache *c, struct dso *d)
{
	struct file_ent *e;
	bool found;

	e = htab__insert(&c->by_key, &d->key, &found);
	if (!e)
		return -ENOMEM;
	e->d = d;
	d->next = c->files;
	if (d->next)
		d->next->pprev = &d->next;
	d->pprev = &c->files;
	c->files = d;
	return 0;
}

/* Free the idle file that has waited longest. false when none is idle. */
static bool cache__drop_oldest(struct dso_cache *c)
{
	struct dso *d, *oldest = NULL;

	for (d = c->files; d; d = d->next)
		if (!d->refs && (!oldest || d->idle_seq < oldest->idle_seq))
			oldest = d;
	if (!oldest)
		return false;
	c->nidle--;
	c->dropped++;
	dso__free(oldest);
	return true;
}

/* Memory from the run's budget; idle files give theirs back first when it is short. */
static int cache__reserve(struct dso_cache *c, uint64_t bytes)
{
	while (guard_ctx__reserve(c->gctx, bytes))
		if (!cache__drop_oldest(c))
			return -ENOMEM;
	return 0;
}

struct dso *dso__get(struct dso *d)
{
	struct dso_cache *c = d->cache;

	if (!d->refs && d->uses && d != c->vdso) {
		c->nidle--;
		c->revived++;
	}
	d->refs++;
	if (d->uses++)
		c->reused++;
	return d;
}

void dso__put(struct dso *d)
{
	struct dso_cache *c;

	if (!d || --d->refs)
		return;
	c = d->cache;
	if (d == c->vdso)
		return;
	d->idle_seq = ++c->idle_seq;
	if (++c->nidle > DSO_IDLE_MAX)
		cache__drop_oldest(c);
}

static void key_of(struct dso_key *k, Elf *elf, const struct stat *st)
{
	const uint8_t *id;
	size_t len;

	memset(k, 0, sizeof(*k));
	k->size = st->st_size;
	k->dev = st->st_dev;
	k->ino = st->st_ino;
	k->mtime = st->st_mtim;
	if (elf && elf_kind(elf) == ELF_K_ELF && !debuginfo__build_id(elf, &id, &len) &&
	    len <= BUILD_ID_MAX) {
		memcpy(k->id, id, len);
		k->id_len = len;
	}
}

struct dso *dso_cache__file(struct dso_cache *c, int fd, const char *path)
{
	struct file_ent *e;
	struct dso_key key;
	struct stat st;
	struct dso *d;
	Elf *elf;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	/* ELF_C_READ, not mmap: a file truncated under us must not raise SIGBUS. */
	elf = elf_begin(fd, ELF_C_READ, NULL);
	key_of(&key, elf, &st);
	e = htab__find(&c->by_key, &key);
	if (e) {
		if (elf)
			elf_end(elf);
		close(fd);
		return e->d;
	}
	d = dso__new(c);
	if (!d || !(d->path = strdup(path))) {
		free(d);
		if (elf)
			elf_end(elf);
		close(fd);
		return NULL;
	}
	d->key = key;
	d->fd = fd;
	d->elf = elf;
	if (cache__link(c, d)) {
		dso__free(d);
		return NULL;
	}
	return d;
}

/* The vdso image is the same in every process on this kernel: read our own copy. */
struct dso *dso_cache__vdso(struct dso_cache *c, uint64_t size)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR), start = 0, end = 0;
	struct dso *d;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (c->vdso_tried)
		return c->vdso && c->vdso->key.size == (off_t)size ? c->vdso : NULL;
	c->vdso_tried = true;
	if (!base)
		return NULL;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		struct procmaps_entry e;

		if (!procmaps__parse_line(line, &e) && e.path && !strcmp(e.path, "[vdso]")) {
			start = e.start;
			end = e.end;
			break;
		}
	}
	free(line);
	fclose(f);
	if (start != base || end <= start)
		return NULL;

	d = dso__new(c);
	if (!d)
		return NULL;
	d->key.size = end - start;
	d->image = malloc(d->key.size);
	if (!d->image) {
		free(d);
		return NULL;
	}
	memcpy(d->image, (void *)base, d->key.size);
	d->elf = elf_memory(d->image, d->key.size);
	d->refs = 1; /* the cache's own: never idle */
	c->vdso = d;
	return d->key.size == (off_t)size ? d : NULL;
}

static int dso__read_loads(struct dso *d)
{
	size_t i, n;

	if (elf_getphdrnum(d->elf, &n))
		return -EINVAL;
	d->loads = calloc(n ? n : 1, sizeof(*d->loads));
	if (!d->loads)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		GElf_Phdr phdr;

		if (gelf_getphdr(d->elf, i, &phdr) && phdr.p_type == PT_LOAD)
			d->loads[d->nloads++] = phdr;
	}
	return d->nloads ? 0 : -ENOENT;
}

/* Only when the user asked (--debuginfod): a query leaves the machine. */
static int cache__debuginfod(struct dso_cache *c, struct dso *d)
{
	if (!c->debuginfod_timeout_s || !d->key.id_len)
		return -ENOENT;
	if (!c->debuginfod_tried) {
		c->debuginfod_tried = true;
		c->debuginfod = debuginfod__new(c->debuginfod_timeout_s);
		if (!c->debuginfod)
			fprintf(stderr, "leaktrace: --debuginfod: %s\n",
				errno == ENOENT ? "libdebuginfod.so.1 is not installed"
						: "cannot start a debuginfod client");
	}
	return c->debuginfod ? debuginfod__find(c->debuginfod, d->key.id, d->key.id_len) : -ENOENT;
}

static bool same_build_id(const struct dso *d, Elf *b)
{
	const uint8_t *id;
	size_t len;

	return d->key.id_len && !debuginfo__build_id(b, &id, &len) && len == d->key.id_len &&
	       !memcmp(d->key.id, id, len);
}

/* Why a file gives less than it holds: said on -v, once for each file and limit. */
static void dso__note(const struct dso *d, const char *why, const char *what)
{
	if (d->cache->gctx->verbose)
		fprintf(stderr, "leaktrace: %s: %s; %s\n", d->path ? d->path : "[vdso]", why, what);
}

/* The rest of the file's time budget, and the run's stop request. */
static struct guard dso__guard(const struct dso *d)
{
	uint64_t left = d->spent_ns < GUARD_FILE_NS ? GUARD_FILE_NS - d->spent_ns : 1;

	return (struct guard){.ctx = d->cache->gctx, .deadline_ns = guard__now_ns() + left};
}

static void dso__open_debug(struct dso *d, int root_fd, struct guard *g)
{
	struct dso_cache *c = d->cache;
	bool fetched = false;
	int fd, err;

	fd = debuginfo__open(d->elf, root_fd, d->path, c->debug_dir, g);
	if (fd < 0 && !g->why) {
		fd = cache__debuginfod(c, d);
		fetched = fd >= 0;
		err = fd >= 0 ? guard__check_fd(fd, GUARD_ELF_MAX) : 0;
		if (err) {
			dso__note(d, guard__strerror(err), "debuginfod's file not read");
			close(fd);
			fd = err;
		}
	}
	if (fd < 0)
		return;
	d->dbg_elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!d->dbg_elf || elf_kind(d->dbg_elf) != ELF_K_ELF ||
	    (fetched && !same_build_id(d, d->dbg_elf))) {
		if (d->dbg_elf)
			elf_end(d->dbg_elf);
		d->dbg_elf = NULL;
		close(fd);
		return;
	}
	d->dbg_fd = fd;
}

/* Memory a symbol table costs: its data, its strings, and about 2.5x its data once indexed. */
static uint64_t symtab_cost(Elf *elf)
{
	Elf_Scn *scn = NULL;
	uint64_t cost = 0;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &shdr))
			continue;
		if (shdr.sh_type == SHT_SYMTAB || shdr.sh_type == SHT_DYNSYM)
			cost += shdr.sh_size * 7 / 2;
		else if (shdr.sh_type == SHT_STRTAB)
			cost += shdr.sh_size;
	}
	return cost;
}

static uint64_t fd_size(int fd, uint64_t fallback)
{
	struct stat st;

	return fd >= 0 && !fstat(fd, &st) ? (uint64_t)st.st_size : fallback;
}

/*
 * DWARF of elf within the limits: its expanded sections at most GUARD_DWARF_RATIO times the
 * file and GUARD_DWARF_MAX, checked before libdw expands anything (a 2 MB zlib bomb in
 * .debug_info is 2 GB); then twice that from the run's memory budget (libdw's own tables).
 */
static Dwarf *dso__dwarf(struct dso *d, Elf *elf, int fd)
{
	struct dso_cache *c = d->cache;
	uint64_t size, file = fd_size(fd, d->key.size), cap;
	Dwarf *dw;
	int err;

	err = debuginfo__dwarf_size(elf, &size);
	if (err) {
		dso__note(d, "unreadable debug section headers", "no source lines");
		return NULL;
	}
	if (!size)
		return NULL;
	cap = file * GUARD_DWARF_RATIO < GUARD_DWARF_MAX ? file * GUARD_DWARF_RATIO
							 : GUARD_DWARF_MAX;
	if (size > cap) {
		if (c->gctx->verbose)
			fprintf(stderr,
				"leaktrace: %s: debug sections expand to %" PRIu64
				" MiB, over the %" PRIu64 " MiB limit; no source lines\n",
				d->path ? d->path : "[vdso]", size >> 20, cap >> 20);
		return NULL;
	}
	if (cache__reserve(c, 2 * size)) {
		dso__note(d, guard__strerror(-ENOMEM), "no source lines");
		return NULL;
	}
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw) {
		c->gctx->mem_used -= 2 * size;
		return NULL;
	}
	d->mem += 2 * size;
	return dw;
}

/*
 * A .gnu_debugaltlink name is the file's to choose, and libdw would open() it itself, blocking
 * on a FIFO: the supplement is found here, under the same rules as debug files, and handed to
 * libdw. Without it, no DWARF. 0 or a negative errno.
 */
static int dso__dwarf_alt(struct dso *d, Dwarf *dw, int root_fd, struct guard *g)
{
	const void *id;
	const char *name;
	ssize_t len;
	int fd;

	len = dwelf_dwarf_gnu_debugaltlink(dw, &name, &id);
	if (!len)
		return 0;
	if (len < 0)
		return -EINVAL;
	fd = debuginfo__open_alt(root_fd, name, id, len, d->cache->debug_dir, g);
	if (fd < 0)
		return fd;
	d->alt_fd = fd;
	d->alt_elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!d->alt_elf || elf_kind(d->alt_elf) != ELF_K_ELF)
		return -EINVAL;
	d->alt_dw = dso__dwarf(d, d->alt_elf, fd);
	if (!d->alt_dw)
		return -EINVAL;
	dwarf_setalt(dw, d->alt_dw);
	return 0;
}

static void dso__load_lines(struct dso *d, int root_fd, struct guard *g)
{
	if (d->dbg_elf)
		d->dw = dso__dwarf(d, d->dbg_elf, d->dbg_fd);
	if (!d->dw)
		d->dw = dso__dwarf(d, d->elf, d->fd);
	if (!d->dw)
		return;
	if (dso__dwarf_alt(d, d->dw, root_fd, g)) {
		dso__note(d, "its .gnu_debugaltlink file is not found", "no source lines");
		dwarf_end(d->dw);
		d->dw = NULL;
		return;
	}
	d->lines = dwarf_lines__new(d->dw);
	if (!d->lines && errno == EINVAL)
		dso__note(d, "a string section without its final NUL", "no source lines");
}

int dso__load(struct dso *d, int root_fd)
{
	struct dso_cache *c = d->cache;
	struct guard g;
	uint64_t t0, cost;
	bool have_symtab;
	int err;

	if (d->loaded)
		return d->usable ? 0 : -ENOENT;
	/* Stopping: what is not read yet stays unread (and is tried again by a later report). */
	if (guard_ctx__stopping(c->gctx)) {
		if (!c->gctx->stop_said)
			fprintf(stderr,
				"leaktrace: stopping: files not read yet give addresses only\n");
		c->gctx->stop_said = true;
		return -ETIME;
	}
	d->loaded = true;
	g = dso__guard(d);
	t0 = guard__now_ns();
	err = -EINVAL;

	if (!d->elf || elf_kind(d->elf) != ELF_K_ELF)
		goto out;
	err = dso__read_loads(d);
	if (err)
		goto out;
	err = -ENOMEM;
	d->symtab = elf_symtab__new();
	if (!d->symtab)
		goto out;
	elf_symtab__set_guard(d->symtab, &g);

	if (d->fd >= 0)
		dso__open_debug(d, root_fd, &g);
	cost = symtab_cost(d->elf) + (d->dbg_elf ? symtab_cost(d->dbg_elf) : 0);
	err = cache__reserve(c, cost);
	if (err) {
		dso__note(d, guard__strerror(err), "addresses only");
		goto out;
	}
	d->mem += cost;
	err = elf_symtab__add(d->symtab, d->elf, SHT_SYMTAB);
	have_symtab = err > 0;
	if (!have_symtab && err != -ETIME && d->dbg_elf)
		err = elf_symtab__add(d->symtab, d->dbg_elf, SHT_SYMTAB);
	if (err != -ETIME)
		err = elf_symtab__add(d->symtab, d->elf, SHT_DYNSYM);
	elf_symtab__set_guard(d->symtab, NULL);
	if (err == -ETIME) {
		dso__note(d, g.why, "addresses only");
		goto out;
	}
	err = elf_symtab__finish(d->symtab);
	if (err)
		goto out;

	/* Out of time (or stopping) once the symbols are in: keep them, skip the lines. */
	if (g.why)
		dso__note(d, g.why, "no source lines");
	else if (!c->no_lines)
		dso__load_lines(d, root_fd, &g);
	d->usable = true;
	c->loaded++;
	c->loaded_mem += d->mem;
	if (c->gctx->verbose)
		fprintf(stderr, "leaktrace: symbols: %s: %zu symbols%s, %.1f MiB\n",
			d->path ? d->path : "[vdso]", elf_symtab__count(d->symtab),
			d->lines ? " and lines" : "", d->mem / 1048576.0);
	err = 0;
out:
	d->spent_ns += guard__now_ns() - t0;
	return err;
}

int dso__vaddr(const struct dso *d, uint64_t off, uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < d->nloads; i++) {
		const GElf_Phdr *ph = &d->loads[i];

		if (off >= ph->p_offset && off - ph->p_offset < ph->p_memsz) {
			*vaddr = off - ph->p_offset + ph->p_vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

struct elf_sym *dso__symbol(struct dso *d, uint64_t vaddr)
{
	return d->symtab ? elf_symtab__find(d->symtab, vaddr) : NULL;
}

/* DWARF lookups build their indexes as they go: each is charged to the file's time budget. */
int dso__lines(struct dso *d, uint64_t vaddr, struct dwarf_frame *out, int max)
{
	struct guard g;
	uint64_t t0;
	int n;

	if (!d->lines || d->lines_off)
		return 0;
	g = dso__guard(d);
	t0 = guard__now_ns();
	dwarf_lines__set_guard(d->lines, &g);
	n = dwarf_lines__lookup(d->lines, vaddr, out, max);
	dwarf_lines__set_guard(d->lines, NULL);
	d->spent_ns += guard__now_ns() - t0;
	if (g.why && g.deadline_ns && d->spent_ns >= GUARD_FILE_NS) {
		d->lines_off = true;
		dso__note(d, guard__strerror(-ETIME), "no more source lines");
	}
	return g.why ? 0 : n;
}

const char *dso__build_id(struct dso *d)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (d->build_id || !d->key.id_len)
		return d->build_id;
	d->build_id = malloc(d->key.id_len * 2 + 1);
	if (!d->build_id)
		return NULL;
	for (i = 0; i < d->key.id_len; i++) {
		d->build_id[2 * i] = hex[d->key.id[i] >> 4];
		d->build_id[2 * i + 1] = hex[d->key.id[i] & 15];
	}
	d->build_id[2 * d->key.id_len] = '\0';
	return d->build_id;
}

struct dso_cache *dso_cache__new(const struct syms_opts *opts)
{
	struct dso_cache *c = calloc(1, sizeof(*c));

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	elf_version(EV_CURRENT);
	c->refs = 1;
	htab__init(&c->by_key, sizeof(struct file_ent), sizeof(struct dso_key));
	c->gctx = opts && opts->guard ? opts->guard : &c->own_gctx;
	if (opts) {
		c->no_lines = opts->no_lines;
		c->debuginfod_timeout_s = opts->debuginfod_timeout_s;
		if (opts->debug_dir && !(c->debug_dir = strdup(opts->debug_dir))) {
			free(c);
			errno = ENOMEM;
			return NULL;
		}
	}
	return c;
}

struct dso_cache *dso_cache__get(struct dso_cache *c)
{
	c->refs++;
	c->users++;
	return c;
}

static void cache__say(const struct dso_cache *c)
{
	if (!c->gctx->verbose || !c->loaded)
		return;
	fprintf(stderr,
		"leaktrace: symbol tables: %u files read (%.1f MiB) for %u processes; reused %u "
		"times (%u after their last process ended), "
		"%.1f MiB not read again; %u unused files dropped\n",
		c->loaded, c->loaded_mem / 1048576.0, c->users, c->reused, c->revived,
		c->saved_mem / 1048576.0, c->dropped);
}

void dso_cache__put(struct dso_cache *c)
{
	if (!c || --c->refs)
		return;
	while (c->files)
		dso__free(c->files);
	if (c->vdso)
		dso__free(c->vdso);
	htab__fini(&c->by_key);
	cache__say(c);
	debuginfod__free(c->debuginfod);
	free(c->debug_dir);
	free(c);
}
