// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>
#include <gelf.h>

#include "cfi.h"
#include "guard.h"
#include "procmaps.h"
#include "unwind.h"

#define UW_MAX_LOADS 8
/* Building one object's table: a bound so that hostile CFI cannot stall the tracer. */
#define UW_BUILD_NS (2ULL * 1000000000)

struct uw_obj {
	dev_t dev;
	ino_t ino;
	uint32_t first, nrows; /* nrows 0: no table, frame pointer rule */
	struct {
		uint64_t off, vaddr, filesz;
	} loads[UW_MAX_LOADS];
	int nloads;
};

struct unwind {
	struct unwind_fds fds;
	bool verbose;
	struct uw_obj *objs;
	size_t nobjs, cap;
	uint32_t next_row;
	uint64_t build_ns;
	uint32_t nr_no_table;
	struct lt_uw_proc scratch;
	struct guard_ctx *guard; /* the run's stop and limits (a debug file's CRC), may be NULL */
};

struct unwind *unwind__new(const struct unwind_fds *fds, struct guard_ctx *guard, bool verbose)
{
	struct unwind *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->fds = *fds;
	u->guard = guard;
	u->verbose = verbose;
	elf_version(EV_CURRENT);
	return u;
}

static int push_rows(struct unwind *u, const struct cfi_table *t)
{
	uint32_t *keys, i, n = t->nr;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int err = 0;

	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		keys[i] = u->next_row + i;
	if (bpf_map_update_batch(u->fds.rows, keys, t->rows, &n, &opts)) {
		/* kernels without batch ops on arrays: one at a time */
		for (i = 0; i < t->nr && !err; i++)
			if (bpf_map_update_elem(u->fds.rows, &keys[i], &t->rows[i], BPF_ANY))
				err = -errno;
	}
	free(keys);
	return err;
}

static void read_loads(Elf *elf, struct uw_obj *o)
{
	GElf_Phdr ph;
	size_t n, i;

	if (elf_getphdrnum(elf, &n))
		return;
	for (i = 0; i < n && o->nloads < UW_MAX_LOADS; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		o->loads[o->nloads].off = ph.p_offset;
		o->loads[o->nloads].vaddr = ph.p_vaddr;
		o->loads[o->nloads++].filesz = ph.p_filesz;
	}
}

/* BPF finds the table by file for a PC the process's list does not hold yet. */
static int push_file(struct unwind *u, const struct uw_obj *o)
{
	struct lt_uw_file_key k = {.ino = o->ino, .dev = major(o->dev) << 20 | minor(o->dev)};
	struct lt_uw_file f = {.first = o->first, .nrows = o->nrows};
	int i;

	if (u->fds.files <= 0)
		return 0;
	for (i = 0; i < o->nloads && f.nloads < LT_UW_FILE_LOADS; i++, f.nloads++) {
		f.loads[f.nloads].off = o->loads[i].off;
		f.loads[f.nloads].end = o->loads[i].off + o->loads[i].filesz;
		f.loads[f.nloads].vaddr = o->loads[i].vaddr;
	}
	if (bpf_map_update_elem(u->fds.files, &k, &f, BPF_ANY))
		return -errno;
	return 0;
}

/* fd: the object's file, opened by the caller (closed here); name: for -v. */
static void build(struct unwind *u, struct uw_obj *o, int fd, const char *name)
{
	const char *why = NULL;
	struct cfi_table t = {};
	struct stat st;
	uint64_t t0 = guard__now_ns();
	struct guard g;
	Elf *elf = NULL;
	int err;

	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > GUARD_ELF_MAX) {
		why = "cannot open it as a regular file";
		goto out;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		why = "not ELF";
		goto out;
	}
	read_loads(elf, o);
	g = (struct guard){.ctx = u->guard, .deadline_ns = t0 + UW_BUILD_NS};
	err = cfi__build_file(elf, name, &t, &g, &why);
	if (err)
		goto out;
	if (t.nr > u->fds.max_rows - u->next_row) {
		why = "rows map full";
		goto out;
	}
	err = push_rows(u, &t);
	if (err) {
		why = "cannot fill the rows map";
		goto out;
	}
	o->first = u->next_row;
	o->nrows = t.nr;
	u->next_row += t.nr;
	if (push_file(u, o)) {
		why = "file tables map full"; /* its processes' lists still have it */
		goto out;
	}
