// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for --threads' joins and the memory report's thread stacks: every thread has a
 * stack of STACK bytes (pthread_attr_setstacksize), which glibc maps as STACK + its guard page.
 * All of them are created before any exits, so each has a mapping of its own (none reuses a
 * cached stack); then:
 *
 *   live_thread 2         blocked until the end: alive, their stacks in use
 *   unjoined_thread 3     exit, never joined: their stacks held (a leak)
 *   tryjoin_busy_thread 1 pthread_tryjoin_np fails (EBUSY) while it runs, then it exits and is
 *                         never joined: held (a failed try is no join)
 *   joined_thread 4       pthread_join
 *   tryjoined_thread 2    pthread_tryjoin_np: EBUSY while they run, then 0 once they exited
 *   timedjoined_thread 2  pthread_timedjoin_np: ETIMEDOUT while they run, then 0
 *   clockjoined_thread 1  pthread_clockjoin_np
 *   detached_thread 1     pthread_detach
 *
 * The stacks of the 10 joined or detached ones go to glibc's stack cache (a cache, not a
 * leak). Prints "stack BYTES" (the size of one mapping) before "done".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include "progs.h"

#define STACK (256 * 1024)

enum { LIVE, UNJOINED, BUSY_TRY, JOINED, TRYJOINED, TIMEDJOINED, CLOCKJOINED, DETACHED, GROUPS };

static const int count[GROUPS] = {2, 3, 1, 4, 2, 2, 1, 1};

/* each group's threads wait at its gate until the group is let go */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int open_gate[GROUPS];
static volatile pid_t tids[16];
static pthread_attr_t attr;

struct arg {
	int group, slot;
};

static void *body(void *p)
{
	const struct arg *a = p;

	tids[a->slot] = gettid();
	pthread_mutex_lock(&lock);
	while (!open_gate[a->group])
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void let_go(int group)
{
	pthread_mutex_lock(&lock);
	open_gate[group] = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/* gone from /proc/self/task: it has exited */
static void wait_exited(int slot)
{
	char task[64];

	while (!tids[slot])
		usleep(1000);
	snprintf(task, sizeof(task), "/proc/self/task/%d", tids[slot]);
	while (!access(task, F_OK))
		usleep(1000);
}

static struct arg args[16];
static pthread_t th[16];
static int first[GROUPS];

/* a macro, not a function: it would be the first frame of the program in creating stacks */
#define create(group, slot)                                                \
	do {                                                               \
		args[slot] = (struct arg){group, slot};                    \
		if (pthread_create(&th[slot], &attr, body, &args[slot])) { \
			perror("pthread_create");                          \
			exit(1);                                           \
		}                                                          \
	} while (0)

/* one function per group, named for it: the first frame of the program in a creating stack */
#define CREATOR(name, group)             \
	static NOINLINE void name(int s) \
	{                                \
		create(group, s);        \
	}

CREATOR(live_thread, LIVE)
CREATOR(unjoined_thread, UNJOINED)
CREATOR(tryjoin_busy_thread, BUSY_TRY)
CREATOR(joined_thread, JOINED)
CREATOR(tryjoined_thread, TRYJOINED)
CREATOR(timedjoined_thread, TIMEDJOINED)
CREATOR(clockjoined_thread, CLOCKJOINED)
CREATOR(detached_thread, DETACHED)

static void (*const creators[GROUPS])(int) = {
	live_thread,	  unjoined_thread,    tryjoin_busy_thread, joined_thread,
	tryjoined_thread, timedjoined_thread, clockjoined_thread,  detached_thread,
};

static void expect(int got, int want, const char *what)
{
	if (got != want) {
		fprintf(stderr, "%s: %s, expected %s\n", what, strerror(got), strerror(want));
		exit(1);
	}
}

static struct timespec in_ms(clockid_t clock, long ms)
{
	struct timespec t;

	clock_gettime(clock, &t);
	t.tv_nsec += ms * 1000000L;
	t.tv_sec += t.tv_nsec / 1000000000L;
	t.tv_nsec %= 1000000000L;
	return t;
}

/*
 * Creates every thread 4 KiB below main's frame. --threads' stack scan (bpf/fds.bpf.c) reads
 * 2 KiB above the stack pointer, and only 512 bytes where those 2 KiB cross the top of the
 * stack, which then loses the creating function: main's frame is that near the top when the
 * environment is small (measured: 2 runs in 20 under env -i).
 */
static NOINLINE void create_all(void)
{
	volatile char below_main[4096];
	int g, i, s;

	below_main[0] = 0;
	for (g = 0, s = 0; g < GROUPS; g++)
		for (first[g] = s, i = 0; i < count[g]; i++, s++)
			creators[g](s);
	below_main[sizeof(below_main) - 1] = below_main[0];
}

int main(void)
{
	struct timespec t;
	size_t guard;
	int g, i;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK);
	pthread_attr_getguardsize(&attr, &guard);
	wait_for_go();
	create_all();

	/* a try and a timed join of a running thread fail: no join */
	expect(pthread_tryjoin_np(th[first[BUSY_TRY]], NULL), EBUSY, "tryjoin of a running thread");
	for (i = 0; i < count[TRYJOINED]; i++)
		expect(pthread_tryjoin_np(th[first[TRYJOINED] + i], NULL), EBUSY, "tryjoin");
	for (i = 0; i < count[TIMEDJOINED]; i++) {
		t = in_ms(CLOCK_REALTIME, 1);
		expect(pthread_timedjoin_np(th[first[TIMEDJOINED] + i], NULL, &t), ETIMEDOUT,
		       "timedjoin of a running thread");
	}

	for (g = UNJOINED; g < GROUPS; g++)
		let_go(g);
	pthread_detach(th[first[DETACHED]]);
	for (i = 0; i < count[JOINED]; i++)
		expect(pthread_join(th[first[JOINED] + i], NULL), 0, "join");
	for (i = 0; i < count[TRYJOINED]; i++) {
		wait_exited(first[TRYJOINED] + i);
		expect(pthread_tryjoin_np(th[first[TRYJOINED] + i], NULL), 0, "tryjoin");
	}
	for (i = 0; i < count[TIMEDJOINED]; i++) {
		t = in_ms(CLOCK_REALTIME, 60000);
		expect(pthread_timedjoin_np(th[first[TIMEDJOINED] + i], NULL, &t), 0, "timedjoin");
	}
	t = in_ms(CLOCK_MONOTONIC, 60000);
	expect(pthread_clockjoin_np(th[first[CLOCKJOINED]], NULL, CLOCK_MONOTONIC, &t), 0,
	       "clockjoin");
	for (g = UNJOINED; g < GROUPS; g++)
		for (i = 0; i < count[g]; i++)
			wait_exited(first[g] + i);

	printf("stack %zu\n", (size_t)STACK + guard);
	done_and_wait();
	return 0;
}
