// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "ualloc.skel.h"
#include "events.h"
#include "options.h"
#include "probes.h"
#include "report.h"
#include "stacks.h"
#include "syms.h"
#include "system.h"
#include "target.h"
#include "tracker.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = 1;
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

static int print_report(struct proc *p, const char *comm, struct ualloc_bpf *skel, bool final)
{
	struct report_filter f = {
		.older_ms = env.older_ms,
		.min_size = env.min_size,
		.max_size = env.max_size,
		.sample_bytes = env.sample_bytes,
		.sort = env.sort,
	};
	struct text_opts to = {
		.top = env.top,
		.show_allocs = env.show_allocs,
		.tracker = p->tracker,
		.filter = &f,
	};
	struct report r = {
		.wall = time(NULL),
		.pid = p->pid,
		.comm = comm,
		.final = final,
		.oom = p->oom,
	};
	int err;

	memcpy(r.bpf_stats, skel->bss->stats, sizeof(r.bpf_stats));
	err = report__build(&r, p->tracker, p->stacks, &f, tracker__now_ms(p->tracker, mono_ns()));
	if (err)
		return err;
	err = report__text(&r, stdout, p->stacks, p->syms, &to);
	report__free(&r);
	return err;
}

static int setup_bpf(struct ualloc_bpf **out, pid_t pid)
{
	struct ualloc_bpf *skel;
	__u8 one = 1;
	__u32 key = pid;
	int err;

	skel = ualloc_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->sample_bytes = env.sample_bytes;
	err = bpf_map__set_max_entries(skel->maps.events, env.ringbuf_mb << 20);
	if (err)
		goto err_destroy;
	err = bpf_map__set_max_entries(skel->maps.sampled, env.sample_bytes ? LT_SAMPLED_MAX : 1);
	if (err)
		goto err_destroy;
	err = system__autoload_syscalls(skel->obj);
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

static int trace_loop(struct events *ev, struct proc *p, struct target *t, struct ualloc_bpf *skel)
{
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
		syms__refresh(p->syms);
		err = print_report(p, t->comm, skel, false);
		if (err)
			return err;
		if (env.count && ++reports == env.count)
			return 0;
	}
	/* drain what is still in flight so the final report is complete */
	events__poll(ev, 0);
	if (p->execed)
		fprintf(stderr,
			"leaktrace: pid %d replaced its image (exec); its probes are gone\n",
			p->pid);
	else if (p->exited)
		fprintf(stderr, "leaktrace: pid %d exited\n", p->pid);
	return print_report(p, t->comm, skel, true);
}

int main(int argc, char **argv)
{
	struct syms_opts so = {};
	struct ualloc_bpf *skel = NULL;
	struct probes probes = {};
	struct events ev = {};
	struct target t = {.hold_fd = -1};
	struct proc p = {};
	int err;

	err = options__parse(argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	libbpf_set_print(libbpf_print);
	setvbuf(stdout, NULL, _IOLBF, 0);

	err = system__check();
	if (err)
		return 1;
	err = target__open_pid(&t, env.pid);
	if (err) {
		if (err == -ESRCH)
			fprintf(stderr, "leaktrace: no such process: %d\n", env.pid);
		else if (err == -EPERM)
			fprintf(stderr,
				"leaktrace: pid %d is a kernel thread; use -k for kernel "
				"allocations\n",
				env.pid);
		else
			fprintf(stderr, "leaktrace: cannot open pid %d: %s\n", env.pid,
				strerror(-err));
		return 1;
	}
	err = setup_bpf(&skel, t.pid);
	if (err)
		goto cleanup;
	err = probes__attach(&probes, skel->obj, &t, env.obj_path, env.verbose);
	if (err)
		goto cleanup;

	so.no_lines = env.no_lines;
	so.no_demangle = env.no_demangle;
	so.debug_dir = env.debug_dir;
	p.pid = t.pid;
	p.tracker = tracker__new(mono_ns());
	p.stacks = stacks__new();
	p.syms = syms__new(t.pid, &so);
	if (!p.tracker || !p.stacks || !p.syms) {
		err = -errno ?: -ENOMEM;
		fprintf(stderr, "leaktrace: cannot set up pid %d: %s\n", t.pid, strerror(-err));
		goto cleanup;
	}
	err = events__open(&ev, bpf_map__fd(skel->maps.events), &p);
	if (err) {
		fprintf(stderr, "leaktrace: cannot open ring buffer: %s\n", strerror(-err));
		goto cleanup;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "leaktrace: tracing pid %d (%s) through %s: %d probes%s. Ctrl-C to end.\n",
		t.pid, t.comm, probes.alloc_obj, probes.nr_links,
		probes.nr_single_step ? " (some single-stepped)" : "");
	err = trace_loop(&ev, &p, &t, skel);

cleanup:
	events__close(&ev);
	probes__detach(&probes);
	ualloc_bpf__destroy(skel);
	syms__free(p.syms);
	stacks__free(p.stacks);
	tracker__free_all(p.tracker);
	target__free(&t);
	if (err == -EPIPE)
		return 0;
	return err ? 1 : 0;
}
