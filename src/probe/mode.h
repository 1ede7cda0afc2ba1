/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tracing mode of a run, user (umode) or kernel (-k, kmode), behind one set of
 * operations, so the rest of leaktrace does not ask which.
 */
#ifndef __MODE_H
#define __MODE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "report.h"

struct follow;
struct unwind;
struct holds;
struct mode;
struct proc;
struct target;

/*
 * Load and attach what the options (env) ask for, start recording, set up p (the target) and
 * print the "tracing" line. Prints a one-line error where the cause is not plain; *out is to
 * be freed even then. 0 or negative errno.
 */
int mode__open(struct mode **out, const struct target *t, struct proc *p,
	       bool (*stop_requested)(void));
int mode__ringbuf_fd(const struct mode *m);
/* Loss counters (enum lt_stat). */
/* Kernel mode: load p with what BPF holds outstanding now (before each report). */
int mode__sync(struct mode *m, struct proc *p);
void mode__stats(const struct mode *m, uint64_t out[LT_ST_MAX]);
/* When BPF began to record (CLOCK_REALTIME); zero in kernel mode, which does not say. */
struct timespec mode__counting_since(const struct mode *m);
struct resolver mode__resolver(struct mode *m, struct proc *p);
/* -f in user mode: what attaches probes in children that exec; else NULL. */
struct follow *mode__follow(struct mode *m);
/* User mode's CFI tables for the stack walk; NULL in kernel mode or with --unwind fp. */
struct unwind *mode__unwind(struct mode *m);
/* User mode: BPF's map of the processes running CPython, told where their frames are; else -1. */
int mode__pyprocs_fd(const struct mode *m);
/* A launched command is held by BPF: fork the watchdog, before the ring is mapped. */
int mode__start_holds(struct mode *m, struct holds *h);
/*
 * Stop recording and holding; true once the programs in flight have finished (user mode),
 * false where BPF records until detached (kernel mode).
 */
bool mode__stop(struct mode *m);
/* Start detaching while the final report is made (user mode without -f); then wait. */
void mode__detach(struct mode *m);
void mode__detach_wait(struct mode *m);
void mode__free(struct mode *m);

#endif /* __MODE_H */
