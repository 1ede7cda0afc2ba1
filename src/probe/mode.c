// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Two modes, whose open differs in its options and whose other operations mostly do not
 * exist in one of them: a two-way branch here reads plainer than a table of function
 * pointers, and the compiler still checks every call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dso.h"
#include "escape.h"
#include "guard.h"
#include "klabels.h"
#include "kmode.h"
#include "mode.h"
#include "options.h"
#include "proc.h"
#include "syms.h"
#include "target.h"
#include "umode.h"

struct mode {
	struct umode *um; /* exactly one of these */
	struct kmode *km;
	struct resolver kres;
	struct dso_cache *dsos; /* every process's files, read once */
};

static int open_user(struct mode *m, const struct target *t, struct proc *p,
		     bool (*stop_requested)(void))
{
	/* every struct syms points here, to the end of the run */
	static struct guard_ctx gctx;
	static struct syms_opts so;
	struct umode_opts uo = {
		.probes = {.obj = env.obj_path, .prefix = env.sym_prefix, .verbose = env.verbose},
		.sample_bytes = env.sample_bytes,
		.sample_every = env.sample_every,
		.max_frames = env.max_frames,
		.ringbuf_mb = env.ringbuf_mb,
		.follow = env.follow,
		.no_session = env.no_session,
		.no_multi = env.no_multi,
		.fds = env.fds,
		.threads = env.threads,
		.memory = env.memory,
		.unwind = env.unwind,
		.guard = &gctx,
		.verbose = env.verbose,
	};
	char comm[ESCAPE_SIZE(sizeof(t->comm))];
	char obj[ESCAPE_SIZE(sizeof(((struct probes *)0)->alloc_obj))];
	const struct probes *pr;
	int err;

	gctx = (struct guard_ctx){.stop_requested = stop_requested, .verbose = env.verbose};
	guard_ctx__describe(&gctx);
	so = (struct syms_opts){
		.guard = &gctx,
		.no_lines = env.no_lines,
		.no_demangle = env.no_demangle,
		.debug_dir = env.debug_dir,
		.debuginfod_timeout_s = env.debuginfod_timeout_s,
	};
	so.dsos = m->dsos = dso_cache__new(&so);
	if (!m->dsos)
		return -ENOMEM;
	err = umode__open(&m->um, t, &uo);
	if (err)
		return err;
	umode__start(m->um);
	/* a held command still maps leaktrace's own image: its maps are read at exec */
	p->syms_opts = &so;
	if (!t->launched)
		p->syms = syms__new(t->pid, &so);
	if (!t->launched && !p->syms) {
		err = -errno ?: -ENOMEM;
		fprintf(stderr, "leaktrace: cannot set up pid %d: %s\n", t->pid, strerror(-err));
		return err;
	}
	pr = umode__probes(m->um);
	if (!env.memory) {
		fprintf(stderr,
			"leaktrace: tracing pid %d (%s)%s: %s%s%s (no allocator probed). "
			"Ctrl-C to end.\n",
			t->pid, escape__str(t->comm, comm, sizeof(comm)),
			env.follow ? " and its children" : "", env.fds ? "descriptors" : "",
			env.fds && env.threads ? " and " : "", env.threads ? "threads" : "");
		return 0;
	}
	fprintf(stderr,
		"leaktrace: tracing pid %d (%s)%s through %s: %d probes%s%s. Ctrl-C to end.\n",
		t->pid, escape__str(t->comm, comm, sizeof(comm)),
		env.follow ? " and its children" : "", escape__str(pr->alloc_obj, obj, sizeof(obj)),
		pr->nr_probes,
		pr->nr_session ? " (session probes: unsampled calls skip the return)" : "",
		pr->nr_single_step ? " (some single-stepped)" : "");
	return 0;
}

static int open_kernel(struct mode *m, const struct target *t, struct proc *p)
{
	struct kmode_opts ko = {.pid = t->pid,
				.ringbuf_mb = env.ringbuf_mb,
				.verbose = env.verbose,
				.sample_bytes = env.sample_bytes,
				.kstack_exact = env.kstack_exact,
				.max_frames = env.max_frames};
	char comm[ESCAPE_SIZE(sizeof(t->comm))];
	int err;

	p->klabels = klabels__new();
	if (!p->klabels)
		return -ENOMEM;
	err = kmode__open(&m->km, &ko);
	if (err)
		return err;
	m->kres = kmode__resolver(m->km);
	if (t->pid)
		fprintf(stderr,
			"leaktrace: tracing kernel allocations of pid %d (%s): %d "
			"tracepoints. Ctrl-C to end.\n",
			t->pid, escape__str(t->comm, comm, sizeof(comm)),
			kmode__nr_attached(m->km));
	else
		fprintf(stderr,
			"leaktrace: tracing kernel allocations system-wide: %d tracepoints. "
			"Ctrl-C to end.\n",
			kmode__nr_attached(m->km));
	return 0;
}

int mode__open(struct mode **out, const struct target *t, struct proc *p,
	       bool (*stop_requested)(void))
{
	struct mode *m = calloc(1, sizeof(*m));

	*out = m;
	if (!m)
		return -ENOMEM;
	return env.kernel ? open_kernel(m, t, p) : open_user(m, t, p, stop_requested);
}

int mode__ringbuf_fd(const struct mode *m)
{
	return m->km ? kmode__ringbuf_fd(m->km) : umode__ringbuf_fd(m->um);
}

int mode__sync(struct mode *m, struct proc *p)
{
	return m->km ? kmode__sync(m->km, p) : 0;
}

void mode__stats(const struct mode *m, uint64_t out[LT_ST_MAX])
{
	if (m->km)
		kmode__stats(m->km, out);
	else
		umode__stats(m->um, out);
}

struct timespec mode__counting_since(const struct mode *m)
{
	return m->um ? umode__counting_since(m->um) : (struct timespec){0};
}

struct resolver mode__resolver(struct mode *m, struct proc *p)
{
	return m->km ? m->kres : umode__resolver(m->um, p);
}

struct follow *mode__follow(struct mode *m)
{
	return m->um ? umode__follow(m->um) : NULL;
}

int mode__pyprocs_fd(const struct mode *m)
{
	return m->um ? umode__pyprocs_fd(m->um) : -1;
}

int mode__start_holds(struct mode *m, struct holds *h)
{
	return m->um ? umode__start_holds(m->um, h) : 0;
}

bool mode__stop(struct mode *m)
{
	if (!m || !m->um)
		return false;
	umode__stop(m->um);
	return true;
}

void mode__detach(struct mode *m)
{
	if (m && m->um)
		umode__detach(m->um);
}

void mode__detach_wait(struct mode *m)
{
	if (m && m->um)
		umode__detach_wait(m->um);
}

void mode__free(struct mode *m)
{
	if (!m)
		return;
	umode__free(m->um);
	kmode__free(m->km);
	dso_cache__put(m->dsos); /* freed with the last process's maps */
	free(m);
}

struct unwind *mode__unwind(struct mode *m)
{
	return m->um ? umode__unwind(m->um) : NULL;
}
