// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "leaktrace.h"
#include "escape.h"
#include "events.h"
#include "fds.h"
#include "follow.h"
#include "holds.h"
#include "threads.h"
#include "procstat.h"
#include "klabels.h"
#include "reach.h"
#include "python.h"
#include "stacks.h"
#include "syms.h"
#include "trace.h"
#include "tracker.h"
#include "target.h"
#include "unwind.h"

/*
 * A stack taken in a syscall starts at the syscall instruction inside a libc wrapper without
 * a frame pointer, so its caller's return address is not in the frame-pointer chain; BPF found
 * it on the stack (sp_word: see wrapper_return in bpf/ualloc.bpf.c). Put it back when it is
 * code and not already the next frame.
 */
static uint32_t fix_syscall_stack(struct proc *p, const struct lt_event *e, uint64_t *frames)
{
	uint32_t nr = e->nr_frames;

	memcpy(frames, e->frames, nr * sizeof(frames[0]));
	if (!nr || !e->sp_word || nr == LT_MAX_FRAMES)
		return nr;
	if (nr > 1 && frames[1] == e->sp_word)
		return nr;
	if (!p->syms || !syms__is_exec(p->syms, e->sp_word))
		return nr;
	memmove(frames + 2, frames + 1, (nr - 1) * sizeof(frames[0]));
	frames[1] = e->sp_word;
	return nr + 1;
}

/*
 * Code the maps snapshot does not cover (a library loaded since, a command that has just
 * exec'ed): re-read /proc/PID/maps now, while the process lives, so the report can name it.
 * At most every 10 ms, so code that is really unknown (JIT) costs little.
 */
static void refresh_if_unknown(struct proc *p, const uint64_t *frames, uint32_t nr)
{
	struct timespec ts;
	struct syms *own;
	uint64_t now;
	uint32_t i;

	if (!p->syms)
		return;
	for (i = 0; i < nr; i++)
		if (!syms__is_exec(p->syms, frames[i]))
			break;
	if (i == nr)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (now - p->syms_refresh_ns < 10000000ULL)
		return;
	p->syms_refresh_ns = now;
	if (p->syms_shared) {
		/* a child that maps what its parent does not: its own maps from now on */
		own = syms__new(p->pid, p->syms_opts);
		if (!own)
			return;
		syms__free(p->syms);
		p->syms = own;
		p->syms_shared = false;
		return;
	}
	syms__refresh(p->syms);
}

/*
 * The dynamic loader's own mappings (an object's .bss, its early allocator, TLS) are part of
 * the image, not heap: an mmap whose every known frame lies in ld.so is not tracked.
 */
static bool by_loader(struct proc *p, const uint64_t *frames, uint32_t nr)
{
	const char *path, *b;
	uint32_t i, in_ld = 0;

	if (!p->syms)
		return false;
	for (i = 0; i < nr; i++) {
		path = syms__module_path(p->syms, frames[i]);
		if (!path)
			continue;
		b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		if (strncmp(b, "ld-linux", 8))
			return false;
		in_ld++;
	}
	return in_ld > 0;
}

/*
 * A return address outside every executable mapping is not code: a frame walked with a rule
 * that did not hold (a frame pointer in code built without one) read a heap pointer, text or 0.
 * The stack ends before it, marked, so one call site never splits into junk stacks. Unknown
 * code was looked up again just before (refresh_if_unknown), within its rate limit.
 */
static uint32_t cut_at_non_code(struct proc *p, const uint64_t *frames, uint32_t nr,
				uint32_t *flags)
{
	uint32_t i;

	if (!p->syms)
		return nr;
	for (i = 0; i < nr; i++)
		if (!syms__is_exec(p->syms, frames[i]))
			break;
	if (i < nr) {
		*flags |= STACK_TRUNCATED;
		p->truncated_stacks++;
	}
	return i;
}

