// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "leaktrace.h"
#include "holds.h"
#include "procstat.h"
#include "unwind.h"

#define WATCH_PERIOD_MS 50
#define PF_EXITING	0x00000004

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* bpf_ktime_get_ns()'s clock */
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Continue every process held at least min_age_ns; returns how many, *left the others. */
static int sweep(int map_fd, uint64_t min_age_ns, int *left)
{
	__u32 keys[LT_DEFAULT_PIDS], key;
	__u64 held_ns, now = mono_ns();
	int i, n = 0, done = 0;

	while (n < LT_DEFAULT_PIDS && !bpf_map_get_next_key(map_fd, n ? &key : NULL, &key))
		keys[n++] = key;
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(map_fd, &keys[i], &held_ns))
			continue;
		if (min_age_ns && now - held_ns < min_age_ns) {
			(*left)++;
			continue;
		}
		/* BPF deletes the entry as the signal is sent (hold_continued). Not here while
		 * leaktrace lives: the process may be held again by now, under the same key. Once
		 * it is dying (min_age_ns 0) holds are off and its programs may be gone already. */
		kill(keys[i], SIGCONT);
		if (!min_age_ns)
			bpf_map_delete_elem(map_fd, &keys[i]);
		done++;
		if (min_age_ns)
			fprintf(stderr,
				"leaktrace: pid %u held over %d ms (leaktrace is not responding): "
				"continued, what it does until leaktrace looks is not traced\n",
				keys[i], HOLDS_DEADLINE_MS);
	}
	return done;
}

/* Dying, not dead yet: it may take a second to detach its probes before its pipe closes. */
static bool exiting(pid_t pid)
{
	unsigned long flags;
	int err = procstat__stat(pid, NULL, 0, NULL, &flags);

	if (err)
		return err != -EINVAL; /* gone */
	return flags & PF_EXITING;
}

/* Close every descriptor but stdio, a and b. */
static void keep_fds(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	close_range(3, lo - 1, 0);
	close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
}

static void __attribute__((noreturn)) watch(int rfd, int map_fd, bool *holds_off)
{
	static const int ignored[] = {SIGINT,  SIGTERM, SIGHUP,	 SIGQUIT, SIGTSTP,
				      SIGTTIN, SIGTTOU, SIGPIPE, SIGUSR1, SIGUSR2};
	struct pollfd pfd = {.fd = rfd, .events = POLLIN};
	pid_t parent = getppid();
	bool gone = false;
	unsigned int i;
	char c = 0;
	int fd, n, left;

	/* out of leaktrace's process group: what the terminal sends it is not for us */
	setpgid(0, 0);
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	prctl(PR_SET_NAME, "leaktrace-wd");
	/* the OOM killer would otherwise pick us with leaktrace, and leave the holds */
	fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd >= 0) {
		(void)!write(fd, "-1000", 5);
		close(fd);
	}
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
	}
	keep_fds(rfd, map_fd);
	for (;;) {
		n = poll(&pfd, 1, WATCH_PERIOD_MS);
		if (n > 0) {
			gone = read(rfd, &c, 1) != 1;
			break;
		}
		if (n < 0 && errno != EINTR) {
			gone = true;
			break;
		}
		left = 0;
		sweep(map_fd, HOLDS_DEADLINE_MS * 1000000ULL, &left);
		if (left && exiting(parent))
			break;
	}
	if (c == 'q') {
		sweep(map_fd, 0, &left);
		_exit(0);
	}
	/*
	 * leaktrace is dying or gone. Until its probes are detached (which can take it a
	 * second) and while a program is still in flight, one more hold may come: holds off,
	 * then sweep until its pipe closes, and once more after.
	 */
	*holds_off = true;
	n = sweep(map_fd, 0, &left);
	while (!gone) {
		if (poll(&pfd, 1, WATCH_PERIOD_MS) < 0 && errno != EINTR)
			break;
		n += sweep(map_fd, 0, &left);
		if (pfd.revents)
			gone = read(rfd, &c, 1) != 1;
	}
	usleep(20000);
	n += sweep(map_fd, 0, &left);
	if (n)
		fprintf(stderr, "leaktrace: ended with %d process%s held: continued\n", n,
			n == 1 ? "" : "es");
	_exit(0);
}

int holds__start(struct holds *h, int map_fd, bool *holds_off)
{
	int pfd[2], err;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(NULL); /* nothing buffered is written twice */
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (pid == 0)
		watch(pfd[0], map_fd, holds_off);
	close(pfd[0]);
	h->map_fd = map_fd;
	h->pipe_fd = pfd[1];
	h->watchdog = pid;
	return 0;
}

void holds__continue(struct holds *h, pid_t pid)
{
	__u32 key = pid;
	__u64 held_ns;

	/* the watchdog's deadline did (and said so): its pid may be anyone's by now */
	if (h && h->map_fd >= 0 && bpf_map_lookup_elem(h->map_fd, &key, &held_ns))
		return;
	/*
	 * The entry goes with the signal (BPF, hold_continued), so there is no moment where the
	 * process is stopped and unseen by the watchdog, nor one where it runs with a stale entry
	 * (its exit after exec was not held then, and its maps were not read:
	 * fds_exec_drops_cloexec)
	 */
	kill(pid, SIGCONT);
}

void holds__continue_all(struct holds *h)
{
	int left = 0;

	if (h && h->map_fd >= 0)
		sweep(h->map_fd, 0, &left);
}

void holds__tables(struct holds *h, int wait_fd, const volatile __u64 *waits)
{
	h->wait_fd = wait_fd;
	h->waits = waits;
	h->waits_seen = *waits;
}

void holds__serve_tables(struct holds *h, struct unwind *u)
{
	__u32 keys[LT_DEFAULT_PIDS], key;
	__u64 since, held_ns;
	int i, n = 0;

	if (!h || !h->waits)
		return;
	/* before the map is read: an entry BPF adds after this is served at the next look */
	h->waits_seen = *h->waits;
	while (n < LT_DEFAULT_PIDS && !bpf_map_get_next_key(h->wait_fd, n ? &key : NULL, &key))
		keys[n++] = key;
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(h->wait_fd, &keys[i], &since))
			continue;
		bpf_map_delete_elem(h->wait_fd, &keys[i]);
		/* not this hold any more: the watchdog's deadline continued it */
		if (bpf_map_lookup_elem(h->map_fd, &keys[i], &held_ns) || held_ns != since)
			continue;
		if (u)
			unwind__update(u, keys[i]);
		kill(keys[i], SIGCONT);
	}
}

void holds__stop(struct holds *h)
{
	char c = 'q';

	if (h->pipe_fd >= 0) {
		if (write(h->pipe_fd, &c, 1) != 1)
			c = 0; /* EOF alone ends it too */
		close(h->pipe_fd);
		h->pipe_fd = -1;
	}
	if (h->watchdog > 0)
		waitpid(h->watchdog, NULL, 0);
	h->watchdog = 0;
	h->map_fd = -1;
}
