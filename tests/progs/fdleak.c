// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for --fds and --threads: descriptors leaked from named functions at known
 * counts, while every kind is churned (created and closed in a loop) from other functions.
 *
 *   leak_sockets 3 (socket AF_INET STREAM)   leak_files 4 (file PATH)   leak_pipes 4 (pipe)
 *   leak_fileptrs 5 (FILE *, file PATH)       leak_dups 6 (dup of /dev/null)
 *   recv_fds 3 (SCM_RIGHTS)                   dup2_over 1 (replaced_open: 0)
 *   leak_kinds: eventfd, epoll, timerfd, signalfd, inotify, memfd, pidfd, one each
 *   close_range_all: 8 opened, closed by close_range: 0
 *
 * --fork: a child inherits everything, closes the leaked sockets, leaks child_leak 2 (pipe),
 * prints "child PID", exits; the parent waits for it.
 * --exec: a child opens 3 close-on-exec (cloexec_open) and 2 kept (kept_open) descriptors,
 * execs this program with --after-exec, which leaks after_exec_leak 1 (socket) and exits.
 * --threads: pool_worker 4 threads blocked (alive), unjoined_thread 3 exited never joined,
 * joined_thread 5 joined, detached_thread 2 detached.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include "progs.h"

#define CHURN 100

static char path[64];
static int devnull = -1;

static NOINLINE void leak_sockets(void)
{
	for (int i = 0; i < 3; i++)
		socket(AF_INET, SOCK_STREAM, 0);
}

static NOINLINE void leak_files(void)
{
	for (int i = 0; i < 4; i++)
		open(path, O_RDONLY);
}

static NOINLINE void leak_pipes(void)
{
	int p[2];

	for (int i = 0; i < 2; i++)
		if (pipe(p))
			exit(1);
}

static NOINLINE void leak_fileptrs(void)
{
	for (int i = 0; i < 5; i++)
		hold(fopen(path, "r"));
}

static NOINLINE void leak_dups(void)
{
	for (int i = 0; i < 6; i++)
		dup(devnull);
}

static NOINLINE void leak_kinds(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	eventfd(0, 0);
	epoll_create1(0);
	timerfd_create(CLOCK_MONOTONIC, 0);
	signalfd(-1, &set, 0);
	inotify_init1(0);
	memfd_create("fdleak", 0);
	syscall(SYS_pidfd_open, getpid(), 0);
}

static NOINLINE int replaced_open(void)
{
	return open(path, O_RDONLY);
}

static NOINLINE void dup2_over(int victim)
{
	int fd = open(path, O_RDONLY);

	dup2(fd, victim); /* victim's descriptor is released, its number now dup2_over's */
	close(fd);
}

static NOINLINE void send_fds(int sock, const int *fds, int n)
{
	char buf[CMSG_SPACE(8 * sizeof(int))] = {0}, c = 'x';
	struct iovec iov = {&c, 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf};
	struct cmsghdr *ch;

	mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
	ch = CMSG_FIRSTHDR(&mh);
	ch->cmsg_level = SOL_SOCKET;
	ch->cmsg_type = SCM_RIGHTS;
	ch->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(ch), fds, n * sizeof(int));
	if (sendmsg(sock, &mh, 0) != 1)
		exit(1);
}

static NOINLINE void recv_fds(int sock)
{
	char buf[CMSG_SPACE(8 * sizeof(int))], c;
	struct iovec iov = {&c, 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = buf,
			    .msg_controllen = sizeof(buf)};

	if (recvmsg(sock, &mh, 0) != 1)
		exit(1);
}

static NOINLINE void pass_fds(void)
{
	int sv[2], fds[3];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		exit(1);
	for (int i = 0; i < 3; i++)
		fds[i] = open("/dev/null", O_RDONLY);
	send_fds(sv[0], fds, 3);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	recv_fds(sv[1]);
	close(sv[0]);
	close(sv[1]);
}

static NOINLINE void close_range_all(void)
{
	for (int i = 0; i < 8; i++)
		dup3(devnull, 500 + i, 0);
	syscall(SYS_close_range, 500, 507, 0);
}

static NOINLINE void churn_sockets(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int l, c, s, sv[2];

	close(socket(AF_INET6, SOCK_DGRAM, 0));
	if (!socketpair(AF_UNIX, SOCK_DGRAM, 0, sv)) {
		close(sv[0]);
		close(sv[1]);
	}
	/* an abstract address: nothing left on disk */
	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "fdleak-%d", getpid());
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1))
		exit(1);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&a, sizeof(a)))
		exit(1);
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(s);
	close(c);
	close(l);
}

