/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Processes BPF stopped (a launched command at exit, with -f its children at exec) are
 * continued by leaktrace, or else by a watchdog child: BPF records each hold in a map
 * (pid -> time held); the watchdog continues one held longer than HOLDS_DEADLINE_MS (a hung
 * tracer), and every one when leaktrace dies (its pipe reads EOF), whatever killed it.
 */
#ifndef __HOLDS_H
#define __HOLDS_H

#include <stdbool.h>
#include <sys/types.h>

#define HOLDS_DEADLINE_MS 5000

struct holds {
	int map_fd;  /* BPF's map of held pids; -1: no watchdog, continue with SIGCONT */
	int pipe_fd; /* write end: EOF tells the watchdog leaktrace is gone */
	pid_t watchdog;
};

#define HOLDS_INIT                          \
	{                                   \
		.map_fd = -1, .pipe_fd = -1 \
	}

/*
 * Fork the watchdog. It keeps map_fd and holds_off (BPF's switch, a shared mapping) and
 * closes every other descriptor, so no probe, link or ring outlives leaktrace through it.
 */
int holds__start(struct holds *h, int map_fd, bool *holds_off);
/* Let pid go on after its hold, unless the watchdog did already. */
void holds__continue(struct holds *h, pid_t pid);
/* Continue every process held now, whether its record was read or not. */
void holds__continue_all(struct holds *h);
/* The end of the run: the watchdog continues what is left, exits and is reaped. */
void holds__stop(struct holds *h);

#endif /* __HOLDS_H */
