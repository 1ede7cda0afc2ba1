// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
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
#include "vec.h"

/*
 * What a record asks of the world outside the tracker (continue a held process, probe a new
 * image, read a process stopped in exit(), tell BPF where CPython's frames are) is queued by
 * the ring-buffer callback and run by run_actions once the drain ends, in the order asked: the
 * callback only decodes records and updates state. What follows in the same drain does not
 * need them done: a held process sends nothing until continued, and BPF sends Python frames
 * only once told. Reading maps stays in the decoding: the frames of the records that follow
 * are cut and named with them.
 */
enum ev_action_kind {
	ACT_CONTINUE,	 /* SIGCONT a held process whose records were not seen */
	ACT_EXITING,	 /* held in exit(): read its maps, scan it (--reachable), continue it */
	ACT_FOLLOW_EXEC, /* -f: probe a new image's allocator; continue it if held */
	ACT_PYTHON,	 /* look for CPython in it; tell BPF where its frames are */
	ACT_PY_FORGET,	 /* its image that ran CPython is gone: BPF forgets it */
	ACT_NONE,	 /* cancelled */
};

struct ev_action {
	uint8_t kind;
	bool held;    /* FOLLOW_EXEC: stopped at exec by BPF */
	bool refresh; /* EXITING: re-read its maps */
	bool scan;    /* EXITING: scan what it still points at */
	bool at_exec; /* PYTHON: at exec; a libpython is looked for again at the next ALLOC */
	pid_t pid;
};

static void run_action(struct events *ev, const struct ev_action *a);

/* A record in hand: the process it belongs to, its bytes. */
struct rec_in {
	struct events *ev;
	struct proc *p;
	const void *data;
	size_t size;
};

static void queue(struct events *ev, struct ev_action a)
{
	if (vec__reserve(&ev->acts, &ev->cap_acts, ev->nr_acts + 1, sizeof(*ev->acts))) {
		run_action(ev, &a); /* out of memory: now, rather than never */
		return;
	}
	ev->acts[ev->nr_acts++] = a;
}

static void queue_python(struct events *ev, struct proc *p, bool at_exec)
{
	p->py_checked = true;
	queue(ev, (struct ev_action){.kind = ACT_PYTHON, .pid = p->pid, .at_exec = at_exec});
}

/*
 * A stack taken in a syscall starts at the syscall instruction inside a libc wrapper without
 * a frame pointer, so its caller's return address is not in the frame-pointer chain; BPF found
 * it on the stack (wrapper_ret: see wrapper_return in bpf/mmap.bpf.c). Put it back when it is
 * code and not already the next frame.
 */