static NOINLINE void churn_all(void)
{
	sigset_t set;
	int p[2];

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	for (int i = 0; i < CHURN; i++) {
		churn_sockets();
		close(open(path, O_RDONLY));
		close(openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
		close(creat(path, 0600));
		fclose(fopen(path, "r"));
		if (!pipe2(p, O_CLOEXEC)) {
			close(p[0]);
			close(p[1]);
		}
		close(dup(devnull));
		close(fcntl(devnull, F_DUPFD_CLOEXEC, 100));
		close(dup3(devnull, 200, O_CLOEXEC));
		close(eventfd(0, 0));
		close(epoll_create1(0));
		close(timerfd_create(CLOCK_MONOTONIC, 0));
		close(signalfd(-1, &set, 0));
		close(inotify_init1(0));
		close(memfd_create("churn", 0));
		close(syscall(SYS_pidfd_open, getpid(), 0));
	}
}

static NOINLINE void child_leak(void)
{
	int p[2];

	if (pipe(p))
		exit(1);
}

/* --fork: the child closes what it inherited from leak_sockets, leaks its own, exits. */
static void fork_child(int first_socket)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		exit(1);
	if (!pid) {
		for (int i = 0; i < 3; i++)
			close(first_socket + i);
		child_leak();
		printf("child %d\n", getpid());
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
}

static NOINLINE void cloexec_open(void)
{
	for (int i = 0; i < 3; i++)
		open(path, O_RDONLY | O_CLOEXEC);
}

static NOINLINE void kept_open(void)
{
	for (int i = 0; i < 2; i++)
		open(path, O_RDONLY);
}

static NOINLINE void after_exec_leak(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
}

/* --exec: a child opens close-on-exec and kept descriptors, then execs --after-exec. */
static void exec_child(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		exit(1);
	if (!pid) {
		cloexec_open();
		kept_open();
		printf("exec child %d\n", getpid());
		fflush(stdout);
		execl("/proc/self/exe", "fdleak", "--after-exec", path, (char *)NULL);
		_exit(1);
	}
	waitpid(pid, &status, 0);
}

static pthread_barrier_t pool_up;
static pthread_mutex_t never = PTHREAD_MUTEX_INITIALIZER;

static void *pool_body(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&pool_up);
	pthread_mutex_lock(&never); /* held by main: blocks until the process ends */
	return NULL;
}

static void *short_body(void *arg)
{
	return arg;
}

/* the threads that exit on their own: 3 unjoined, then 2 detached */
static volatile pid_t exiting_tids[5];

static void *unjoined_body(void *arg)
{
	exiting_tids[(long)arg] = gettid();
	return NULL;
}

static NOINLINE void pool_worker(pthread_t *t)
{
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, pool_body, NULL);
}

static NOINLINE void unjoined_thread(pthread_t *t)
{
	for (long i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, unjoined_body, (void *)i);
}

static NOINLINE void joined_thread(void)
{
	pthread_t t[5];

	for (int i = 0; i < 5; i++)
		pthread_create(&t[i], NULL, short_body, NULL);
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
}

static NOINLINE void detached_thread(void)
{
	pthread_attr_t a;
	pthread_t t;

	pthread_create(&t, NULL, unjoined_body, (void *)3L);
	pthread_detach(t);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_create(&t, &a, unjoined_body, (void *)4L);
	pthread_attr_destroy(&a);
}

/* 4 KiB below main's frame: see create_all() in threadstacks.c (the stack scan's window) */
static NOINLINE void threads(void)
{
	volatile char below_main[4096];
	pthread_t pool[4], unjoined[3];
	char task[64];

	below_main[0] = 0;

	pthread_mutex_lock(&never);
	pthread_barrier_init(&pool_up, NULL, 5);
	pool_worker(pool);
	pthread_barrier_wait(&pool_up);
	unjoined_thread(unjoined);
	joined_thread();
	detached_thread();
	/* the unjoined and detached ones have exited when their /proc/self/task entries are gone */
	for (int i = 0; i < 5; i++) {
		while (!exiting_tids[i])
			usleep(1000);
		snprintf(task, sizeof(task), "/proc/self/task/%d", exiting_tids[i]);
		while (!access(task, F_OK))
			usleep(1000);
	}
	below_main[sizeof(below_main) - 1] = below_main[0];
}

int main(int argc, char **argv)
{
	int first_socket, victim;

	if (argc > 2 && !strcmp(argv[1], "--after-exec")) {
		DIR *d = opendir("/proc/self/fd");
		int n = -3; /* ".", ".." and the directory's own */

		while (d && readdir(d))
			n++;
		closedir(d);
		after_exec_leak();
		printf("after exec %d\n", n);
		fflush(stdout);
		return 0;
	}
	snprintf(path, sizeof(path), "/tmp/fdleak.%d", getpid());
	close(open(path, O_CREAT | O_WRONLY, 0600));
	devnull = open("/dev/null", O_RDONLY);
	wait_for_go();
	if (argc > 1 && !strcmp(argv[1], "--threads")) {
		threads();
		done_and_wait();
		unlink(path);
		return 0;
	}
	churn_all();
	first_socket = dup(devnull); /* the lowest free number: leak_sockets' first */
	close(first_socket);
	leak_sockets();
	leak_files();
	leak_pipes();
	leak_fileptrs();
	leak_dups();
	leak_kinds();
	victim = replaced_open();
	dup2_over(victim);
	pass_fds();
	close_range_all();
	churn_all();
	if (argc > 1 && !strcmp(argv[1], "--fork"))
		fork_child(first_socket);
	if (argc > 1 && !strcmp(argv[1], "--exec"))
		exec_child();
	done_and_wait();
	unlink(path);
	return 0;
}
