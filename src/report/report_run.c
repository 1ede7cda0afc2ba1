// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <time.h>
#include "clock.h"
#include "history.h"
#include "klabels.h"
#include "mode.h"
#include "options.h"
#include "output.h"
#include "procstat.h"
#include "report.h"
#include "report_run.h"
#include "suppress.h"
#include "syms.h"
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
	struct report_opts ro = {.show_allocs = env.show_allocs, .full_header = env.verbose};
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
		.top = env.top,
		.rss_anon_start = p->rss_anon_start,
		.rss_anon_prev = p->rss_anon_prev,
		.counting_since = mode__counting_since(rr->mode),
	};
	int err;

	/* Code mapped since the last report (dlopen, JIT) must resolve, in the final one too;
	 * not through a parent's maps that a child shares (the parent may have exec'ed) */
	if (p->syms && !p->syms_shared)
		syms__refresh(p->syms);
	if (p->klabels)
		r.kind_labels = klabels__names(p->klabels, &r.nr_kind_labels);
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
	err = report__build(&r, p->tracker, p->stacks, &f, tracker__now_ms(p->tracker, mono_ns()));
	if (!err)
		err = history__apply(p->history, &r, p->stacks, &res);
	if (!err)
		err = suppress__apply(rr->supp, &r, p->stacks, &res, &p->supp_marks,
				      &p->nr_supp_marks);
	if (!err && !output__wants(rr->out, last)) {
		report__free(&r);
		return 0;
	}
	if (!err) {
		report__rank(&r, env.sort);
		err = report__resolve(&r, p->stacks, &res,
				      env.format->all_stacks ? r.nr_stacks : r.top);
	}
	if (!err)
		err = write_report(rr, p, &r, &ro);
	report__free(&r);
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
