// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for attaching to a busy process: 8 threads allocate and free in tight loops,
 * with nested allocator calls (operator new inside constructors run by new, realloc(NULL, n),
 * which glibc tail-jumps to malloc, realloc that moves). Whatever is in flight when a tracer
 * attaches or detaches, each SIGUSR1 makes the main thread leak exactly 5 x 1234 B from
 * leak_round() and print "leaked N" (N counts the rounds), once the workers have finished
 * THREADS + 1 more iterations since the signal: then one of them has finished two, the second
 * begun after the signal, so a tracer attached before it sees its calls even when the machine
 * is so loaded that the workers, at nice 19, get no CPU for a while (a 0.1 s window at load
 * average 20 saw none). Runs until SIGTERM.
 */
#include <atomic>
#include <unistd.h>
#include <pthread.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdlib.h>
#include <string>
#include <vector>
#include "progs.h"

#define THREADS 8

static volatile int stop;
static std::atomic<unsigned long> iterations;

struct Node {
	char *buf;
	std::vector<int> v;
	explicit Node(unsigned int n) : buf(new char[32 + n % 64])
	{
		v.reserve(n % 16 + 1);
	}
	~Node()
	{
		delete[] buf;
	}
};

NOINLINE void *grow_buf(void *p, size_t n)
{
	return realloc(p, n);
}

NOINLINE void churn_once(unsigned int i)
{
	Node *a = new Node(i);
	void *p = grow_buf(NULL, 16 + i % 200);
	std::string s(40 + i % 30, 'x');

	p = grow_buf(p, 300 + i % 5000);
	hold(p);
	free(p);
	delete a;
}

static void *worker(void *arg)
{
	unsigned int i = (unsigned int)(unsigned long)arg;

	/* the workers take what CPU the tracer leaves: 8 of them on 2 CPUs would starve it */
	setpriority(PRIO_PROCESS, gettid(), 19);
	while (!stop) {
		churn_once(i++);
		iterations++;
	}
	return NULL;
}

extern "C" NOINLINE void leak_round(void)
{
	for (int i = 0; i < 5; i++)
		hold(malloc(1234));
}

int main()
{
	pthread_t th[THREADS];
	sigset_t set;
	int sig, round = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (long t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(t * 7919));
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (sigwait(&set, &sig) == 0 && sig == SIGUSR1) {
		unsigned long from = iterations;

		while (iterations < from + THREADS + 1)
			usleep(1000);
		leak_round();
		printf("leaked %d\n", ++round);
		fflush(stdout);
	}
	stop = 1;
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	return 0;
}
