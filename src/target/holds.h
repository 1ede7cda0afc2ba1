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
#include <linux/types.h>

#define HOLDS_DEADLINE_MS 5000

struct unwind;

struct holds {
	int map_fd;  /* BPF's map of held pids; -1: no watchdog, continue with SIGCONT */
	int pipe_fd; /* write end: EOF tells the watchdog leaktrace is gone */
	pid_t watchdog;
	int wait_fd;		     /* BPF's uw_wait: pids held until a table is built */
	const volatile __u64 *waits; /* entries BPF added to uw_wait; NULL: none */
	__u64 waits_seen;
};

#define HOLDS_INIT                                         \
	{                                                  \
		.map_fd = -1, .pipe_fd = -1, .wait_fd = -1 \
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
/*
 * A process that maps executable a file without a CFI table (dlopen) is held until its table
 * is built (BPF's uw_wait map and uw_waits count).
 */
void holds__tables(struct holds *h, int wait_fd, const volatile __u64 *waits);
/* Whether a process waits for a table: cheap enough for every record. */
static inline bool holds__waiting(const struct holds *h)
{
	return h && h->waits && *h->waits != h->waits_seen;
}
/* Build the tables those processes wait for and give them their lists, then continue them. */
void holds__serve_tables(struct holds *h, struct unwind *u);
/* The end of the run: the watchdog continues what is left, exits and is reaped. */
void holds__stop(struct holds *h);

#endif /* __HOLDS_H */
