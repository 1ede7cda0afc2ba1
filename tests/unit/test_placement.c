// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Probe placement on the first bytes of real allocator entry points (Debian 12: glibc 2.36,
 * jemalloc 5.3.0, tcmalloc 2.10, mimalloc 2.0.9), and on made-up sequences for the edges.
 */
#include <string.h>
#include "placement.h"
#include "unit.h"

#define RAX  0
#define RDX  2
#define RSI  6
#define RDI  7
#define N(a) a, sizeof(a)

static struct placement pl;

static size_t find(const uint8_t *code, size_t len, unsigned int args, bool moves)
{
	if (placement__find(code, len, args, moves, &pl))
		return (size_t)-1;
	return pl.off;
}

int main(void)
{
	/* glibc free: test %rdi,%rdi; je */
	const uint8_t glibc_free[] = {0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00, 0x55};
	/* glibc malloc: push %r12 */
	const uint8_t glibc_malloc[] = {0x41, 0x54, 0x55, 0x53};
	/* glibc reallocarray: mov %rsi,%rax; mul %rdx (size lost); mov %rax,%rsi; jo */
	const uint8_t reallocarray[] = {0x48, 0x89, 0xf0, 0x48, 0xf7, 0xe2, 0x48, 0x89,
					0xc6, 0x70, 0x05, 0xe9, 0x40, 0xb8, 0xf8, 0xff};
	/* jemalloc malloc: cmp $0x1000,%rdi; ja */
	const uint8_t je_malloc[] = {0x48, 0x81, 0xff, 0x00, 0x10, 0x00, 0x00,
				     0x0f, 0x87, 0x93, 0x00, 0x00, 0x00};
	/* jemalloc free: nine movs, shifts, adds on copies of %rdi, then cmp; jne at +48 */
	const uint8_t je_free[] = {0x48, 0x89, 0xf8, 0x48, 0x8b, 0x15, 0x0e, 0x53, 0x0a, 0x00, 0x48,
				   0x89, 0xf9, 0x48, 0xc1, 0xe8, 0x1a, 0x48, 0x81, 0xe1, 0x00, 0x00,
				   0x00, 0xc0, 0x25, 0xf0, 0x00, 0x00, 0x00, 0x64, 0x48, 0x03, 0x04,
				   0x25, 0x00, 0x00, 0x00, 0x00, 0x48, 0x01, 0xd0, 0x48, 0x3b, 0x88,
				   0xb0, 0x01, 0x00, 0x00, 0x0f, 0x85, 0x8a, 0x00, 0x00, 0x00};
	/* jemalloc rallocx: xor %ecx,%ecx; jmp; nopw (its 3rd argument is not read) */
	const uint8_t rallocx[] = {0x31, 0xc9, 0xe9, 0xe9, 0x1c, 0xff, 0xff, 0x66,
				   0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00};
	/* tcmalloc malloc: mov rip,%rax; mov %rdi,%r8; test %rax,%rax; jne */
	const uint8_t tc_malloc[] = {0x48, 0x8b, 0x05, 0xf9, 0x32, 0x01, 0x00, 0x49, 0x89, 0xf8,
				     0x48, 0x85, 0xc0, 0x0f, 0x85, 0x8e, 0x00, 0x00, 0x00};
	/* mimalloc malloc: mov %rdi,%rsi; mov %fs:(%rax),%rdi (size now in %rsi only); cmp; ja */
	const uint8_t mi_malloc[] = {0x48, 0x8b, 0x05, 0x49, 0xb4, 0x00, 0x00, 0x48,
				     0x89, 0xfe, 0x64, 0x48, 0x8b, 0x38, 0x48, 0x81,
				     0xfe, 0x00, 0x04, 0x00, 0x00, 0x77, 0x29};
	/* mimalloc calloc: nmemb moved to %rax, %rdi overwritten; cmp $1,%rax; je */
	const uint8_t mi_calloc[] = {0x48, 0x8b, 0x15, 0xc9, 0xad, 0x00, 0x00, 0x48, 0x89, 0xf8,
				     0x64, 0x48, 0x8b, 0x3a, 0x48, 0x83, 0xf8, 0x01, 0x74, 0x08};
	/* mimalloc realloc: ptr to %rsi, size to %rdx, then a tail jmp to mi_heap_realloc */
	const uint8_t mi_realloc[] = {0x48, 0x8b, 0x05, 0x49, 0xa9, 0x00, 0x00, 0x48, 0x89,
				      0xf2, 0x48, 0x89, 0xfe, 0x64, 0x48, 0x8b, 0x00, 0x48,
				      0x89, 0xc7, 0xe9, 0xf7, 0x4e, 0xff, 0xff};
	/* sub $8,%rsp; push: the stack pointer moved before the push (a return probe there
	 * would not find the return address at it) */
	const uint8_t sub_push[] = {0x48, 0x83, 0xec, 0x08, 0x53};
	/* test %rdi,%rdi; jne +2; nop; nop: a branch back into the prefix, to +3 */
	const uint8_t loop[] = {0x48, 0x85, 0xff, 0x75, 0x02, 0x90, 0x90, 0xeb, 0xfa};
	/* ret first: nothing to walk */
	const uint8_t ret_[] = {0xc3, 0x90};
	/* 66-prefixed jmp: refused by the kernel, not emulated; 5-byte nop: emulated */
	const uint8_t jmp66[] = {0x66, 0xe9, 0x00, 0x00};
	const uint8_t nop5[] = {0x0f, 0x1f, 0x44, 0x00, 0x00};
	/* truncated input never reads past the end */
	const uint8_t trunc[] = {0x48, 0x81, 0xff, 0x00};

	CHECK(find(N(glibc_free), 1, false) == 3 && pl.emulated, "glibc free: the je after test");
	CHECK(find(N(glibc_malloc), 1, false) == 0 && pl.emulated, "glibc malloc: push at entry");
	CHECK(!strcmp(pl.insn, "push r12"), "the probed instruction is named");
	CHECK(find(N(reallocarray), 7, true) == 0 && !pl.emulated,
	      "reallocarray: mul loses the size: entry, single-stepped");
	CHECK(find(N(reallocarray), 1, true) == 9 && pl.emulated && pl.reg[0] == RDI,
	      "reallocarray read for its pointer only: jo at +9");
	CHECK(find(N(je_malloc), 1, false) == 7 && pl.emulated && pl.reg[0] == RDI,
	      "jemalloc malloc: ja at +7");
	CHECK(find(N(je_free), 1, false) == 48 && pl.emulated && pl.reg[0] == RDI,
	      "jemalloc free: jne at +48, ptr still in rdi");
	CHECK(find(N(rallocx), 3, false) == 2 && pl.emulated, "jemalloc rallocx: the jmp");
	CHECK(find(N(tc_malloc), 1, false) == 13 && pl.reg[0] == RDI, "tcmalloc malloc: jne +13");
	CHECK(find(N(mi_malloc), 1, true) == 21 && pl.emulated && pl.reg[0] == RSI,
	      "mimalloc malloc: ja at +21, size in rsi");
	CHECK(find(N(mi_malloc), 1, false) == 0 && !pl.emulated,
	      "mimalloc malloc without moves: entry");
	CHECK(find(N(mi_calloc), 3, true) == 18 && pl.reg[0] == RAX && pl.reg[1] == RSI,
	      "mimalloc calloc: je at +18, nmemb in rax, size in rsi");
	CHECK(find(N(mi_realloc), 3, true) == 20 && pl.reg[0] == RSI && pl.reg[1] == RDX,
	      "mimalloc realloc: the tail jmp, ptr in rsi, size in rdx");
	CHECK(find(N(sub_push), 1, true) == 0 && !pl.emulated, "sub rsp: entry");
	CHECK(find(N(loop), 1, true) == 0 && !pl.emulated, "branch back to +3: entry");
	CHECK(find(N(ret_), 1, true) == 0 && !pl.emulated, "ret: entry");
	CHECK(find(N(jmp66), 1, true) == 0 && !pl.emulated, "66 jmp is not emulated");
	CHECK(find(N(nop5), 1, true) == 0 && pl.emulated, "nopl is emulated");
	CHECK(find(N(trunc), 1, true) == 0 && !pl.emulated, "truncated code: entry");
	CHECK(find(glibc_free, 0, 1, true) == 0 && !pl.emulated, "empty code: entry");
	CHECK(placement__abi_reg(0) == RDI && placement__abi_reg(2) == RDX,
	      "SysV argument registers");
	return unit_summary();
}
