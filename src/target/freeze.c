// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include "clock.h"
#include "freeze.h"
#include "procstat.h"

#define STOP_DEADLINE_NS (2000 * 1000000ULL)
/* rounds of listing /proc/PID/task: a thread that keeps creating threads is not waited for */
#define MAX_ROUNDS 64

static int tracer_of(pid_t pid, pid_t tid, pid_t *tracer)
{
	char path[64], buf[4096], *s;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	if (procstat__read(path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	s = strstr(buf, "\nTracerPid:");
	if (!s)
		return -EINVAL;
	*tracer = strtol(s + 11, NULL, 10);
	return 0;
}

static struct freeze_thread *find(struct freeze *f, pid_t tid)
{
	unsigned int i;

	for (i = 0; i < f->n; i++)
		if (f->t[i].tid == tid)
			return &f->t[i];
	return NULL;
}

/* Seize and interrupt tid: 1 when it is now ours, 0 when it is gone, or negative errno. */
static int seize(struct freeze *f, pid_t tid)
{
	struct freeze_thread *t;
	pid_t tracer = 0;
	char state = 0;

	if (f->n == f->cap) {
		unsigned int cap = f->cap ? f->cap * 2 : 16;

		t = realloc(f->t, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		f->t = t;
		f->cap = cap;
	}
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL)) {
		int err = -errno;

		if (err == -ESRCH)
			return 0;
		if (err == -EPERM && !tracer_of(f->pid, tid, &tracer) && tracer &&
		    tracer != getpid()) {
			f->tracer = tracer;
			return -EBUSY;
		}
		/* an exiting thread (a zombie) cannot be seized and needs no stop */
		if (err == -EPERM && procstat__stat(tid, NULL, 0, &state, NULL) == 0 &&
		    (state == 'Z' || state == 'X'))
			return 0;
		return err;
	}
	t = &f->t[f->n++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) && errno != ESRCH)
		return -errno;
	return 1;
}

/*
 * Take t's stop if it has one: 1 stopped, 0 not yet, -ESRCH gone. An exit of the leader is
 * only peeked at (WNOWAIT): it may be leaktrace's own child, whose status its parent reaps.
 */
static int take_stop(struct freeze *f, struct freeze_thread *t)
{
	siginfo_t si = {};
	int status, event;

	if (waitid(P_PID, t->tid, &si, WSTOPPED | WEXITED | WNOHANG | WNOWAIT | __WALL))
		return errno == EINTR ? 0 : -ESRCH;
	if (!si.si_pid)
		return 0;
	if (si.si_code != CLD_TRAPPED && si.si_code != CLD_STOPPED) {
		if (t->tid != f->pid)
			waitpid(t->tid, &status, __WALL | WNOHANG);
		return -ESRCH;
	}
	if (waitpid(t->tid, &status, __WALL | WNOHANG) != t->tid || !WIFSTOPPED(status))
		return 0;
	event = status >> 16;
	/* a signal-delivery stop took the signal from the thread: it is given back at detach */
	if (!event)
		t->sig = WSTOPSIG(status);
	t->stopped = true;
	if (ptrace(PTRACE_GETREGS, t->tid, NULL, &t->regs))
		memset(&t->regs, 0, sizeof(t->regs));
	return 1;
}

/*
 * Until every seized thread is stopped (or gone), or the deadline. A stop takes microseconds:
 * the first millisecond yields instead of sleeping, since on a loaded machine a sleeper wakes
 * late, and the target stays stopped meanwhile.
 */
static int wait_all(struct freeze *f, uint64_t deadline)
{
	struct timespec ts = {0, 50000};
	uint64_t spin_until = mono_ns() + 1000000;
	unsigned int i, left;
	int r;

	for (;;) {
		left = 0;
		for (i = 0; i < f->n; i++) {
			struct freeze_thread *t = &f->t[i];

			if (t->stopped || !t->tid)
				continue;
			r = take_stop(f, t);
			if (r < 0)
				t->tid = 0; /* gone */
			else if (!r)
				left++;
		}
		if (!left)
			return 0;
		if (mono_ns() > deadline)
			return -ETIMEDOUT;
		if (mono_ns() < spin_until) {
			sched_yield();
			continue;
		}
		nanosleep(&ts, NULL);
		if (ts.tv_nsec < 1000000)
			ts.tv_nsec *= 2;
	}
}

/* Seize the threads not seized yet: how many were new, or negative errno. */
static int seize_new(struct freeze *f)
{
	char path[64];
	struct dirent *d;
	int err = 0, n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", f->pid);
	dir = opendir(path);
	if (!dir)
		return -ESRCH;
	while ((d = readdir(dir))) {
		pid_t tid = strtol(d->d_name, NULL, 10);

		if (tid <= 0 || find(f, tid))
			continue;
		err = seize(f, tid);
		if (err < 0)
			break;
		n += err;
		err = 0;
	}
	closedir(dir);
	return err ? err : n;
}

int freeze__stop(struct freeze *f, pid_t pid)
{
	uint64_t deadline;
	pid_t tracer = 0;
	int err, round;

	memset(f, 0, sizeof(*f));
	f->pid = pid;
	f->start_ns = mono_ns();
	deadline = f->start_ns + STOP_DEADLINE_NS;
	if (tracer_of(pid, pid, &tracer))
		return -ESRCH;
	if (tracer) {
		f->tracer = tracer;
		return -EBUSY;
	}
	/* threads created while the others were being stopped are found by the next listing */
	for (round = 0; round < MAX_ROUNDS; round++) {
		err = seize_new(f);
		if (err <= 0)
			break;
		err = wait_all(f, deadline);
		if (err)
			return err;
	}
	if (err < 0)
		return err;
	if (round == MAX_ROUNDS)
		return -EAGAIN;
	/* the leader may have left with pthread_exit (a zombie): any stopped thread will do */
	for (unsigned int i = 0; i < f->n; i++)
		if (f->t[i].tid && f->t[i].stopped)
			return 0;
	return -ESRCH;
}

void freeze__release(struct freeze *f)
{
	unsigned int i;

	/* a thread seized but not yet stopped cannot be detached: its stop is waited for */
	wait_all(f, mono_ns() + STOP_DEADLINE_NS / 4);
	for (i = 0; i < f->n; i++) {
		struct freeze_thread *t = &f->t[i];

		if (!t->tid)
			continue;
		if (!t->stopped) {
			fprintf(stderr,
				"leaktrace: thread %d of pid %d did not stop; the kernel lets it go "
				"when leaktrace exits\n",
				t->tid, f->pid);
			continue;
		}
		ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->sig);
	}
	f->end_ns = mono_ns();
	free(f->t);
	f->t = NULL;
	f->n = f->cap = 0;
}
