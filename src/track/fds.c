// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "leaktrace.h"
#include "events.h"
#include "fds.h"
#include "htab.h"
#include "restab.h"
#include "stacks.h"
#include "syms.h"
#include "threads.h"
#include "vec.h"

enum slot_state { SLOT_FREE, SLOT_TRACED, SLOT_BEFORE };

struct fd_slot {
	uint32_t stack_id;
	uint32_t kind; /* label id, LT_K_MAX + index */
	uint8_t state;
	uint8_t cloexec;
};

/* A file's label, by inode: its path is read from /proc while some descriptor of it is open,
 * which a descriptor closed at once never is; one read names them all. */
struct file_kind {
	uint64_t dev, ino; /* the key; ino is never 0 */
	uint32_t kind;
	bool resolved;
};

struct fdtab {
	struct restab items;   /* key fd + 1 */
	struct htab files;     /* struct file_kind */
	struct fd_slot *slots; /* by descriptor */
	uint32_t nr_slots;
	char **labels;
	uint32_t nr_labels, cap_labels;
	uint64_t unknown_closes; /* of descriptors neither traced nor seen at start */
};

struct fdtab *fdtab__new(uint64_t start_ns)
{
	struct fdtab *t = calloc(1, sizeof(*t));

	if (t && restab__init(&t->items, start_ns)) {
		free(t);
		return NULL;
	}
	if (t)
		htab__init(&t->files, sizeof(struct file_kind), offsetof(struct file_kind, kind));
	return t;
}

void fdtab__free(struct fdtab *t)
{
	uint32_t i;

	if (!t)
		return;
	restab__fini(&t->items);
	for (i = 0; i < t->nr_labels; i++)
		free(t->labels[i]);
	free(t->labels);
	htab__fini(&t->files);
	free(t->slots);
	free(t);
}

int64_t fdtab__label(struct fdtab *t, const char *label)
{
	uint32_t i;

	for (i = 0; i < t->nr_labels; i++)
		if (!strcmp(t->labels[i], label))
			return LT_K_MAX + i;
	if (vec__reserve(&t->labels, &t->cap_labels, t->nr_labels + 1, sizeof(*t->labels)))
		return -ENOMEM;
	t->labels[t->nr_labels] = strdup(label);
	if (!t->labels[t->nr_labels])
		return -ENOMEM;
	return LT_K_MAX + t->nr_labels++;
}

static struct fd_slot *slot(struct fdtab *t, uint32_t fd, bool grow)
{
	if (fd < t->nr_slots)
		return &t->slots[fd];
	if (!grow || fd > INT_MAX ||
	    vec__reserve(&t->slots, &t->nr_slots, fd + 1, sizeof(*t->slots)))
		return NULL;
	return &t->slots[fd];
}

static void release(struct fdtab *t, uint32_t fd, struct fd_slot *s)
{
	if (s->state == SLOT_TRACED)
		restab__end(&t->items, fd + 1ULL);
	s->state = SLOT_FREE;
	s->cloexec = 0;
}

int fdtab__open(struct fdtab *t, int fd, uint32_t stack_id, uint32_t kind, uint64_t ts_ns,
		bool cloexec)
{
	struct fd_slot *s = fd < 0 ? NULL : slot(t, fd, true);

	if (!s)
		return fd < 0 ? -EINVAL : -ENOMEM;
	release(t, fd, s);
	*s = (struct fd_slot){stack_id, kind, SLOT_TRACED, cloexec};
	return restab__add(&t->items, fd + 1ULL, stack_id, ts_ns);
}

void fdtab__close(struct fdtab *t, uint32_t lo, uint32_t hi)
{
	struct fd_slot *s;
	uint32_t fd;

	if (lo == hi && (!(s = slot(t, lo, false)) || s->state == SLOT_FREE)) {
		t->unknown_closes++;
		return;
	}
	for (fd = lo; fd <= hi && fd < t->nr_slots; fd++)
		release(t, fd, &t->slots[fd]);
}

