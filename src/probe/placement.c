// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <capstone/capstone.h>
#include "placement.h"

/* How far from the entry a site is looked for: allocator fast paths branch within a few. */
#define WALK_MAX_INSNS 24
#define RSP	       4

static const int abi_regs[] = {7, 6, 2, 1, 8, 9}; /* rdi rsi rdx rcx r8 r9 */

int placement__abi_reg(int i)
{
	return i >= 0 && i < 6 ? abi_regs[i] : -1;
}

/* The x86 register number (0-15) whose bits reg is part of, or -1 (flags, rip, vector...). */
static int reg_num(unsigned int reg)
{
	static const unsigned int names[16][5] = {
		{X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH},
		{X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH},
		{X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH},
		{X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH},
		{X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL},
		{X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL},
		{X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL},
		{X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL},
		{X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B},
		{X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B},
		{X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B},
		{X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B},
		{X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B},
		{X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B},
		{X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B},
		{X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B},
	};
	int i, j;

	for (i = 0; i < 16; i++)
		for (j = 0; j < 5; j++)
			if (names[i][j] && names[i][j] == reg)
				return i;
	return -1;
}

/*
 * What arch/x86/kernel/uprobes.c emulates instead of single-stepping (Linux 6.18):
 * push_setup_xol_ops (push r, push r8-r15 with a lone REX.B), branch_setup_xol_ops (jmp and
 * call rel, jcc rel8/rel32, none with a 0x66 prefix; nop: prefix* 0x90 and x86_nops[1..8]).
 */