static uint32_t fix_syscall_stack(struct proc *p, const struct lt_mmap *e, uint64_t *frames)
{
	uint32_t nr = e->nr_frames;

	memcpy(frames, e->frames, nr * sizeof(frames[0]));
	if (!nr || !e->wrapper_ret || nr == LT_MAX_FRAMES)
		return nr;
	if (nr > 1 && frames[1] == e->wrapper_ret)
		return nr;
	if (!p->syms || !syms__is_exec(p->syms, e->wrapper_ret))
		return nr;
	memmove(frames + 2, frames + 1, (nr - 1) * sizeof(frames[0]));
	frames[1] = e->wrapper_ret;
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

/* An allocation's record: its stack is cut at the first non-code frame, then Python's joined. */
static int decode_alloc(const struct rec_in *r)
{
	struct events *ev = r->ev;
	struct proc *p = r->p;
	const struct lt_alloc *e = r->data;
	uint64_t native[LT_MAX_FRAMES];
	uint64_t frames[2 * LT_MAX_FRAMES];
	uint32_t flags = 0, nr = e->nr_frames;
	int64_t id;

	if (nr > LT_MAX_FRAMES || r->size < offsetof(struct lt_alloc, frames[nr]))
		return 0;
	if (!p->py_checked)
		queue_python(ev, p, false);
	refresh_if_unknown(p, (const uint64_t *)e->frames, nr);
	memcpy(native, e->frames, nr * sizeof(native[0]));
	nr = cut_at_non_code(p, native, nr, &flags);
	nr = python__join(p->py, e, native, nr, frames, sizeof(frames) / sizeof(frames[0]));
	id = stacks__intern_flags(p->stacks, frames, nr, python__kind(p->py, e), flags);
	if (id < 0)
		return id;
	return tracker__alloc(p->tracker, e->addr, e->size, e->h.ts_ns, id);
}

static int decode_mmap(const struct rec_in *r)
{
	struct proc *p = r->p;
	const struct lt_mmap *e = r->data;
	uint64_t frames[LT_MAX_FRAMES + 1];
	uint32_t flags = 0, nr = e->nr_frames;
	int64_t id;

	if (nr > LT_MAX_FRAMES || r->size < offsetof(struct lt_mmap, frames[nr]))
		return 0;
	refresh_if_unknown(p, (const uint64_t *)e->frames, nr);
	if (by_loader(p, (const uint64_t *)e->frames, nr))
		return 0;
	nr = fix_syscall_stack(p, e, frames);
	nr = cut_at_non_code(p, frames, nr, &flags);
	id = stacks__intern_flags(p->stacks, frames, nr, e->h.kind, flags);
	if (id < 0)
		return id;
	return tracker__map(p->tracker, e->addr, e->size, e->h.ts_ns, id);
}

static int decode_free(const struct rec_in *r)
{
	struct proc *p = r->p;
	const struct lt_free *e = r->data;

	tracker__free_at(p->tracker, e->addr, e->h.ts_ns);
	return 0;
}

static int decode_munmap(const struct rec_in *r)
{
	struct proc *p = r->p;
	const struct lt_munmap *e = r->data;

	tracker__unmap(p->tracker, e->addr, e->size);
	return 0;
}

static int decode_mremap(const struct rec_in *r)
{
	struct proc *p = r->p;
	const struct lt_mremap *e = r->data;

	tracker__remap(p->tracker, e->old_addr, e->old_size, e->new_addr, e->new_size);
	return 0;
}

static int decode_pyframes(const struct rec_in *r)
{
	struct proc *p = r->p;
	const struct lt_pyframes *e = r->data;

	if (e->nr_frames > LT_PY_MAX_FRAMES ||
	    r->size < offsetof(struct lt_pyframes, frames[e->nr_frames]))
		return 0;
	python__pending(p->py, e);
	return 0;
}

static int decode_kcache(const struct rec_in *r)
{
	struct proc *p = r->p;
	const struct lt_kcache *e = r->data;
	char name[LT_KCACHE_NAME];

	if (!p->klabels)
		return 0;
	memcpy(name, e->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	return klabels__name_cache(p->klabels, e->cache, name, e->sheaf_capacity);
}

/* -f: a traced process forked; the child starts with its parent's maps and no allocations. */
static int decode_fork(const struct rec_in *r)
{
	struct events *ev = r->ev;
	struct proc *parent = r->p;
	const struct lt_fork *e = r->data;
	pid_t cpid = e->child;
	struct proc *c;

	if (!ev->follow)
		return 0;
	c = procs__find(ev->procs, cpid);
	if (c && !c->exited)
		return 0;
	if (c)
		procs__remove(ev->procs, c); /* its pid was reused before its final report */
	c = proc__new(cpid, e->h.ts_ns);
	if (!c || procs__add(ev->procs, c)) {
		proc__free(c);
		parent->oom++;
		return 0;
	}
	c->ppid = parent->pid;
	if (ev->threads && !(c->threads = threadtab__new(e->h.ts_ns)))
		parent->oom++;
	if (ev->fds && parent->fds) {
		c->fds = fdtab__new(e->h.ts_ns);
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
	return 0;
}

/*
 * The image that ran CPython is gone: its frames are looked for again in the next one (a look
 * still queued for it would read the new image, then be forgotten).
 */
static void python_forget(struct events *ev, struct proc *p)
{
	uint32_t i;

	p->py_checked = false;
	for (i = 0; i < ev->nr_acts; i++)
		if (ev->acts[i].kind == ACT_PYTHON && ev->acts[i].pid == p->pid)
			ev->acts[i].kind = ACT_NONE;
	if (p->py)
		queue(ev, (struct ev_action){.kind = ACT_PY_FORGET, .pid = p->pid});
}

static int decode_exec(const struct rec_in *r)
{
	struct events *ev = r->ev;
	struct proc *p = r->p;
	const struct lt_exec *e = r->data;
	bool held = e->h.kind == LT_EXEC_HELD;
	char comm[ESCAPE_SIZE(sizeof(p->comm))];

	python_forget(ev, p);
	if (p->fds)
		fdtab__exec(p->fds);
	if (p->threads)
		threadtab__reset(p->threads);
	/* with -f a new image is traced on (the inherited probes stay); without, it ends */
	if (!ev->follow) {
		p->execed = true;
		return 0;
	}
	/* its maps are read now: the records that follow are the new image's */
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
	 * command's children), else late (-p: nothing is ever stopped) */
	queue(ev, (struct ev_action){.kind = ACT_FOLLOW_EXEC, .pid = p->pid, .held = held});
	/* its tables are built after the drain (update_unwind); one held goes on after them */
	if (ev->unwind) {
		p->uw_stale = p->uw_exec = true;
		p->uw_hold = held;
	}
	return 0;
}

static int decode_exit(const struct rec_in *r)
{
	struct events *ev = r->ev;
	struct proc *p = r->p;
	python_forget(ev, p);
	p->exited = true;
	return 0;
}

/* Stopped in exit() by BPF: its maps are whole until it goes on (run_action). */
static void decode_exiting(struct events *ev, struct proc *p)
{
	bool own = !(ev->discard_until_exec && p == ev->target);

	queue(ev, (struct ev_action){
			  .kind = ACT_EXITING,
			  .pid = p->pid,
			  .refresh = own && p->syms && !p->syms_shared,
			  .scan = own && ev->reach_at_exit && !p->exit_scan,
		  });
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

/* Events of the target before its exec (a launched command) are leaktrace's own. */
static bool before_exec(struct events *ev, struct proc *p, const struct lt_rec_hdr *h)
{
	if (!ev->discard_until_exec || p != ev->target)
		return false;
	if (h->type == LT_EV_EXEC) {
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
		queue_python(ev, p, true);
		return true;
	}
	return h->type != LT_EV_EXIT;
}

/* One small function per record type; each checks what its fixed size cannot. */
static const struct {
	size_t size; /* a shorter record is not applied: its struct, up to any frames */
	int (*decode)(const struct rec_in *r);
} decoders[] = {
	[LT_EV_ALLOC] = {offsetof(struct lt_alloc, frames), decode_alloc},
	[LT_EV_MMAP] = {offsetof(struct lt_mmap, frames), decode_mmap},
	[LT_EV_FREE] = {sizeof(struct lt_free), decode_free},
	[LT_EV_MUNMAP] = {sizeof(struct lt_munmap), decode_munmap},
	[LT_EV_MREMAP] = {sizeof(struct lt_mremap), decode_mremap},
	[LT_EV_PYFRAMES] = {offsetof(struct lt_pyframes, frames), decode_pyframes},
	[LT_EV_KCACHE] = {sizeof(struct lt_kcache), decode_kcache},
	[LT_EV_FORK] = {sizeof(struct lt_fork), decode_fork},
	[LT_EV_EXEC] = {sizeof(struct lt_exec), decode_exec},
	[LT_EV_EXIT] = {sizeof(struct lt_exit), decode_exit},
	[LT_EV_EXITING] = {sizeof(struct lt_exiting), NULL}, /* a hold: apply_event */
	[LT_EV_NEW_OBJ] = {sizeof(struct lt_new_obj), NULL}, /* a hold: apply_event */
};

#define NR_DECODERS (sizeof(decoders) / sizeof(decoders[0]))

static int apply_event(struct events *ev, const void *data, size_t size)
{
	const struct lt_rec_hdr *h = data;
	struct proc *p;
	int err;

	if (size < sizeof(*h))
		return 0;
	if (h->type >= LT_EV_FD_OPEN)
		return fds__apply(ev, data, size);
	if (h->type >= NR_DECODERS || size < decoders[h->type].size ||
	    !(decoders[h->type].decode || h->type == LT_EV_EXITING || h->type == LT_EV_NEW_OBJ))
		return 0;
	p = ev->any_pid ? ev->target : procs__find(ev->procs, h->pid);
	if (!p) {
		/* held, though its fork was not seen (dropped, or the pid map was full) */
		if (h->type == LT_EV_EXITING ||
		    (h->type == LT_EV_EXEC && h->kind == LT_EXEC_HELD) ||
		    (h->type == LT_EV_NEW_OBJ && h->kind == LT_NEW_OBJ_BY_RECORD))
			queue(ev, (struct ev_action){.kind = ACT_CONTINUE, .pid = h->pid});
		return 0;
	}
	/* held at its mapping: served by holds__serve_tables, or after the drain when BPF's map
	 * of those waiting was full */
	if (h->type == LT_EV_NEW_OBJ) {
		if (h->kind == LT_NEW_OBJ_BY_RECORD && ev->unwind && !ev->ending)
			p->uw_stale = p->uw_hold = true;
		else if (h->kind == LT_NEW_OBJ_BY_RECORD)
			queue(ev, (struct ev_action){.kind = ACT_CONTINUE, .pid = h->pid});
		return 0;
	}
	if (h->type == LT_EV_EXITING) {
		decode_exiting(ev, p);
		return 0;
	}
	if (before_exec(ev, p, h))
		return 0;
	p->nr_events++;
	if (ev->trace)
		trace__record(ev->trace, h);
	err = decoders[h->type].decode(&(struct rec_in){ev, p, data, size});
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

static void run_action(struct events *ev, const struct ev_action *a)
{
	struct proc *p = procs__find(ev->procs, a->pid);
	__u32 pid = a->pid;
	int err;

	switch (a->kind) {
	case ACT_CONTINUE:
		holds__continue(ev->holds, a->pid);
		break;
	case ACT_EXITING:
		if (p && a->refresh && p->syms && !p->syms_shared)
			syms__refresh(p->syms);
		/* what it still holds as it exits: the final report's split (--reachable) */
		if (p && a->scan && !p->exit_scan) {
			p->exit_scan = calloc(1, sizeof(*p->exit_scan));
			if (p->exit_scan)
				reach__scan(p->exit_scan, a->pid, p->tracker, NULL, NULL);
		}
		if (p)
			procstat__vm_hwm(a->pid, &p->peak_rss); /* the summary's peak RSS, whole */
		holds__continue(ev->holds, a->pid);
		break;
	case ACT_FOLLOW_EXEC:
		if (ev->follow_exec && !ev->ending)
			follow__exec(ev->follow_exec, a->pid, a->held);
		/* with CFI tables, update_unwind continues it once they are given */
		if (a->held && !ev->unwind)
			holds__continue(ev->holds, a->pid);
		break;
	case ACT_PYTHON:
		if (p && !p->exited && !p->execed) {
			err = python_attach(ev, p);
			if (a->at_exec && err == -ENOENT)
				p->py_checked = false;
		}
		break;
	case ACT_PY_FORGET:
		if (ev->pyprocs_fd > 0)
			bpf_map_delete_elem(ev->pyprocs_fd, &pid);
		break;
	case ACT_NONE:
		break;
	}
}

/* What the drain queued, in the order the records asked for it. */
static void run_actions(struct events *ev)
{
	struct ev_action a;
	uint32_t i;

	if (ev->running_acts)
		return; /* an action that drains: its queue runs in the loop below */
	ev->running_acts = true;
	for (i = 0; i < ev->nr_acts; i++) {
		a = ev->acts[i];
		run_action(ev, &a);
	}
	ev->nr_acts = 0;
	ev->running_acts = false;
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
	if (err >= 0)
		err = drain(ev, -1);
	run_actions(ev);
	update_unwind(ev);
	if (err == -EINTR || err == -ECANCELED)
		return 0;
	return err < 0 ? err : 0;
}

void events__close(struct events *ev)
{
	ring_buffer__free(ev->rb);
	ev->rb = NULL;
	free(ev->acts);
	ev->acts = NULL;
	ev->nr_acts = ev->cap_acts = 0;
}
