/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where to put a uprobe in a function so the kernel emulates the probed instruction. */
#ifndef __PLACEMENT_H
#define __PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Returns the byte offset into code of the first instruction worth probing: leading
 * instructions that only set flags (test, cmp) are skipped when the one after them is one the
 * kernel emulates (push, jmp, jcc, call), since a single-stepped instruction costs ~10x an
 * emulated one. The arguments and the return address at the stack pointer are untouched by
 * what is skipped, and what is skipped is executed on every call, so the probe sees every
 * call with the same state. Returns 0 (the entry) when nothing can be gained.
 */
size_t placement__offset(const uint8_t *code, size_t len);
/* True when the kernel emulates the instruction at code (no single step). */
int placement__emulated(const uint8_t *code, size_t len);

#endif /* __PLACEMENT_H */
