// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "leaktrace.h"
#include "events.h"
#include "follow.h"
#include "holds.h"
#include "klabels.h"
#include "stacks.h"
#include "syms.h"
#include "tracker.h"

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

static int handle_alloc(struct proc *p, const struct lt_event *e)
{
	uint64_t frames[LT_MAX_FRAMES + 1];
	uint32_t nr = e->nr_frames;
	int64_t id;
	int err;

	refresh_if_unknown(p, (const uint64_t *)e->frames, e->nr_frames);
	if (e->kind == LT_K_MMAP && by_loader(p, (const uint64_t *)e->frames, e->nr_frames))
		return 0;
	if (e->kind == LT_K_MMAP)
		nr = fix_syscall_stack(p, e, frames);
	else
		memcpy(frames, e->frames, nr * sizeof(frames[0]));
	id = stacks__intern(p->stacks, frames, nr, e->kind);
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

	/* with -f a new image is traced on (the inherited probes stay); without, it ends */
	if (!ev->follow) {
		p->execed = true;
		return;
	}
	if (proc__exec(p))
		p->oom++;
	/* probe an allocator the new image brings: before it runs when BPF held it (a launched
	 * command's children), else now, late (-p: nothing is ever stopped) */
	if (ev->follow_exec && !ev->ending)
		follow__exec(ev->follow_exec, p->pid, held);
	if (held)
		holds__continue(ev->holds, p->pid);
}

/* Events of the target before its exec (a launched command) are leaktrace's own. */
static bool before_exec(struct events *ev, struct proc *p, const struct lt_event *e)
{
	if (!ev->discard_until_exec || p != ev->target)
		return false;
	if (e->type == LT_EV_EXEC) {
		ev->discard_until_exec = false;
		tracker__reset(p->tracker);
		/* what was mapped before exec is not the command's */
		syms__free(p->syms);
		p->syms = p->syms_opts ? syms__new(p->pid, p->syms_opts) : NULL;
		return true;
	}
	return e->type != LT_EV_EXIT;
}

static int apply_event(struct events *ev, const void *data, size_t size)
{
	const struct lt_event *e = data;
	struct proc *p;
	int err = 0;

	if (size < LT_EVENT_HDR_SIZE || e->nr_frames > LT_MAX_FRAMES ||
	    size < LT_EVENT_HDR_SIZE + e->nr_frames * sizeof(e->frames[0]))
		return 0;
	p = ev->any_pid ? ev->target : procs__find(ev->procs, e->pid);
	if (!p) {
		/* held, though its fork was not seen (dropped, or the pid map was full) */
		if (e->type == LT_EV_EXITING || (e->type == LT_EV_EXEC && e->kind == LT_EXEC_HELD))
			holds__continue(ev->holds, e->pid);
		return 0;
	}
	if (e->type == LT_EV_EXITING) {
		/* stopped in exit() by BPF: its maps are whole until it goes on */
		if (p->syms && !p->syms_shared && !(ev->discard_until_exec && p == ev->target))
			syms__refresh(p->syms);
		holds__continue(ev->holds, e->pid);
		return 0;
	}
	if (before_exec(ev, p, e))
		return 0;
	p->nr_events++;
	switch (e->type) {
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
		tracker__free(p->tracker, e->addr);
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
		on_exec(ev, p, e);
		break;
	case LT_EV_EXIT:
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
	return err;
}

int events__open(struct events *ev, int ringbuf_fd, struct procs *procs)
{
	memset(ev, 0, sizeof(*ev));
	ev->procs = procs;
	ev->target = procs->v[0];
	ev->rb = ring_buffer__new(ringbuf_fd, handle_event, ev, NULL);
	if (!ev->rb)
		return -errno;
	return 0;
}
int events__poll(struct events *ev, int timeout_ms)
{
	int err;

	err = ring_buffer__poll(ev->rb, timeout_ms);
	if (err == -EINTR || err == -ECANCELED)
		return 0;
	if (err < 0)
		return err;
	err = ring_buffer__consume(ev->rb);
	return err < 0 && err != -ECANCELED ? err : 0;
}

void events__close(struct events *ev)
{
	ring_buffer__free(ev->rb);
	ev->rb = NULL;
}
