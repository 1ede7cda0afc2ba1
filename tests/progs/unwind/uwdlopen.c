// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for a library loaded after tracing began, built -O2 without frame pointers:
 * main -> dl_a -> dl_b -> uw_lib_alloc (libuwlib.so, dlopen'ed after "go") -> malloc,
 * 4 x 128 B outstanding. After the dlopen it says "loaded" and waits for a second SIGUSR1,
 * so the test can let it allocate once the tracer has the library's table.
 */
#include <dlfcn.h>
#include "../progs.h"

typedef void *(*alloc_fn)(size_t);

NOINLINE void *dl_b(alloc_fn f, size_t n)
{
	void *p = f(n);

	hold(p);
	return p;
}

NOINLINE void *dl_a(alloc_fn f, size_t n)
{
	void *p = dl_b(f, n);

	hold(p);
	return p;
}

int main(int argc, char **argv)
{
	alloc_fn f;
	void *h;
	int i;

	if (argc < 2)
		return 2;
	wait_for_go();
	h = dlopen(argv[1], RTLD_NOW);
	f = h ? (alloc_fn)dlsym(h, "uw_lib_alloc") : NULL;
	if (!f)
		return 1;
	printf("loaded\n");
	fflush(stdout);
	if (!getenv("PROGS_NO_WAIT")) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigwait(&set, &sig);
	}
	for (i = 0; i < 4; i++)
		hold(dl_a(f, 128));
	done_and_wait();
	return 0;
}
