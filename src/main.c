// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "clock.h"
#include "escape.h"
#include "events.h"
#include "fds.h"
#include "holds.h"
#include "threads.h"
#include "loop.h"
#include "mode.h"
#include "options.h"
#include "output.h"
#include "proc.h"
#include "report_run.h"
#include "restab.h"
#include "suppress.h"
#include "system.h"
#include "target.h"
#include "tracker.h"

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

/* --reachable: the events a scanned process sent before it stopped, applied before the scan */
static void drain_events(void *ctx)
{
	events__poll(ctx, 0);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || !env.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
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

int main(int argc, char **argv)
{
	struct mode *mode = NULL;
	struct events ev = {};
	struct target t = {.hold_fd = -1};
	struct holds holds = HOLDS_INIT;
	struct output out = {};
	struct report_run rr = {.out = &out};
	char name[ESCAPE_SIZE(sizeof(t.comm))];
	struct proc *p;
	int err, status = 0;
	bool started = true;

	err = options__parse(argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	rr.supp = env.suppressions;
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
	if (!p || procs__add(&rr.procs, p)) {
		proc__free(p);
		err = -ENOMEM;
		goto cleanup;
	}
	snprintf(p->comm, sizeof(p->comm), "%s", t.comm);
	/* -p: what is open before counting starts was made before tracing began */
	if (env.fds &&
	    (!(p->fds = fdtab__new(mono_ns())) || (env.pid && fdtab__scan(p->fds, t.pid)))) {
		fprintf(stderr, "leaktrace: cannot read the descriptors of pid %d\n", t.pid);
		err = -ENOMEM;
		goto cleanup;
	}
	if (env.threads && !(p->threads = threadtab__new(mono_ns()))) {
		err = -ENOMEM;
		goto cleanup;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	err = mode__open(&mode, &t, p, stop_requested);
	if (err)
		goto cleanup;
	rr.mode = mode;
	/* BPF holds from the launched command's exec on; before the ring is mapped, which the
	 * watchdog must not keep */
	if (t.launched) {
		err = mode__start_holds(mode, &holds);
		if (err) {
			fprintf(stderr, "leaktrace: cannot start the watchdog: %s\n",
				strerror(-err));
			goto cleanup;
		}
	}
	/* times count from the moment the probes are in place (--older, --baseline) */
	tracker__set_start(p->tracker, mono_ns());
	if (p->fds)
		restab__set_start(fdtab__items(p->fds), mono_ns());
	if (p->threads)
		restab__set_start(threadtab__items(p->threads), mono_ns());
	err = events__open(&ev, mode__ringbuf_fd(mode), &rr.procs);
	if (err) {
		fprintf(stderr, "leaktrace: cannot open ring buffer: %s\n", strerror(-err));
		goto cleanup;
	}
	rr.drain = drain_events;
	rr.drain_ctx = &ev;
	ev.any_pid = env.kernel;
	ev.reach_at_exit = env.reachable;
	ev.holds = &holds;
	ev.stop = &exiting;
	ev.follow = env.follow;
	ev.fds = env.fds;
	ev.threads = env.threads;
	ev.follow_exec = mode__follow(mode);
	ev.unwind = mode__unwind(mode);
	ev.pyprocs_fd = env.no_python ? -1 : mode__pyprocs_fd(mode);
	if (!t.launched)
		events__python(&ev, p);
	ev.discard_until_exec = t.launched;
	ev.trace = env.trace ? stderr : NULL;
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
	err = loop__run(&ev, &rr, &exiting);
	loop__stop_recording(&ev, &rr); /* after the COUNT-th report */
	if (t.launched)
		status = loop__finish_command(&t, &ev, &exiting);
	if (!started)
		status = 128 + exiting;

cleanup:
	mode__detach_wait(mode);
	loop__stop_recording(&ev, &rr);
	holds__stop(&holds);
	events__close(&ev);
	mode__free(mode);
	output__close(&out);
	procs__free(&rr.procs);
	suppress__free(env.suppressions);
	env.suppressions = NULL;
	if (t.launched && t.pid > 0)
		kill(t.pid, SIGCONT); /* our own child: never left stopped */
	target__free(&t);
	if (err == -EPIPE)
		return status;
	return err ? 1 : status;
}