out:
	u->build_ns += guard__now_ns() - t0;
	/* a file without a table is in uw_files too: mapping it again holds nobody */
	if (!o->nrows)
		push_file(u, o);
	if (why)
		u->nr_no_table++;
	if (u->verbose && why)
		fprintf(stderr, "leaktrace: unwind: %s: no CFI table (%s): frame pointers there\n",
			name, why);
	else if (u->verbose)
		fprintf(stderr,
			"leaktrace: unwind: %s: %u rows (%u by frame pointer, %u from .debug_frame), "
			"%.1f ms\n",
			name, t.nr, t.nr_expr, t.nr_debug, (guard__now_ns() - t0) / 1e6);
	cfi__free(&t);
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
}

static struct uw_obj *obj_find(struct unwind *u, dev_t dev, ino_t ino)
{
	size_t i;

	for (i = 0; i < u->nobjs; i++)
		if (u->objs[i].dev == dev && u->objs[i].ino == ino)
			return &u->objs[i];
	return NULL;
}

static struct uw_obj *obj_add(struct unwind *u, dev_t dev, ino_t ino)
{
	struct uw_obj *o;

	if (u->nobjs == u->cap) {
		o = realloc(u->objs, (u->cap ? u->cap * 2 : 32) * sizeof(*o));
		if (!o)
			return NULL;
		u->objs = o;
		u->cap = u->cap ? u->cap * 2 : 32;
	}
	o = &u->objs[u->nobjs++];
	memset(o, 0, sizeof(*o));
	o->dev = dev;
	o->ino = ino;
	return o;
}

static struct uw_obj *obj_for(struct unwind *u, pid_t pid, const struct procmaps_entry *e)
{
	dev_t dev = makedev(e->dev_major, e->dev_minor);
	struct uw_obj *o = obj_find(u, dev, e->inode);
	char path[96];

	if (o)
		return o;
	o = obj_add(u, dev, e->inode);
	if (!o)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, e->start,
		 e->end);
	build(u, o, open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), e->path);
	return o;
}

/*
 * The file's device and inode as /proc/PID/maps and BPF see them (the inode's i_sb->s_dev):
 * stat()'s st_dev differs on a btrfs subvolume (an anonymous device of its own), so the file
 * is mapped here and its line read back from /proc/self/maps. fstat()'s when it cannot be.
 */
