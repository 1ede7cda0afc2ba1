// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for JIT symbols: like a JIT, copies machine code into anonymous executable
 * memory and names it in /tmp/perf-PID.map (perf's convention). Outstanding after "done":
 *   jit_leaky_alloc   5 x 555 B = 2775, allocated by the generated code itself
 * The map file is removed at exit.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "progs.h"

/* push %rbp; mov %rsp,%rbp; mov $555,%edi; movabs $malloc,%rax; call *%rax; pop %rbp; ret */
static const unsigned char code_tmpl[] = {
	0x55, 0x48, 0x89, 0xe5, 0xbf, 0x2b, 0x02, 0x00, 0x00, 0x48, 0xb8, 0,
	0,    0,    0,	  0,	0,    0,    0,	  0xff, 0xd0, 0x5d, 0xc3,
};
#define MALLOC_IMM 11

static char map_path[64];

NOINLINE void run_jit(void *(*fn)(void))
{
	for (int i = 0; i < 5; i++)
		hold(fn());
}

int main(void)
{
	void *(*fn)(void);
	void *(*malloc_fn)(size_t) = malloc;
	unsigned char *mem;
	FILE *f;

	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	/* Some padding first, so the function does not start the mapping. */
	memset(mem, 0xcc, 4096);
	memcpy(mem + 64, code_tmpl, sizeof(code_tmpl));
	memcpy(mem + 64 + MALLOC_IMM, &malloc_fn, sizeof(malloc_fn));
	if (mprotect(mem, 4096, PROT_READ | PROT_EXEC))
		return 1;
	fn = (void *(*)(void))(mem + 64);

	snprintf(map_path, sizeof(map_path), "/tmp/perf-%d.map", getpid());
	f = fopen(map_path, "w");
	if (!f)
		return 1;
	fprintf(f, "%lx %x jit_stub_table\n", (unsigned long)mem, 64);
	fprintf(f, "%lx %zx jit_leaky_alloc\n", (unsigned long)(mem + 64), sizeof(code_tmpl));
	fclose(f);

	wait_for_go();
	run_jit(fn);
	done_and_wait();
	unlink(map_path);
	return 0;
}