static int handle_alloc(struct proc *p, const struct lt_event *e)
{
	uint64_t native[LT_MAX_FRAMES + 1];
	uint64_t frames[2 * LT_MAX_FRAMES];
	uint32_t flags = 0;
	uint32_t nr = e->nr_frames;
	int64_t id;
	int err;

	refresh_if_unknown(p, (const uint64_t *)e->frames, e->nr_frames);
	if (e->kind == LT_K_MMAP && by_loader(p, (const uint64_t *)e->frames, e->nr_frames))
		return 0;
	if (e->kind == LT_K_MMAP) {
		nr = fix_syscall_stack(p, e, frames);
		nr = cut_at_non_code(p, frames, nr, &flags);
	} else {
		/* native frames are cut at the first non-code one before Python's join them */
		memcpy(native, e->frames, nr * sizeof(native[0]));
		nr = cut_at_non_code(p, native, nr, &flags);
		nr = python__join(p->py, e, native, nr, frames, sizeof(frames) / sizeof(frames[0]));
	}
	id = stacks__intern_flags(p->stacks, frames, nr, python__kind(p->py, e), flags);
	if (id < 0)
		return id;
	if (e->kind == LT_K_MMAP)
		return tracker__map(p->tracker, e->addr, e->size, e->ts_ns, id);
	/* realloc: the old block is released even when it moved nowhere */
	if (e->old_addr)
		tracker__free(p->tracker, e->old_addr);
	err = tracker__alloc(p->tracker, e->addr, e->size, e->ts_ns, id);
	return err;
}

static int handle_kalloc(struct proc *p, const struct lt_event *e)
{
	int64_t kind, id;

	kind = klabels__kind(p->klabels, e->kind, e->detail);
	if (kind < 0)
		return kind;
	id = stacks__intern(p->stacks, (const uint64_t *)e->frames, e->nr_frames, kind);
	if (id < 0)
		return id;
	return tracker__alloc(p->tracker, e->addr, e->size, e->ts_ns, id);
}

