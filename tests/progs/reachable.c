// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for --reachable: blocks lost or held in every way a scan must tell apart.
 *   lost_direct    4 x 1000  unreachable: the pointers are dropped
 *   lost_list     10 x  200  unreachable: a list whose head is dropped
 *   held_global    5 x  300  reachable from a global array
 *   held_parent    1 x  512  reachable from a global ...
 *   held_child     8 x  400  ... and these only through it
 *   held_pretable  6 x  700  reachable from a table allocated before tracing began
 *   held_interior  3 x  800  possibly lost: a global points 64 bytes into each
 *   stack_alloc    2 x 5000  reachable only from a blocked thread's stack
 *   reg_malloc     1 x 6000  reachable only from r12 of a thread blocked in read()
 * No other copy of a pointer is left: functions are noinline, and the stack below each
 * frame that held one is zeroed (scrub) before the program says done.
 * "big MIB BYTES": MIB MiB in blocks of BYTES, each holding the next (a chain from a global).
 * "traced": a child traces this process (PTRACE_SEIZE), as a debugger would.
 * "grow": every 20 ms grow_lost drops a 100-byte block, grow_held adds a 128-byte one to a
 * global table (an unbounded collection), until 4000 of each.
 * With PROGS_NO_WAIT (launched by the tracer) it exits after done; otherwise, after done: SIGUSR2
 * prints "ticks N" (a thread counts every 5 ms: is it running?); SIGUSR1 or SIGTERM ends it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include "progs.h"

struct node {
	struct node *next;
	char pad[200 - sizeof(struct node *)];
};

static void *volatile held[5];
static void *volatile grown[4000];
static void **volatile parent;
static void **volatile pretable;
static char *volatile interior[3];
static volatile unsigned long ticks;
static int block_fd[2], ready_fd[2];
char ready_byte = 'r', sink_byte;

NOINLINE void scrub(void)
{
	char buf[16384];

	explicit_bzero(buf, sizeof(buf));
}

NOINLINE void lost_direct(void)
{
	for (int i = 0; i < 4; i++)
		*(volatile char *)malloc(1000) = 1;
}

NOINLINE void lost_list(void)
{
	struct node *volatile head = NULL;

	for (int i = 0; i < 10; i++) {
		struct node *n = malloc(sizeof(*n));

		n->next = head;
		head = n;
	}
	head = NULL;
}

NOINLINE void held_global(void)
{
	for (int i = 0; i < 5; i++)
		held[i] = malloc(300);
}

NOINLINE void *held_child(void)
{
	return malloc(400);
}

NOINLINE void held_parent(void)
{
	void **p = malloc(512);

	memset(p, 0, 512);
	for (int i = 0; i < 8; i++)
		p[i] = held_child();
	parent = p;
}

NOINLINE void held_pretable(void)
{
	for (int i = 0; i < 6; i++)
		pretable[i] = malloc(700);
}

NOINLINE void held_interior(void)
{
	for (int i = 0; i < 3; i++)
		interior[i] = (char *)malloc(800) + 64;
}

NOINLINE void *stack_alloc(void)
{
	return malloc(5000);
}

NOINLINE void *reg_malloc(size_t n)
{
	return malloc(n);
}

NOINLINE void hold_on_stack(void)
{
	void *volatile local[2];

	local[0] = stack_alloc();
	local[1] = stack_alloc();
	scrub();
	if (write(ready_fd[1], &ready_byte, 1) != 1 || read(block_fd[0], &sink_byte, 1) < 0)
		exit(1);
	free(local[0]);
	free(local[1]);
}

static void *stack_thread(void *arg)
{
	(void)arg;
	hold_on_stack();
	return NULL;
}

/*
 * reg_hold(ready, block): 6000 bytes whose only pointer is r12 while the thread waits in
 * read(block); ready is written first. In assembly: C could keep a copy on the stack.
 */
