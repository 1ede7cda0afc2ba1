// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "ualloc.skel.h"
#include "follow.h"
#include "holds.h"
#include "proc.h"
#include "python.h"
#include "syms.h"
#include "system.h"
#include "target.h"
#include "umode.h"
#include "uprobe_inherit.h"
#include "uprobe_session.h"
#include "unwind.h"
#include "options.h"

struct umode {
	struct ualloc_bpf *skel;
	struct probes probes;
	struct uprobe_inherit inherit;
	struct follow *follow;
	bool detach_threaded; /* without -f: see umode__detach */
	pthread_t threads[2];
	int started; /* threads running: bit 0 probes, bit 1 tracepoints; 4: joined */
	struct timespec counting_since;
	struct unwind *unwind;
	bool verbose;
};

/* What is off is not loaded, so not attached: it costs nothing. */
static int set_autoload(struct ualloc_bpf *skel, const struct umode_opts *o)
{
	struct bpf_program *mem[] = {skel->progs.mmap_exit, skel->progs.munmap_exit,
				     skel->progs.mremap_exit};
	struct bpf_program *threads[] = {
		skel->progs.thread_create_enter,  skel->progs.threads_fork,
		skel->progs.threads_exit,	  skel->progs.thread_join_enter,
		skel->progs.thread_detach_enter,  skel->progs.thread_tryjoin_enter,
		skel->progs.thread_tryjoin_return};
	size_t i;
	int err;

	err = bpf_program__set_autoload(skel->progs.fds_sys_exit, o->fds);
	if (!err && !o->threads)
		err = bpf_map__set_max_entries(skel->maps.creating_detached, 1);
	if (!err && !o->threads)
		err = bpf_map__set_max_entries(skel->maps.joining, 1);
	for (i = 0; !err && !o->threads && i < sizeof(threads) / sizeof(threads[0]); i++)
		err = bpf_program__set_autoload(threads[i], false);
	for (i = 0; !err && !o->memory && i < sizeof(mem) / sizeof(mem[0]); i++)
		err = bpf_program__set_autoload(mem[i], false);
	return err;
}

/* The tables of a traced pid are given before counting starts; a launched command's at exec. */
static int open_unwind(struct umode *um, const struct target *t, const struct umode_opts *o)
{
	struct unwind_fds fds = {
		.rows = bpf_map__fd(um->skel->maps.uw_rows),
		.procs = bpf_map__fd(um->skel->maps.uw_procs),
		.gen = bpf_map__fd(um->skel->maps.uw_gen),
		.files = bpf_map__fd(um->skel->maps.uw_files),
		.max_rows = LT_UW_ROWS_DEFAULT,
	};
	int err, i;

	um->verbose = o->verbose;
	if (o->unwind == UNWIND_FP)
		return 0;
	um->unwind = unwind__new(&fds, o->guard, o->verbose);
	if (!um->unwind)
		return -ENOMEM;
	/* a launched command's objects, before it runs: BPF finds them by file at exec */
	for (i = 0; t->launched && i < t->nr_objs; i++)
		unwind__add_file(um->unwind, t->objs[i]);
	if (t->launched)
		return 0;
	err = unwind__update(um->unwind, t->pid);
	if (err && o->verbose)
		fprintf(stderr, "leaktrace: unwind: pid %d: %s: frame pointers\n", t->pid,
			strerror(-err));
	return 0;
}

static int load(struct umode *um, const struct target *t, const struct umode_opts *o)
{
	struct ualloc_bpf *skel;
	__u8 one = 1;
	__u32 key = t->pid;
	int err;

	skel = ualloc_bpf__open();
	if (!skel)
		return -errno;
	um->skel = skel;
	skel->rodata->sample_bytes = o->sample_bytes;
	skel->rodata->sample_every = o->sample_every;
	skel->rodata->max_frames = o->max_frames ?: LT_MAX_FRAMES;
	skel->rodata->follow = o->follow;
	skel->rodata->target_pid = t->pid;
	skel->rodata->holds = t->launched;
	skel->rodata->wakeup_bytes = (o->ringbuf_mb << 20) / 4;
	err = bpf_map__set_max_entries(skel->maps.events, o->ringbuf_mb << 20);
	if (err)
		return err;
	err = bpf_map__set_max_entries(skel->maps.sampled,
				       o->sample_bytes || o->sample_every > 1 ? LT_SAMPLED_MAX : 1);
	if (err)
		return err;
	err = set_autoload(skel, o);
	if (err)
		return err;
	err = system__autoload_syscalls(skel->obj);
	if (err)
		return err;
	skel->rodata->uw_fp_fallback = o->unwind != UNWIND_CFI;
	skel->rodata->uw_cfi = o->unwind != UNWIND_FP;
	err = bpf_map__set_max_entries(skel->maps.uw_rows,
				       o->unwind == UNWIND_FP ? 1 : LT_UW_ROWS_DEFAULT);
	if (err)
		return err;
	/* only sampling gains from sessions: unsampled calls then skip their return trap; a
	 * session link filters on one process, so -f uses inherited classic probes */
	um->probes.session = (o->sample_bytes || o->sample_every > 1) && !o->no_session &&
			     !o->follow && uprobe_link__supported(UPROBE_SESSION_ATTACH);
	/* one link per program and file, instead of a perf event per site: detaching each costs
	 * the kernel an RCU grace period or two (README, "Attaching and detaching") */
	um->probes.multi =
		!o->follow && !o->no_multi && uprobe_link__supported(UPROBE_MULTI_ATTACH);
	err = probes__prepare(skel, um->probes.session, um->probes.multi);
	if (err)
		return err;
	err = ualloc_bpf__load(skel);
	if (err) {
		system__explain_load_error(err);
		return err;
	}
	err = bpf_map__update_elem(skel->maps.pids, &key, sizeof(key), &one, sizeof(one), BPF_ANY);
	if (err)
		return err;
	err = open_unwind(um, t, o);
	if (err)
		return err;
	err = ualloc_bpf__attach(skel);
	if (err)
		fprintf(stderr, "leaktrace: cannot attach syscall and process tracepoints: %s\n",
			strerror(-err));
	return err;
}

