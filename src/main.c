// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "ualloc.skel.h"
#include "escape.h"
#include "events.h"
#include "follow.h"
#include "guard.h"
#include "holds.h"
#include "history.h"
#include "klabels.h"
#include "kmode.h"
#include "options.h"
#include "proc.h"
#include "output.h"
#include "probes.h"
#include "procstat.h"
#include "report.h"
#include "stacks.h"
#include "syms.h"
#include "system.h"
#include "target.h"
#include "tracker.h"
#include "uprobe_inherit.h"
#include "uprobe_session.h"

static volatile sig_atomic_t exiting;

/* The symbolizer's view of the exit flag: a report being built when it is set is cut short. */
static bool stop_requested(void)
{
	return exiting;
}

static void on_signal(int sig)
{
	exiting = sig;
	signal(sig, SIG_DFL); /* a second Ctrl-C kills */
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || !env.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* User stacks hold return addresses: look each up at its call site. */
static int resolve_user(void *ctx, uint64_t addr, struct sym_frame *out, int max)
{
	struct proc *p = ctx;

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

/*
 * Detaching costs the kernel an RCU grace period or two per link (uprobe_multi links, syscall
 * tracepoints: ~30 ms each here), so it runs in two threads while the final report is built
 * and printed; main joins them before it exits.
 */
struct detach {
	struct probes *probes;
	struct ualloc_bpf *skel;
	pthread_t threads[2];
	int started;
};

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

static void detach_start(struct detach *d)
{
	if (!d || d->started)
		return;
	if (!pthread_create(&d->threads[0], NULL, detach_probes, d->probes))
		d->started = 1;
	else
		probes__detach(d->probes);
	if (!pthread_create(&d->threads[1], NULL, detach_tracepoints, d->skel))
		d->started |= 2;
	else
		ualloc_bpf__detach(d->skel);
}

static void detach_join(struct detach *d)
{
	if (d->started & 1)
		pthread_join(d->threads[0], NULL);
	if (d->started & 2)
		pthread_join(d->threads[1], NULL);
	d->started = 4; /* done: not again */
}

/* What reports need besides the processes: loss counters, a symbolizer, where they go. */
struct ctx {
	struct procs procs;	   /* the target first; with -f its children */
	const uint64_t *bpf_stats; /* user mode: the BPF .bss counters */
	bool *holds_off;	   /* user mode: BPF's switch for holds */
	bool *counting;		   /* user mode: BPF records while set */
	struct kmode *km;	   /* kernel mode: counters read through kmode__stats */
	struct resolver kres;	   /* kernel mode: kallsyms */
	struct output *out;
	struct timespec counting_since; /* user mode: when BPF began to record (CLOCK_REALTIME) */
	struct detach *detach; /* user mode without -f: detached while the final report is made */
};

/* -f: a child's one-profile formats go to FILE.PID. */
static int write_report(const struct ctx *c, const struct proc *p, const struct report *r,
			const struct report_opts *ro)
{
	struct output child = *c->out;
	char path[4200];

	if (!p->ppid || child.stream)
		return output__write(c->out, r, ro);
	snprintf(path, sizeof(path), "%s.%d", c->out->path, p->pid);
	child.path = path;
	return output__write(&child, r, ro);
}

/* final: the report at exit; last: no other report follows (final, or the COUNT-th). */
static int print_report(const struct ctx *c, struct proc *p, bool final, bool last)
{
	struct report_filter f = {
		.older_ms = env.older_ms,
		.baseline_ms = env.baseline_s * 1000ULL,
		.start_ms = p->start_ms,
		.min_size = env.min_size,
		.max_size = env.max_size,
		.sample_bytes = env.sample_bytes,
		.sort = env.sort,
	};
	struct report_opts ro = {.show_allocs = env.show_allocs};
	unsigned int i;
	struct resolver res = c->km ? c->kres : (struct resolver){resolve_user, user_mapping, p};
	struct report r = {
		.wall = time(NULL),
		.pid = p->pid,
		.ppid = p->ppid,
		.comm = p->comm,
		.kernel = env.kernel,
		.final = final,
		.oom = p->oom,
		.top = env.top,
		.rss_anon_start = p->rss_anon_start,
		.rss_anon_prev = p->rss_anon_prev,
		.counting_since = c->counting_since,
	};
	int err;

	/* Code mapped since the last report (dlopen, JIT) must resolve, in the final one too;
	 * not through a parent's maps that a child shares (the parent may have exec'ed) */
	if (p->syms && !p->syms_shared)
		syms__refresh(p->syms);
	if (p->klabels)
		r.kind_labels = klabels__names(p->klabels, &r.nr_kind_labels);
	if (c->km)
		kmode__stats(c->km, r.bpf_stats);
	else
		memcpy(r.bpf_stats, c->bpf_stats, sizeof(r.bpf_stats));
	if (p->pid && !p->exited && !procstat__rss_anon(p->pid, &r.rss_anon) && !env.kernel)
		p->rss_anon_prev = r.rss_anon;
	if (env.kernel)
		r.rss_anon = 0; /* RSS says nothing of what the kernel holds */
	for (i = 0; i < c->procs.n && !r.run_recorded; i++)
		r.run_recorded = tracker__stats(c->procs.v[i]->tracker)->allocs > 0;
	err = report__build(&r, p->tracker, p->stacks, &f, tracker__now_ms(p->tracker, mono_ns()));
	if (!err)
		err = history__apply(p->history, &r, p->stacks, &res);
	if (!err && !output__wants(c->out, last)) {
		report__free(&r);
		return 0;
	}
	if (!err) {
		report__rank(&r, env.sort);
		err = report__resolve(&r, p->stacks, &res,
				      env.format->all_stacks ? r.nr_stacks : r.top);
	}
	if (!err)
		err = write_report(c, p, &r, &ro);
	report__free(&r);
	return err;
}

static int setup_bpf(struct ualloc_bpf **out, pid_t pid, bool launched, bool *session, bool *multi)
{
	struct ualloc_bpf *skel;
	__u8 one = 1;
	__u32 key = pid;
	int err;

	skel = ualloc_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->sample_bytes = env.sample_bytes;
	skel->rodata->follow = env.follow;
	skel->rodata->target_pid = pid;
	skel->rodata->holds = launched;
	skel->rodata->wakeup_bytes = (env.ringbuf_mb << 20) / 4;
	err = bpf_map__set_max_entries(skel->maps.events, env.ringbuf_mb << 20);
	if (err)
		goto err_destroy;
	err = bpf_map__set_max_entries(skel->maps.sampled, env.sample_bytes ? LT_SAMPLED_MAX : 1);
	if (err)
		goto err_destroy;
	err = system__autoload_syscalls(skel->obj);
	if (err)
		goto err_destroy;
	/* only sampling gains from sessions: unsampled calls then skip their return trap; a
	 * session link filters on one process, so -f uses inherited classic probes */
	*session = env.sample_bytes && !env.no_session && !env.follow &&
		   uprobe_link__supported(UPROBE_SESSION_ATTACH);
	/* one link per program and file, instead of a perf event per site: detaching each costs
	 * the kernel an RCU grace period or two (README, "Attaching and detaching") */
	*multi = !env.follow && !env.no_multi && uprobe_link__supported(UPROBE_MULTI_ATTACH);
	err = uprobe_session__prepare(skel->obj, *session, *multi);
	if (err)
		goto err_destroy;
	err = ualloc_bpf__load(skel);
	if (err) {
		system__explain_load_error(err);
		goto err_destroy;
	}
	err = bpf_map__update_elem(skel->maps.pids, &key, sizeof(key), &one, sizeof(one), BPF_ANY);
	if (err)
		goto err_destroy;
	err = ualloc_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "leaktrace: cannot attach syscall and process tracepoints: %s\n",
			strerror(-err));
		goto err_destroy;
	}
	*out = skel;
	return 0;
err_destroy:
	ualloc_bpf__destroy(skel);
	return err;
}

