/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared by the ground-truth programs: a handshake with the test that traces them. */
#ifndef __PROGS_H
#define __PROGS_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

/* Keeps pointers reachable so the compiler cannot drop an allocation. */
static void *volatile keep[1 << 16];
static unsigned int nkeep;

static inline void hold(void *p)
{
	keep[nkeep++ % (1 << 16)] = p;
}

/* Print "ready <pid>", then block until SIGUSR1 (the tracer is attached). */
static inline void wait_for_go(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (getenv("PROGS_NO_WAIT"))
		return;
	sigwait(&set, &sig);
}

/*
 * Print "done", then stay alive (holding what leaked) until SIGUSR1 or SIGTERM; with
 * PROGS_NO_WAIT set (a command launched by the tracer), return and let the program exit.
 */
static inline void done_and_wait(void)
{
	sigset_t set;
	int sig;

	printf("done\n");
	fflush(stdout);
	if (getenv("PROGS_NO_WAIT"))
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigwait(&set, &sig);
}

#endif /* __PROGS_H */