void fdtab__set_cloexec(struct fdtab *t, uint32_t lo, uint32_t hi, bool on)
{
	uint32_t fd;

	for (fd = lo; fd <= hi && fd < t->nr_slots; fd++)
		t->slots[fd].cloexec = on;
}

void fdtab__exec(struct fdtab *t)
{
	uint32_t fd;

	for (fd = 0; fd < t->nr_slots; fd++) {
		struct fd_slot *s = &t->slots[fd];

		if (s->state == SLOT_FREE)
			continue;
		if (s->cloexec) {
			release(t, fd, s);
			continue;
		}
		s->state = SLOT_BEFORE;
	}
	restab__reset(&t->items);
}

int fdtab__inherit(struct fdtab *child, const struct fdtab *parent)
{
	const struct fd_slot *ps;
	struct fd_slot *s;
	int64_t kind;
	uint32_t fd;

	for (fd = 0; fd < parent->nr_slots; fd++) {
		ps = &parent->slots[fd];
		if (ps->state == SLOT_FREE)
			continue;
		kind = fdtab__label(child, parent->labels[ps->kind - LT_K_MAX]);
		s = slot(child, fd, true);
		if (kind < 0 || !s)
			return -ENOMEM;
		*s = (struct fd_slot){0, kind, SLOT_BEFORE, ps->cloexec};
	}
	return 0;
}

struct restab *fdtab__items(struct fdtab *t)
{
	return &t->items;
}

uint64_t fdtab__unknown_closes(const struct fdtab *t)
{
	return t->unknown_closes;
}

const char *const *fdtab__labels(const struct fdtab *t, uint32_t *nr)
{
	*nr = t->nr_labels;
	return (const char *const *)t->labels;
}

uint32_t fdtab__preexisting(const struct fdtab *t, uint32_t *by_label, uint32_t nr)
{
	uint32_t fd, k, total = 0;

	memset(by_label, 0, nr * sizeof(*by_label));
	for (fd = 0; fd < t->nr_slots; fd++) {
		if (t->slots[fd].state != SLOT_BEFORE)
			continue;
		k = t->slots[fd].kind - LT_K_MAX;
		if (k < nr)
			by_label[k]++;
		total++;
	}
	return total;
}

static const char *family_name(unsigned int f, char *buf, size_t size)
{
	static const char *const names[] = {
		[1] = "AF_UNIX",     [2] = "AF_INET",	 [10] = "AF_INET6",
		[16] = "AF_NETLINK", [17] = "AF_PACKET", [40] = "AF_VSOCK",
	};

	if (f < sizeof(names) / sizeof(names[0]) && names[f])
		return names[f];
	snprintf(buf, size, "AF_%u", f);
	return buf;
}

static const char *socktype_name(unsigned int type, char *buf, size_t size)
{
	static const char *const names[] = {
		[1] = "STREAM", [2] = "DGRAM", [3] = "RAW", [4] = "RDM", [5] = "SEQPACKET",
	};

	type &= 0xf;
	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	snprintf(buf, size, "TYPE_%u", type);
	return buf;
}

/* What syscalls that make one kind of descriptor make, whatever the inode says. */
static const char *kind_of_syscall(uint64_t nr)
{
	switch (nr) {
	case 22: /* pipe */
	case 293:
		return "pipe";
	case 284: /* eventfd */
	case 290:
		return "eventfd";
	case 213: /* epoll_create */
	case 291:
		return "epoll";
	case 283:
		return "timerfd";
	case 282: /* signalfd */
	case 289:
		return "signalfd";
	case 253: /* inotify_init */
	case 294:
		return "inotify";
	case 319:
		return "memfd";
	case 434:
		return "pidfd";
	case 300:
		return "fanotify";
	case 323:
		return "userfaultfd";
	case 298:
		return "perf_event";
	case 321:
		return "bpf";
	case 425:
		return "io_uring";
	default:
		return NULL;
	}
}