/*
 * A report for every process: children that have exited get their final one, then are
 * dropped. all_final: the end of the run.
 */
static int report_all(struct ctx *c, bool all_final, bool last)
{
	struct procs *ps = &c->procs;
	unsigned int i = 0;
	int err = 0;

	while (i < ps->n && !err) {
		struct proc *p = ps->v[i];
		bool final = all_final || (p->ppid && (p->exited || p->execed));

		err = print_report(c, p, final, last || final);
		if (final && p->ppid && !all_final)
			procs__remove(ps, p);
		else
			i++;
	}
	return err;
}

/*
 * As leaktrace ends, BPF records nothing more and stops nobody (counting ends at one instant,
 * as it began); what is still in the ring is drained whole, and those held are continued.
 * Programs in flight finish within microseconds: 10 ms is ample.
 */
static void stop_recording(struct ctx *c, struct events *ev)
{
	if (!ev->rb || ev->ending)
		return; /* done already (before the final reports; cleanup calls again) */
	ev->ending = true;
	if (!c->holds_off)
		return; /* kernel mode */
	*c->counting = false;
	*c->holds_off = true;
	usleep(10000);
	events__poll(ev, 0);
	holds__continue_all(ev->holds); /* any whose record was refused (ring full) */
}

static int trace_loop(struct events *ev, struct ctx *c)
{
	struct proc *p = c->procs.v[0];
	uint64_t interval_ns = env.interval_s * 1000000000ULL;
	uint64_t next = mono_ns() + interval_ns;
	unsigned int reports = 0;
	int err;

	while (!exiting) {
		err = events__poll(ev, 100);
		if (err) {
			fprintf(stderr, "leaktrace: reading events: %s\n", strerror(-err));
			return err;
		}
		if (p->exited || p->execed)
			break;
		if (mono_ns() < next)
			continue;
		next += interval_ns;
		reports++;
		if (reports == env.count) {
			events__poll(ev, 0); /* the last events, before their probes go */
			detach_start(c->detach);
		}
		err = report_all(c, false, reports == env.count);
		if (err || reports == env.count)
			return err;
	}
	/* nobody waits while the reports are written; then drain what is still in flight so
	 * the final report is complete */
	stop_recording(c, ev);
	events__poll(ev, p->klabels && p->exited ? 200 : 0);
	/* Libraries loaded since the last interval; not after exec, whose new maps would hide
	 * the old image that the outstanding stacks point into. */
	if (p->syms && !p->execed && !p->exited)
		syms__refresh(p->syms);
	if (p->execed)
		fprintf(stderr,
			"leaktrace: pid %d replaced its image (exec); its probes are gone\n",
			p->pid);
	else if (p->exited)
		fprintf(stderr, "leaktrace: pid %d exited\n", p->pid);
	detach_start(c->detach);
	return report_all(c, true, true);
}

