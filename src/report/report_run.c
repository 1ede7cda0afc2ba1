// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "clock.h"
#include "fds.h"
#include "history.h"
#include "klabels.h"
#include "mode.h"
#include "options.h"
#include "output.h"
#include "procstat.h"
#include "python.h"
#include "reach.h"
#include "restab.h"
#include "report.h"
#include "report_run.h"
#include "suppress.h"
#include "syms.h"
#include "threads.h"
#include "tracker.h"

/* -f: a child's one-profile formats go to FILE.PID. */
static int write_report(const struct report_run *rr, const struct proc *p, const struct report *r,
			const struct report_opts *ro)
{
	struct output child = *rr->out;
	char path[4200];

	if (!p->ppid || child.stream)
		return output__write(rr->out, r, ro);
	snprintf(path, sizeof(path), "%s.%d", rr->out->path, p->pid);
	child.path = path;
	return output__write(&child, r, ro);
}

/*
 * --reachable: stop the process, apply the events its threads sent before they stopped, scan.
 * Events for other processes may be applied too: procs grows, p stays.
 */
static void scan_reach(const struct report_run *rr, struct proc *p, struct reach *scan)
{
	int err = reach__scan(scan, p->pid, p->tracker, rr->drain, rr->drain_ctx);

	if (err == -EBUSY || err == -ESRCH)
		return; /* said in the report */
	if (err)
		fprintf(stderr, "leaktrace: %s\n", scan->note);
	else if (env.verbose)
		fprintf(stderr,
			"leaktrace: reachability scan of pid %d: paused %.1f ms (%.1f ms of CPU), "
			"scanned %" PRIu64 " bytes\n",
			p->pid, scan->pause_ns / 1e6, scan->cpu_ns / 1e6, scan->scanned_bytes);
}

/*
 * --fds, --threads: items outstanding as a report of their own, with their history and
 * verdicts, for the process and time of r (the memory report).
 */
static int build_items(struct proc *p, const struct report *r, struct report *out,
		       struct restab *items, const struct resolver *res)
{
	struct report_filter f = {.older_ms = env.older_ms,
				  .baseline_ms = env.baseline_s * 1000ULL,
				  .start_ms = p->start_ms,
				  .max_size = UINT64_MAX,
				  .sort = env.sort};

	out->wall = r->wall;
	out->pid = r->pid;
	out->ppid = r->ppid;
	out->comm = r->comm;
	out->final = r->final;
	out->top = r->top;
	memcpy(out->bpf_stats, r->bpf_stats, sizeof(out->bpf_stats));
	return restab__report(items, out, p->stacks, &f, r->now_ms, res);
}

/* --fds: the open descriptors, and those open before tracing began by kind. */
static int build_fds(struct proc *p, const struct report *r, struct report *fr,
		     const struct resolver *res)
{
	*fr = (struct report){.unknown_closes = fdtab__unknown_closes(p->fds)};
	fr->kind_labels = fdtab__labels(p->fds, &fr->nr_kind_labels);
	fr->before_by_kind = calloc(fr->nr_kind_labels + 1, sizeof(*fr->before_by_kind));
	if (!fr->before_by_kind)
		return -ENOMEM;
	fr->nr_before = fdtab__preexisting(p->fds, fr->before_by_kind, fr->nr_kind_labels);
	return build_items(p, r, fr, fdtab__items(p->fds), res);
}

/* --threads: live and unjoined threads. */
static int build_threads(struct proc *p, const struct report *r, struct report *tr,
			 const struct resolver *res)
{
	*tr = (struct report){.threads_model = true};
	tr->kind_labels = threadtab__labels(&tr->nr_kind_labels);
	return build_items(p, r, tr, threadtab__items(p->threads), res);
}

static void free_fds(struct report *fr)
{
	report__free(fr);
	free(fr->before_by_kind);
	fr->before_by_kind = NULL;
}