/* An anonymous inode's name, "[eventfd]" or "anon_inode:[eventpoll]", as a kind. */
static const char *kind_of_anon(const char *name)
{
	static const struct {
		const char *in, *kind;
	} anon[] = {
		{"eventfd", "eventfd"},	      {"eventpoll", "epoll"},
		{"timerfd", "timerfd"},	      {"signalfd", "signalfd"},
		{"inotify", "inotify"},	      {"pidfd", "pidfd"},
		{"fanotify", "fanotify"},     {"userfault", "userfaultfd"},
		{"perf_event", "perf_event"}, {"bpf", "bpf"},
		{"io_uring", "io_uring"},     {"memfd:", "memfd"},
	};
	size_t i;

	for (i = 0; i < sizeof(anon) / sizeof(anon[0]); i++)
		if (strstr(name, anon[i].in))
			return anon[i].kind;
	return NULL;
}

/*
 * A path named by the descriptor now: its /proc link, when that still ends in the name BPF
 * read at creation (the descriptor may have been closed and its number reused since), else
 * the name alone.
 */
static bool fd_path(pid_t pid, int fd, const char *name, char *out, size_t size)
{
	char link[64], path[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/fd/%d", pid, fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n > 0) {
		path[n] = '\0';
		/* unlinked since it was opened: the name it was opened by */
		if (n > 10 && !strcmp(path + n - 10, " (deleted)"))
			path[n - 10] = '\0';
		base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		if (!name[0] || !strcmp(base, name) || !strcmp(path, name)) {
			snprintf(out, size, "%s", path);
			return true;
		}
	}
	snprintf(out, size, "%s", name[0] ? name : "?");
	return false;
}

/* The kind of a descriptor; *by_path: it names a file by its path (resolved or not). */
static bool label_of(pid_t pid, int fd, uint64_t nr, uint32_t mode, uint32_t family,
		     uint32_t socktype, const char *name, char *out, size_t size, bool *by_path)
{
	char a[16], b[16], path[PATH_MAX];
	const char *k = kind_of_syscall(nr);
	bool ok;

	*by_path = false;
	if (k) {
		snprintf(out, size, "%s", k);
		return true;
	}
	switch (mode & S_IFMT) {
	case S_IFSOCK:
		snprintf(out, size, "socket %s %s", family_name(family, a, sizeof(a)),
			 socktype_name(socktype, b, sizeof(b)));
		return true;
	case S_IFIFO:
		if (!name[0] || !strncmp(name, "pipe:", 5)) {
			snprintf(out, size, "pipe");
			return true;
		}
		k = "fifo";
		break;
	case S_IFDIR:
		k = "directory";
		break;
	case S_IFCHR:
	case S_IFBLK:
		k = "device";
		break;
	default:
		k = kind_of_anon(name);
		if (k && (!(mode & S_IFMT) || !strncmp(name, "memfd:", 6) || name[0] == '[')) {
			snprintf(out, size, "%s", k);
			return true;
		}
		if (!(mode & S_IFMT) && !name[0]) {
			snprintf(out, size, "unknown (closed before it was seen)");
			return true;
		}
		k = (mode & S_IFMT) == S_IFREG ? "file" : "other";
		break;
	}
	*by_path = true;
	ok = fd_path(pid, fd, name, path, sizeof(path));
	snprintf(out, size, "%s %s", k, path);
	return ok;
}

int fdtab__scan(struct fdtab *t, pid_t pid)
{
	char dir[32], link[64], path[PATH_MAX], label[PATH_MAX + 32];
	struct fd_slot *s;
	struct dirent *de;
	struct stat st;
	int64_t kind;
	ssize_t n;
	DIR *d;
	int fd;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = atoi(de->d_name);
		snprintf(link, sizeof(link), "%s/%d", dir, fd);
		n = readlink(link, path, sizeof(path) - 1);
		if (n <= 0 || stat(link, &st))
			continue;
		path[n] = '\0';
		if (S_ISSOCK(st.st_mode))
			snprintf(label, sizeof(label), "socket");
		else if (S_ISFIFO(st.st_mode) && !strncmp(path, "pipe:", 5))
			snprintf(label, sizeof(label), "pipe");
		else if (!strncmp(path, "anon_inode:", 11) && kind_of_anon(path))
			snprintf(label, sizeof(label), "%s", kind_of_anon(path));
		else if (S_ISREG(st.st_mode))
			snprintf(label, sizeof(label), "file");
		else if (S_ISCHR(st.st_mode))
			snprintf(label, sizeof(label), "device");
		else
			snprintf(label, sizeof(label), "other");
		kind = fdtab__label(t, label);
		s = slot(t, fd, true);
		if (kind < 0 || !s) {
			closedir(d);
			return -ENOMEM;
		}
		*s = (struct fd_slot){0, kind, SLOT_BEFORE, 0};
	}
	closedir(d);
	return 0;
}

