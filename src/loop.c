// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include "clock.h"
#include "events.h"
#include "holds.h"
#include "loop.h"
#include "mode.h"
#include "options.h"
#include "report_run.h"
#include "syms.h"
#include "target.h"

/*
 * As leaktrace ends, BPF records nothing more and stops nobody (counting ends at one instant,
 * as it began); what is still in the ring is drained whole, and those held are continued.
 */
void loop__stop_recording(struct events *ev, struct report_run *rr)
{
	if (!ev->rb || ev->ending)
		return; /* done already (before the final reports; cleanup calls again) */
	ev->ending = true;
	if (!mode__stop(rr->mode))
		return; /* kernel mode */
	events__poll(ev, 0);
	holds__continue_all(ev->holds); /* any whose record was refused (ring full) */
}

int loop__run(struct events *ev, struct report_run *rr, const volatile sig_atomic_t *stop)
{
	struct proc *p = rr->procs.v[0];
	uint64_t interval_ns = env.interval_s * 1000000000ULL;
	uint64_t next = mono_ns() + interval_ns;
	unsigned int reports = 0;
	int err;

	while (!*stop) {
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
			mode__detach(rr->mode);
		}
		err = report_run__all(rr, false, reports == env.count);
		if (err || reports == env.count)
			return err;
	}
	/* nobody waits while the reports are written; then drain what is still in flight so
	 * the final report is complete */
	loop__stop_recording(ev, rr);
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
	mode__detach(rr->mode);
	return report_run__all(rr, true, true);
}

/*
 * After Ctrl-C the command has had the same SIGINT from the terminal; one that outlives the
 * tracer's end by a second is sent SIGTERM. One still held (a child at exec) must be
 * continued: events are read meanwhile.
 */
int loop__finish_command(struct target *t, struct events *ev, const volatile sig_atomic_t *stop)
{
	int i, code, r;

	for (i = 0;; i++) {
		r = target__reap(t, &code);
		if (r > 0)
			return code;
		if (r < 0)
			return 0;
		if (*stop && i == 100)
			kill(t->pid, SIGTERM);
		events__poll(ev, 10);
	}
}