static int file_key(int fd, dev_t *dev, ino_t *ino)
{
	struct procmaps_entry e;
	char line[4096 + 256];
	struct stat st;
	int err = -ENOENT;
	void *p;
	FILE *f;

	if (fstat(fd, &st))
		return -errno;
	*dev = st.st_dev;
	*ino = st.st_ino;
	if (!S_ISREG(st.st_mode))
		return 0; /* never mapped: a device's mmap may do anything */
	p = mmap(NULL, 1, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return 0;
	f = fopen("/proc/self/maps", "re");
	while (f && err && fgets(line, sizeof(line), f)) {
		if (procmaps__parse_line(line, &e) || e.start != (uintptr_t)p)
			continue;
		*dev = makedev(e.dev_major, e.dev_minor);
		*ino = e.inode;
		err = 0;
	}
	if (f)
		fclose(f);
	munmap(p, 1);
	return 0;
}

bool unwind__known(struct unwind *u, const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	dev_t dev;
	ino_t ino;
	bool known;

	if (fd < 0)
		return false;
	known = !file_key(fd, &dev, &ino) && obj_find(u, dev, ino);
	close(fd);
	return known;
}

int unwind__add_file(struct unwind *u, const char *path)
{
	struct uw_obj *o;
	dev_t dev;
	ino_t ino;
	int fd, err;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = file_key(fd, &dev, &ino);
	if (err || obj_find(u, dev, ino)) {
		close(fd);
		return err;
	}
	o = obj_add(u, dev, ino);
	if (!o) {
		close(fd);
		return -ENOMEM;
	}
	build(u, o, fd, path);
	return 0;
}

static void fill_map(const struct uw_obj *o, const struct procmaps_entry *e, struct lt_uw_map *m)
{
	int i;

	m->start = e->start;
	m->end = e->end;
	for (i = 0; o && i < o->nloads; i++) {
		uint64_t lo = o->loads[i].off & ~4095ULL;

		if (e->pgoff >= lo && e->pgoff < o->loads[i].off + o->loads[i].filesz) {
			m->bias = e->start - e->pgoff + o->loads[i].off - o->loads[i].vaddr;
			m->first = o->first;
			m->nrows = o->nrows;
			return;
		}
	}
}

static uint32_t execs(struct unwind *u, pid_t pid)
{
	__u32 key = pid;
	__u64 gen = 0;

	bpf_map_lookup_elem(u->fds.gen, &key, &gen);
	return gen >> 32;
}

int unwind__update(struct unwind *u, pid_t pid)
{
	struct lt_uw_proc *pr = &u->scratch;
	struct procmaps_entry e;
	char path[64], line[4096 + 256];
	__u32 key = pid, exec0 = execs(u, pid);
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	memset(pr, 0, sizeof(*pr));
	while (fgets(line, sizeof(line), f)) {
		struct uw_obj *o = NULL;

		if (procmaps__parse_line(line, &e) || e.perms[2] != 'x')
			continue;
		if (pr->n == LT_UW_MAPS)
			break; /* the rest: frame pointer rule, counted as unmapped */
		if (e.path && e.path[0] == '/' && e.inode)
			o = obj_for(u, pid, &e);
		memset(&pr->maps[pr->n], 0, sizeof(pr->maps[0]));
		fill_map(o, &e, &pr->maps[pr->n]);
		pr->n++;
	}
	fclose(f);
	if (bpf_map_update_elem(u->fds.procs, &key, pr, BPF_ANY))
		err = -errno;
	/* an exec since the maps were read: the list is the old image's, and BPF must not use
	 * it (frames are found by file until the next update, which the exec asked for) */
	if (!err && execs(u, pid) != exec0)
		bpf_map_delete_elem(u->fds.procs, &key);
	return err;
}

bool unwind__changed(struct unwind *u, pid_t pid, uint64_t *seen)
{
	__u32 key = pid;
	__u64 gen = 0;

	if (bpf_map_lookup_elem(u->fds.gen, &key, &gen) || gen == *seen)
		return false;
	*seen = gen;
	return true;
}

void unwind__forget(struct unwind *u, pid_t pid)
{
	__u32 key = pid;

	bpf_map_delete_elem(u->fds.procs, &key);
	bpf_map_delete_elem(u->fds.gen, &key);
}

void unwind__print(const struct unwind *u, const uint64_t st[LT_UW_ST_MAX], FILE *out)
{
	fprintf(out,
		"leaktrace: unwind: CFI tables for %zu objects (%u without), %u rows, %zu bytes "
		"(of %zu reserved), built in %.1f ms; %" PRIu64 " stacks walked: %" PRIu64
		" frames by CFI, %" PRIu64 " by frame pointer (no table), %" PRIu64
		" by frame pointer (CFI expression), %" PRIu64 " outside known mappings; "
		"mappings looked up by file (a PC not in the process's list yet): %" PRIu64
		" with a table, %" PRIu64 " without; %" PRIu64
		" walks cut to one frame (another walk used their CPU's scratch meanwhile)\n",
		u->nobjs, u->nr_no_table, u->next_row, u->next_row * sizeof(struct lt_uw_row),
		u->fds.max_rows * sizeof(struct lt_uw_row), u->build_ns / 1e6, st[LT_UW_ST_STACKS],
		st[LT_UW_ST_FRAMES], st[LT_UW_ST_FP], st[LT_UW_ST_EXPR], st[LT_UW_ST_UNMAPPED],
		st[LT_UW_ST_FILE], st[LT_UW_ST_NO_FILE], st[LT_UW_ST_RACED]);
}

void unwind__free(struct unwind *u)
{
	if (!u)
		return;
	free(u->objs);
	free(u);
}