static int64_t file_label(struct fdtab *t, uint64_t dev, uint64_t ino, const char *label,
			  bool resolved)
{
	struct file_kind key = {.dev = dev, .ino = ino}, *f;
	char *s, **l;
	int64_t kind;
	bool found;

	f = htab__find(&t->files, &key);
	if (f) {
		l = &t->labels[f->kind - LT_K_MAX];
		if (resolved && !f->resolved && strcmp(*l, label) && (s = strdup(label))) {
			free(*l);
			*l = s;
			f->resolved = true;
		}
		return f->kind;
	}
	/* a label of its own, even when another file's path reads the same */
	kind = fdtab__label(t, "");
	if (kind < 0)
		return kind;
	s = strdup(label);
	f = s ? htab__insert(&t->files, &key, &found) : NULL;
	if (!f) {
		free(s);
		return -ENOMEM;
	}
	free(t->labels[kind - LT_K_MAX]);
	t->labels[kind - LT_K_MAX] = s;
	f->kind = kind;
	f->resolved = resolved;
	return kind;
}

static int apply_open(struct proc *p, const struct lt_fd_open *e, size_t size)
{
	char name[LT_FD_NAME + 1], label[PATH_MAX + 64];
	bool resolved, by_path;
	int64_t kind, id;

	if (e->nr_frames > LT_MAX_FRAMES ||
	    size < LT_FD_OPEN_HDR_SIZE + e->nr_frames * sizeof(e->frames[0]))
		return 0;
	memcpy(name, e->name, LT_FD_NAME);
	name[LT_FD_NAME] = '\0';
	resolved = label_of(p->pid, e->fd, e->nr, e->mode, e->family, e->socktype, name, label,
			    sizeof(label), &by_path);
	if (by_path && e->ino)
		kind = file_label(p->fds, e->dev, e->ino, label, resolved);
	else
		kind = fdtab__label(p->fds, label);
	if (kind < 0)
		return kind;
	if (p->syms && e->nr_frames && !syms__is_exec(p->syms, e->frames[0]))
		syms__refresh(p->syms);
	id = stacks__intern(p->stacks, (const uint64_t *)e->frames, e->nr_frames, kind);
	if (id < 0)
		return id;
	return fdtab__open(p->fds, e->fd, id, kind, e->h.ts_ns, e->flags & LT_FD_CLOEXEC);
}

int fds__apply(struct events *ev, const void *data, size_t size)
{
	const struct lt_rec_hdr *h = data;
	const struct lt_fd_close *c = data;
	struct proc *p;
	int err = 0;

	p = procs__find(ev->procs, h->pid);
	if (!p || !(h->type == LT_EV_THREAD ? (void *)p->threads : (void *)p->fds))
		return 0;
	/* a launched command's records before its exec are leaktrace's own */
	if (ev->discard_until_exec && p == ev->target)
		return 0;
	p->nr_events++;
	switch (h->type) {
	case LT_EV_FD_OPEN:
		if (size >= LT_FD_OPEN_HDR_SIZE)
			err = apply_open(p, data, size);
		break;
	case LT_EV_THREAD:
		err = threads__apply(p, data, size);
		break;
	case LT_EV_FD_CLOSE:
		if (size < sizeof(*c))
			break;
		if (h->kind == LT_FDC_CLOSE)
			fdtab__close(p->fds, c->lo, c->hi);
		else
			fdtab__set_cloexec(p->fds, c->lo, c->hi, h->kind == LT_FDC_CLOEXEC_ON);
		break;
	default:
		break;
	}
	if (err == -ENOMEM) {
		p->oom++;
		err = 0;
	}
	return err;
}