static int handle_kcache(struct proc *p, const struct lt_event *e, size_t size)
{
	char name[LT_KCACHE_NAME];

	if (size < LT_EVENT_HDR_SIZE + LT_KCACHE_NAME || !p->klabels)
		return 0;
	memcpy(name, e->frames, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	return klabels__name_cache(p->klabels, e->addr, name, e->old_addr);
}

/* -f: a traced process forked; the child starts with its parent's maps and no allocations. */
static void add_child(struct events *ev, struct proc *parent, const struct lt_event *e)
{
	pid_t cpid = e->addr;
	struct proc *c;

	if (!ev->follow)
		return;
	c = procs__find(ev->procs, cpid);
	if (c && !c->exited)
		return;
	if (c)
		procs__remove(ev->procs, c); /* its pid was reused before its final report */
	c = proc__new(cpid, e->ts_ns);
	if (!c || procs__add(ev->procs, c)) {
		proc__free(c);
		parent->oom++;
		return;
	}
	c->ppid = parent->pid;
	if (ev->threads && !(c->threads = threadtab__new(e->ts_ns)))
		parent->oom++;
	if (ev->fds && parent->fds) {
		c->fds = fdtab__new(e->ts_ns);
		if (!c->fds || fdtab__inherit(c->fds, parent->fds))
			parent->oom++;
	}
	c->uw_stale = true;
	memcpy(c->comm, parent->comm, sizeof(c->comm));
	c->syms_opts = parent->syms_opts;
	if (parent->syms) {
		c->syms = syms__get(parent->syms);
		c->syms_shared = true;
	}
}

static void on_exec(struct events *ev, struct proc *p, const struct lt_event *e)
{
	bool held = e->kind == LT_EXEC_HELD;
	char comm[ESCAPE_SIZE(sizeof(p->comm))];

	if (p->fds)
		fdtab__exec(p->fds);
	if (p->threads)
		threadtab__reset(p->threads);
	/* with -f a new image is traced on (the inherited probes stay); without, it ends */
	if (!ev->follow) {
		p->execed = true;
		return;
	}
	if (proc__exec(p))
		p->oom++;
	/* -p: nothing is held, and a child that lived less than leaktrace took to get here has
	 * no maps left to read (said once: a shell loop would say it per command) */
	if (p->syms_opts && !p->syms && !ev->said_maps_gone) {
		ev->said_maps_gone = true;
		fprintf(stderr,
			"leaktrace: pid %d (%s) exited before leaktrace read the maps of what it "
			"exec'ed (-p: not held): its frames, and those of any such child, are not "
			"named\n",
			p->pid, escape__str(p->comm, comm, sizeof(comm)));
	}
	/* probe an allocator the new image brings: before it runs when BPF held it (a launched
	 * command's children), else now, late (-p: nothing is ever stopped) */
	if (ev->follow_exec && !ev->ending)
		follow__exec(ev->follow_exec, p->pid, held);
	/* its tables are built after the drain (update_unwind); one held goes on after them */
	if (ev->unwind) {
		p->uw_stale = p->uw_exec = true;
		p->uw_hold = held;
	} else if (held) {
		holds__continue(ev->holds, p->pid);
	}
}

/*
 * The first allocation of an image: if it runs a supported CPython, BPF is told where its
 * frames are (from then on, its allocations carry them). An image replaced or gone is forgotten.
 */
static int python_attach(struct events *ev, struct proc *p)
{
	struct lt_py_proc cfg;
	__u32 pid = p->pid;
	int err;

	p->py_checked = true;
	if (ev->pyprocs_fd <= 0 || ev->any_pid)
		return 0;
	err = python__open(&p->py, p->pid, &cfg, false);
	if (!err && bpf_map_update_elem(ev->pyprocs_fd, &pid, &cfg, BPF_ANY)) {
		err = -errno;
		fprintf(stderr, "leaktrace: pid %d: cannot trace Python frames: %s\n", p->pid,
			strerror(-err));
	}
	return err;
}

void events__python(struct events *ev, struct proc *p)
{
	python_attach(ev, p);
}

static void python_forget(struct events *ev, struct proc *p)
{
	__u32 pid = p->pid;

	p->py_checked = false;
	if (ev->pyprocs_fd > 0 && p->py)
		bpf_map_delete_elem(ev->pyprocs_fd, &pid);
}

/* Events of the target before its exec (a launched command) are leaktrace's own. */
static bool before_exec(struct events *ev, struct proc *p, const struct lt_event *e)
{
	if (!ev->discard_until_exec || p != ev->target)
		return false;
	if (e->type == LT_EV_EXEC) {
		ev->discard_until_exec = false;
		tracker__reset(p->tracker);
		/* what the command inherited is open before its tracing began */
		if (p->fds && fdtab__scan(p->fds, p->pid))
			p->oom++;
		/* what was mapped before exec is not the command's */
		syms__free(p->syms);
		p->syms = p->syms_opts ? syms__new(p->pid, p->syms_opts) : NULL;
		/* its objects' tables were built before it ran (found by file); its list after
		 * the drain */
		p->uw_stale = true;
		/* a python executable is mapped already; a libpython is looked for again later */
		if (python_attach(ev, p) == -ENOENT)
			p->py_checked = false;
		return true;
	}
	return e->type != LT_EV_EXIT;
}

static int apply_event(struct events *ev, const void *data, size_t size)
{
	const struct lt_event *e = data;
	struct proc *p;
	int err = 0;

	if (size >= sizeof(struct lt_rec_hdr) && e->type >= LT_EV_FD_OPEN)
		return fds__apply(ev, data, size);
	if (size < LT_EVENT_HDR_SIZE || e->nr_frames > LT_MAX_FRAMES ||
	    size < LT_EVENT_HDR_SIZE + e->nr_frames * sizeof(e->frames[0]))
		return 0;
	p = ev->any_pid ? ev->target : procs__find(ev->procs, e->pid);
	if (!p) {
		/* held, though its fork was not seen (dropped, or the pid map was full) */
		if (e->type == LT_EV_EXITING ||
		    (e->type == LT_EV_EXEC && e->kind == LT_EXEC_HELD) ||
		    (e->type == LT_EV_NEW_OBJ && e->kind == LT_NEW_OBJ_BY_RECORD))
			holds__continue(ev->holds, e->pid);
		return 0;
	}
	/* held at its mapping: served by holds__serve_tables, or after the drain when BPF's map
	 * of those waiting was full */
	if (e->type == LT_EV_NEW_OBJ) {
		if (e->kind == LT_NEW_OBJ_BY_RECORD && ev->unwind && !ev->ending)
			p->uw_stale = p->uw_hold = true;
		else if (e->kind == LT_NEW_OBJ_BY_RECORD)
			holds__continue(ev->holds, e->pid);
		return 0;
	}
	if (e->type == LT_EV_EXITING) {
		/* stopped in exit() by BPF: its maps are whole until it goes on */
		if (p->syms && !p->syms_shared && !(ev->discard_until_exec && p == ev->target))
			syms__refresh(p->syms);
		/* what it still holds as it exits: the final report's split (--reachable) */
		if (ev->reach_at_exit && !p->exit_scan &&
		    !(ev->discard_until_exec && p == ev->target)) {
			p->exit_scan = calloc(1, sizeof(*p->exit_scan));
			if (p->exit_scan)
				reach__scan(p->exit_scan, e->pid, p->tracker, NULL, NULL);
		}
		procstat__vm_hwm(p->pid, &p->peak_rss); /* the summary's peak RSS, whole */
		holds__continue(ev->holds, e->pid);
		return 0;
	}
	if (before_exec(ev, p, e))
		return 0;
	p->nr_events++;
	if (e->type == LT_EV_ALLOC && !p->py_checked)
		python_attach(ev, p);
	if (ev->trace)
		trace__event(ev->trace, e);
	switch (e->type) {
	case LT_EV_PYFRAMES:
		python__pending(p->py, e);
		break;
	case LT_EV_ALLOC:
		if (e->kind >= LT_K_KMALLOC && p->klabels)
			err = handle_kalloc(p, e);
		else
			err = handle_alloc(p, e);
		break;
	case LT_EV_KCACHE:
		err = handle_kcache(p, e, size);
		break;
	case LT_EV_FREE:
		tracker__free_at(p->tracker, e->addr, e->ts_ns);
		break;
	case LT_EV_MUNMAP:
		if (e->kind == LT_K_MREMAP)
			tracker__remap(p->tracker, e->addr, e->size, e->old_addr, e->sp_word);
		else
			tracker__unmap(p->tracker, e->addr, e->size);
		break;
	case LT_EV_FORK:
		add_child(ev, p, e);
		break;
	case LT_EV_EXEC:
		python_forget(ev, p);
		on_exec(ev, p, e);
		break;
	case LT_EV_EXIT:
		python_forget(ev, p);
		p->exited = true;
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

/*
 * A signal ends the drain after the event in hand (applied: a record the callback refuses is
 * consumed and lost), so a producer that keeps the ring full cannot delay the end; the end then
 * stops BPF recording and drains what is left, a bounded amount (events.ending).
 */
static int handle_event(void *ctx, void *data, size_t size)
{
	struct events *ev = ctx;
	int err = apply_event(ev, data, size);

	if (!err && ev->stop && *ev->stop && !ev->ending)
		return -ECANCELED;
	if (!err && holds__waiting(ev->holds))
		return -EAGAIN; /* served before the rest is drained (drain) */
	return err;
}

int events__open(struct events *ev, int ringbuf_fd, struct procs *procs)
{
	memset(ev, 0, sizeof(*ev));
	ev->procs = procs;
	ev->target = procs->v[0];
	ev->pyprocs_fd = -1;
	ev->rb = ring_buffer__new(ringbuf_fd, handle_event, ev, NULL);
	if (!ev->rb)
		return -errno;
	return 0;
}
/*
 * A new image (-f): the tables of what it will load (its loader's list), unless its
 * executable was seen before. BPF finds them by file until its list is given.
 */
static void exec_tables(struct events *ev, struct proc *p)
{
	char exe[64];
	struct target t;
	int i;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", p->pid);
	if (unwind__known(ev->unwind, exe))
		return;
	if (!target__open_exec(&t, p->pid))
		for (i = 0; i < t.nr_objs; i++)
			unwind__add_file(ev->unwind, t.objs[i]);
	target__free(&t);
}

/*
 * Outside the ring-buffer callback (the actions the drain queued on each process): tables
 * for what traced processes mapped executable since the last look (dlopen), for children and
 * new images, then a process held at exec goes on; an exited process's list is taken back.
 */
static void update_unwind(struct events *ev)
{
	struct proc *p;
	unsigned int i;

	if (!ev->unwind)
		return;
	for (i = 0; i < ev->procs->n; i++) {
		p = ev->procs->v[i];
		if (p->exited || p->execed) {
			if (!p->uw_gone)
				unwind__forget(ev->unwind, p->pid);
			p->uw_gone = true;
		} else if (unwind__changed(ev->unwind, p->pid, &p->uw_gen) || p->uw_stale) {
			if (p->uw_exec && !ev->ending)
				exec_tables(ev, p);
			p->uw_stale = p->uw_exec = false;
			unwind__update(ev->unwind, p->pid);
		}
		if (p->uw_hold) {
			p->uw_hold = false;
			holds__continue(ev->holds, p->pid);
		}
	}
}

/* Poll (timeout_ms >= 0) or consume; a process held for a table stops it to be served. */
static int drain(struct events *ev, int timeout_ms)
{
	int err = timeout_ms >= 0 ? ring_buffer__poll(ev->rb, timeout_ms)
				  : ring_buffer__consume(ev->rb);

	while (err == -EAGAIN) {
		holds__serve_tables(ev->holds, ev->unwind);
		err = ring_buffer__consume(ev->rb);
	}
	return err;
}

int events__poll(struct events *ev, int timeout_ms)
{
	int err;

	err = drain(ev, timeout_ms);
	if (err == -EINTR || err == -ECANCELED)
		return 0;
	if (err < 0)
		return err;
	err = drain(ev, -1);
	update_unwind(ev);
	return err < 0 && err != -ECANCELED ? err : 0;
}

void events__close(struct events *ev)
{
	ring_buffer__free(ev->rb);
	ev->rb = NULL;
}
