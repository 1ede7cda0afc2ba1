// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include "placement.h"

#define MODRM_REG_DIRECT(m) (((m)&0xc0) == 0xc0)
#define MODRM_RIP_REL(m)    (((m)&0xc7) == 0x05)

/* Length of an instruction that changes only flags (test/cmp on registers or rip-relative
 * memory, endbr64), else 0. */
static size_t flags_only_len(const uint8_t *c, size_t len)
{
	size_t p = 0;
	uint8_t op, modrm;

	if (len >= 4 && c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
		return 4; /* endbr64: a no-op for user space */
	if (len < 2)
		return 0;
	if (c[0] == 0x66)
		p++; /* operand-size prefix */
	if (p < len && (c[p] & 0xf0) == 0x40)
		p++; /* REX */
	if (p + 2 > len)
		return 0;
	op = c[p];
	modrm = c[p + 1];
	switch (op) {
	case 0x84: /* test r/m8, r8 */
	case 0x85: /* test r/m, r */
	case 0x38: /* cmp r/m8, r8 */
	case 0x39: /* cmp r/m, r */
	case 0x3a: /* cmp r8, r/m8 */
	case 0x3b: /* cmp r, r/m */
		if (MODRM_REG_DIRECT(modrm))
			return p + 2;
		if (MODRM_RIP_REL(modrm))
			return p + 6 <= len ? p + 6 : 0;
		return 0;
	case 0x80: /* cmp r/m8, imm8 */
	case 0x83: /* cmp r/m, imm8 */
		if (((modrm >> 3) & 7) != 7)
			return 0;
		if (MODRM_REG_DIRECT(modrm))
			return p + 3 <= len ? p + 3 : 0;
		if (MODRM_RIP_REL(modrm))
			return p + 7 <= len ? p + 7 : 0;
		return 0;
	}
	return 0;
}

int placement__emulated(const uint8_t *c, size_t len)
{
	if (!len)
		return false;
	if (c[0] >= 0x50 && c[0] <= 0x57)
		return true; /* push r64 */
	if (len >= 2 && c[0] == 0x41 && c[1] >= 0x50 && c[1] <= 0x57)
		return true; /* push r8-r15 */
	if ((c[0] >= 0x70 && c[0] <= 0x7f) || c[0] == 0xeb || c[0] == 0xe9 || c[0] == 0xe8)
		return true; /* jcc rel8, jmp, call */
	if (len >= 2 && c[0] == 0x0f && c[1] >= 0x80 && c[1] <= 0x8f)
		return true; /* jcc rel32 */
	return false;
}

size_t placement__offset(const uint8_t *code, size_t len)
{
	size_t off = 0, n;
	int i;

	if (placement__emulated(code, len))
		return 0;
	for (i = 0; i < 3; i++) {
		n = flags_only_len(code + off, len - off);
		if (!n)
			return 0;
		off += n;
		if (placement__emulated(code + off, len - off))
			return off;
	}
	return 0;
}