void reg_hold(int ready, int block);
asm(".pushsection .text\n"
    ".globl reg_hold\n"
    ".type reg_hold, @function\n"
    "reg_hold:\n"
    "	push %rbp\n"
    "	mov %rsp, %rbp\n"
    "	push %r12\n"
    "	push %r13\n"
    "	push %r14\n"
    "	sub $8, %rsp\n"
    "	mov %edi, %r13d\n"
    "	mov %esi, %r14d\n"
    "	mov $6000, %edi\n"
    "	call reg_malloc\n"
    "	mov %rax, %r12\n"
    "	call scrub\n"
    "	xor %eax, %eax\n"
    "	xor %ecx, %ecx\n"
    "	xor %edx, %edx\n"
    "	xor %esi, %esi\n"
    "	xor %edi, %edi\n"
    "	xor %r8d, %r8d\n"
    "	xor %r9d, %r9d\n"
    "	xor %r10d, %r10d\n"
    "	xor %r11d, %r11d\n"
    "	mov %r13d, %edi\n"
    "	lea ready_byte(%rip), %rsi\n"
    "	mov $1, %edx\n"
    "	mov $1, %eax\n" /* write */
    "	syscall\n"
    "1:	mov %r14d, %edi\n"
    "	lea sink_byte(%rip), %rsi\n"
    "	mov $1, %edx\n"
    "	xor %eax, %eax\n" /* read */
    "	syscall\n"
    "	cmp $-4, %rax\n" /* EINTR */
    "	je 1b\n"
    "	mov %r12, %rdi\n"
    "	call free@PLT\n"
    "	add $8, %rsp\n"
    "	pop %r14\n"
    "	pop %r13\n"
    "	pop %r12\n"
    "	pop %rbp\n"
    "	ret\n"
    ".size reg_hold, .-reg_hold\n"
    ".popsection\n");

static void *reg_thread(void *arg)
{
	(void)arg;
	reg_hold(ready_fd[1], block_fd[0]);
	return NULL;
}

static void *ticker(void *arg)
{
	struct timespec ts = {0, 5000000};

	(void)arg;
	for (;;) {
		nanosleep(&ts, NULL);
		ticks++;
	}
	return NULL;
}

NOINLINE void big_chain(unsigned long mib, unsigned long bytes)
{
	unsigned long n = (mib << 20) / bytes;
	void **prev = NULL;

	for (unsigned long i = 0; i < n; i++) {
		void **b = malloc(bytes);

		/* one pointer and data: words that are not pointers are most of a real heap */
		memset(b, 0x5a, bytes);
		b[0] = prev;
		prev = b;
	}
	held[0] = prev;
}

NOINLINE void grow_lost(void)
{
	*(volatile char *)malloc(100) = 1;
}

NOINLINE void grow_held(unsigned int i)
{
	grown[i] = malloc(128);
}

static void *grower(void *arg)
{
	struct timespec ts = {0, 20000000};

	(void)arg;
	for (unsigned int i = 0; i < 4000; i++) {
		grow_lost();
		grow_held(i);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* The parent's debugger: it lets every stop go on, giving the signal back. */
static void trace_parent(pid_t pid, int ready)
{
	int status;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL))
		exit(1);
	if (write(ready, &ready_byte, 1) != 1)
		exit(1);
	while (waitpid(pid, &status, __WALL) == pid) {
		if (!WIFSTOPPED(status))
			break;
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)(status >> 16 ? 0 : WSTOPSIG(status)));
	}
	exit(0);
}

static void start_thread(void *(*fn)(void *))
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, NULL))
		exit(1);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	sigset_t set;
	int sig;

	pretable = malloc(64 * sizeof(void *)); /* before tracing: a root of unknown contents */
	memset(pretable, 0, 64 * sizeof(void *));
	if (pipe(block_fd) || pipe(ready_fd))
		return 1;
	if (!strcmp(mode, "traced")) {
		pid_t me = getpid();

		if (!fork())
			trace_parent(me, ready_fd[1]);
		if (read(ready_fd[0], &sink_byte, 1) != 1)
			return 1;
	}
	wait_for_go();
	start_thread(ticker);
	if (!strcmp(mode, "grow")) {
		start_thread(grower);
	} else if (!strcmp(mode, "big") && argc > 3) {
		big_chain(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0));
	} else {
		lost_direct();
		lost_list();
		held_global();
		held_parent();
		held_pretable();
		held_interior();
		start_thread(stack_thread);
		start_thread(reg_thread);
		if (read(ready_fd[0], &sink_byte, 1) != 1 || read(ready_fd[0], &sink_byte, 1) != 1)
			return 1;
	}
	scrub();
	printf("done\n");
	fflush(stdout);
	if (getenv("PROGS_NO_WAIT"))
		return 0; /* a launched command: exit() with everything held */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	while (!sigwait(&set, &sig) && sig == SIGUSR2) {
		printf("ticks %lu\n", ticks);
		fflush(stdout);
	}
	return 0;
}
