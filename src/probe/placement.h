/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where to put a uprobe in a function so the kernel emulates the probed instruction. */
#ifndef __PLACEMENT_H
#define __PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLACEMENT_MAX_ARGS 3
#define PLACEMENT_INSN	   48

struct placement {
	size_t off;    /* probe offset from the function's entry */
	bool emulated; /* the kernel emulates the instruction at off (no single step) */
	/* x86 register number (0 rax, 1 rcx, 2 rdx, 3 rbx, 6 rsi, 7 rdi, 8-15 r8-r15) that holds
	 * argument i at off */
	int8_t reg[PLACEMENT_MAX_ARGS];
	char insn[PLACEMENT_INSN]; /* the probed instruction, as objdump would print it */
};

/*
 * Finds in code (a whole function, entry first) the first instruction the kernel emulates
 * (push, nop, jmp/jcc/call rel) that every call executes once, before the stack pointer moves
 * and while each argument in args (bit i: argument i) is still in some register; a
 * single-stepped instruction costs ~40x an emulated one. With moves false the arguments must
 * stay in their ABI registers. The stack pointer at the site is the entry's, so a return
 * probe there finds the return address at it. Falls back to the entry (off 0) when nothing is
 * found. Returns 0 or a negative errno (capstone unusable).
 */
int placement__find(const uint8_t *code, size_t len, unsigned int args, bool moves,
		    struct placement *pl);
/* The x86 register number of argument i of the SysV ABI (rdi, rsi, rdx, rcx, r8, r9). */
int placement__abi_reg(int i);

#endif /* __PLACEMENT_H */