int umode__open(struct umode **out, const struct target *t, const struct umode_opts *o)
{
	struct probes_opts po = o->probes;
	struct umode *um;
	int err;

	um = calloc(1, sizeof(*um));
	if (!um)
		return -ENOMEM;
	*out = um;
	err = load(um, t, o);
	if (err)
		return err;
	if (o->follow) {
		err = uprobe_inherit__open(&um->inherit, t->pid);
		if (err)
			return err;
		um->probes.inherit = &um->inherit;
	}
	po.hold_exit = t->launched;
	po.no_allocator = !o->memory;
	po.threads = o->threads;
	err = probes__attach(&um->probes, um->skel, t, &po);
	if (err)
		return err;
	if (o->follow) {
		um->follow = follow__new(um->skel, &um->probes, o->probes.verbose);
		if (!um->follow)
			return -ENOMEM;
	}
	um->detach_threaded = !o->follow;
	return 0;
}

void umode__start(struct umode *um)
{
	um->skel->bss->counting = true;
	clock_gettime(CLOCK_REALTIME, &um->counting_since);
}

struct timespec umode__counting_since(const struct umode *um)
{
	return um->counting_since;
}

int umode__ringbuf_fd(const struct umode *um)
{
	return bpf_map__fd(um->skel->maps.events);
}

void umode__stats(const struct umode *um, uint64_t out[LT_ST_MAX])
{
	memcpy(out, (const void *)um->skel->bss->stats, sizeof(uint64_t) * LT_ST_MAX);
}

/* User stacks hold return addresses: look each up at its call site. */
static int resolve_user(void *ctx, uint64_t addr, struct sym_frame *out, int max)
{
	struct proc *p = ctx;

	if (python__is_frame(addr))
		return python__resolve(p->py, addr, out);
	if (!p->syms) {
		out[0] = (struct sym_frame){.addr = addr};
		return 1;
	}
	return syms__resolve(p->syms, addr, true, out, max);
}

static int user_mapping(void *ctx, uint64_t addr, struct sym_mapping *out)
{
	struct proc *p = ctx;

	return p->syms ? syms__mapping(p->syms, addr, out) : -ENOENT;
}

struct resolver umode__resolver(struct umode *um, struct proc *p)
{
	(void)um;
	return (struct resolver){resolve_user, user_mapping, p};
}

int umode__pyprocs_fd(const struct umode *um)
{
	return bpf_map__fd(um->skel->maps.pyprocs);
}

const struct probes *umode__probes(const struct umode *um)
{
	return &um->probes;
}

struct follow *umode__follow(struct umode *um)
{
	return um->follow;
}

int umode__start_holds(struct umode *um, struct holds *h)
{
	holds__tables(h, bpf_map__fd(um->skel->maps.uw_wait), &um->skel->bss->uw_waits);
	return holds__start(h, bpf_map__fd(um->skel->maps.held), &um->skel->bss->holds_off);
}

/* Programs in flight finish within microseconds: 10 ms is ample. */
void umode__stop(struct umode *um)
{
	um->skel->bss->counting = false;
	um->skel->bss->holds_off = true;
	usleep(10000);
}

static void *detach_probes(void *arg)
{
	probes__detach(arg);
	return NULL;
}

static void *detach_tracepoints(void *arg)
{
	ualloc_bpf__detach(arg);
	return NULL;
}

void umode__detach(struct umode *um)
{
	if (!um->detach_threaded || um->started)
		return;
	if (!pthread_create(&um->threads[0], NULL, detach_probes, &um->probes))
		um->started = 1;
	else
		probes__detach(&um->probes);
	if (!pthread_create(&um->threads[1], NULL, detach_tracepoints, um->skel))
		um->started |= 2;
	else
		ualloc_bpf__detach(um->skel);
}

void umode__detach_wait(struct umode *um)
{
	if (!um->detach_threaded)
		return;
	if (um->started & 1)
		pthread_join(um->threads[0], NULL);
	if (um->started & 2)
		pthread_join(um->threads[1], NULL);
	um->started = 4; /* done: not again */
}

void umode__free(struct umode *um)
{
	if (!um)
		return;
	follow__free(um->follow);
	if (um->unwind && um->verbose)
		unwind__print(um->unwind, (const uint64_t *)um->skel->bss->uw_stats, stderr);
	unwind__free(um->unwind);
	probes__detach(&um->probes);
	ualloc_bpf__destroy(um->skel);
	free(um);
}

struct unwind *umode__unwind(struct umode *um)
{
	return um->unwind;
}