static bool emulated(const uint8_t *b, size_t n)
{
	static const uint8_t nops[9][8] = {
		{0},
		{0x90},
		{0x66, 0x90},
		{0x0f, 0x1f, 0x00},
		{0x0f, 0x1f, 0x40, 0x00},
		{0x0f, 0x1f, 0x44, 0x00, 0x00},
		{0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
		{0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
		{0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
	};
	size_t p = 0;

	if (!n)
		return false;
	if (n <= 8 && !memcmp(b, nops[n], n))
		return true;
	if ((n == 1 && b[0] >= 0x50 && b[0] <= 0x57) ||
	    (n == 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57))
		return true;
	while (p < n && (b[p] == 0x66 || b[p] == 0xf3))
		p++;
	if (p == n - 1 && b[p] == 0x90)
		return true;
	if (p)
		return false; /* 0x66 on a branch: refused */
	if (b[0] == 0xf2)
		p++; /* bnd */
	if (p >= n)
		return false;
	if (b[p] == 0xeb || b[p] == 0xe9 || b[p] == 0xe8 || (b[p] >= 0x70 && b[p] <= 0x7f))
		return true;
	return p + 1 < n && b[p] == 0x0f && b[p + 1] >= 0x80 && b[p + 1] <= 0x8f;
}

static bool ends_path(csh h, const cs_insn *in)
{
	return cs_insn_group(h, in, CS_GRP_JUMP) || cs_insn_group(h, in, CS_GRP_CALL) ||
	       cs_insn_group(h, in, CS_GRP_RET) || cs_insn_group(h, in, CS_GRP_INT) ||
	       cs_insn_group(h, in, CS_GRP_IRET) || in->id == X86_INS_SYSCALL ||
	       in->id == X86_INS_SYSENTER || in->id == X86_INS_HLT || in->id == X86_INS_UD2;
}

/*
 * Executes in on the argument locations (bit r of loc[i]: register r holds argument i).
 * Returns false when the walk must stop there: the stack pointer moves, control leaves the
 * straight line, or an argument is in no register any more (or, !moves, not in its own).
 */
static bool step(csh h, const cs_insn *in, uint16_t *loc, unsigned int args, bool moves)
{
	const cs_x86 *x = &in->detail->x86;
	cs_regs rd, wr;
	uint8_t nrd, nwr;
	int i, r, dst, src;

	if (ends_path(h, in) || cs_regs_access(h, in, rd, &nrd, wr, &nwr))
		return false;
	if (in->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
	    x->operands[1].type == X86_OP_REG && x->operands[0].size == 8) {
		dst = reg_num(x->operands[0].reg);
		src = reg_num(x->operands[1].reg);
		if (dst < 0 || src < 0 || dst == RSP)
			return false;
		for (i = 0; i < PLACEMENT_MAX_ARGS; i++) {
			bool had = loc[i] & (1u << src);

			loc[i] &= ~(1u << dst);
			if (had)
				loc[i] |= 1u << dst;
		}
	} else {
		for (r = 0; r < nwr; r++) {
			int n = reg_num(wr[r]);

			if (n == RSP)
				return false;
			for (i = 0; n >= 0 && i < PLACEMENT_MAX_ARGS; i++)
				loc[i] &= ~(1u << n);
		}
	}
	for (i = 0; i < PLACEMENT_MAX_ARGS; i++) {
		if (!(args & (1u << i)))
			continue;
		if (!loc[i] || (!moves && !(loc[i] & (1u << abi_regs[i]))))
			return false;
	}
	return true;
}

/*
 * Whether a direct branch in the function lands in (0, site]: the probe at site would then
 * run more than once per call. A linear sweep: undecodable bytes are skipped.
 */
static bool reentered(csh h, cs_insn *in, const uint8_t *code, size_t len, size_t site)
{
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = 0;

	if (!site)
		return false;
	while (left) {
		const cs_x86 *x;

		if (!cs_disasm_iter(h, &p, &left, &addr, in)) {
			p++, left--, addr++;
			continue;
		}
		x = &in->detail->x86;
		if (!cs_insn_group(h, in, CS_GRP_JUMP) && !cs_insn_group(h, in, CS_GRP_CALL))
			continue;
		if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM &&
		    x->operands[0].imm > 0 && (uint64_t)x->operands[0].imm <= site)
			return true;
	}
	return false;
}

/* The instruction as objdump prints it, a branch target relative to the function's entry. */
static void describe(const cs_insn *in, struct placement *pl)
{
	const cs_x86 *x = &in->detail->x86;
	int64_t t;

	if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM &&
	    emulated(in->bytes, in->size)) {
		t = x->operands[0].imm;
		snprintf(pl->insn, sizeof(pl->insn), "%.15s %s0x%llx", in->mnemonic,
			 t < 0 ? "entry-" : "entry+", (unsigned long long)(t < 0 ? -t : t));
		return;
	}
	snprintf(pl->insn, sizeof(pl->insn), "%.15s%s%.31s", in->mnemonic, in->op_str[0] ? " " : "",
		 in->op_str);
}

int placement__find(const uint8_t *code, size_t len, unsigned int args, bool moves,
		    struct placement *pl)
{
	uint16_t loc[PLACEMENT_MAX_ARGS];
	const uint8_t *p = code;
	size_t left = len, site = 0;
	uint64_t addr = 0;
	bool found = false;
	cs_insn *in;
	csh h;
	int i, n;

	memset(pl, 0, sizeof(*pl));
	for (i = 0; i < PLACEMENT_MAX_ARGS; i++) {
		pl->reg[i] = abi_regs[i];
		loc[i] = 1u << abi_regs[i];
	}
	if (!len)
		return 0;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -EINVAL;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	if (!in) {
		cs_close(&h);
		return -ENOMEM;
	}
	for (n = 0; n < WALK_MAX_INSNS && cs_disasm_iter(h, &p, &left, &addr, in); n++) {
		if (!n)
			describe(in, pl);
		if (emulated(in->bytes, in->size)) {
			found = true;
			site = in->address;
			break;
		}
		if (!step(h, in, loc, args, moves))
			break;
	}
	if (found && site && !reentered(h, in, code, len, site)) {
		p = code + site;
		left = len - site;
		addr = site;
		if (cs_disasm_iter(h, &p, &left, &addr, in))
			describe(in, pl);
		pl->off = site;
		for (i = 0; i < PLACEMENT_MAX_ARGS; i++)
			if (!(loc[i] & (1u << abi_regs[i])))
				for (n = 15; n >= 0; n--)
					if (loc[i] & (1u << n))
						pl->reg[i] = n;
	}
	pl->emulated = pl->off || (found && !site);
	cs_free(in, 1);
	cs_close(&h);
	return 0;
}