/*
 * The command's exit status, as a shell gives it. After Ctrl-C it has had the same SIGINT
 * from the terminal; one that outlives the tracer's end by a second is sent SIGTERM. Events
 * are read meanwhile: one still held (a child at exec) must be continued.
 */
static int finish_command(struct target *t, struct events *ev)
{
	int i, status;
	pid_t r;

	for (i = 0;; i++) {
		r = waitpid(t->pid, &status, WNOHANG);
		if (r == t->pid) {
			t->launched = false;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		if (r < 0)
			return 0;
		if (exiting && i == 100)
			kill(t->pid, SIGTERM);
		events__poll(ev, 10);
	}
}

static int open_target(struct target *t)
{
	int err = target__open_pid(t, env.pid);

	if (err == -EPERM && env.kernel)
		return 0; /* a kernel thread: its kernel allocations are still its own */
	if (err == -ESRCH)
		fprintf(stderr, "leaktrace: no such process: %d\n", env.pid);
	else if (err == -ECHILD)
		fprintf(stderr, "leaktrace: pid %d is a zombie (exited, not reaped)\n", env.pid);
	else if (err == -EPERM)
		fprintf(stderr,
			"leaktrace: pid %d is a kernel thread; use -k for kernel allocations\n",
			env.pid);
	else if (err)
		fprintf(stderr, "leaktrace: cannot open pid %d: %s\n", env.pid, strerror(-err));
	return err;
}

static int start_user(struct ualloc_bpf **skel, struct probes *probes,
		      struct uprobe_inherit *inherit, struct target *t, struct proc *p,
		      struct ctx *c)
{
	static struct guard_ctx gctx = {.stop_requested = stop_requested};
	static struct syms_opts so;
	char comm[ESCAPE_SIZE(sizeof(t->comm))], obj[ESCAPE_SIZE(sizeof(probes->alloc_obj))];
	struct probes_opts po = {
		.obj = env.obj_path,
		.prefix = env.sym_prefix,
		.hold_exit = t->launched,
		.verbose = env.verbose,
	};
	int err;

	gctx.verbose = env.verbose;
	guard_ctx__describe(&gctx);
	so = (struct syms_opts){
		.guard = &gctx,
		.no_lines = env.no_lines,
		.no_demangle = env.no_demangle,
		.debug_dir = env.debug_dir,
		.debuginfod_timeout_s = env.debuginfod_timeout_s,
	};
	err = setup_bpf(skel, t->pid, t->launched, &probes->session, &probes->multi);
	if (err)
		return err;
	if (env.follow) {
		err = uprobe_inherit__open(inherit, t->pid);
		if (err)
			return err;
		probes->inherit = inherit;
	}
	err = probes__attach(probes, (*skel)->obj, t, &po);
	if (err)
		return err;
	/* every probe and tracepoint is in place: from this instant on, BPF records */
	(*skel)->bss->counting = true;
	clock_gettime(CLOCK_REALTIME, &c->counting_since);
	/* a held command still maps leaktrace's own image: its maps are read at exec */
	p->syms_opts = &so;
	if (!t->launched)
		p->syms = syms__new(t->pid, &so);
	if (!t->launched && !p->syms) {
		err = -errno ?: -ENOMEM;
		fprintf(stderr, "leaktrace: cannot set up pid %d: %s\n", t->pid, strerror(-err));
		return err;
	}
	c->bpf_stats = (const uint64_t *)(*skel)->bss->stats;
	fprintf(stderr,
		"leaktrace: tracing pid %d (%s)%s through %s: %d probes%s%s. Ctrl-C to end.\n",
		t->pid, escape__str(t->comm, comm, sizeof(comm)),
		env.follow ? " and its children" : "",
		escape__str(probes->alloc_obj, obj, sizeof(obj)),
		probes->nr_probes,
		probes->nr_session ? " (session probes: unsampled calls skip the return)" : "",
		probes->nr_single_step ? " (some single-stepped)" : "");
	return bpf_map__fd((*skel)->maps.events);
}

static int start_kernel(struct kmode **km, const struct target *t, struct proc *p, struct ctx *c)
{
	struct kmode_opts ko = {
		.pid = t->pid, .ringbuf_mb = env.ringbuf_mb, .verbose = env.verbose};
	char comm[ESCAPE_SIZE(sizeof(t->comm))];
	int err;

	p->klabels = klabels__new();
	if (!p->klabels)
		return -ENOMEM;
	err = kmode__open(km, &ko);
	if (err)
		return err;
	c->km = *km;
	c->kres = kmode__resolver(*km);
	if (t->pid)
		fprintf(stderr,
			"leaktrace: tracing kernel allocations of pid %d (%s): %d "
			"tracepoints. Ctrl-C to end.\n",
			t->pid, escape__str(t->comm, comm, sizeof(comm)), kmode__nr_attached(*km));
	else
		fprintf(stderr,
			"leaktrace: tracing kernel allocations system-wide: %d tracepoints. "
			"Ctrl-C to end.\n",
			kmode__nr_attached(*km));
	return kmode__ringbuf_fd(*km);
}

int main(int argc, char **argv)
{
	struct ualloc_bpf *skel = NULL;
	struct kmode *km = NULL;
	struct probes probes = {};
	struct uprobe_inherit inherit = {};
	struct follow *follow = NULL;
	struct events ev = {};
	struct target t = {.hold_fd = -1};
	struct holds holds = HOLDS_INIT;
	struct output out = {};
	struct ctx c = {.out = &out};
	char name[ESCAPE_SIZE(sizeof(t.comm))];
	struct detach detach = {};
	struct proc *p;
	int err, fd, status = 0;
	bool started = true;

	err = options__parse(argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	libbpf_set_print(libbpf_print);
	setvbuf(stdout, NULL, _IOLBF, 0);

	err = system__check();
	if (err)
		return 1;
	if (env.pid && open_target(&t))
		return 1;
	if (env.command && target__launch(&t, env.command))
		return 1;
	err = output__open(&out, env.format, env.output_path);
	if (err)
		goto cleanup;
	p = proc__new(t.pid, mono_ns());
	if (!p || procs__add(&c.procs, p)) {
		proc__free(p);
		err = -ENOMEM;
		goto cleanup;
	}
	snprintf(p->comm, sizeof(p->comm), "%s", t.comm);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (env.kernel)
		fd = start_kernel(&km, &t, p, &c);
	else
		fd = start_user(&skel, &probes, &inherit, &t, p, &c);
	if (fd < 0) {
		err = fd;
		goto cleanup;
	}
	/* BPF holds from the launched command's exec on; before the ring is mapped, which the
	 * watchdog must not keep */
	if (skel) {
		c.holds_off = &skel->bss->holds_off;
		c.counting = &skel->bss->counting;
	}
	if (skel && t.launched) {
		err = holds__start(&holds, bpf_map__fd(skel->maps.held), &skel->bss->holds_off);
		if (err) {
			fprintf(stderr, "leaktrace: cannot start the watchdog: %s\n",
				strerror(-err));
			goto cleanup;
		}
	}
	/* times count from the moment the probes are in place (--older, --baseline) */
	tracker__set_start(p->tracker, mono_ns());
	err = events__open(&ev, fd, &c.procs);
	if (err) {
		fprintf(stderr, "leaktrace: cannot open ring buffer: %s\n", strerror(-err));
		goto cleanup;
	}
	ev.any_pid = env.kernel;
	ev.holds = &holds;
	ev.stop = &exiting;
	ev.follow = env.follow;
	if (env.follow && skel) {
		follow = follow__new(skel->obj, &probes, env.verbose);
		if (!follow) {
			err = -ENOMEM;
			goto cleanup;
		}
		ev.follow_exec = follow;
	}
	ev.discard_until_exec = t.launched;
	if (skel && !env.follow) {
		detach = (struct detach){.probes = &probes, .skel = skel};
		c.detach = &detach;
	}
	/* interrupted while attaching: a launched command does not start */
	started = !(exiting && t.launched);
	err = target__release(&t, started);
	if (!started && t.launched)
		fprintf(stderr, "leaktrace: interrupted before '%s' started: not run\n",
			escape__str(t.comm, name, sizeof(name)));
	if (err) {
		fprintf(stderr, "leaktrace: cannot start '%s': %s\n",
			escape__str(t.comm, name, sizeof(name)), strerror(-err));
		goto cleanup;
	}
	p->start_ms = tracker__now_ms(p->tracker, mono_ns());
	err = trace_loop(&ev, &c);
	stop_recording(&c, &ev); /* after the COUNT-th report */
	if (t.launched)
		status = finish_command(&t, &ev);
	if (!started)
		status = 128 + exiting;

cleanup:
	if (c.detach)
		detach_join(c.detach);
	stop_recording(&c, &ev);
	holds__stop(&holds);
	events__close(&ev);
	follow__free(follow);
	probes__detach(&probes);
	ualloc_bpf__destroy(skel);
	kmode__free(km);
	output__close(&out);
	procs__free(&c.procs);
	if (t.launched && t.pid > 0)
		kill(t.pid, SIGCONT); /* our own child: never left stopped */
	target__free(&t);
	if (err == -EPIPE)
		return status;
	return err ? 1 : status;
}
