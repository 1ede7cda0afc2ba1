// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for hostile files: hostile LIB... dlopens each copy of libleaklib.so given and
 * leaks 3 x (1111 * (i + 1)) bytes from its lib_leak; the test then truncates, overwrites or
 * replaces the files on disk before the tracer reads them. Also maps every FILE given after
 * "--" executable, whatever it holds.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "progs.h"

NOINLINE static int call_lib(const char *path, size_t size)
{
	void (*leak)(int, size_t);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
		return -1;
	}
	leak = (void (*)(int, size_t))dlsym(h, "lib_leak");
	if (!leak)
		return -1;
	leak(3, size);
	return 0;
}

static void map_exec(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) || !st.st_size ||
	    mmap(NULL, st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) == MAP_FAILED)
		fprintf(stderr, "cannot map %s\n", path);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	int i, nlib = 0;
	bool files = false;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			files = true;
		else if (files)
			map_exec(argv[i]);
	}
	wait_for_go();
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++, nlib++) {
		if (call_lib(argv[i], 1111 * (nlib + 1)))
			return 1;
	}
	done_and_wait();
	return 0;
}