/* final: the report at exit; last: no other report follows (final, or the COUNT-th). */
static int print_report(const struct report_run *rr, struct proc *p, bool final, bool last)
{
	struct report_filter f = {
		.older_ms = env.older_ms,
		.baseline_ms = env.baseline_s * 1000ULL,
		.start_ms = p->start_ms,
		.min_size = env.min_size,
		.max_size = env.max_size,
		.sample_bytes = env.sample_bytes,
		.sample_every = env.sample_every,
		.sort = env.sort,
	};
	struct report_opts ro = {
		.show_allocs = env.show_allocs, .verbose = env.verbose, .full_header = env.verbose};
	struct reach scan = {};
	unsigned int i;
	struct resolver res = mode__resolver(rr->mode, p);
	struct report r = {
		.wall = time(NULL),
		.pid = p->pid,
		.ppid = p->ppid,
		.comm = p->comm,
		.kernel = env.kernel,
		.final = final,
		.oom = p->oom,
		.truncated_stacks = p->truncated_stacks,
		.top = env.top,
		.rss_anon_start = p->rss_anon_start,
		.rss_anon_prev = p->rss_anon_prev,
		.counting_since = mode__counting_since(rr->mode),
		.memory_off = !env.memory,
	};
	struct report fr = {}, tr = {};
	int err;

	/* Code mapped since the last report (dlopen, JIT) must resolve, in the final one too;
	 * not through a parent's maps that a child shares (the parent may have exec'ed) */
	if (p->syms && !p->syms_shared)
		syms__refresh(p->syms);
	/* kernel mode: the allocations outstanding in BPF, before their labels are taken */
	err = mode__sync(rr->mode, p);
	if (err)
		return err;
	if (p->klabels)
		r.kind_labels = klabels__names(p->klabels, &r.nr_kind_labels);
	else if (p->py)
		r.kind_labels = python__labels(p->py, &r.nr_kind_labels);
	mode__stats(rr->mode, r.bpf_stats);
	if (p->pid && !p->exited && !procstat__rss_anon(p->pid, &r.rss_anon) && !env.kernel)
		p->rss_anon_prev = r.rss_anon;
	if (env.kernel)
		r.rss_anon = 0; /* RSS says nothing of what the kernel holds */
	if (final && p->pid && !p->exited && !env.kernel)
		procstat__vm_hwm(p->pid, &p->peak_rss);
	r.peak_rss = env.kernel ? 0 : p->peak_rss;
	for (i = 0; i < rr->procs.n && !r.run_recorded; i++)
		r.run_recorded = tracker__stats(rr->procs.v[i]->tracker)->allocs > 0;
	if (env.reachable && p->pid && !p->exited)
		scan_reach(rr, p, &scan);
	err = report__build(&r, p->tracker, p->stacks, &f, tracker__now_ms(p->tracker, mono_ns()));
	if (!err && env.reachable) {
		const struct reach *use = &scan;

		/* a launched command (-f: its children) was scanned as BPF held it in exit() */
		if (p->exited && p->exit_scan)
			use = p->exit_scan;
		else if (p->exited)
			snprintf(scan.note, sizeof(scan.note),
				 "pid %d exited before the scan: no reachability split", p->pid);
		report__apply_reach(&r, use);
	}
	if (!err)
		err = history__apply(p->history, &r, p->stacks, &res);
	if (!err && !env.kernel)
		err = threadtab__count_stacks(p->threads, &r);
	if (!err && p->klabels)
		klabels__mark_uncertain(p->klabels, &r);
	if (!err)
		report__reach_verdicts(&r);
	if (!err)
		err = suppress__apply(rr->supp, &r, p->stacks, &res, &p->supp_marks,
				      &p->nr_supp_marks);
	if (!err && p->fds) {
		err = build_fds(p, &r, &fr, &res);
		r.fds = &fr;
	}
	if (!err && p->threads) {
		err = build_threads(p, &r, &tr, &res);
		r.threads = &tr;
	}
	if (!err && !output__wants(rr->out, last)) {
		report__free(&r);
		reach__free(&scan);
		free_fds(&fr);
		report__free(&tr);
		return 0;
	}
	if (!err) {
		report__rank(&r, env.sort);
		err = report__resolve(&r, p->stacks, &res,
				      env.format->all_stacks ? r.nr_stacks : r.top);
	}
	if (!err && r.fds) {
		report__rank(&fr, env.sort);
		err = report__resolve(&fr, p->stacks, &res,
				      env.format->all_stacks ? fr.nr_stacks : fr.top);
	}
	if (!err && r.threads) {
		report__rank(&tr, env.sort);
		err = report__resolve(&tr, p->stacks, &res,
				      env.format->all_stacks ? tr.nr_stacks : tr.top);
	}
	if (!err)
		err = write_report(rr, p, &r, &ro);
	report__free(&r);
	reach__free(&scan);
	free_fds(&fr);
	report__free(&tr);
	return err;
}

int report_run__all(struct report_run *rr, bool all_final, bool last)
{
	struct procs *ps = &rr->procs;
	unsigned int i = 0;
	int err = 0;

	while (i < ps->n && !err) {
		struct proc *p = ps->v[i];
		bool final = all_final || (p->ppid && (p->exited || p->execed));

		err = print_report(rr, p, final, last || final);
		if (final && p->ppid && !all_final)
			procs__remove(ps, p);
		else
			i++;
	}
	return err;
}
