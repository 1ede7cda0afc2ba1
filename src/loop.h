/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The run after attach: poll the ring, report every interval, end and drain. */
#ifndef __LOOP_H
#define __LOOP_H

#include <signal.h>

struct events;
struct report_run;
struct target;

/*
 * Poll until the target exits or execs, a signal sets *stop, or the COUNT-th report; then
 * the final reports. 0 or negative errno.
 */
int loop__run(struct events *ev, struct report_run *rr, const volatile sig_atomic_t *stop);
/*
 * BPF records nothing more and holds nobody; what is in the ring is drained whole and those
 * held are continued. Once: later calls do nothing.
 */
void loop__stop_recording(struct events *ev, struct report_run *rr);
/* The launched command's exit status, as a shell gives it; events are read meanwhile. */
int loop__finish_command(struct target *t, struct events *ev, const volatile sig_atomic_t *stop);

#endif /* __LOOP_H */
